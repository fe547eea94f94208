"""Export a run's teaching episodes for outside trainers: one JSONL line per taught episode.

Why here: the benchmark already holds everything a teacher trainer needs — what the teacher read
(incident + the student's plan, in each episode's trace), what it answered (probe + correction),
and the ATLAS teaching reward of that answer (`metrics.teaching_reward`, paired with the same
control the reports use). Exporting reads a run folder; it never re-runs an episode.

Two formats (docs/training.md):

- `trl`: TRL's conversational prompt-completion shape, read by `GRPOTrainer`, `SFTTrainer` (and
  `KTOTrainer` with a label): `prompt` = the teacher's system + probe messages, rendered with the
  LLM teacher's own templates, so an exported prompt is exactly what a trained teacher would read;
  `completion` = one assistant message, the probe line then the guidance inside `<teaching>`.
- `atlas`: the ATLAS runtime export (`AtlasSessionTrace`, what `arc-atlas` writes and ATLAS Core's
  offline trainers load): `task` = incident, `plan` = the student's plan, one step whose `output`
  is the teacher's answer, `session_reward.score` = the reward.

Both keep the ground-truth-derived fields (correctness, faults, category, grades) out of anything a
model reads: in `metadata` (trl) or `session_metadata` / `session_reward.raw` (atlas).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_sre.agents.prompting import capsule_digest_block, render
from atlas_sre.agents.types import CapsuleBrief
from atlas_sre.bench.config import MODES, TEACHING, EpisodeResult, parse_modes
from atlas_sre.bench.metrics import baseline_for, compare
from atlas_sre.bench.results import load_run
from atlas_sre.models.base import Message

FORMATS: tuple[str, ...] = ("trl", "atlas")
PHASES: tuple[str, ...] = ("all", "eval", "train")
TAUGHT_MODES: tuple[str, ...] = tuple(m for m in MODES if TEACHING[m])
EXPORT_FORMAT = "atlas-sre-teacher-1"
"""Version of the exported line's layout (in every line's metadata)."""


class ExportError(ValueError):
    """A user error: its message is the one line the CLI prints."""


@dataclass(frozen=True)
class TaughtEpisode:
    """One taught episode as the exporter sees it: its result line, its trace's teaching record, its reward."""

    record: EpisodeResult
    teaching: dict[str, Any]
    comparison: dict[str, Any]
    baseline_student_tokens: int


# ---------------------------------------------------------------- what the teacher read and said

_NAMESPACE = re.compile(r"(?:^|\s)namespace=([^\s,:]+)")
_GROUPED = re.compile(r"\[(\d+) alerts\]")


def incident_namespace(incident_text: str) -> str | None:
    """`Incident.namespace` read back from `Incident.text()`: the namespace most alerts name.

    The trace keeps the incident as text; the teacher's expert checks are filled with this
    namespace. A folded line (`[N alerts]`) counts N times, and ties go to the first named, as in
    `Incident.namespace`.
    """
    _, sep, alerts = incident_text.partition("\n\nFiring alerts:\n")
    counts: Counter[str] = Counter()
    for line in alerts.splitlines() if sep else ():
        head = line.split(": ", 1)[0]  # labels come before the alert's summary text
        m = _NAMESPACE.search(head)
        if m:
            grouped = _GROUPED.search(head)
            counts[m.group(1)] += int(grouped.group(1)) if grouped else 1
    return counts.most_common(1)[0][0] if counts else None


def _brief(data: dict[str, Any]) -> CapsuleBrief:
    """A `CapsuleBrief` from its trace form (`CapsuleBrief.to_dict`), `learnt_from` kept for the digest."""
    rate = data.get("success_rate")
    return CapsuleBrief(id=str(data.get("id", "")), skill=str(data.get("skill", "")),
                        trigger=str(data.get("trigger", "")), procedure=tuple(data.get("procedure") or ()),
                        commands=tuple(data.get("commands") or ()), score=float(data.get("score") or 0.0),
                        why=str(data.get("why", "")), success_rate=float(rate) if rate is not None else None,
                        uses=int(data.get("uses") or 0), root_cause=str(data.get("root_cause") or ""),
                        learnt_from=int(data.get("learnt_from") or 0), successes=int(data.get("successes") or 0))


