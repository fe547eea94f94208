"""Fuzz: real scenario files, mutated, fed to `validate` and to `serve`'s derivation.

Mutations are drawn by hypothesis (derandomized, no example database: the same examples every
run): type swaps, extreme numbers, NaN/inf, deletions, huge strings and lists, deep nesting, at
any path of a real built-in or generated scenario. The only acceptable outcomes are a one-line
`ScenarioError` or a derived cluster; a traceback or a hang fails the test.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_fuzzing import validate_then_serve

from atlas_sre.scenarios.catalog import BUILTIN_DIRS

BASES = [BUILTIN_DIRS[0] / "crashloop-missing-env.yaml", BUILTIN_DIRS[0] / "job-backoff-limit-exceeded.yaml",
         BUILTIN_DIRS[0] / "mesh-subset-missing.yaml", BUILTIN_DIRS[0] / "cronjob-failing-env.yaml",
         BUILTIN_DIRS[1] / "bookinfo-crashing-init-productpage-v1-068.yaml"]
DATA = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in BASES]


def _deep(n: int) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = [value]
    return value


NASTY: list[Any] = [
    None, True, False, 0, -1, -3, 99999, 65536, 2**31, 2**63, 10**30, 1e12, 1e18, 1e308, -1e308,
    float("nan"), float("inf"), float("-inf"), 0.5, "", "x" * 10_000, "lots", "abc", "!!not-base64**",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "yesterday", "-1", "1e400", "1e30Ei", "(a+)+$",
    "{status:>999999999}", [], [1, 2], [None], {}, {"a": 1}, {"matchLabels": [1]}, _deep(70), _deep(30),
    ["x"] * 5_000, [{"name": "c", "image": "i"}] * 300,
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


PATHS = [_paths(d)[1:] for d in DATA]


def _swap(value: Any) -> Any:
    """The same content in another type (what a careless edit does)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return "null"


def _mutate(data: Any, path: tuple[Any, ...], op: str, nasty: Any) -> None:
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "swap":
        parent[key] = _swap(parent[key])
    elif op == "repeat" and isinstance(parent, list):
        parent.extend([copy.deepcopy(parent[key])] * 200)
    else:
        parent[key] = copy.deepcopy(nasty)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    which = draw(st.integers(0, len(DATA) - 1))
    data = copy.deepcopy(DATA[which])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)[1:]
        path = paths[draw(st.integers(0, len(paths) - 1))]
        op = draw(st.sampled_from(["nasty", "nasty", "swap", "delete", "repeat"]))
        _mutate(data, path, op, draw(st.sampled_from(NASTY)))
    return yaml.safe_dump(data, sort_keys=False, width=4096)


def test_unmutated_bases_serve() -> None:
    """The harness can say "served": every base file derives as it is."""
    for path in BASES:
        assert validate_then_serve(path.read_text(encoding="utf-8")) == "served", path


@settings(max_examples=150, deadline=None, derandomize=True, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(mutated())
def test_mutated_scenarios_are_refused_in_one_line_or_served(text: str) -> None:
    outcome = validate_then_serve(text)
    assert outcome == "served" or outcome.startswith("rejected: fuzz.yaml")
