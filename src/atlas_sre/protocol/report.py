"""The investigation report for people (Markdown) and the progress line per step (stderr).

Markdown sections: teaching given, the Skill Capsules applied and why, each run (outcome, diagnosis
with evidence, commands with their time and size, grade when a scenario's truth exists), tokens per
role and phase, time, and what `--learn` did. JSON output is `run_full_protocol`'s dict itself (plus
the CLI's `capsule_store` and `learn`), so scripts and people read the same numbers.
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
    lines += capsule_section(result)
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
    if result.get("learn"):
        lines += learn_section(result["learn"])
    return "\n".join(lines)


def _record(c: dict[str, Any]) -> str:
    parts = [f"learnt from {c['learnt_from']} solved incident{'s' if c['learnt_from'] != 1 else ''}"
             ] if c.get("learnt_from") else []
    if c.get("uses") and c.get("success_rate") is not None:
        parts.append(f"success {c['success_rate']:.0%} over {c['uses']} use{'s' if c['uses'] != 1 else ''}")
    return "; ".join(parts) or "not used yet"


def capsule_section(result: dict[str, Any]) -> list[str]:
    """Which Skill Capsules were applied and why (retrieval score, the incident's words they matched).

    Shown whenever a store was consulted (`capsule_store` in the result), so "none matched" is
    visible too; without a store, only when capsules were passed in directly.
    """
    store, applied = result.get("capsule_store"), result.get("capsules") or []
    if not store and not applied:
        return []
    lines = ["## Skill Capsules", ""]
    if store:
        lines += [f"Store `{store}`: {len(applied)} capsule{'s' if len(applied) != 1 else ''} applied"
                  + (" (retrieved by BM25 over trigger, skill, evidence and procedure)." if applied
                     else " (none matched this incident)."), ""]
    if applied:
        lines += ["| capsule | skill | score | why it matched | record |", "|---|---|---:|---|---|"]
        lines += [f"| `{c['id']}` | {c['skill']} | {c['score']:.2f} | {c.get('why') or '—'} | {_record(c)} |"
                  for c in applied]
        lines.append("")
    return lines


def learn_section(learn: dict[str, Any]) -> list[str]:
    """What `--learn` did: the capsules learnt or reinforced, or where the ungraded run was saved."""
    lines = ["## Learning", ""]
    if learn.get("run_id"):
        pending = len(learn.get("uses_recorded") or [])
        return lines + ["No ground truth on this cluster: the run was saved as "
                        f"`{learn['run_id']}` (`{learn['run_path']}`)"
                        + (f"; the use of {pending} applied capsule(s) is pending" if pending else "")
                        + ". When you know whether the diagnosis was right, run:", "",
                        f"    {learn['feedback_command']}", ""]
    verdict = "correct" if learn.get("correct") else "wrong"
    n = learn["capsules_in_store"]
    lines.append(f"Graded {verdict}; store `{learn['store']}` now holds {n} capsule{'s' if n != 1 else ''}.")
    if learn.get("uses_recorded"):
        lines.append(f"Outcome recorded for {len(learn['uses_recorded'])} applied capsule(s).")
    for c in learn.get("learnt") or []:
        what = {"learnt": "learnt", "merged": "reinforced", "skipped_pruned": "not relearnt (pruned)"}[c["action"]]
        lines.append(f"- {what} `{c['id']}` {c['skill']} ({c['status']}, from {c['entity']}; "
                     f"proof: `{c['decisive_command']}`)")
    if not learn.get("learnt"):
        lines.append("Nothing learnt: " + ("no command output showed the cited evidence."
                                            if learn.get("correct") else "only a correct diagnosis teaches."))
    return lines + [""]
