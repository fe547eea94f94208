"""Reports: `summary.json` (numbers), `report.md` (tables), `report.html` (tables + plots).

Everything is derived from the `EpisodeResult` records alone, so `atlas-sre report DIR` rebuilds
the same files from `results.jsonl` and two runs compare number for number. Tables are built
once as `Section`s and rendered to Markdown here and to HTML in `report_html`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_sre.eval.metrics import aggregate, comparisons_for, group_by
from atlas_sre.eval.runner_model import MODES, BenchConfig, EpisodeResult
from atlas_sre.eval.runner_store import write_json
from atlas_sre.eval.ttr import DEFAULT_TTR, size_of

SCHEMA = 1
PHASE_ORDER = ("student.plan", "teacher.probe", "teacher.correct", "student.plan_guided", "student.execute")
"""Protocol order, so tables and stacked bars read plan → probe → correct → execute."""


def ordered_phases(phases: Any) -> list[str]:
    known = [p for p in PHASE_ORDER if p in phases]
    return known + sorted(p for p in phases if p not in PHASE_ORDER)
COMPACT = ("n", "accuracy", "strict", "f1", "tokens", "teacher_tokens", "ttr_s", "reward", "non_degradation_rate")


def _compact(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: stats[k] for k in COMPACT if k in stats}


def _breakdown(records: Sequence[EpisodeResult], comps: dict[str, Any], key: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in _ordered_modes(records):
        rs = [r for r in records if r.mode == mode]
        out[mode] = {g: _compact(aggregate(sub, comps)) for g, sub in group_by(rs, key).items()}
    return out


def _ordered_modes(records: Sequence[EpisodeResult]) -> list[str]:
    return [m for m in MODES if any(r.mode == m for r in records)]


def _store_stats(run_dir: Path | None) -> dict[str, Any]:
    """Capsule counts per status in each of the run's live stores (what learning produced)."""
    if run_dir is None or not (run_dir / "capsules").is_dir():
        return {}
    from atlas_sre.capsules import CapsuleStore

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


