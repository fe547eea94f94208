"""The investigation report for people (Markdown) and the progress line per step (stderr).

Markdown sections: teaching given, each run (outcome, diagnosis with evidence, commands with their
time and size, grade when a scenario's truth exists), tokens per role and phase, time. JSON output
is `run_full_protocol`'s dict itself, so scripts and people read the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atlas_sre.agents.trajectory import Step, Trajectory
from atlas_sre.grading import Diagnosis, render_markdown

_TITLES = {"baseline": "Student alone (baseline, no teaching)", "guided": "Guided run (with teaching)"}


def progress_line(label: str, step: Step) -> str:
    """`#3 kubectl get destinationrule -n shop … 0.12s, 41 lines` (with the run's label when both run)."""
    prefix = f"[{label}] " if label else ""
    if step.kind in ("command", "refused", "repeated"):
        what = step.command or ""
        tail = {"refused": "refused", "repeated": "repeat, not run"}.get(step.kind)
        size = tail or f"{step.duration_s:.2f}s, {step.observation_lines} lines"
        return f"{prefix}#{step.n} {what} … {size}"
    names = {"submit": "diagnosis submitted", "format_error": "unreadable reply (format error)",
             "limit": "stopped: budget reached", "model_error": "stopped: model error"}
    return f"{prefix}#{step.n} {names.get(step.kind, step.kind)}"


def _demote(markdown: str) -> str:
    return "\n".join("#" + line if line.startswith("#") else line for line in markdown.splitlines())


def _run_section(traj: Trajectory, grade: dict[str, Any] | None) -> list[str]:
    lines = [f"## {_TITLES.get(traj.label, traj.label)}", ""]
    tokens = traj.usage
    detail = f" ({traj.detail})" if traj.detail else ""
    lines.append(f"**Outcome:** {traj.outcome} after {len(traj.steps)} steps, {len(traj.commands)} commands, "
                 f"{traj.duration_s:.1f}s, {tokens.total} student tokens{detail}")
    if grade is not None:
        verdict = "correct" if grade.get("correct") else "wrong"
        lines.append(f"**Grade:** {verdict} (precision {grade['precision']:.2f}, recall {grade['recall']:.2f}"
                     + (f"; missed {', '.join(grade['missed'])}" if grade.get("missed") else "") + ")")
    lines.append("")
    if traj.diagnosis is not None:
        lines += [_demote(render_markdown(Diagnosis.model_validate(traj.diagnosis))), ""]
    else:
        lines += ["No diagnosis was submitted.", ""]
    lines.append("### Commands")
    shown = [s for s in traj.steps if s.command]
    for s in shown:
        note = {"refused": "refused", "repeated": "repeat"}.get(s.kind) or \
            f"exit {s.exit_code}, {s.duration_s:.2f}s, {s.observation_lines} lines"
        lines.append(f"{s.n}. `{s.command}` ({note})")
    if not shown:
        lines.append("none")
    return lines + [""]


def render_report(result: dict[str, Any], trajectories: Sequence[Trajectory] = ()) -> str:
    """Markdown for `atlas-sre investigate`."""
    lines = [f"# Investigation: {result.get('problem') or 'incident'}", ""]
    if result.get("scenario"):
        lines += [f"Scenario `{result['scenario']}` (namespace {result.get('namespace') or 'default'}), "
                  "served by the simulator.", ""]
    diag, learning = result["diagnostic"], result["learning"]
    if diag["capability_score"] is not None:
        lines += ["## Teaching", "",
                  f"**Probe:** {diag['capability_score']}/5 → {diag['learning_strategy']} — {diag['probe_response']}",
                  "", f"**Guidance ({learning['strategy']}):**", "",
                  "> " + (learning["learning_guidance"] or "(none)").replace("\n", "\n> "), ""]
    if result.get("capsules"):
        lines += ["**Skill Capsules applied:** " + ", ".join(f"{c['skill']} ({c['score']:.2f})"
                                                             for c in result["capsules"]), ""]
    grades = result.get("grades") or {}
    for traj in sorted(trajectories, key=lambda t: t.label != "guided"):
        lines += _run_section(traj, grades.get(traj.label))
    if not trajectories:
        lines += ["## Plans", "", "**Baseline plan:**", "", result["baseline_response"], ""]
        if result.get("guided_response"):
            lines += ["**Guided plan:**", "", result["guided_response"], ""]
    lines += ["## Tokens", "", "| role | phase | prompt | completion | total |", "|---|---|---:|---:|---:|"]
    for role, phases in result["tokens"].items():
        for phase, usage in phases.items():
            lines.append(f"| {role} | {phase} | {usage['prompt_tokens']} | {usage['completion_tokens']} | "
                         f"{usage['total_tokens']} |")
    timings = result.get("timings", {})
    lines += ["", "## Time", "", ", ".join(f"{k.removesuffix('_s')} {v:.2f}s" for k, v in timings.items()), ""]
    return "\n".join(lines)
