"""Agreement of the free-text extractor with hand labels (issue 16).

Reads `tests/grading/fixtures/extract_labels.yaml` (answers of the kind HolmesGPT, k8sgpt or a
chat model prints about the built-in scenarios, each with the entities a careful human extracts),
runs `grading.extract.extract_entities` on each against the scenario's served objects, and prints
`name=value` lines: answers, exact-set match rate, entity precision and recall (micro), the same
for the held-out answers alone (`set: holdout`, written after the rules were frozen), and with
`-v` every disagreement. Run: `.venv/bin/python bench/extractor.py [-v]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.environments import open_scenario
from atlas_sre.grading import entity_key
from atlas_sre.grading.extract import ObjectRef, extract_entities

LABELS = Path(__file__).resolve().parent.parent / "tests" / "grading" / "fixtures" / "extract_labels.yaml"


def load_cases(path: Path = LABELS) -> list[dict[str, Any]]:
    """The labelled answers, in file order."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["answers"])


def served(scenario: str) -> tuple[list[ObjectRef], str | None]:
    """A built-in scenario's served objects and its incident namespace (what the bench passes)."""
    with open_scenario(scenario, anchor=OBSERVED_AT, tools={}) as env:
        namespace = env.namespace or (env.incident.namespace if env.incident else None)
        return env.served_objects(), namespace


def measure(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact-set match rate and micro precision/recall of the extracted entities against the labels."""
    clusters: dict[str, tuple[list[ObjectRef], str | None]] = {}
    exact = tp = fp = fn = 0
    misses = []
    for case in cases:
        if case["scenario"] not in clusters:
            clusters[case["scenario"]] = served(case["scenario"])
        objects, namespace = clusters[case["scenario"]]
        got = {entity_key(e) for e in extract_entities(case["text"], objects, namespace)}
        want = {entity_key(e) for e in case["entities"]}
        exact += got == want
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        if got != want:
            misses.append({"id": case["id"], "extra": sorted(got - want), "missed": sorted(want - got)})
    return {"answers": len(cases), "exact_set_match": exact / len(cases) if cases else 0.0,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "disagreements": misses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    cases = load_cases()
    result = measure(cases)
    print(f"answers={result['answers']}")
    for name in ("exact_set_match", "precision", "recall"):
        print(f"{name}={result[name]:.3f}")
    held = measure([c for c in cases if c.get("set") == "holdout"])
    print(f"holdout_answers={held['answers']}")
    for name in ("exact_set_match", "precision", "recall"):
        print(f"holdout_{name}={held[name]:.3f}")
    if args.verbose:
        for miss in result["disagreements"]:
            print(f"  {miss['id']}: extra={miss['extra']} missed={miss['missed']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
