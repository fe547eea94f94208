"""Scenario loading: every built-in loads, and broken files fail with located one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_sre.scenarios.catalog import builtin_paths, find, summary
from atlas_sre.scenarios.loader import ScenarioError, load_path, load_text

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "examples" / "mesh-subset-missing.yaml"
MINIMAL = """\
apiVersion: atlas-sre/v1
kind: Scenario
metadata: {name: tiny}
spec:
  incident: {summary: "x is down"}
  manifests:
    - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: a}
      spec:
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers: [{name: web, image: "example.io/web:1"}]
"""


def test_every_builtin_loads_and_names_match_files() -> None:
    paths = builtin_paths()
    assert len(paths) >= 5
    for p in paths:
        s = load_path(p)
        assert s.metadata.name == p.stem
        assert s.spec.incident.summary
        row = summary(s)
        # every incident names the catalogue fault(s) it illustrates; no-fault controls name none
        assert bool(row["faults"]) == bool(s.spec.groundTruth.rootCauses), p.name


@pytest.mark.skipif(not EXAMPLE.exists(), reason="shared example not present")
def test_shared_example_loads() -> None:
    s = load_path(EXAMPLE)
    assert s.spec.groundTruth.rootCauses[0].entity == "shop/DestinationRule/reviews"
    assert "example.io/bookinfo/reviews:1.21-v3" in s.spec.registry


def test_minimal_loads_with_defaults() -> None:
    s = load_text(MINIMAL)
    assert s.spec.clock.observeAt == "2026-11-26T10:00:00Z"
    assert s.spec.groundTruth.rootCauses == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace("        selector: {matchLabels: {app: web}}\n", ""),
         "scenario.yaml:8: spec.manifests[1]: Deployment has no spec.selector"),
        (lambda t: t.replace("{labels: {app: web}}", "{labels: {app: api}}"),
         "scenario.yaml:14: spec.manifests[1].spec.template.metadata.labels: selector does not match template "
         "labels: app=web is missing"),
        (lambda t: t.replace('image: "example.io/web:1"', 'imag: "x"'),
         "scenario.yaml:16: spec.manifests[1].spec.template.spec.containers[0]: container 'web' has no image"),
        (lambda t: t.replace("  incident: {summary: \"x is down\"}\n", ""),
         "scenario.yaml:4: spec: missing required field 'incident'"),
        (lambda t: t.replace("atlas-sre/v1", "atlas-sre/v9"),
         "scenario.yaml:1: apiVersion: expected 'atlas-sre/v1', got 'atlas-sre/v9'"),
        (lambda t: t.replace("kind: Scenario", "kind: Scenario\nbogus: 1"),
         "scenario.yaml:3: bogus: unknown field 'bogus'"),
        (lambda t: t.replace("metadata: {name: web, namespace: a}", "metadata: {name: web, namespace: a"),
         "scenario.yaml:"),
        (lambda t: t + "    - {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n",
         "spec.manifests[2]: duplicate Namespace 'a' (also spec.manifests[0])"),
        (lambda t: t.replace("{name: a}}", "{name: a, namespace: b}}"),
         "scenario.yaml:7: spec.manifests[0].metadata.namespace: Namespace is cluster-scoped and takes no namespace"),
    ],
)
def test_broken_files_fail_with_located_one_line_errors(mutate, expected: str) -> None:  # noqa: ANN001
    with pytest.raises(ScenarioError) as info:
        load_text(mutate(MINIMAL), file="scenario.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert expected in message


def test_registry_errors_are_located() -> None:
    text = MINIMAL.replace("  manifests:", "  registry:\n    example.io/web:1: {listen: [{port: nope}]}\n  manifests:")
    with pytest.raises(ScenarioError) as info:
        load_text(text, file="s.yaml")
    assert str(info.value).startswith("s.yaml:7: spec.registry.example.io/web:1.listen[0].port:")


def test_missing_file_and_unknown_builtin() -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_path("/nonexistent/scenario.yaml")
    with pytest.raises(ScenarioError, match="built-ins: crashloop-missing-env"):
        find("no-such-scenario")
