"""Execution of policy-approved command lines: the single path from an agent to a cluster.

Why this shape: the runner never sees a shell. The policy yields argv lists; kubectl runs via
`subprocess.Popen(argv, shell=False)` with KUBECONFIG, `--context`, `-n`, `--request-timeout` and a
private `--cache-dir` injected here (so a simulated and a real cluster differ only in config), in
its own process group (so a timeout kills it whole), with stdin closed and a private working
directory. Filters then run in-process. What the agent sees is built in one order — redact the
raw streams, filter, join stdout+stderr, redact again, truncate — and every result carries the
numbers traces need (argv, exit status, duration, byte counts, truncated/refused flags).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from atlas_sre.commands.bounded import run_filters
from atlas_sre.commands.config import CommandConfig
from atlas_sre.commands.hints import failure_hint
from atlas_sre.commands.kubectl_policy import KubectlCommand, PolicyViolation, check_kubectl_args
from atlas_sre.commands.output import join_streams, truncate_output
from atlas_sre.commands.policy import DEFAULT_TOOL_NAMES, Pipeline, Refusal, ToolCommand, check_command_line
from atlas_sre.commands.redact import redact
from atlas_sre.commands.secret_values import LEARN_QUERIES, SecretValues, json_variant
from atlas_sre.commands.tools import Tool, ToolContext, check_tools

REFUSED_EXIT_CODE = 3
TIMEOUT_EXIT_CODE = 124
NOT_FOUND_EXIT_CODE = 127
_NAMESPACED_VERBS = frozenset({"get", "describe", "logs", "top", "events", "auth"})


class CommandResult(BaseModel):
    """One step's command and what the agent saw; JSON-serialisable for traces."""

    model_config = ConfigDict(frozen=True)

    line: str
    argv: list[str] = []
    filters: list[list[str]] = []
    exit_code: int
    duration_s: float
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    truncated: bool = False
    refused: bool = False
    reason: str | None = None
    timed_out: bool = False
    redactions: int = 0
    observation: str