def teacher_prompt(teaching: dict[str, Any], *, one_reply: bool = False) -> list[Message]:
    """The messages `LLMTeacher.probe` sends for this incident, plan and capsules (its templates).

    `one_reply`: the same incident, plan and checks, asking for the score line *and* the guidance in one
    reply (`teacher_probe_correct`): what a completion holding both must be prompted with (GRPO)."""
    incident = str(teaching.get("incident") or "")
    plan = str(teaching.get("plan") or "").strip() or "(no plan)"
    capsules = [_brief(c) for c in teaching.get("capsules") or ()]
    checks = render("teacher_checks", namespace=incident_namespace(incident) or "NAMESPACE").strip()
    user = render("teacher_probe_correct" if one_reply else "teacher_probe", incident=incident, plan=plan,
                  capsule_block=capsule_digest_block(capsules),
                  checks=checks)
    return [{"role": "system", "content": render("teacher_system")}, {"role": "user", "content": user}]


def teacher_completion(teaching: dict[str, Any]) -> str:
    """The probe line, then the guidance inside `<teaching>` (what `parse_probe_score` and
    `teaching_text` read back). The trace keeps only the guidance a student received, so this is
    its canonical form; a certified plan's guidance is the fixed confirmation."""
    probe = str(teaching.get("probe") or "").strip()
    guidance = str(teaching.get("guidance") or "").strip()
    return f"{probe}\n<teaching>{guidance}</teaching>"


# ---------------------------------------------------------------- selecting the episodes


