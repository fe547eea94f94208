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
    escalation = summary["config"].get("escalation_s", 2700.0)
    seed = Section("Results per mode", "Accuracy = every true root cause named; modeled times = `bench.ttr` "
                   f"(student {summary['ttr_model']['student_size']}, teacher {summary['ttr_model']['teacher_size']}): "
                   f"time to correct adds {escalation:,.0f} s of escalation to a wrong or empty answer, time to "
                   "submit does not.",
                   ["mode", "n", "accuracy", "strict", "F1", "time to correct (s)", "time to submit (s)",
                    "student tokens", "teacher tokens", "tokens", "commands", "non-degradation", "reward"])
    for m, s in modes.items():
        nd = s.get("non_degradation_rate")
        seed.rows.append([m, str(s["n"]), pm(s["accuracy"], pct=True), pm(s["strict"]), pm(s["f1"]),
                          pm(s.get("ttr_correct_s"), 0), pm(s["ttr_s"], 0), pm(s.get("student_tokens"), 0),
                          pm(s["teacher_tokens"], 0), pm(s["tokens"], 0), pm(s["commands"], 1),
                          "—" if nd is None else f"{nd:.0%}", pm(s.get("reward"))])
    out.append(seed)
    out += [sec for sec in (ttr_section(summary), token_section(summary)) if sec is not None]
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
    passes = summary.get("train_by_pass") or {}
    if passes:
        train = Section("Training passes (accuracy · tokens per incident on the training split, by pass)",
                        "Each pass runs `atlas+capsules` over the training incidents with the capsules consolidated "
                        "after the passes before it; the test split then runs with them frozen.",
                        ["pass", "n", "accuracy", "tokens", "teacher tokens", "capsules applied"])
        for i, s in passes.items():
            train.rows.append([i, str(s["n"]), pm(s["accuracy"], pct=True), pm(s["tokens"], 0),
                               pm(s["teacher_tokens"], 0), pm(s.get("capsules_used"), 1)])
        out.append(train)
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
    stages = consolidation_section(summary)
    if stages is not None:
        out.append(stages)
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


def _x(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.2f}×"


def ttr_section(summary: dict[str, Any]) -> Section | None:
    """Time to a correct diagnosis vs time to submit, and the speed-ups next to the seed's 15×."""
    ttr = summary.get("time_to_resolution")
    if not ttr or not ttr["per_mode"]:
        return None
    seed, esc = ttr["seed"], ttr["escalation_s"]
    ups = ttr["speedup_vs_student"]
    said = [f"{m} {_x(ups[m]['correct'])}" for m in ("atlas", "atlas+capsules", "capsules") if m in ups]
    text = (f"Modeled time until a correct diagnosis: a wrong or empty answer adds an escalation of {esc:,.0f} s "
            f"({esc / 60:g} min, the seed's own baseline for a person). Speed-up = the untaught student's time "
            f"÷ the mode's. The seed claims {seed['baseline_s'] / 60:g} min → {seed['atlas_s'] / 60:g} min, "
            f"{seed['speedup']:g}×" + (f"; measured here (time to correct): {', '.join(said)}." if said else "."))
    sec = Section("Time to resolution", text, ["mode", "time to correct (s)", "time to submit (s)",
                                                "speed-up to correct", "speed-up to submit"])
    for m, v in ttr["per_mode"].items():
        up = ups.get(m, {})
        sec.rows.append([m, _num(v["ttr_correct_s"], 1), _num(v["ttr_s"], 1),
                         "1× (reference)" if m == "student" else _x(up.get("correct")),
                         "1× (reference)" if m == "student" else _x(up.get("submit"))])
    return sec


