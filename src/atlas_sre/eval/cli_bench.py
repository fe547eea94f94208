"""`atlas-sre bench` and `atlas-sre report`: plain functions the Typer app wires in.

They return exit codes (0 ok, 1 interrupted run, 2 usage/config error) and print one-line
errors, so the CLI module stays a thin layer and tests call these directly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from atlas_sre.eval.report import Section, pm, render_markdown, sections, write_reports
from atlas_sre.eval.runner_model import BenchConfig, parse_modes
from atlas_sre.eval.runner_store import ResultLog


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _table(sec: Section) -> str:
    lines = ["| " + " | ".join(sec.header) + " |", "|" + "|".join("---" for _ in sec.header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in sec.rows])


def console_report(summary: dict[str, Any]) -> str:
    """The seed-style table (accuracy, modeled time, tokens per mode) plus transfer, for a terminal."""
    secs = sections(summary)
    out = [_table(secs[0])]
    out += [f"\n{s.title}\n{_table(s)}" for s in secs if s.title.startswith("Capsule transfer")]
    return "\n".join(out)


def bench_cli(scenarios: list[str] | str | None = None, modes: str | None = None, iterations: int = 1,
              repeats: int = 1, split: str | None = None, workers: int = 0, student: str = "reference:student",
              teacher: str = "reference:teacher", seed: int = 0, out: str = "bench-out") -> int:
    """Run or resume a benchmark into `out`, print the per-mode table; exit code. `workers=0`: auto."""
    from atlas_sre.eval.runner import run_bench

    if isinstance(scenarios, str):
        scenarios = [s for s in scenarios.split(",") if s]
    try:
        cfg = BenchConfig(scenarios=scenarios or ["builtin"], modes=parse_modes(modes) if modes else
                          BenchConfig().modes, iterations=iterations, repeats=repeats, split=split,
                          workers=workers, student=student, teacher=teacher, seed=seed)
        run = run_bench(cfg, out, progress=sys.stderr.isatty())
    except KeyboardInterrupt:
        _err(f"interrupted; finished episodes are in {out}/results.jsonl — rerun the same command to resume")
        return 1
    except (ValueError, OSError) as exc:
        _err(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 2
    except Exception as exc:  # a dead worker (BrokenProcessPool) or an unforeseen failure
        _err(f"{type(exc).__name__}: {exc}; finished episodes are kept — rerun the same command to resume")
        return 1
    print(console_report(run.summary))
    print(f"\nreports: {run.out}/report.md, {run.out}/report.html, {run.out}/summary.json")
    return 0


def load_run(run_dir: Path) -> tuple[BenchConfig, list[Any]]:
    """A finished (or partial) run's config and records, read back from its directory."""
    cfg_path, results = run_dir / "config.json", run_dir / "results.jsonl"
    if not cfg_path.exists() or not results.exists():
        raise ValueError(f"{run_dir} is not a benchmark run (no config.json / results.jsonl)")
    cfg = BenchConfig.model_validate(json.loads(cfg_path.read_text(encoding="utf-8")))
    return cfg, sorted(ResultLog(results).load().values(), key=lambda r: r.key)


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
    return f"## {sec.title}\n\n{_table(sec)}\n"


def report_cli(dirs: list[str]) -> int:
    """One DIR: rebuild summary.json, report.md, report.html from results.jsonl. Two: compare them."""
    if len(dirs) not in (1, 2):
        _err("give one run directory (rebuild its reports) or two (compare them)")
        return 2
    try:
        runs = [load_run(Path(d)) for d in dirs]
        summaries = [write_reports(Path(d), records, cfg) for d, (cfg, records) in zip(dirs, runs, strict=True)]
    except (ValueError, OSError) as exc:
        _err(str(exc))
        return 2
    if len(dirs) == 1:
        print(render_markdown(summaries[0]))
    else:
        print(compare_markdown(summaries[0], summaries[1], dirs[0], dirs[1]))
    return 0
