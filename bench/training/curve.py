"""The CPU run's figures for docs/training.md: the reward curve (PNG) and the held-out table before/after.

Why a script over the run folder: `atlas-sre train teacher` writes everything it measured as it goes
(`rewards.jsonl`, one line per step; `completions.jsonl`, one line per scored completion, training and
held-out alike), so the figures are recomputed from those files, never typed in. The held-out rounds
are the `test` lines: the first round is the evaluation before the first step (`eval_on_start`), the
last one the evaluation after the last step.

    python bench/training/curve.py runs/grpo-cpu        # writes runs/grpo-cpu/reward-curve.png
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen before pyplot loads


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def train_lines(out: Path) -> list[dict[str, Any]]:
    """The training completions of the steps that count: a resumed run re-does the steps after its
    checkpoint, so when the step number goes back, the earlier lines of those steps are dropped."""
    kept: list[dict[str, Any]] = []
    for line in read_jsonl(out / "completions.jsonl"):
        if line.get("split") != "train" or line.get("step") is None:
            continue
        step = int(line["step"])
        if kept and int(kept[-1]["step"]) > step:
            kept = [k for k in kept if int(k["step"]) < step]
        kept.append(line)
    return kept


def train_curve(out: Path) -> list[tuple[int, float, float]]:
    """(step, mean reward, mean teaching reward) of every training step, from the scored completions."""
    by_step: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in train_lines(out):
        by_step[int(line["step"])].append(line)
    return [(step, sum(r["reward"] for r in rows) / len(rows), sum(r["teaching"] for r in rows) / len(rows))
            for step, rows in sorted(by_step.items())]


def held_out_rounds(out: Path) -> list[tuple[int, list[dict[str, Any]]]]:
    """The held-out evaluations in order: (step, scored completions)."""
    by_step: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in read_jsonl(out / "completions.jsonl"):
        if line.get("split") == "test":
            by_step[int(line.get("step") or 0)].append(line)
    return sorted(by_step.items())


def row(label: str, rows: list[dict[str, Any]]) -> str:
    n = len(rows)
    guided = sum(r["guided_correct"] for r in rows)
    base = sum(r["baseline_correct"] for r in rows)
    parse = sum(r["format"] > 0 for r in rows)
    degraded = sum(r["baseline_correct"] and not r["guided_correct"] for r in rows)
    improved = sum(r["guided_correct"] and not r["baseline_correct"] for r in rows)
    reward, teaching = sum(r["reward"] for r in rows) / n, sum(r["teaching"] for r in rows) / n
    tokens = sum(r["completion_tokens"] for r in rows) / n
    return (f"| {label} | {n} | {guided}/{n} ({guided / n:.0%}) | {base}/{n} ({base / n:.0%}) "
            f"| {improved} | {degraded} | {parse}/{n} | {reward:+.3f} | {teaching:+.3f} | {tokens:.0f} |")


def table(out: Path) -> str:
    rounds = held_out_rounds(out)
    lines = ["| held-out evaluation | completions | guided correct | untaught correct | improved | degraded "
             "| parseable score | mean reward | mean teaching reward | completion tokens |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    if rounds:
        first_step, first = rounds[0]
        lines.append(row(f"before training (step {first_step})", first))
        if len(rounds) > 1:
            last_step, last = rounds[-1]
            lines.append(row(f"after training (step {last_step})", last))
    return "\n".join(lines)


def plot(out: Path, curve: list[tuple[int, float, float]]) -> Path:
    path = out / "reward-curve.png"
    fig, ax = plt.subplots(figsize=(7, 3.4))
    steps = [c[0] for c in curve]
    ax.plot(steps, [c[1] for c in curve], marker="o", label="reward (mean of the step's completions)")
    ax.plot(steps, [c[2] for c in curve], marker=".", linestyle="--", label="teaching part (ATLAS reward)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("reward")
    ax.set_title(f"GRPO on the teacher: {out.name}")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the run folder of `atlas-sre train teacher`")
    args = parser.parse_args(argv)
    if not (args.out / "completions.jsonl").is_file():
        print(f"error: {args.out} holds no completions.jsonl (not a `train teacher` run folder)", file=sys.stderr)
        return 2
    curve = train_curve(args.out)
    if curve:
        print(f"reward curve: {plot(args.out, curve)}")
        print("| step | mean reward | mean teaching reward |\n|---|---|---|")
        for step, reward, teaching in curve:
            print(f"| {step} | {reward:+.3f} | {teaching:+.3f} |")
        print()
    print(table(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
