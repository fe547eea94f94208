"""The real-model table of docs/results.md, from the run folders of `bench/realmodels/run.sh`.

Why a separate script: the real-model run is one bench folder per incident (all three modes of an
incident finish together, so a run stopped after N incidents still compares the modes on the same N),
and this table merges those folders. It reads only what the runs wrote: `results.jsonl` for grades,
tokens, commands and wall time, and the traces for every student reply (the format-error rate).

    python bench/realmodels/table.py runs/rm-1.5b runs/rm-0.5b
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from atlas_sre.bench.config import EpisodeResult
from atlas_sre.bench.results import ResultLog

MODES = ("student", "atlas", "atlas+capsules")
# Every kind of step that is one student reply (`limit` and `model_error` are the loop's, not replies).
REPLY_KINDS = frozenset({"command", "refused", "repeated", "format_error", "submit", "final"})


def replies(run_dir: Path, result: EpisodeResult) -> tuple[int, int]:
    """(student replies, unusable ones) over every investigation of the episode's trace."""
    if not result.trace:
        return 0, 0
    path = run_dir / result.trace
    if not path.is_file():
        return 0, 0
    records = json.loads(path.read_text(encoding="utf-8")).get("records", [])
    steps = [r for r in records if r.get("type") == "step" and r.get("kind") in REPLY_KINDS]
    return len(steps), sum(1 for r in steps if r["kind"] == "format_error")


def load(root: Path) -> list[tuple[Path, EpisodeResult]]:
    """Every finished eval episode under `root` (one bench folder per incident, or `root` itself)."""
    folders = [root] if (root / "results.jsonl").is_file() else sorted(
        p for p in root.iterdir() if (p / "results.jsonl").is_file())
    return [(f, r) for f in folders for r in ResultLog(f / "results.jsonl").load().values() if r.phase == "eval"]


def table(roots: list[Path]) -> str:
    """A markdown table: one row per (student model, mode), only over incidents every mode finished."""
    lines = ["| student | mode | incidents | correct | accuracy | format errors | commands | student tokens "
             "| teacher tokens | wall time per episode |", "|---|---|---|---|---|---|---|---|---|---|"]
    for root in roots:
        episodes = load(root)
        by_scenario: dict[str, set[str]] = defaultdict(set)
        for _, r in episodes:
            by_scenario[r.scenario].add(r.mode)
        complete = {s for s, modes in by_scenario.items() if all(m in modes for m in MODES)}
        for mode in MODES:
            rows = [(f, r) for f, r in episodes if r.mode == mode and r.scenario in complete]
            if not rows:
                continue
            n = len(rows)
            counted = [replies(f, r) for f, r in rows]
            total_replies, bad = sum(c[0] for c in counted), sum(c[1] for c in counted)
            correct = sum(r.correct for _, r in rows)
            lines.append(
                f"| {root.name} | {mode} | {n} | {correct} | {correct / n:.0%} "
                f"| {bad}/{total_replies} ({bad / max(total_replies, 1):.1%}) "
                f"| {sum(r.commands for _, r in rows) / n:.1f} "
                f"| {sum(r.role_tokens('student') for _, r in rows) / n:,.0f} "
                f"| {sum(r.role_tokens('teacher') for _, r in rows) / n:,.0f} "
                f"| {sum(r.wall_s for _, r in rows) / n:,.0f} s |")
    return "\n".join(lines)


def per_incident(roots: list[Path]) -> str:
    """Which incidents each mode got right (✓) or wrong (✗), with how each run ended."""
    lines = ["| student | incident | " + " | ".join(MODES) + " |", "|---|---|" + "---|" * len(MODES)]
    for root in roots:
        cells: dict[str, dict[str, str]] = defaultdict(dict)
        for _, r in load(root):
            cells[r.scenario][r.mode] = ("✓" if r.correct else "✗") + f" {r.outcome}"
        for scenario in sorted(cells):
            lines.append(f"| {root.name} | {scenario} | "
                         + " | ".join(cells[scenario].get(m, "—") for m in MODES) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path, help="run folders (one per student model)")
    args = parser.parse_args(argv)
    missing = [str(r) for r in args.roots if not r.is_dir()]
    if missing:
        print(f"error: no such run folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    print(table(args.roots))
    print()
    print(per_incident(args.roots))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
