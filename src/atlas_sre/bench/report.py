"""Reports: `summary.json` (numbers), `report.md` (tables), `report.html` (tables + plots).

Everything is derived from the `EpisodeResult` records alone, so `atlas-sre report DIR` rebuilds
the same files from `results.jsonl` and two runs compare number for number. The tables are built
once as `Section`s in `tables.py` and rendered to Markdown there and to HTML in `html.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from atlas_sre.bench.config import MODES, BenchConfig, EpisodeResult
from atlas_sre.bench.html import render_html
from atlas_sre.bench.metrics import aggregate, comparisons_for, group_by
from atlas_sre.bench.results import write_json
from atlas_sre.bench.tables import render_markdown
from atlas_sre.bench.ttr import DEFAULT_TTR, SEED_ATLAS_S, SEED_BASELINE_S, SEED_SPEEDUP, size_of, speedup
from atlas_sre.capsules import CapsuleStore

SCHEMA = 1
COMPACT = ("n", "accuracy", "strict", "f1", "tokens", "student_tokens", "teacher_tokens", "ttr_s", "ttr_correct_s",
           "reward", "non_degradation_rate")
TOKEN_TARGETS = {"total": 0.7, "teacher": 0.5}
"""Issue 14's goal for capsules against `atlas`: at most 0.7× its total tokens, 0.5× its teacher tokens."""
Aggregate = Callable[[Sequence[EpisodeResult]], dict[str, Any]]


def _compact(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: stats[k] for k in COMPACT if k in stats}


