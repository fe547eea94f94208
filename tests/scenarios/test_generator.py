"""The generator: deterministic files, controls and pairs, red herrings as objects, gated draws, scale."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from atlas_sre.scenarios.faults import get_fault
from atlas_sre.scenarios.generator.generate import HEADER, Options, Report, _plan, generate, generate_cli, write
from atlas_sre.scenarios.generator.noise import KINDS, draw_noise, merge_noise
from atlas_sre.scenarios.generator.text import scenario_name, short_id
from atlas_sre.scenarios.loader import load_path

CONFIG_KINDS = ("DestinationRule", "VirtualService", "NetworkPolicy", "ResourceQuota", "AuthorizationPolicy",
                "PeerAuthentication", "Sidecar", "Secret", "HorizontalPodAutoscaler", "Gateway", "PriorityClass")


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write(generate(6, seed=5), tmp_path / "a")
    write(generate(6, seed=5), tmp_path / "b")
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert len(a) == 6 and a == b


def test_another_seed_gives_other_scenarios() -> None:
    first = [s.metadata.name for s in generate(3, seed=5)]
    assert first != [s.metadata.name for s in generate(3, seed=6)]


def test_plan_mixes_controls_pairs_and_covers_the_catalogue() -> None:
    plan = _plan(120, Options(seed=20261126), random.Random(20261126))
    assert sum(1 for p in plan if not p) >= 5
    assert sum(1 for p in plan if len(p) == 2) >= 5
    singles = {p[0] for p in plan if len(p) == 1}
    from atlas_sre.scenarios.faults import CATALOGUE
    from atlas_sre.scenarios.generator.editions import FIRST_EDITION, appended

    # the round-robin covers the first edition; later faults are appended after it (editions.py)
    assert singles == set(FIRST_EDITION) and singles | set(appended(list(CATALOGUE))) == set(CATALOGUE)


def test_generated_scenario_is_gated_and_truthful() -> None:
    report = Report()
    [s] = generate(1, seed=3, app="bookinfo", fault="mismatched-host-istio-gateway", report=report)
    assert report.gated and report.accepted == [s.metadata.name]
    assert s.spec.app == "bookinfo" and [f.id for f in s.spec.faults] == ["mismatched-host-istio-gateway"]
    assert s.spec.incident.alerts == []
    assert "404" in s.spec.incident.summary and "bookinfo.example.com" in s.spec.incident.summary
    assert s.spec.groundTruth.rootCauses[0].entity == "bookinfo/Gateway/bookinfo-gateway"
    assert s.metadata.labels == {"domain": "service-mesh", "complexity": s.metadata.labels["complexity"],
                                 "app": "bookinfo", "type": "single-fault"}


def test_summaries_describe_symptoms_not_causes() -> None:
    for s in generate(8, seed=9):
        text = s.spec.incident.summary
        assert text and text != "-"
        for cause in s.spec.groundTruth.rootCauses:
            kind = cause.entity.split("/")[-2]
            assert kind not in text, (s.metadata.name, text)
            assert cause.condition not in text


def test_controls_have_no_truth_and_a_healthy_cluster() -> None:
    from atlas_sre.scenarios.readiness import check_ready

    controls = [s for s in generate(12, seed=11) if not s.spec.faults]
    assert controls, "seed 11 plans at least one no-fault control"
    for c in controls:
        assert c.spec.groundTruth.rootCauses == [] and c.metadata.labels["type"] == "no-fault"
        assert check_ready(c) == []


def test_red_herrings_are_objects_and_behaviour() -> None:
    noises = draw_noise(random.Random(1), "shop", 60.0, len(KINDS))
    assert {n.kind for n in noises} == set(KINDS)
    manifests, registry = merge_noise(noises)
    assert sum(1 for m in manifests if m["kind"] == "Namespace") == 1
    assert all("status" not in m for m in manifests)
    images = {c["image"] for m in manifests if m["kind"] in ("Deployment", "Job")
              for c in m["spec"]["template"]["spec"]["containers"]}
    assert images <= set(registry)
    forbidden = [line for b in registry.values() for line in b.logs.startup if "forbidden" in line]
    assert forbidden and "cannot list resource" in forbidden[0]


def test_scale_replicates_workloads_and_adds_nodes() -> None:
    [s] = generate(1, seed=2, app="hotel-reservation", fault="nonexistent-kubernetes-workload-node", scale=300)
    assert s.spec.app is None
    workloads = [m for m in s.spec.manifests if m["kind"] == "Deployment" and
                 m["metadata"]["namespace"] == "hotel-reservation"]
    pods = sum(m["spec"]["replicas"] for m in workloads)
    assert 270 <= pods <= 330
    assert sum(1 for m in s.spec.manifests if m["kind"] == "Node") >= 5


def test_write_replaces_generated_files_only(tmp_path: Path) -> None:
    (tmp_path / "hand-written.yaml").write_text("# mine\n")
    (tmp_path / "old-generated.yaml").write_text(HEADER + "stale\n")
    paths = write(generate(1, seed=4, app="bookinfo", fault="unbound-gateway-istio-virtual-service"), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == sorted(["hand-written.yaml", paths[0].name])
    assert load_path(paths[0]).metadata.name == paths[0].stem


def test_cli_writes_files_and_reports_errors_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate_cli(2, 8, "online-shop", None, None, str(tmp_path)) == 0
    assert len(list(tmp_path.glob("*.yaml"))) == 2
    assert "wrote 2 scenarios" in capsys.readouterr().out
    assert generate_cli(1, 8, None, "no-such-fault", None, str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown fault 'no-such-fault'") and err.count("\n") == 1


def test_names_are_realistic_and_unique() -> None:
    fault = get_fault("nonexistent-kubernetes-workload-container-image")
    assert short_id(fault.id) == "nonexistent-image"
    assert scenario_name("online-shop", [(fault, "otel-demo/Deployment/cart")], 7) == \
        "online-shop-nonexistent-image-cart-007"
    assert scenario_name("bookinfo", [], 12) == "bookinfo-healthy-control-012"
