"""Reference agents through the real served simulator: teaching helps on the mesh fault, and
behaviour depends on what command output shows, never on names (rename invariance)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.protocol.atlas import ATLASInference
from atlas_sre.scenarios.catalog import find

# Fresh names in the same alphabetical order as the originals, so kubectl's sorted listings (and any
# tie-break by name) stay the same: only the words change.
RENAMES = {
    "mesh-subset-missing": {"shop": "retail", "details": "bravo", "productpage": "kilo", "ratings": "lima",
                            "reviews": "mike", "mesh-subset-missing": "case-0042"},
    "crashloop-missing-env": {"shop": "market", "catalog": "alder", "checkout": "birch", "frontend": "cedar",
                              "redis": "maple", "crashloop-missing-env": "case-0043"},
}
_POD_SUFFIX = re.compile(r"-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b")


def _rewrite(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True))
                         + r")(?![\w])")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def _shape(commands: list[str], inverse: dict[str, str]) -> list[str]:
    return [_POD_SUFFIX.sub("-<pod>", _rewrite(c, inverse)) for c in commands]


def _roots(result: dict[str, Any], label: str) -> list[str]:
    diagnosis = result[f"{label}_diagnosis"] or {}
    return [e["name"] for e in diagnosis.get("entities", []) if e.get("contributing_factor", True)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    folder = tmp_path_factory.mktemp("renamed")
    for name, mapping in RENAMES.items():
        out[name] = ATLASInference().run_full_protocol(scenario=name)
        renamed = folder / f"{mapping[name]}.yaml"
        renamed.write_text(_rewrite(Path(find(name)).read_text(), mapping))
        out[mapping[name]] = ATLASInference().run_full_protocol(scenario=str(renamed))
    return out


def test_teaching_finds_the_mesh_fault_the_baseline_misses(runs: dict[str, dict[str, Any]]) -> None:
    result = runs["mesh-subset-missing"]
    truth = {"shop/DestinationRule/reviews", "shop/VirtualService/reviews"}
    assert truth & set(_roots(result, "guided"))
    assert not truth & set(_roots(result, "baseline"))
    assert result["grades"]["guided"]["correct"] and not result["grades"]["baseline"]["correct"]
    assert result["diagnostic"]["learning_strategy"] in ("Medium", "Heavy")
    assert result["commands"]["baseline"][0] == "kubectl get pods -A"  # the seed's habit
    assert "analyze" not in " ".join(result["commands"]["baseline"])
    assert any(c.startswith("analyze") or "istio-proxy" in c or "destinationrule" in c
               for c in result["commands"]["guided"])


def test_the_crash_loop_is_found_with_and_without_teaching(runs: dict[str, dict[str, Any]]) -> None:
    result = runs["crashloop-missing-env"]
    assert _roots(result, "baseline")[0] == "shop/Deployment/checkout"
    assert "shop/Deployment/checkout" in _roots(result, "guided")
    assert result["grades"]["baseline"]["correct"] and result["grades"]["guided"]["correct"]
    assert "DATABASE_URL" in result["baseline_diagnosis"]["entities"][0]["evidence"]


@pytest.mark.parametrize("name", sorted(RENAMES))
def test_renamed_scenarios_get_the_same_investigation(runs: dict[str, dict[str, Any]], name: str) -> None:
    mapping = RENAMES[name]
    inverse = {v: k for k, v in mapping.items()}
    original, renamed = runs[name], runs[mapping[name]]
    assert renamed["scenario"] == mapping[name]
    for label in ("baseline", "guided"):
        assert _shape(renamed["commands"][label], inverse) == _shape(original["commands"][label], {}), label
        assert [_rewrite(e, inverse) for e in _roots(renamed, label)] == _roots(original, label), label
        assert renamed["grades"][label]["correct"] == original["grades"][label]["correct"]
    assert _rewrite(renamed["learning"]["learning_guidance"], inverse) == original["learning"]["learning_guidance"]
    assert renamed["diagnostic"] == original["diagnostic"] or _rewrite(
        renamed["diagnostic"]["probe_response"], inverse) == original["diagnostic"]["probe_response"]
    # the diagnosis points at the renamed entity: nothing of the old names leaked into it
    old = set(mapping) - {name}
    for entity in _roots(renamed, "guided"):
        assert not set(re.split(r"[/-]", entity)) & old