def build_summary(records: Sequence[EpisodeResult], cfg: BenchConfig, run_dir: Path | None = None) -> dict[str, Any]:
    """Every aggregate the reports show; deterministic for the same records (wall_s aside)."""
    records = sorted(records, key=lambda r: r.key)
    info = plan_info(records, cfg)
    comps = comparisons_for(records)
    evals = [r for r in records if r.phase == "eval"]
    train = [r for r in records if r.phase == "train"]
    modes = {m: aggregate([r for r in evals if r.mode == m], comps) for m in _ordered_modes(evals)}
    by_iteration = {m: {str(i): aggregate(rs, comps) for i, rs in group_by(
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
        "by_fault": _breakdown(evals, comps, lambda r: r.faults or ["none"]),
        "by_category": _breakdown(evals, comps, lambda r: r.category),
        "by_complexity": _breakdown(evals, comps, lambda r: r.complexity),
        "by_domain": _breakdown(evals, comps, lambda r: r.domain),
        "train": aggregate(train, comps) if train else None,
        "transfer": _transfer(modes, by_iteration, info),
        "capsule_stores": _store_stats(run_dir),
    }


# --- tables ----------------------------------------------------------------------------------------


@dataclass
class Section:
    title: str
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def pm(stat: dict[str, float] | None, digits: int = 2, pct: bool = False) -> str:
    """`0.62 ± 0.04` (or `62% ± 4`); em dash for a missing value."""
    if not stat:
        return "—"
    scale = 100.0 if pct else 1.0
    m, s = stat["mean"] * scale, stat["stderr"] * scale
    unit = "%" if pct else ""
    return f"{m:.{0 if pct else digits}f}{unit}" + (f" ± {s:.{0 if pct else digits}f}" if s else "")


def _num(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def sections(summary: dict[str, Any]) -> list[Section]:
    """The report's tables, in reading order."""
    modes, out = summary["modes"], []
    seed = Section("Results per mode", "Accuracy = every true root cause named; modeled time = `eval.ttr` "
                   f"(student {summary['ttr_model']['student_size']}, teacher {summary['ttr_model']['teacher_size']}).",
                   ["mode", "n", "accuracy", "strict", "F1", "modeled time (s)", "tokens", "teacher tokens",
                    "commands", "non-degradation", "reward"])
    for m, s in modes.items():
        nd = s.get("non_degradation_rate")
        seed.rows.append([m, str(s["n"]), pm(s["accuracy"], pct=True), pm(s["strict"]), pm(s["f1"]),
                          pm(s["ttr_s"], 0), pm(s["tokens"], 0), pm(s["teacher_tokens"], 0), pm(s["commands"], 1),
                          "—" if nd is None else f"{nd:.0%}", pm(s.get("reward"))])
    out.append(seed)
    its = sorted({int(i) for v in summary["by_iteration"].values() for i in v})
    if its:
        curve = Section("Learning curve (accuracy · tokens per incident, by iteration)", "",
                        ["iteration", *modes])
        for i in its:
            cells = []
            for m in modes:
                s = summary["by_iteration"].get(m, {}).get(str(i))
                cells.append("—" if s is None else f"{pm(s['accuracy'], pct=True)} · {s['tokens']['mean']:,.0f}")
            curve.rows.append([str(i), *cells])
        out.append(curve)
    for title, key in (("Accuracy per fault", "by_fault"), ("Accuracy per category", "by_category"),
                       ("Accuracy per complexity", "by_complexity")):
        table = summary[key]
        groups = sorted({g for v in table.values() for g in v})
        sec = Section(title, "", [key.removeprefix("by_"), *modes])
        for g in groups:
            sec.rows.append([g, *(pm(table.get(m, {}).get(g, {}).get("accuracy"), pct=True) for m in modes)])
        out.append(sec)
    reward = Section("Teaching reward and non-degradation vs the student's own baseline",
                     "Reward per incident (ATLAS): degraded −1; both wrong 0; kept correct: efficiency; "
                     "improved: 1 + efficiency.", ["mode", "compared", "improved", "degraded", "non-degradation",
                                                   "reward"])
    for m, s in modes.items():
        if s["compared"]:
            reward.rows.append([m, str(s["compared"]), str(s["improvements"]), str(s["degradations"]),
                                f"{s['non_degradation_rate']:.0%}", pm(s.get("reward"))])
    out.append(reward)
    phases = ordered_phases({p for s in modes.values() for p in s["tokens_per_phase"]})
    tok = Section("Tokens per role and phase (mean per incident)", "", ["mode", *phases])
    for m, s in modes.items():
        tok.rows.append([m, *(_num(s["tokens_per_phase"].get(p, {}).get("mean")) for p in phases)])
    out.append(tok)
    transfer = summary.get("transfer")
    if transfer:
        text = (f"Capsules learnt on {transfer['train_scenarios']} training incidents, frozen, evaluated on "
                f"{transfer['test_scenarios']} unseen test incidents.")
        tr = Section("Capsule transfer on the test split", text, ["measure", "value"])
        for k, v in transfer.items():
            if k not in ("train_scenarios", "test_scenarios"):
                shown = "—" if v is None else f"{v:,.4g}" if isinstance(v, float) else str(v)
                tr.rows.append([k.replace("_", " "), shown])
        out.append(tr)
    return out


def render_markdown(summary: dict[str, Any]) -> str:
    cfg = summary["config"]
    lines = ["# atlas-sre benchmark", "",
             f"Scenarios `{', '.join(cfg['scenarios'])}` · modes `{', '.join(cfg['modes'])}` · "
             f"{cfg['iterations']} iteration(s) × {cfg['repeats']} repeat(s) · split `{cfg['split'] or 'none'}` · "
             f"student `{cfg['student']}` · teacher `{cfg['teacher']}` · seed {cfg['seed']} · "
             f"{summary['episodes']['eval']} episodes ({summary['episodes']['train']} training, "
             f"{summary['episodes']['errors']} errors).", ""]
    for sec in sections(summary):
        lines += [f"## {sec.title}", ""]
        if sec.text:
            lines += [sec.text, ""]
        if sec.rows:
            lines.append("| " + " | ".join(sec.header) + " |")
            lines.append("|" + "|".join("---" for _ in sec.header) + "|")
            lines += ["| " + " | ".join(row) + " |" for row in sec.rows]
            lines.append("")
    return "\n".join(lines)


def write_reports(out: Path, records: Sequence[EpisodeResult], cfg: BenchConfig) -> dict[str, Any]:
    """`summary.json`, `report.md`, `report.html` (and `plots/*.png`) under `out`."""
    from atlas_sre.eval.report_html import render_html

    summary = build_summary(records, cfg, out)
    write_json(out / "summary.json", summary)
    (out / "report.md").write_text(render_markdown(summary), encoding="utf-8")
    (out / "report.html").write_text(render_html(summary, out / "plots"), encoding="utf-8")
    return summary
