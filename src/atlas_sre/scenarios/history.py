"""A scenario's declared history (`spec.history`) as the simulator's `Change` records.

Each entry says an object was created at `at` (no `previous`) or changed at `at` from `previous`.
`previous` is written as a partial object laid over the current manifest (maps merge, lists whose
items all have a `name` merge by name, anything else is replaced), so a rollout's history reads
like the diff a user would describe: "the image was 1.8.1 until 09:20".
"""

from __future__ import annotations

import copy
from typing import Any

from atlas_sre.scenarios.model import Scenario, entity_of
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.state import Change


def _named(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(i, dict) and "name" in i for i in items)


def overlay(base: Any, patch: Any) -> Any:
    """`patch` laid over `base` (a new value; neither is changed)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = overlay(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if _named(base) and _named(patch):
        merged = [copy.deepcopy(i) for i in base]
        where = {i["name"]: n for n, i in enumerate(merged)}
        for item in patch:
            if item["name"] in where:
                merged[where[item["name"]]] = overlay(merged[where[item["name"]]], item)
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def declared_history(scenario: Scenario, manifests: list[dict[str, Any]]) -> dict[str, Change]:
    """`{"ns/Kind/name": Change}` for every `spec.history` entry whose object exists in `manifests`."""
    by_entity: dict[str, dict[str, Any]] = {}
    for m in manifests:
        key = entity_of(m)
        by_entity[key] = m
        if key.count("/") == 1:
            by_entity[f"default/{key}"] = m
    out: dict[str, Change] = {}
    for entry in scenario.spec.history:
        current = by_entity.get(entry.target)
        if current is None:
            continue
        previous = None if entry.previous is None else overlay(current, entry.previous)
        out[entity_of(current) if entity_of(current).count("/") == 2 else entry.target] = Change(
            parse_time(entry.at), previous)
    return out
