"""`atlas-sre demo` (and `make demo`, `python -m atlas_sre.cli.demo`): the main job on the embedded
default (simulator + reference agents, offline).

1. One incident from the seed's story (a service-mesh misconfiguration behind HTTP 503s): the
   student investigates alone, then with the teacher's probe and correction; both are shown.
2. A small benchmark on the built-in library — baseline vs taught vs taught-with-capsules —
   printed as the seed-style table (accuracy, modeled time, tokens per mode). Capsules are learnt
   on 36 training incidents and applied to 12 unseen ones (`DEMO_SPLIT`): on a store that starts
   empty, each capsule is learnt from one incident and has no record yet, so the teacher could
   not trust it and the demo would show what capsules cost, not what they save.
"""

from __future__ import annotations

import sys
import tempfile
import time
from typing import Any

import typer
from rich.console import Console
from rich.rule import Rule

DEMO_SCENARIO = "mesh-subset-missing"
DEMO_SPLIT = "36:12"  # training:test incidents of the built-in library (about a minute on 2 cores)


def _show_run(console: Console, title: str, commands: list[str], diagnosis: dict[str, Any] | None,
              grade: dict[str, Any] | None) -> None:
    console.print(f"[bold]{title}[/] ({len(commands)} commands)")
    for i, line in enumerate(commands, 1):
        console.print(f"  #{i} {line}", markup=False, highlight=False)
    roots = [e["name"] for e in (diagnosis or {}).get("entities", []) if e.get("contributing_factor", True)]
    verdict = "[green]correct[/]" if (grade or {}).get("correct") else "[red]wrong[/]"
    console.print(f"  → root cause: {', '.join(roots) or '(none)'}  {verdict}")


def investigation(console: Console) -> None:
    """Student alone vs student taught, on one served mesh incident."""
    from atlas_sre.protocol.atlas import ATLASInference

    console.print(Rule(f"[bold]1. One incident, with and without teaching[/] ({DEMO_SCENARIO})"))
    atlas = ATLASInference(student_model="reference:student", teacher_model="reference:teacher", probe_token_limit=50)
    result = atlas.run_full_protocol(scenario=DEMO_SCENARIO)
    console.print(f"[bold]Incident:[/] {result['problem']}", highlight=False)
    diag = result["diagnostic"]
    console.print(f"[bold]Probe:[/] {diag['capability_score']}/5 → {diag['learning_strategy']}: "
                  f"{diag['probe_response']}", highlight=False)
    console.print(f"[bold]Guidance:[/] {result['learning']['learning_guidance']}", highlight=False)
    for label, key in (("Student alone (the seed's flawed approach)", "baseline"), ("Student taught", "guided")):
        _show_run(console, label, result["commands"].get(key, []), result.get(f"{key}_diagnosis"),
                  result.get("grades", {}).get(key))
    tokens = result.get("tokens_by_role", {})
    console.print(f"[dim]tokens by role: {tokens}[/]", highlight=False)


def small_bench(console: Console) -> None:
    """Three modes on unseen incidents, capsules learnt on a training split, the seed-style table."""
    from atlas_sre.bench.config import BenchConfig
    from atlas_sre.bench.runner import run_bench
    from atlas_sre.bench.tables import console_report

    train, test = DEMO_SPLIT.split(":")
    console.print(Rule(f"[bold]2. Benchmark: baseline vs taught vs taught-with-capsules[/] ({test} unseen built-in "
                       f"incidents, capsules learnt on {train} others)"))
    cfg = BenchConfig(scenarios=["builtin"], modes=["student", "atlas", "atlas+capsules"], iterations=1,
                      split=DEMO_SPLIT, seed=0, workers=0)
    with tempfile.TemporaryDirectory(prefix="atlas-sre-demo-") as out:
        run = run_bench(cfg, out, progress=sys.stderr.isatty())
        console.print(console_report(run.summary), markup=False, highlight=False)


def main() -> int:
    """Both parts of the demo on a 140-column console; exit code 0."""
    console = Console(width=140)
    t0 = time.perf_counter()
    investigation(console)
    small_bench(console)
    console.print(f"[dim]demo finished in {time.perf_counter() - t0:.0f}s — `atlas-sre bench --help` for full runs[/]")
    return 0


def demo() -> None:
    """Run the offline demo: one incident with and without teaching, then a small benchmark."""
    raise typer.Exit(main())


if __name__ == "__main__":
    sys.exit(main())
