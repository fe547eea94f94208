"""The peer table of docs/results.md: HolmesGPT and our student on the same incidents and the same model.

Why a separate script: the two sides are written by different runs. HolmesGPT's episodes come from
`bench/peer/run.sh` (one bench folder per incident, graded by the bench; the tool calls and the tokens
its server reported are in `usage/`, written by `holmes_agent.py`). Our student's come from the
real-model run (`bench/realmodels/run.sh`, mode `student`: untaught, like HolmesGPT), or from a
student-only run with the same settings for incidents that run has not reached (the first folder
that has an incident wins). Only incidents both sides finished are compared.

    python bench/peer/table.py runs/peer-1.5b runs/rm-1.5b [runs/peer-student-1.5b]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from atlas_sre.bench.config import EpisodeResult
from atlas_sre.grading.diagnosis import Diagnosis


def _script(path: Path) -> ModuleType:
    """A sibling bench script as a module (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{path.parent.name}_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_HERE = Path(__file__).resolve().parent
usage_key = _script(_HERE / "holmes_agent.py").usage_key
load = _script(_HERE.parent / "realmodels" / "table.py").load


def holmes_usage(peer: Path, folder: Path, result: EpisodeResult) -> dict[str, Any] | None:
    """The wrapper's record for this episode: its briefing (the last argv element) names the file."""
    if not result.trace or not (folder / result.trace).is_file():
        return None
    trace = json.loads((folder / result.trace).read_text(encoding="utf-8"))
    path = peer / "usage" / f"{usage_key(trace['agent']['argv'][-1])}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def blamed(diagnosis: dict[str, Any]) -> str:
    """The first object the answer blames (a contributing factor), or `—` when it blames none."""
    return next(iter(Diagnosis.model_validate(diagnosis).root_causes), "—")


def rows(peer: Path, ours: list[Path]) -> list[dict[str, Any]]:
    """One row per incident both sides finished: verdict, actions, model calls, tokens and wall time each."""
    student: dict[str, EpisodeResult] = {}
    for root in ours:
        for _, r in load(root):
            if r.mode == "student":
                student.setdefault(r.scenario, r)
    out = []
    for folder, r in sorted(load(peer), key=lambda fr: fr[1].scenario):
        mine = student.get(r.scenario)
        if mine is None:
            continue
        use = holmes_usage(peer, folder, r) or {}
        out.append({"incident": r.scenario, "holmes_correct": r.correct, "holmes_outcome": r.outcome,
                    "holmes_calls": len(use.get("tool_calls", [])), "holmes_turns": use.get("llm_calls") or 0,
                    "holmes_tokens": use.get("prompt_tokens", 0) + use.get("completion_tokens", 0),
                    "holmes_wall": r.wall_s, "holmes_answer": blamed(r.diagnosis),
                    "ours_correct": mine.correct, "ours_commands": mine.commands,
                    "ours_tokens": mine.role_tokens("student"), "ours_wall": mine.wall_s,
                    "ours_answer": blamed(mine.diagnosis)})
    return out


def table(model: str, found: list[dict[str, Any]]) -> str:
    n = len(found)
    if not n:
        return "no incident finished on both sides"

    def mean(key: str) -> float:
        return sum(row[key] for row in found) / n

    lines = ["| agent | model | incidents | correct | commands (tool calls) | tokens per incident "
             "| wall time per incident |", "|---|---|---|---|---|---|---|"]
    for agent, side in (("HolmesGPT 0.45 (`holmes ask`)", "holmes"), ("atlas-sre student, untaught", "ours")):
        correct = sum(row[f"{side}_correct"] for row in found)
        calls = mean("holmes_calls") if side == "holmes" else mean("ours_commands")
        lines.append(f"| {agent} | {model} | {n} | {correct} ({correct / n:.0%}) | {calls:.1f} "
                     f"| {mean(f'{side}_tokens'):,.0f} | {mean(f'{side}_wall'):,.0f} s |")
    lines += ["", "| incident | HolmesGPT | tool calls | model calls | answer | our student | commands | answer |",
              "|---|---|---|---|---|---|---|---|"]
    for row in found:
        lines.append(f"| {row['incident']} | {'✓' if row['holmes_correct'] else '✗'} {row['holmes_outcome']} "
                     f"| {row['holmes_calls']} | {row['holmes_turns']} | `{row['holmes_answer']}` "
                     f"| {'✓' if row['ours_correct'] else '✗'} | {row['ours_commands']} | `{row['ours_answer']}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", type=Path, help="HolmesGPT's run folder (bench/peer/run.sh)")
    parser.add_argument("ours", type=Path, nargs="+",
                        help="our student's run folders (bench/realmodels/run.sh first, then student-only runs)")
    parser.add_argument("--model", default=None, help="the model's name in the table (default: from the folder)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in (args.peer, *args.ours) if not p.is_dir()]
    if missing:
        print(f"error: no such run folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    model = args.model or "qwen2.5-coder-" + args.ours[0].name.removeprefix("rm-")
    print(table(model, rows(args.peer, args.ours)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