def _breakdown(records: Sequence[EpisodeResult], agg: Aggregate, key: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in _ordered_modes(records):
        rs = [r for r in records if r.mode == mode]
        out[mode] = {g: _compact(agg(sub)) for g, sub in group_by(rs, key).items()}
    return out


def _ordered_modes(records: Sequence[EpisodeResult]) -> list[str]:
    return [m for m in MODES if any(r.mode == m for r in records)]


def _store_stats(run_dir: Path | None) -> dict[str, Any]:
    """Capsule counts per status in each of the run's live stores (what learning produced)."""
    if run_dir is None or not (run_dir / "capsules").is_dir():
        return {}
    out: dict[str, Any] = {}
    for path in sorted((run_dir / "capsules").glob("*.sqlite")):
        with CapsuleStore(path) as store:
            capsules = store.list()
            out[path.stem] = {"capsules": len(capsules), "uses": sum(c.uses for c in capsules),
                              **{s: sum(c.status.value == s for c in capsules)
                                 for s in ("active", "provisional", "deprecated", "pruned")}}
    return out


def _transfer(modes: dict[str, Any], by_iteration: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
    """Capsules learnt on the train half, measured on the unseen test half."""
    if not info.get("split"):
        return None
    out: dict[str, Any] = {"train_scenarios": len(info.get("train", [])), "test_scenarios": len(info.get("test", []))}
    acc = {m: s["accuracy"]["mean"] for m, s in modes.items()}
    if "student" in acc and "capsules" in acc:
        out["capsules_vs_student_accuracy"] = round(acc["capsules"] - acc["student"], 6)
        out["capsules_improvements"] = modes["capsules"]["improvements"]
        out["capsules_degradations"] = modes["capsules"]["degradations"]
    first = {m: its.get("0") for m, its in by_iteration.items()}
    if first.get("atlas") and first.get("atlas+capsules"):
        for name in ("teacher_tokens", "teacher_output_tokens"):  # all tokens; only those it wrote
            t0, t1 = first["atlas"][name]["mean"], first["atlas+capsules"][name]["mean"]
            out[f"{name}_atlas"] = t0
            out[f"{name}_atlas_capsules"] = t1
            out[f"{name}_saved"] = round(1 - t1 / t0, 6) if t0 else None
    return out


def plan_info(records: Sequence[EpisodeResult], cfg: BenchConfig) -> dict[str, Any]:
    """The split as the records show it: which incidents trained capsules, which were evaluated."""
    return {"split": cfg.split is not None,
            "train": sorted({r.scenario for r in records if r.phase == "train"}),
            "test": sorted({r.scenario for r in records if r.phase == "eval"})}


def _mean(stats: dict[str, Any] | None, name: str) -> float | None:
    return stats[name]["mean"] if stats and name in stats else None


def _ratio(num: float | None, den: float | None) -> float | None:
    return round(num / den, 6) if num is not None and den else None


def time_to_resolution(modes: dict[str, Any], escalation_s: float) -> dict[str, Any]:
    """Time to a correct diagnosis and time to submit per mode, and speed-ups over the untaught
    student next to the seed's 45 min → 3 min (15×) claim."""
    per_mode = {m: {"ttr_correct_s": _mean(s, "ttr_correct_s"), "ttr_s": _mean(s, "ttr_s")} for m, s in modes.items()}
    base = per_mode.get("student", {})
    return {
        "escalation_s": escalation_s,
        "seed": {"baseline_s": SEED_BASELINE_S, "atlas_s": SEED_ATLAS_S, "speedup": SEED_SPEEDUP},
        "per_mode": per_mode,
        "speedup_vs_student": {m: {"correct": speedup(base.get("ttr_correct_s"), v["ttr_correct_s"]),
                                   "submit": speedup(base.get("ttr_s"), v["ttr_s"])}
                               for m, v in per_mode.items() if m != "student" and base},
    }


def token_trade(modes: dict[str, Any], by_iteration: dict[str, Any]) -> dict[str, Any]:
    """Teacher, student and total tokens per mode; the capsule modes' ratios to `atlas` against the
    targets (all evaluated episodes, and the last iteration, where the most capsules exist)."""
    out: dict[str, Any] = {"targets": TOKEN_TARGETS, "per_mode": {
        m: {k: _mean(s, f"{k}_tokens" if k != "total" else "tokens") for k in ("student", "teacher", "total")}
        for m, s in modes.items()}, "vs_atlas": {}}
    atlas = modes.get("atlas")
    if atlas is None:
        return out
    last = {m: its[max(its, key=int)] for m, its in by_iteration.items() if its}
    for mode in ("atlas+capsules", "capsules"):
        if mode not in modes:
            continue
        row: dict[str, Any] = {}
        for scope, (mine, ref) in {"all": (modes[mode], atlas), "last_iteration": (last.get(mode), last.get("atlas"))
                                   }.items():
            for kind, name in (("total", "tokens"), ("teacher", "teacher_tokens")):
                r = _ratio(_mean(mine, name), _mean(ref, name))
                row[f"{kind}{'' if scope == 'all' else '_last_iteration'}"] = r
                if scope == "all":
                    row[f"{kind}_met"] = None if r is None else r <= TOKEN_TARGETS[kind]
        out["vs_atlas"][mode] = row
    return out


def consolidation(run_dir: Path | None) -> list[dict[str, Any]]:
    """Per stage and store group: learnt / merged / kept / deprecated / pruned (the runner's
    `capsules/consolidation.jsonl`), grouped by store in stage order."""
    path = run_dir / "capsules" / "consolidation.jsonl" if run_dir is not None else None
    if path is None or not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda r: r.get("group", ""))  # stable: stages of a group stay in run order


def build_summary(records: Sequence[EpisodeResult], cfg: BenchConfig, run_dir: Path | None = None) -> dict[str, Any]:
    """Every aggregate the reports show; deterministic for the same records (wall_s aside)."""
    records = sorted(records, key=lambda r: r.key)
    info = plan_info(records, cfg)
    comps = comparisons_for(records)

    def agg(rs: Sequence[EpisodeResult]) -> dict[str, Any]:
        return aggregate(rs, comps, cfg.escalation_s)

    evals = [r for r in records if r.phase == "eval"]
    train = [r for r in records if r.phase == "train"]
    modes = {m: agg([r for r in evals if r.mode == m]) for m in _ordered_modes(evals)}
    by_iteration = {m: {str(i): agg(rs) for i, rs in group_by(
        [r for r in evals if r.mode == m], lambda r: str(r.iteration)).items()} for m in modes}
    by_iteration = {m: dict(sorted(v.items(), key=lambda kv: int(kv[0]))) for m, v in by_iteration.items()}
    return {
        "schema": SCHEMA,
        "config": cfg.identity(),  # not `workers`: it changes speed, never a number
        "plan": info,
        "ttr_model": {**DEFAULT_TTR.model_dump(), "student_size": cfg.student_size or size_of(cfg.student),
                      "teacher_size": cfg.teacher_size or size_of(cfg.teacher)},
        "episodes": {"eval": len(evals), "train": len(train),
                     "errors": sum(r.outcome == "error" for r in records)},
        "modes": modes,
        "by_iteration": by_iteration,
        "by_fault": _breakdown(evals, agg, lambda r: r.faults or ["none"]),
        "by_category": _breakdown(evals, agg, lambda r: r.category),
        "by_complexity": _breakdown(evals, agg, lambda r: r.complexity),
        "by_domain": _breakdown(evals, agg, lambda r: r.domain),
        "train": agg(train) if train else None,
        # The learning curve on the training split: one aggregate per pass (`--train-iterations`), so a
        # reader sees whether the capsules consolidated after pass k help pass k+1 on the same incidents.
        "train_by_pass": {i: agg(rs) for i, rs in sorted(group_by(train, lambda r: str(r.iteration)).items(),
                                                           key=lambda kv: int(kv[0]))},
        "transfer": _transfer(modes, by_iteration, info),
        "time_to_resolution": time_to_resolution(modes, cfg.escalation_s),
        "token_trade": token_trade(modes, by_iteration),
        "consolidation": consolidation(run_dir),
        "capsule_stores": _store_stats(run_dir),
    }


def write_reports(out: Path, records: Sequence[EpisodeResult], cfg: BenchConfig) -> dict[str, Any]:
    """`summary.json`, `report.md`, `report.html` (and `plots/*.png`) under `out`."""
    summary = build_summary(records, cfg, out)
    write_json(out / "summary.json", summary)
    (out / "report.md").write_text(render_markdown(summary), encoding="utf-8")
    (out / "report.html").write_text(render_html(summary, out / "plots"), encoding="utf-8")
    return summary
