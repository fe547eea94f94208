"""`atlas-sre investigate`: run the protocol on a served scenario or a real cluster and report.

The Typer command calls `investigate_cli(...)`; everything else is here. Progress goes to stderr
(one line per step), the report (Markdown or JSON) to stdout, the JSONL trajectory to `--trace`.
Skill Capsules come from a per-user store by default (`--capsules STORE`, else
`$ATLAS_SRE_CAPSULES`, else `$XDG_DATA_HOME/atlas-sre/capsules.sqlite`; a default store that does
not exist yet means "no capsules", an explicit one must exist unless `--learn` creates it);
`--no-capsules` applies none. `--learn` consolidates the run into the store afterwards
(`protocol.learn`): on a scenario the grade decides, on a real cluster the run is saved for
`atlas-sre capsules feedback RUN --correct|--wrong`. Every user error is one line on stderr with
exit code 2; an unreachable cluster exits 1.
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
                    no_capsules: bool = False, learn: bool = False, tool_mode: str = "auto",
                    no_analyzer: bool = False, teacher_prompts: str | None = None, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """Investigate INCIDENT (empty: the scenario's own summary); return the process exit code.

    `capsules`: a capsule store's path (`--capsules`; None: the per-user default store), or
    capsules as `run_full_protocol` takes them. `no_capsules`: apply none. `learn`: consolidate
    the run into the store afterwards (module docstring).
    `tool_mode`: how a chat-model student replies (`agents.llm.tools.TOOL_MODES`; docs/models.md).
    `no_analyzer`: no `analyze` tool (kubectl only), as `bench --no-analyzer`.
    `teacher_prompts`: a folder of teacher templates replacing the packaged ones (`atlas-sre train prompts`).
    """
    from atlas_sre.capsules import CapsuleStore, SchemaTooNewError  # `--help` stays fast
    from atlas_sre.capsules.store import store_location

    out, err = out or sys.stdout, err or sys.stderr
    if no_capsules and (learn or capsules is not None):
        return _error("--no-capsules cannot be combined with --capsules or --learn", USAGE_ERROR, err)
    store_path: Path | str | None = None
    with ExitStack() as stack:
        if not no_capsules and (capsules is None or isinstance(capsules, (str, Path))):
            path = store_location(capsules)  # a file, or a postgresql:// URL (a team's library)
            if isinstance(path, str) or path.is_file() or learn:
                try:
                    capsules = stack.enter_context(CapsuleStore(path))
                    store_path = capsules.path
                except (OSError, sqlite3.Error, SchemaTooNewError) as exc:
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                    shown = path if isinstance(path, Path) else "(PostgreSQL)"  # never the URL's password
                    return _error(f"cannot open capsule store {shown}: {reason}", USAGE_ERROR, err)
            elif capsules is not None:
                return _error(f"capsule store {path} does not exist (--learn creates it)", USAGE_ERROR, err)
            else:
                capsules = None  # no personal store yet: nothing to apply
        elif no_capsules:
            capsules = None
        if learn and not isinstance(capsules, CapsuleStore):
            return _error("--learn needs a capsule store (--capsules STORE)", USAGE_ERROR, err)
        return _investigate(incident, scenario, kubeconfig, context, namespace, student, teacher, no_teach,
                            max_steps, as_json, trace, capsules, tool_mode, out, err,
                            store_path=store_path, learn=learn, no_analyzer=no_analyzer,
                            teacher_prompts=teacher_prompts)


def _investigate(incident: str, scenario: str | None, kubeconfig: str | None, context: str | None,
                 namespace: str | None, student: str, teacher: str, no_teach: bool, max_steps: int, as_json: bool,
                 trace: str | None, capsules: Any, tool_mode: str, out: TextIO, err: TextIO, *,
                 store_path: Path | str | None = None, learn: bool = False, no_analyzer: bool = False,
                 teacher_prompts: str | None = None) -> int:
    from atlas_sre.agents.factory import make_student, make_teacher
    from atlas_sre.agents.llm.teacher_prompts import load_teacher_prompts
    from atlas_sre.agents.llm.tools import TOOL_MODES
    from atlas_sre.agents.loop import LoopConfig
    from atlas_sre.environments import ClusterUnavailable, default_tools
    from atlas_sre.models.base import ModelError
    from atlas_sre.protocol.atlas import ATLASInference
    from atlas_sre.protocol.learn import learn_from_episode
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
        coach: Any = (make_teacher(teacher, prompts=load_teacher_prompts(teacher_prompts)) if teacher_prompts
                      else teacher)
        atlas = ATLASInference(agent, coach, loop_config=LoopConfig(max_steps=max_steps), on_step=on_step,
                               tools=default_tools(analyzer=not no_analyzer))
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
    if store_path is not None:
        result["capsule_store"] = str(store_path)
    learn_error: str | None = None
    if learn and atlas.episode is not None:
        try:
            result["learn"] = learn_from_episode(capsules, atlas.episode).to_dict()
        except (sqlite3.Error, OSError) as exc:  # the investigation stands (reported); only learning failed
            learn_error = f"cannot learn into capsule store {store_path or ''}: {exc}"
        if result.get("learn", {}).get("run_id"):
            err.write(f"run saved as {result['learn']['run_id']}; when you know whether the diagnosis was right: "
                      f"{result['learn']['feedback_command']}\n")
            err.flush()
    if as_json:
        out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render_report(result, atlas.trajectories))
    out.flush()
    return _error(learn_error, CLUSTER_ERROR, err) if learn_error else 0


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
                                        help="Apply Skill Capsules from this SQLite store (default: "
                                             "$ATLAS_SRE_CAPSULES, else ~/.local/share/atlas-sre/capsules.sqlite, "
                                             "if it exists)."),
    no_capsules: bool = typer.Option(False, "--no-capsules", help="Apply no Skill Capsules."),
    learn: bool = typer.Option(False, "--learn", help="Afterwards, learn from this run into the store (a "
                                                      "scenario's grade decides; on a real cluster the run is "
                                                      "saved for `atlas-sre capsules feedback RUN`)."),
    tool_mode: str = typer.Option("auto", "--tool-mode", metavar="auto|native|text|constrained",
                                  help="How a model student acts: native tool calls (auto: for openai: models, "
                                       "text if the server refuses), fenced text, or JSON-schema-constrained "
                                       "replies (llama.cpp)."),
    no_analyzer: bool = typer.Option(False, "--no-analyzer", help="No `analyze` tool: kubectl only (the teacher "
                                                                  "is told, and never asks for it)."),
    teacher_prompts: str | None = typer.Option(None, "--teacher-prompts", metavar="DIR",
                                               help="A model teacher's templates from DIR (written by `atlas-sre "
                                                    "train prompts`) instead of the packaged ones."),
) -> None:
    """Investigate an incident read-only: plan, (teaching), commands, diagnosis."""
    raise typer.Exit(investigate_cli(incident, scenario, kubeconfig, context, namespace, student, teacher,
                                     no_teach, max_steps, as_json, trace, capsules=capsules,
                                     no_capsules=no_capsules, learn=learn, tool_mode=tool_mode,
                                     no_analyzer=no_analyzer, teacher_prompts=teacher_prompts))
