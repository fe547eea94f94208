"""`atlas-sre investigate`: run the protocol on a served scenario or a real cluster and report.

The lead wires Typer to `investigate_cli(...)`; everything else is here. Progress goes to stderr
(one line per step), the report (Markdown or JSON) to stdout, the JSONL trajectory to `--trace`.
Every user error is one line on stderr with exit code 2; an unreachable cluster exits 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from atlas_sre.agents.loop import LoopConfig
from atlas_sre.agents.trajectory import Step
from atlas_sre.models.base import ModelError
from atlas_sre.protocol.cluster import ClusterUnavailable
from atlas_sre.protocol.report import progress_line, render_report

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
                    out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Investigate INCIDENT (empty: the scenario's own summary); return the process exit code."""
    from atlas_sre.protocol.atlas import ATLASInference

    out, err = out or sys.stdout, err or sys.stderr
    if scenario and (kubeconfig or context):
        return _error("give either --scenario or --kubeconfig/--context, not both", USAGE_ERROR, err)
    if not scenario and not (incident or "").strip():
        return _error("describe the incident (an argument), or pass --scenario to use its summary", USAGE_ERROR, err)
    if max_steps < 1:
        return _error("--max-steps must be at least 1", USAGE_ERROR, err)
    both = not no_teach

    def on_step(label: str, step: Step) -> None:
        err.write(progress_line(label if both else "", step) + "\n")
        err.flush()

    try:
        atlas = ATLASInference(student, teacher, loop_config=LoopConfig(max_steps=max_steps), on_step=on_step)
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