def token_section(summary: dict[str, Any]) -> Section | None:
    """Teacher, student and total tokens per mode, and the capsule modes' ratios to `atlas`."""
    trade = summary.get("token_trade")
    if not trade or not trade["per_mode"]:
        return None
    t = trade["targets"]
    verdicts = []
    for m, r in trade["vs_atlas"].items():
        ok = {True: "met", False: "missed", None: "n/a"}
        verdicts.append(f"{m}: total {_x(r['total'])} ({ok[r['total_met']]}), teacher {_x(r['teacher'])} "
                        f"({ok[r['teacher_met']]})")
    text = (f"Mean tokens per incident. Target with capsules: total ≤ {t['total']}× and teacher ≤ {t['teacher']}× "
            "of `atlas`" + (f" — {'; '.join(verdicts)}." if verdicts else " (needs `atlas` and a capsule mode)."))
    sec = Section("Token trade", text, ["mode", "student", "teacher", "total", "total ÷ atlas", "teacher ÷ atlas",
                                        "total ÷ atlas, last iteration", "teacher ÷ atlas, last iteration"])
    for m, v in trade["per_mode"].items():
        r = trade["vs_atlas"].get(m, {})
        sec.rows.append([m, _num(v["student"]), _num(v["teacher"]), _num(v["total"]), _x(r.get("total")),
                         _x(r.get("teacher")), _x(r.get("total_last_iteration")), _x(r.get("teacher_last_iteration"))])
    return sec


def consolidation_section(summary: dict[str, Any]) -> Section | None:
    """What each stage's consolidation did to its store (`capsules.ledger.batch_counts`)."""
    rows = summary.get("consolidation") or []
    if not rows:
        return None
    sec = Section("Consolidation per stage",
                  "learnt = new capsules; merged = existing ones reinforced; kept = retrievable (active or "
                  "provisional) after the stage's pruning; learnt & kept = this stage's new ones still retrievable; "
                  "deprecated / pruned with the rule that fired.",
                  ["store", "stage", "episodes", "learnt", "merged", "kept", "learnt & kept", "promoted",
                   "deprecated", "pruned", "reasons"])
    for r in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in (r.get("reasons") or {}).items()) or "—"
        sec.rows.append([r["group"], r["stage"], str(r["episodes"]), *(str(r.get(k, 0)) for k in (
            "learnt", "merged", "kept", "learnt_kept", "promoted", "deprecated", "pruned")), reasons])
    return sec


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
    shown = ("Time to resolution", "Token trade", "Capsule transfer")
    out += [f"\n{s.title}\n{s.text}\n{markdown_table(s)}" if s.title != "Capsule transfer on the test split"
            else f"\n{s.title}\n{markdown_table(s)}" for s in secs if s.title.startswith(shown)]
    return "\n".join(out)


def _delta(a: dict[str, float] | None, b: dict[str, float] | None, pct: bool = False, digits: int = 0) -> str:
    if not a or not b:
        return "—"
    scale = 100.0 if pct else 1.0
    d = (b["mean"] - a["mean"]) * scale
    return f"{d:+.{0 if pct else digits}f}{' pp' if pct else ''}"


def compare_markdown(a: dict[str, Any], b: dict[str, Any], name_a: str, name_b: str) -> str:
    """Per-mode deltas B − A: accuracy, strict, time to correct and to submit, tokens, teacher tokens, reward."""
    header = ["mode", "accuracy A", "accuracy B", "Δ accuracy", "Δ strict", "Δ time to correct (s)",
              "Δ time to submit (s)", "Δ tokens", "Δ teacher tokens", "Δ reward"]
    sec = Section(f"Comparison: B = {name_b} vs A = {name_a}", "", header)
    for mode in [m for m in b["modes"] if m in a["modes"]] + [m for m in a["modes"] if m not in b["modes"]]:
        sa, sb = a["modes"].get(mode), b["modes"].get(mode)
        if sa is None or sb is None:
            sec.rows.append([mode, pm(sa and sa["accuracy"], pct=True), pm(sb and sb["accuracy"], pct=True),
                             *(["only in one run"] + ["—"] * 6)])
            continue
        sec.rows.append([mode, pm(sa["accuracy"], pct=True), pm(sb["accuracy"], pct=True),
                         _delta(sa["accuracy"], sb["accuracy"], pct=True), _delta(sa["strict"], sb["strict"], digits=2),
                         _delta(sa.get("ttr_correct_s"), sb.get("ttr_correct_s"), digits=1),
                         _delta(sa["ttr_s"], sb["ttr_s"], digits=1), _delta(sa["tokens"], sb["tokens"]),
                         _delta(sa["teacher_tokens"], sb["teacher_tokens"]),
                         _delta(sa.get("reward"), sb.get("reward"), digits=2)])
    return f"## {sec.title}\n\n{markdown_table(sec)}\n"