def _teaching_record(run_dir: Path, record: EpisodeResult) -> dict[str, Any] | None:
    """The trace's `teaching` record with a probe, or None (no trace, errored before teaching)."""
    if not record.trace:
        return None
    try:
        trace = json.loads((run_dir / record.trace).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    first = next((r for r in trace.get("records") or () if r.get("type") == "teaching"), None)
    return first if first and first.get("probe") is not None else None


def taught_episodes(run_dir: Path, modes: str | Iterable[str] = TAUGHT_MODES,
                    phase: str = "all") -> tuple[list[TaughtEpisode], int]:
    """The taught episodes of `modes` in `phase`, in key order, and how many were skipped (no
    teaching record or no control to compare with)."""
    run_dir = Path(run_dir)
    if phase not in PHASES:
        raise ExportError(f"unknown phase {phase!r}: valid phases are {', '.join(PHASES)}")
    try:
        wanted = parse_modes(modes if isinstance(modes, str) else list(modes))
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    untaught = [m for m in wanted if not TEACHING[m]]
    if untaught:
        raise ExportError(f"mode(s) {', '.join(untaught)} are not taught: taught modes are {', '.join(TAUGHT_MODES)}")
    if not run_dir.is_dir():
        raise ExportError(f"{run_dir} is not a run folder (no such directory)")
    try:
        _, records = load_run(run_dir)
    except ValueError as exc:  # includes a malformed config.json
        raise ExportError(" ".join(str(exc).split())) from None
    lookup = baseline_for(records)
    episodes, skipped = [], 0
    for r in records:
        if r.mode not in wanted or (phase != "all" and r.phase != phase):
            continue
        base, teaching = lookup(r), _teaching_record(run_dir, r)
        comparison = compare(r, base)
        if base is None or comparison is None or teaching is None:
            skipped += 1
            continue
        episodes.append(TaughtEpisode(r, teaching, comparison, base[1]))
    if not episodes:
        raise ExportError(f"{run_dir}: no taught episodes in mode(s) {', '.join(wanted)}, phase {phase}"
                          + (f" ({skipped} without a teaching record or a control)" if skipped else ""))
    return episodes, skipped


# ---------------------------------------------------------------- the two line formats


def episode_metadata(ep: TaughtEpisode) -> dict[str, Any]:
    """Everything a trainer may filter or group by — never model input (correctness and faults come
    from the ground truth)."""
    r, t, c = ep.record, ep.teaching, ep.comparison
    teacher = {phase: r.tokens[f"teacher.{phase}"].model_dump() if f"teacher.{phase}" in r.tokens
               else {"prompt": 0, "completion": 0} for phase in ("probe", "correct")}
    return {
        "format": EXPORT_FORMAT, "key": r.key, "phase": r.phase, "scenario": r.scenario, "faults": list(r.faults),
        "category": r.category, "complexity": r.complexity, "domain": r.domain, "mode": r.mode,
        "iteration": r.iteration, "repeat": r.repeat, "seed": r.seed, "outcome": r.outcome,
        "capability_score": t.get("score"), "strategy": t.get("strategy"), "certified": bool(t.get("certified")),
        "capsules": [str(c.get("id", "")) for c in t.get("capsules") or ()],
        "baseline_correct": bool(c["baseline_correct"]), "guided_correct": r.correct,
        "improved": bool(c["improved"]), "degraded": bool(c["degraded"]),
        "teacher_tokens": teacher, "student_tokens": r.role_tokens("student"),
        "baseline_student_tokens": ep.baseline_student_tokens, "trace": r.trace or "",
    }


def trl_line(ep: TaughtEpisode) -> dict[str, Any]:
    """`{"prompt": [system, user], "completion": [assistant], "reward": float, "metadata": {...}}`."""
    return {"prompt": teacher_prompt(ep.teaching),
            "completion": [{"role": "assistant", "content": teacher_completion(ep.teaching)}],
            "reward": float(ep.comparison["reward"]), "metadata": episode_metadata(ep)}


def _plan_steps(plan: str) -> list[dict[str, Any]]:
    """The plan's numbered lines as ATLAS plan steps `{id, description}` (one step if unnumbered)."""
    lines = [re.sub(r"^\s*\d+[.)]\s*", "", line).strip() for line in plan.splitlines() if line.strip()]
    return [{"id": i, "description": line} for i, line in enumerate(lines, 1)]


def atlas_line(ep: TaughtEpisode) -> dict[str, Any]:
    """An `AtlasSessionTrace` line: the session is one teaching step, scored by the teaching reward."""
    meta, t = episode_metadata(ep), ep.teaching
    prompt, answer = teacher_prompt(t), teacher_completion(t)
    reward = {"score": float(ep.comparison["reward"]), "judges": [],
              "rationale": "ATLAS teaching reward: guided vs baseline correctness of the same student "
                           "(-1 degraded, 0 both wrong, efficiency kept, 1 + efficiency improved)",
              "raw": {k: meta[k] for k in ("baseline_correct", "guided_correct", "improved", "degraded",
                                            "student_tokens", "baseline_student_tokens")}}
    step = {"step_id": 1, "description": "Probe the student's plan (score 1-5), then correct it",
            "trace": prompt[-1]["content"], "output": answer, "reward": reward, "tool": None, "tool_params": {},
            "context": {}, "validation": {}, "attempts": 1, "guidance": [str(t.get("guidance") or "")],
            "metadata": {"prompt_messages": prompt, "probe": t.get("probe"), "capability_score": t.get("score"),
                         "strategy": t.get("strategy"), "certified": bool(t.get("certified"))},
            "runtime": None, "depends_on": [], "artifacts": None, "deliverable": None}
    # `final_answer` stays empty: a correct student's diagnosis *is* the answer, so it lives in metadata
    return {"task": str(t.get("incident") or ""), "final_answer": "",
            "plan": {"steps": _plan_steps(str(t.get("plan") or ""))}, "steps": [step],
            "session_metadata": {**meta, "learning_key": f"atlas-sre:{ep.record.scenario}",
                                 "teacher_system_prompt": prompt[0]["content"],
                                 "student_diagnosis": ep.record.diagnosis},
            "session_reward": reward, "trajectory_events": [], "student_learning": None, "teacher_learning": None,
            "learning_history": None,
            "adaptive_summary": {"capability_score": t.get("score"), "strategy": t.get("strategy")}}


def export_teacher(run_dir: Path, out: Path, fmt: str = "trl", modes: str | Iterable[str] = TAUGHT_MODES,
                   phase: str = "all") -> tuple[int, int]:
    """Write one line per taught episode to `out` (replaced whole); returns (lines, skipped)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: valid formats are {', '.join(FORMATS)}")
    episodes, skipped = taught_episodes(Path(run_dir), modes, phase)
    line = trl_line if fmt == "trl" else atlas_line
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for ep in episodes:
            fh.write(json.dumps(line(ep), ensure_ascii=False) + "\n")
    tmp.replace(out)
    return len(episodes), skipped
