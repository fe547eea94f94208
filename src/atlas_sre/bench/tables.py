"""The report's tables, built once as `Section`s and rendered to Markdown here (HTML in `html.py`),
plus the terminal table `atlas-sre bench` prints and the two-run comparison `atlas-sre report A B`.

Why a module of its own: `report.py` writes the files, `html.py` and `plots.py` render the same
summary; all three read the tables and the phase order from here, so none of them imports another
back (the report -> html -> plots chain has no way round).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHASE_ORDER = ("student.plan", "teacher.probe", "teacher.correct", "student.plan_guided", "student.execute")
"""Protocol order, so tables and stacked bars read plan → probe → correct → execute."""


def ordered_phases(phases: Any) -> list[str]:
    known = [p for p in PHASE_ORDER if p in phases]
    return known + sorted(p for p in phases if p not in PHASE_ORDER)


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
    seed = Section("Results per mode", "Accuracy = every true root cause named; modeled time = `bench.ttr` "
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
            lines += [markdown_table(sec), ""]
    return "\n".join(lines)


def markdown_table(sec: Section) -> str:
    """One Section as a Markdown table (header, rule, rows), no trailing newline."""
    lines = ["| " + " | ".join(sec.header) + " |", "|" + "|".join("---" for _ in sec.header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in sec.rows])


def console_report(summary: dict[str, Any]) -> str:
    """The seed-style table (accuracy, modeled time, tokens per mode) plus transfer, for a terminal."""
    secs = sections(summary)
    out = [markdown_table(secs[0])]
    out += [f"\n{s.title}\n{markdown_table(s)}" for s in secs if s.title.startswith("Capsule transfer")]
    return "\n".join(out)


def _delta(a: dict[str, float] | None, b: dict[str, float] | None, pct: bool = False, digits: int = 0) -> str:
    if not a or not b:
        return "—"
    scale = 100.0 if pct else 1.0
    d = (b["mean"] - a["mean"]) * scale
    return f"{d:+.{0 if pct else digits}f}{' pp' if pct else ''}"


def compare_markdown(a: dict[str, Any], b: dict[str, Any], name_a: str, name_b: str) -> str:
    """Per-mode deltas B − A: accuracy, strict, modeled time, tokens, teacher tokens, reward."""
    header = ["mode", "accuracy A", "accuracy B", "Δ accuracy", "Δ strict", "Δ modeled time (s)",
              "Δ tokens", "Δ teacher tokens", "Δ reward"]
    sec = Section(f"Comparison: B = {name_b} vs A = {name_a}", "", header)
    for mode in [m for m in b["modes"] if m in a["modes"]] + [m for m in a["modes"] if m not in b["modes"]]:
        sa, sb = a["modes"].get(mode), b["modes"].get(mode)
        if sa is None or sb is None:
            sec.rows.append([mode, pm(sa and sa["accuracy"], pct=True), pm(sb and sb["accuracy"], pct=True),
                             *(["only in one run"] + ["—"] * 5)])
            continue
        sec.rows.append([mode, pm(sa["accuracy"], pct=True), pm(sb["accuracy"], pct=True),
                         _delta(sa["accuracy"], sb["accuracy"], pct=True), _delta(sa["strict"], sb["strict"], digits=2),
                         _delta(sa["ttr_s"], sb["ttr_s"], digits=1), _delta(sa["tokens"], sb["tokens"]),
                         _delta(sa["teacher_tokens"], sb["teacher_tokens"]),
                         _delta(sa.get("reward"), sb.get("reward"), digits=2)])
    return f"## {sec.title}\n\n{markdown_table(sec)}\n"
