"""The committed library: it loads, its truth is consistent, the docs table is current, it passes the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_sre.scenarios.build import apply_app_and_faults
from atlas_sre.scenarios.faults import CATALOGUE
from atlas_sre.scenarios.faults.docs import COUNT, LIBRARY, SEED, coverage, render
from atlas_sre.scenarios.loader import load_path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "faults.md"
PATHS = sorted(LIBRARY.glob("*.yaml"))
ENGINE_GAPS: set[str] = set()  # see test_faults_signature.ENGINE_GAPS


def test_library_has_at_least_100_scenarios() -> None:
    assert len(PATHS) >= 100


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_scenario_loads_and_its_truth_names_real_objects(path: Path) -> None:
    s = load_path(path)
    assert s.metadata.name == path.stem
    assert s.spec.incident.alerts == [] and s.spec.incident.summary
    assert set(s.metadata.labels) == {"domain", "complexity", "app", "type"}
    assert all(f.id in CATALOGUE for f in s.spec.faults)
    expanded, history = apply_app_and_faults(s)
    objects = set(history) | {f"{m['metadata'].get('namespace')}/{m['kind']}/{m['metadata']['name']}"
                              if m["metadata"].get("namespace") else f"{m['kind']}/{m['metadata']['name']}"
                              for m in expanded.spec.manifests}
    if s.spec.faults:
        assert len(s.spec.groundTruth.rootCauses) == len(s.spec.faults)
        assert {rc.entity for rc in s.spec.groundTruth.rootCauses} <= objects
    else:
        assert s.spec.groundTruth.rootCauses == [] and not history


def test_every_fault_is_covered() -> None:
    faults, apps, total = coverage()
    assert total == len(PATHS)
    missing = {f for f in CATALOGUE if faults.get(f, 0) == 0} - ENGINE_GAPS
    assert missing == set()
    assert faults["(no-fault control)"] >= 5 and faults["(two-fault incidents)"] >= 5
    assert set(apps) == {"bookinfo", "hotel-reservation", "online-shop"}


def test_docs_page_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/faults.md is stale: .venv/bin/python -m atlas_sre.scenarios.faults.docs > docs/faults.md")


def test_a_sample_passes_the_readiness_gate() -> None:
    from atlas_sre.scenarios.readiness import check_ready

    for path in PATHS[::12]:
        assert check_ready(load_path(path)) == [], path.stem


@pytest.mark.slow
def test_library_regenerates_byte_identical(tmp_path: Path) -> None:
    from atlas_sre.scenarios.generator.generate import generate, write

    write(generate(COUNT, SEED), tmp_path)
    assert {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.yaml"))} == \
        {p.name: p.read_bytes() for p in PATHS}
