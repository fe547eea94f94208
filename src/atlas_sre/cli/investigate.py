"""`atlas-sre investigate`: run the protocol on a served scenario or a real cluster and report.

The Typer command calls `investigate_cli(...)`; everything else is here. Progress goes to stderr
(one line per step), the report (Markdown or JSON) to stdout, the JSONL trajectory to `--trace`.
`--capsules STORE` applies the Skill Capsules of a SQLite capsule store (retrieve step; without it
none are applied). Every user error is one line on stderr with exit code 2; an unreachable cluster
exits 1.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer

if TYPE_CHECKING:
    from atlas_sre.agents.trajectory import Step

USAGE_ERROR = 2
CLUSTER_ERROR = 1


def _error(message: str, code: int, err: TextIO) -> int:
    err.write(f"error: {' '.join(str(message).split())}\n")
    err.flush()
    return code


def investigate_cli(incident: str, scenario: str | None = None, kubeconfig: str | None = None,
                    context: str | None = None, namespace: str | None = None, student: str = "reference:student",
                    teacher: str = "reference:teacher", no_teach: bool = False, max_steps: int = 20,
                    as_json: bool = False, trace: str | None = None, *, capsules: Any = None,
                    tool_mode: str = "auto", out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Investigate INCIDENT (empty: the scenario's own summary); return the process exit code.

    `capsules`: a capsule store's path (`--capsules`), or capsules as `run_full_protocol` takes them.
    `tool_mode`: how a chat-model student replies (`agents.llm.tools.TOOL_MODES`; docs/models.md).
    """
    from atlas_sre.capsules import CapsuleStore, SchemaTooNewError  # here, not above: `--help` stays fast

    out, err = out or sys.stdout, err or sys.stderr
    with ExitStack() as stack:
        if isinstance(capsules, (str, Path)):
            path = Path(capsules).expanduser()
            if not path.is_file():
                return _error(f"capsule store {path} does not exist", USAGE_ERROR, err)
            try:
                capsules = stack.enter_context(CapsuleStore(path))
            except (OSError, sqlite3.Error, SchemaTooNewError) as exc:
                return _error(f"cannot open capsule store {path}: {exc}", USAGE_ERROR, err)
        return _investigate(incident, scenario, kubeconfig, context, namespace, student, teacher, no_teach,
                            max_steps, as_json, trace, capsules, tool_mode, out, err)


def _investigate(incident: str, scenario: str | None, kubeconfig: str | None, context: str | None,
                 namespace: str | None, student: str, teacher: str, no_teach: bool, max_steps: int, as_json: bool,
                 trace: str | None, capsules: Any, tool_mode: str, out: TextIO, err: TextIO) -> int:
    from atlas_sre.agents.factory import make_student
    from atlas_sre.agents.llm.tools import TOOL_MODES
    from atlas_sre.agents.loop import LoopConfig
    from atlas_sre.environments import ClusterUnavailable
    from atlas_sre.models.base import ModelError
    from atlas_sre.protocol.atlas import ATLASInference
    from atlas_sre.protocol.report import progress_line, render_report

    if scenario and (kubeconfig or context):
        return _error("give either --scenario or --kubeconfig/--context, not both", USAGE_ERROR, err)
    if not scenario and not (incident or "").strip():
        return _error("describe the incident (an argument), or pass --scenario to use its summary", USAGE_ERROR, err)
    if max_steps < 1:
        return _error("--max-steps must be at least 1", USAGE_ERROR, err)
    if tool_mode not in TOOL_MODES:
        return _error(f"unknown --tool-mode {tool_mode!r}: valid modes are {', '.join(TOOL_MODES)}", USAGE_ERROR, err)
    both = not no_teach

    def on_step(label: str, step: Step) -> None:
        err.write(progress_line(label if both else "", step) + "\n")
        err.flush()

    try:
        agent = make_student(student, max_steps=max_steps, tool_mode=tool_mode)
        atlas = ATLASInference(agent, teacher, loop_config=LoopConfig(max_steps=max_steps), on_step=on_step)
    except (ModelError, ValueError) as exc:
        return _error(str(exc), USAGE_ERROR, err)
    try:
        if scenario:
            result = atlas.run_full_protocol(incident, scenario=scenario, capsules=capsules, teach=both)
        else:
            result = atlas.run_full_protocol(incident, kubeconfig=kubeconfig, context=context, namespace=namespace,
                                             capsules=capsules, teach=both, use_default_kubeconfig=True)
    except ClusterUnavailable as exc:
        return _error(str(exc), CLUSTER_ERROR, err)
    except ModelError as exc:
        return _error(str(exc), CLUSTER_ERROR, err)
    except (ValueError, OSError) as exc:  # scenario not found / invalid, unreadable files
        return _error(str(exc), USAGE_ERROR, err)
    if trace:
        try:
            Path(trace).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in atlas.trace_records()),
                                   encoding="utf-8")
        except OSError as exc:
            return _error(f"cannot write trace {trace}: {exc.strerror or exc}", USAGE_ERROR, err)
    if as_json:
        out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render_report(result, atlas.trajectories))
    out.flush()
    return 0


def investigate(
    incident: str = typer.Argument("", help="The incident as reported (default with --scenario: its summary)."),
    scenario: str | None = typer.Option(None, "--scenario", help="Investigate a scenario on the simulator."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Investigate a real cluster."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Default namespace."),
    student: str = typer.Option("reference:student", "--student", help="Student model spec."),
    teacher: str = typer.Option("reference:teacher", "--teacher", help="Teacher model spec."),
    no_teach: bool = typer.Option(False, "--no-teach", help="Baseline: the student alone."),
    max_steps: int = typer.Option(20, "--max-steps", help="Command budget."),
    as_json: bool = typer.Option(False, "--json", help="JSON result instead of the Markdown report."),
    trace: str | None = typer.Option(None, "--trace", help="Write the JSONL trajectory here."),
    capsules: str | None = typer.Option(None, "--capsules", metavar="STORE",
                                        help="Apply Skill Capsules from this SQLite capsule store (default: none)."),
    tool_mode: str = typer.Option("auto", "--tool-mode", metavar="auto|native|text|constrained",
                                  help="How a model student acts: native tool calls (auto: for openai: models, "
                                       "text if the server refuses), fenced text, or JSON-schema-constrained "
                                       "replies (llama.cpp)."),
) -> None:
    """Investigate an incident read-only: plan, (teaching), commands, diagnosis."""
    raise typer.Exit(investigate_cli(incident, scenario, kubeconfig, context, namespace, student, teacher,
                                     no_teach, max_steps, as_json, trace, capsules=capsules, tool_mode=tool_mode))
