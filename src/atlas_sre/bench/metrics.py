"""Benchmark metrics as plain functions over `EpisodeResult` records (DSPy/Inspect style).

Definitions (docs/benchmark.md repeats them):

- accuracy: share of episodes whose diagnosis names every true root cause (`Grade.correct`);
  strict / precision / recall / F1 / propagation F1 as the grading room computes them. An errored
  episode counts as wrong with zero scores: it gave no answer.
- pairing: every non-`student` episode is compared with the `student` episode of the same
  incident (phase, scenario, repeat; same iteration when there is one, else the earliest). With
  no student run in the benchmark, the untaught run the protocol made inside the episode is used.
- improved = baseline wrong and this right; degraded = baseline right and this wrong;
  non-degradation rate = 1 − degraded / compared (ATLAS's evaluation helper).
- teaching reward (ATLAS `AdaptiveTeachingReward`, the version that penalises degradation):
  degraded −1; both wrong 0; kept correct: efficiency; improved: 1 + efficiency, where
  efficiency = (baseline − taught student tokens) / baseline student tokens when the taught
  student used fewer tokens, else 0 — the student's "solution length" is its token count.
- time-to-resolution: `ttr_s` is modeled time to *submit*; `ttr_correct_s` is modeled time to a
  *correct* diagnosis, `ttr_s` plus `escalation_s` (default 2700 s, the seed's 45 min) when the
  answer was wrong or empty (`ttr.time_to_correct`).
- mean ± stderr: over repeats (stderr of the per-repeat means) when a group has ≥ 2 repeats,
  else over incidents (each incident's mean over its iterations, then sample standard deviation
  / √n): iterations of one incident are not independent samples. One value → stderr 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from atlas_sre.bench.config import EpisodeResult
from atlas_sre.bench.ttr import DEFAULT_ESCALATION_S, time_to_correct


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def stderr(values: Sequence[float]) -> float:
    """Standard error of the mean: sample standard deviation (n − 1) / √n; 0 for n < 2."""
    n = len(values)
    if n < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) / math.sqrt(n)


def mean_stderr(values: Sequence[float]) -> dict[str, float]:
    return {"mean": round(mean(values), 6), "stderr": round(stderr(values), 6)}


def efficiency(baseline_tokens: int, taught_tokens: int) -> float:
    """Share of the baseline student's tokens the taught student saved; 0 if it saved none."""
    if baseline_tokens <= 0 or taught_tokens >= baseline_tokens:
        return 0.0
    return (baseline_tokens - taught_tokens) / baseline_tokens


def teaching_reward(baseline_correct: bool, correct: bool, baseline_tokens: int, tokens: int) -> float:
    """ATLAS per-incident teaching reward: −1 / 0 / efficiency / 1 + efficiency (module docstring)."""
    if baseline_correct and not correct:
        return -1.0
    if not correct:
        return 0.0
    bonus = efficiency(baseline_tokens, tokens)
    return bonus if baseline_correct else 1.0 + bonus


def baseline_for(records: Iterable[EpisodeResult]) -> Callable[[EpisodeResult], tuple[bool, int] | None]:
    """A lookup: episode → (baseline correct, baseline student tokens), or None if it has no control."""
    students: dict[tuple[str, str, int], dict[int, EpisodeResult]] = defaultdict(dict)
    for r in records:
        if r.mode == "student":
            students[(r.phase, r.scenario, r.repeat)][r.iteration] = r

    def lookup(r: EpisodeResult) -> tuple[bool, int] | None:
        if r.mode == "student":
            return None
        runs = students.get((r.phase, r.scenario, r.repeat))
        if runs:
            base = runs.get(r.iteration) or runs[min(runs)]
            return base.correct, base.role_tokens("student")
        if r.baseline is not None:
            return r.baseline.correct, r.baseline.student_tokens
        return None

    return lookup


def compare(record: EpisodeResult, baseline: tuple[bool, int] | None) -> dict[str, Any] | None:
    """Per-episode comparison with its control: improved/degraded/kept and the teaching reward."""
    if baseline is None:
        return None
    base_ok, base_tokens = baseline
    ok, tokens = record.correct, record.role_tokens("student")
    return {
        "baseline_correct": base_ok, "improved": ok and not base_ok, "degraded": base_ok and not ok,
        "kept": ok and base_ok, "reward": round(teaching_reward(base_ok, ok, base_tokens, tokens), 6),
        "student_tokens_delta": tokens - base_tokens,
    }


