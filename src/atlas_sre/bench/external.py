"""An outside agent as a benchmark episode: `atlas-sre bench --agent 'cmd:holmes ask {incident}'`.

Why a command and not an API: HolmesGPT, k8sgpt or an in-house agent already run as a command
against a kubeconfig. The episode serves the scenario exactly as for our own agents (same
simulator, same frozen clock, `environments.open_scenario`), runs the command with `KUBECONFIG`
pointing at it and the incident briefing as one argument, and grades what it prints:

- the template is split with `shlex` and never run through a shell; `{incident}` (the summary and
  the firing alerts, `Incident.text()`, exactly what our agents are told) is substituted inside
  the argument(s) that hold it, so it stays one argv element whatever it contains;
- stdout is kept up to `max_stdout_bytes` (its tail: an answer comes last), stderr up to
  `max_stderr_bytes` (into the trace), and the command is killed with its process group after
  `timeout_s`;
- stdout in our diagnosis schema (bare or in a ```json fence) is graded as is; anything else goes
  through the deterministic extractor (`grading.extract`) over the served objects.

An outside agent is neither taught nor given capsules, so only mode `student` exists for it
(`BenchConfig` refuses the others). Tokens are not counted: the agent's model is not ours to see.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from atlas_sre.bench.config import EpisodeResult, EpisodeTask, GradeFields, Outcome
from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.environments import open_scenario
from atlas_sre.grading import grade
from atlas_sre.grading.extract import read_answer

PREFIX = "cmd:"
PLACEHOLDER = "{incident}"


def parse_agent(spec: str) -> list[str]:
    """`cmd:<template>` → the template's argv; ValueError (one line) for anything else."""
    if not spec.startswith(PREFIX):
        raise ValueError(f"--agent must be 'cmd:<command template>', got {spec!r}")
    try:
        argv = shlex.split(spec[len(PREFIX):])
    except ValueError as exc:
        raise ValueError(f"--agent template cannot be parsed: {exc}") from None
    if not argv:
        raise ValueError("--agent 'cmd:' needs a command")
    if not any(PLACEHOLDER in arg for arg in argv):
        raise ValueError(f"--agent template must contain {PLACEHOLDER} (the incident briefing the agent is given)")
    return argv


def render(argv: list[str], incident: str) -> list[str]:
    """The command line for one incident: `{incident}` replaced inside each argument that holds it."""
    return [arg.replace(PLACEHOLDER, incident) for arg in argv]


@dataclass
class AgentRun:
    """What the command did: exit code (None when killed), output kept, whether it ran out of time."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    wall_s: float
    stdout_truncated: bool


class _Tail(threading.Thread):
    """Drains a pipe, keeping its last `limit` bytes (an agent may print far more than its answer)."""

    def __init__(self, pipe: IO[bytes], limit: int) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.data, self.dropped = pipe, limit, bytearray(), False

    def run(self) -> None:
        for chunk in iter(lambda: self.pipe.read1(65536), b""):  # type: ignore[attr-defined]
            self.data += chunk
            if len(self.data) > self.limit:
                del self.data[:len(self.data) - self.limit]
                self.dropped = True

    def text(self) -> str:
        return bytes(self.data).decode("utf-8", errors="replace")


def run_agent(argv: list[str], kubeconfig: str, timeout_s: float, max_stdout: int, max_stderr: int) -> AgentRun:
    """Run the agent command once: no shell, its own session (killed whole on time-out), `KUBECONFIG` set."""
    env = {**os.environ, "KUBECONFIG": kubeconfig}
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)
    out, err = _Tail(proc.stdout, max_stdout), _Tail(proc.stderr, max_stderr)  # type: ignore[arg-type]
    out.start()
    err.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    out.join(timeout=5)
    err.join(timeout=5)
    return AgentRun(None if timed_out else proc.returncode, out.text(), err.text(), timed_out,
                    round(time.perf_counter() - started, 3), out.dropped)


class ExternalEpisodeRunner(BaseModel):
    """`EpisodeRunner` for an outside agent command (picklable: settings only)."""

    agent: str = Field(description="'cmd:<template>' with {incident}")
    timeout_s: float = Field(600.0, gt=0)
    max_stdout_bytes: int = Field(256_000, ge=1024)
    max_stderr_bytes: int = Field(64_000, ge=1024)
    write_traces: bool = True

    def model_post_init(self, __context: Any) -> None:
        parse_agent(self.agent)  # a bad template fails the run before any episode

    def run(self, task: EpisodeTask) -> EpisodeResult:
        with open_scenario(task.scenario.path, anchor=OBSERVED_AT, tools={}) as env:
            incident = env.incident.text() if env.incident else ""
            argv = render(parse_agent(self.agent), incident)
            run = run_agent(argv, str(env.runner.config.kubeconfig), self.timeout_s, self.max_stdout_bytes,
                            self.max_stderr_bytes)
            diagnosis, how = read_answer(run.stdout, env.served_objects(), env.namespace)
            scored = grade(diagnosis, env.truth).model_dump()
        outcome: Outcome = "limits" if run.timed_out else "submitted" if run.exit_code == 0 else "error"
        if outcome != "submitted":
            scored["correct"] = False  # as for our agents: a run that did not finish did not answer
        message = (f"timed out after {self.timeout_s:g}s" if run.timed_out else "" if run.exit_code == 0
                   else f"exit {run.exit_code}: " + (run.stderr.strip().splitlines() or [""])[-1])
        trace = self._trace(task, argv, run, how, diagnosis.model_dump(), scored)
        m = task.scenario
        return EpisodeResult(
            key=task.key, phase=task.phase, scenario=m.name, faults=m.faults, category=m.category,
            complexity=m.complexity, domain=m.domain, mode=task.mode, iteration=task.iteration,
            repeat=task.repeat, seed=task.seed, outcome=outcome, message=message[:500],
            diagnosis=diagnosis.model_dump(), grade=GradeFields.model_validate(scored), wall_s=run.wall_s,
            output_lines=run.stdout.count("\n"), trace=trace)

    def _trace(self, task: EpisodeTask, argv: list[str], run: AgentRun, how: str, diagnosis: dict[str, Any],
               scored: dict[str, Any]) -> str | None:
        """The episode's trace file: the command, its output (capped) and how it was read and graded."""
        if not (self.write_traces and task.trace_path):
            return None
        path = Path(task.trace_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"task": task.model_dump(), "agent": {"argv": argv, "exit_code": run.exit_code,
                                                        "timed_out": run.timed_out, "wall_s": run.wall_s,
                                                        "stdout": run.stdout, "stdout_truncated": run.stdout_truncated,
                                                        "stderr": run.stderr},
                  "answer_format": how, "diagnosis": diagnosis, "grade": scored}
        path.write_text(json.dumps(record, default=str) + "\n", encoding="utf-8")
        return str(path.relative_to(task.run_dir)) if path.is_relative_to(task.run_dir) else str(path)