@dataclass
class _SourceOutput:
    argv: list[str]
    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class CommandRunner:
    """Runs agent command lines against the cluster named by `config`; `run` never raises.

    `tools` are the in-process tools its lines may call (`analyze`); none unless given.
    """

    def __init__(self, config: CommandConfig | None = None, *, tools: Mapping[str, Tool] | None = None) -> None:
        self.config = config or CommandConfig()
        self._tools = check_tools(tools)
        self._workdir: str | None = None
        self._cleanup: weakref.finalize | None = None
        self._secrets = SecretValues()
        self._learned_at: float | None = None

    @property
    def tools(self) -> Mapping[str, Tool]:
        """The tools this runner was given."""
        return self._tools

    def check(self, line: str) -> Pipeline | Refusal:
        """The policy decision for `line`, without running anything."""
        return check_command_line(line, tool_names={*DEFAULT_TOOL_NAMES, *self.tools})

    def run(self, line: str) -> CommandResult:
        """Check, execute, filter, redact and truncate one command line."""
        started = time.monotonic()
        decision = self.check(line)
        if isinstance(decision, Refusal):
            return CommandResult(
                line=line, exit_code=REFUSED_EXIT_CODE, duration_s=time.monotonic() - started, refused=True,
                reason=decision.reason,
                observation=f"Refused by the read-only command policy: {decision.message}\n",
            )
        try:
            secrets = self._learn(decision.source)
            src = self._run_source(decision.source)
        except Exception as exc:  # never let an execution bug escape to the agent loop
            secrets = self._secrets
            src = _SourceOutput([], 1, stderr=f"error: {type(exc).__name__}: {exc}\n".encode())
        stdout, n_out = _mask(secrets, _decode(src.stdout))
        stderr, n_err = _mask(secrets, _decode(src.stderr))
        if src.timed_out:
            stderr += (f"error: timed out after {self.config.timeout_s:g}s and was stopped; narrow the command "
                       "(-n NAMESPACE, -l SELECTOR, --tail=N)\n")
        code, errors = src.exit_code, [stderr]
        if decision.merge_stderr and decision.filters:  # `2>&1 |`: stderr is filtered too, as in a shell
            stdout, errors = join_streams(stdout, stderr), []
        if decision.filters:
            out = run_filters(decision.filters, stdout, self.config.filter_timeout_s,
                              self.config.max_filter_output_bytes)
            stdout, code = out.stdout, out.exit_code
            errors.append(out.stderr)
        if code != 0 and (hint := _failure_hint(line)):
            errors.append(f"hint: {hint}\n")
        joined = join_streams(stdout, *errors)
        # Without filters the streams were masked already (masking is idempotent): skip a second pass.
        observation, n_final = _mask(secrets, joined) if decision.filters else (joined, 0)
        observation, truncated = truncate_output(
            observation, self.config.max_output_bytes, self.config.max_output_lines
        )
        return CommandResult(
            line=line, argv=src.argv, filters=[list(f.argv) for f in decision.filters],
            exit_code=TIMEOUT_EXIT_CODE if src.timed_out else code, duration_s=time.monotonic() - started,
            stdout_bytes=len(src.stdout), stderr_bytes=len(src.stderr), truncated=truncated,
            timed_out=src.timed_out, redactions=n_out + n_err + n_final, observation=observation,
        )

    def kubectl_argv(self, command: KubectlCommand) -> list[str]:
        """The exact argv for `command`: binary, injected globals, then the agent's words unchanged."""
        cfg = self.config
        argv = [cfg.kubectl_binary]
        if cfg.context:
            argv += ["--context", cfg.context]
        argv += ["--cache-dir", str(cfg.cache_dir or os.path.join(self._work(), "kube-cache"))]
        if not command.request_timeout_given:
            argv.append(f"--request-timeout={max(1, math.ceil(cfg.timeout_s))}s")
        if (cfg.namespace and command.verb in _NAMESPACED_VERBS
                and not (command.namespace_given or command.all_namespaces)):
            argv += ["-n", cfg.namespace]
        return argv + list(command.args)

    def close(self) -> None:
        """Remove the private working/cache directory (also done at garbage collection)."""
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup, self._workdir = None, None

    def __enter__(self) -> CommandRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _work(self) -> str:
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="atlas-sre-cmd-")
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._workdir, True)
        return self._workdir

    def _learn(self, source: KubectlCommand | ToolCommand) -> SecretValues:
        """The credential values to mask for this command: the cluster's (re-read after `learn_ttl_s`),
        plus, for a `get` whose format drops key names, those of the same objects read as JSON."""
        cfg = self.config
        if not cfg.learn_secret_values:
            return self._secrets
        now = time.monotonic()
        if self._learned_at is None or now - self._learned_at > cfg.learn_ttl_s:
            learned = SecretValues()
            for query in LEARN_QUERIES:
                self._learn_into(learned, query)
            self._secrets, self._learned_at = learned, now
        variant = json_variant(source.args) if isinstance(source, KubectlCommand) and source.verb == "get" else None
        if variant is None:
            return self._secrets
        extra = SecretValues(set(self._secrets.values), set(self._secrets.evidence))
        self._learn_into(extra, KubectlCommand(
            args=variant, verb="get", namespace_given=source.namespace_given,
            all_namespaces=source.all_namespaces, request_timeout_given=source.request_timeout_given,
        ))
        return extra

    def _learn_into(self, values: SecretValues, query: KubectlCommand | Sequence[str]) -> None:
        """One structured read with the layer's credentials; a failure (RBAC, timeout) learns nothing."""
        command = query if isinstance(query, KubectlCommand) else KubectlCommand(
            args=tuple(query), verb="get", all_namespaces=True)
        src = self._run_kubectl(command)
        if src.exit_code != 0 or src.timed_out:
            return
        try:
            values.learn(json.loads(_decode(src.stdout)))
        except (ValueError, RecursionError):
            return

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.config.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.config.kubeconfig)
        env["KUBERC"] = "off"  # no user preference file may add aliases or default flags
        env["KUBECTL_KUBERC"] = "false"
        return env

    def _run_source(self, source: KubectlCommand | ToolCommand) -> _SourceOutput:
        if isinstance(source, ToolCommand):
            return self._run_tool(source)
        return self._run_kubectl(source)

    def _run_kubectl(self, command: KubectlCommand) -> _SourceOutput:
        argv = self.kubectl_argv(command)
        binary = shutil.which(argv[0])
        if binary is None:
            return _SourceOutput(argv, NOT_FOUND_EXIT_CODE, stderr=f"{argv[0]}: command not found\n".encode())
        proc = subprocess.Popen(
            [binary, *argv[1:]], shell=False, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=self._env(), cwd=self._work(), start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=self.config.timeout_s)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            try:
                out, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                out, err = b"", b""
            return _SourceOutput(argv, TIMEOUT_EXIT_CODE, out or b"", err or b"", timed_out=True)
        return _SourceOutput(argv, proc.returncode, out, err)

    def _run_tool(self, command: ToolCommand) -> _SourceOutput:
        argv = list(command.args)
        tool = self.tools.get(command.name)
        if tool is None:
            return _SourceOutput(argv, NOT_FOUND_EXIT_CODE,
                                 stderr=f"{command.name}: not available (no tool registered)\n".encode())
        ctx = ToolContext(config=self.config, kubectl=self._tool_kubectl)
        try:
            code, text = tool(argv, ctx)
        except Exception as exc:
            return _SourceOutput(argv, 1, stderr=f"{command.name}: internal error: {type(exc).__name__}: "
                                                 f"{exc}\n".encode())
        return _SourceOutput(argv, int(code), str(text).encode())

    def _tool_kubectl(self, args: Sequence[str]) -> tuple[int, str, str]:
        try:
            command = check_kubectl_args(list(args))
        except PolicyViolation as exc:
            raise PermissionError(exc.reason) from None
        src = self._run_kubectl(command)
        return src.exit_code, _decode(src.stdout), _decode(src.stderr)


def _mask(secrets: SecretValues, text: str) -> tuple[str, int]:
    """Learned values first (they may sit where no pattern can see them), then the shape rules."""
    text, by_value = secrets.mask(text)
    text, by_shape = redact(text)
    return text, by_value + by_shape


def _failure_hint(line: str) -> str:
    """The placeholder hint for a failed line; advice only, so a bug in it never breaks `run`."""
    try:
        return failure_hint(line)
    except Exception:
        return ""


def exec_command_line(line: str, config: CommandConfig | None = None, *,
                      tools: Mapping[str, Tool] | None = None) -> tuple[int, str]:
    """For the CLI: run one line (with `tools`), return (exit code, exactly what the agent would see).

    The exit code is 3 when the policy refuses, else the command's own (pipeline) exit status.
    """
    with CommandRunner(config, tools=tools) as runner:
        result = runner.run(line)
    return (REFUSED_EXIT_CODE if result.refused else result.exit_code), result.observation