def episode_metrics(record: EpisodeResult, comparison: dict[str, Any] | None = None,
                    escalation_s: float = DEFAULT_ESCALATION_S) -> dict[str, float]:
    """The numbers one episode contributes to every aggregate (errors score 0 everywhere, and pay
    the escalation in `ttr_correct_s`)."""
    g = record.grade
    out: dict[str, float] = {
        "accuracy": float(record.correct),
        "strict": g.strict if g else 0.0,
        "precision": g.precision if g else 0.0,
        "recall": g.recall if g else 0.0,
        "f1": g.f1 if g else 0.0,
        "proximity": g.proximity if g else 0.0,
        "tokens": float(record.total_tokens),
        "student_tokens": float(record.role_tokens("student")),
        "teacher_tokens": float(record.role_tokens("teacher")),
        "teacher_output_tokens": float(record.role_tokens("teacher", "completion")),
        "commands": float(record.commands),
        "output_lines": float(record.output_lines),
        "ttr_s": record.ttr_s,
        "ttr_correct_s": time_to_correct(record.ttr_s, record.correct, escalation_s),
        "wall_s": record.wall_s,
        "error": float(record.outcome == "error"),
        "limits": float(record.outcome == "limits"),
        "capsules_used": float(len(record.capsules_used)),
    }
    if g is not None and g.propagation_f1 is not None:
        out["propagation_f1"] = g.propagation_f1
    if g is not None and g.category_match is not None:
        out["category_accuracy"] = float(g.category_match)
    if comparison is not None:
        out["reward"] = comparison["reward"]
        out["improved"] = float(comparison["improved"])
        out["degraded"] = float(comparison["degraded"])
    return out


Row = tuple[int, str, float]
"""(repeat, incident, value) for one episode."""


def _grouped_stat(rows: list[Row]) -> dict[str, float]:
    """mean ± stderr over repeats if there are ≥ 2 of them, else over incidents (module docstring)."""
    by_repeat: dict[int, list[float]] = defaultdict(list)
    by_incident: dict[str, list[float]] = defaultdict(list)
    for repeat, incident, value in rows:
        by_repeat[repeat].append(value)
        by_incident[incident].append(value)
    if len(by_repeat) >= 2:
        return mean_stderr([mean(v) for _, v in sorted(by_repeat.items())])
    return mean_stderr([mean(v) for _, v in sorted(by_incident.items())])


def aggregate(records: Sequence[EpisodeResult], comparisons: dict[str, dict[str, Any] | None],
              escalation_s: float = DEFAULT_ESCALATION_S) -> dict[str, Any]:
    """Every metric over a group of episodes, plus counts and tokens per role.phase."""
    values: dict[str, list[Row]] = defaultdict(list)
    phases: dict[str, list[Row]] = defaultdict(list)
    compared = improved = degraded = 0
    all_phases = sorted({k for rec in records for k in rec.tokens})
    for r in records:
        cmp_ = comparisons.get(r.key)
        incident = f"{r.phase}/{r.scenario}"
        for name, v in episode_metrics(r, cmp_, escalation_s).items():
            values[name].append((r.repeat, incident, v))
        for phase in all_phases:
            phases[phase].append((r.repeat, incident, float(r.tokens[phase].total if phase in r.tokens else 0)))
        if cmp_ is not None:
            compared += 1
            improved += int(cmp_["improved"])
            degraded += int(cmp_["degraded"])
    stats: dict[str, Any] = {name: _grouped_stat(rows) for name, rows in sorted(values.items())}
    stats["n"] = len(records)
    stats["repeats"] = len({r.repeat for r in records})
    stats["outcomes"] = {o: sum(r.outcome == o for r in records) for o in ("submitted", "limits", "error")}
    stats["tokens_per_phase"] = {p: _grouped_stat(rows) for p, rows in sorted(phases.items())}
    stats["compared"] = compared
    stats["improvements"] = improved
    stats["degradations"] = degraded
    stats["non_degradation_rate"] = round(1.0 - degraded / compared, 6) if compared else None
    return stats


def group_by(
    records: Iterable[EpisodeResult], key: Callable[[EpisodeResult], Iterable[str] | str]
) -> dict[str, list[EpisodeResult]]:
    """Records per group; a key returning several labels (an episode's faults) files it under each."""
    out: dict[str, list[EpisodeResult]] = defaultdict(list)
    for r in records:
        labels = key(r)
        for label in [labels] if isinstance(labels, str) else labels:
            out[label].append(r)
    return {k: out[k] for k in sorted(out)}


def comparisons_for(records: Sequence[EpisodeResult]) -> dict[str, dict[str, Any] | None]:
    """Key → comparison with the control, for every record (None for the control itself)."""
    lookup = baseline_for(records)
    return {r.key: compare(r, lookup(r)) for r in records}
