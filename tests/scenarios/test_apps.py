"""Built-in apps: well-formed data, a call graph that resolves, and (with the engine) a healthy baseline."""

from __future__ import annotations

import pytest

from atlas_sre.scenarios.apps import UnknownApp, app_names, load_app
from atlas_sre.scenarios.build import base_parts
from atlas_sre.scenarios.faults.topology import dependencies, entry_services, pod_spec, workloads
from atlas_sre.scenarios.manifests import check_manifests
from atlas_sre.scenarios.model import Scenario

APPS = ["bookinfo", "hotel-reservation", "online-shop"]


def scenario(app: str) -> Scenario:
    return Scenario.model_validate({"metadata": {"name": f"{app}-baseline"},
                                    "spec": {"app": app, "incident": {"summary": "baseline"}}})


def test_three_apps_are_built_in() -> None:
    assert app_names() == APPS


def test_unknown_app_lists_the_known_ones() -> None:
    with pytest.raises(UnknownApp, match="built-in apps: bookinfo, hotel-reservation, online-shop"):
        load_app("petclinic")


@pytest.mark.parametrize("app", APPS)
def test_manifests_are_valid_and_meshed(app: str) -> None:
    a = load_app(app)
    assert list(check_manifests(a.manifests)) == []
    ns = next(m for m in a.manifests if m["kind"] == "Namespace" and m["metadata"]["name"] == a.namespace)
    assert ns["metadata"]["labels"]["istio-injection"] == "enabled"
    kinds = {m["kind"] for m in a.manifests}
    assert {"Gateway", "VirtualService", "Service", "Deployment", "Node"} <= kinds
    assert sum(1 for m in a.manifests if m["kind"] == "Node") == 3


@pytest.mark.parametrize("app", APPS)
def test_every_image_is_in_the_registry_and_every_call_resolves(app: str) -> None:
    parts = base_parts(scenario(app))
    for w in workloads(parts):
        for c in pod_spec(w)["containers"]:
            assert c["image"] in parts.registry, c["image"]
        for dep in dependencies(parts, w):
            assert parts.find(dep.service) is not None, f"{w['metadata']['name']} -> {dep.service}"
    for call_owner in workloads(parts):
        behaviour = parts.registry[pod_spec(call_owner)["containers"][0]["image"]]
        declared = {c.address.env for c in behaviour.calls}
        resolved = {d.env for d in dependencies(parts, call_owner)}
        assert declared == resolved, call_owner["metadata"]["name"]
    assert entry_services(parts), "traffic must reach a Service"


def test_online_shop_is_otel_demo_sized_with_cache_and_queue() -> None:
    parts = base_parts(scenario("online-shop"))
    names = {w["metadata"]["name"] for w in workloads(parts)}
    assert {"frontend", "cart", "checkout", "currency", "email", "payment", "product-catalog", "recommendation",
            "shipping", "quote", "ad", "valkey-cart", "kafka", "accounting", "fraud-detection"} <= names
    kafka_users = {d.caller.name for w in workloads(parts) for d in dependencies(parts, w) if d.service.name == "kafka"}
    assert kafka_users == {"checkout", "accounting", "fraud-detection"}


def test_bookinfo_routes_reviews_to_three_subsets() -> None:
    parts = base_parts(scenario("bookinfo"))
    vs = next(m for m in parts.manifests if m["kind"] == "VirtualService" and m["metadata"]["name"] == "reviews")
    assert [d["destination"]["subset"] for d in vs["spec"]["http"][0]["route"]] == ["v1", "v2", "v3"]
    dr = next(m for m in parts.manifests if m["kind"] == "DestinationRule" and m["metadata"]["name"] == "reviews")
    assert [s["name"] for s in dr["spec"]["subsets"]] == ["v1", "v2", "v3"]


@pytest.mark.parametrize("app", APPS)
def test_baseline_is_healthy(app: str) -> None:
    from atlas_sre.scenarios.readiness import base_problems, derive_scenario, observe

    state = derive_scenario(scenario(app))
    obs = observe(state)
    assert base_problems(obs) == []
    assert obs.unready == {} and obs.warnings == set() and obs.alerts == []
    entries = state.extras["mesh_entrypoints"]
    assert entries and all(e["error_ratio"] == 0.0 and e["rps"] > 0 for e in entries)
    pods = [p for p in state.find("Pod") if p["metadata"]["namespace"] == load_app(app).namespace]
    assert pods and all(p["status"]["phase"] == "Running" for p in pods)
    assert all(any(c["name"] == "istio-proxy" for c in p["spec"]["containers"]) for p in pods)
