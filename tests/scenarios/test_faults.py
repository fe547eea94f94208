"""The fault catalogue on plain manifests: what each injector changes, records and implies."""

from __future__ import annotations

import copy
import random

import pytest

from atlas_sre.scenarios.build import apply_app_and_faults, base_parts, implied_truth
from atlas_sre.scenarios.faults import CATALOGUE, fault_ids, get_fault
from atlas_sre.scenarios.faults.base import CATEGORIES, FaultError, Ref, ref_of
from atlas_sre.scenarios.model import Scenario
from atlas_sre.sim.clock import parse_time

APPS = ["bookinfo", "online-shop", "hotel-reservation"]
ITBENCH = [
    "nonexistent-kubernetes-workload-container-image", "invalid-kubernetes-workload-container-command",
    "insufficient-kubernetes-workload-container-resources",
    "misconfigured-kubernetes-workload-container-readiness-probe", "invalid-kubernetes-service-selector",
    "modified-target-port-kubernetes-service", "deleted-kubernetes-service", "scaled-to-zero-kubernetes-workload",
    "ingress-port-blocking-network-policy", "failing-name-resolution-kubernetes-workload-dns-policy",
    "insufficient-kubernetes-resource-quota", "nonexistent-kubernetes-workload-node",
    "cordoned-kubernetes-worker-node", "unschedulable-kubernetes-workload-pod-anti-affinity-rule",
    "nonexistent-kubernetes-workload-persistent-volume-claim", "crashing-kubernetes-workload-init-container",
    "hanging-kubernetes-workload-init-container", "modified-kubernetes-workload-container-environment-variable",
    "corrupted-kubernetes-secret-credentials", "misconfigured-kubernetes-horizontal-pod-autoscaler",
    "priority-kubernetes-workload-priority-preemption", "strict-mutual-tls-istio-service-mesh-enforcement",
    "traffic-denying-istio-gateway-authorization-policy",
]


def scenario(app: str, faults: list[dict] | None = None) -> Scenario:
    return Scenario.model_validate({"metadata": {"name": "t"}, "spec": {
        "app": app, "incident": {"summary": "t"}, "faults": faults or []}})


def first_use(fault_id: str) -> tuple[Scenario, Scenario]:
    """(base, with the fault on its first compatible target, drawn args) in the first app that has one."""
    fault = get_fault(fault_id)
    for app in APPS:
        base = scenario(app)
        targets = fault.candidates(base_parts(base))
        if targets:
            args = fault.draw(base_parts(base), targets[0], random.Random(0)) if fault.draw else {}
            return base, scenario(app, [{"id": fault_id, "target": str(targets[0]), "args": args}])
    raise AssertionError(f"{fault_id} has no target in any app")


def test_catalogue_size_and_itbench_ids() -> None:
    assert len(CATALOGUE) >= 30
    assert sum(1 for f in CATALOGUE.values() if f.domain == "service-mesh") >= 12
    assert set(ITBENCH) <= set(CATALOGUE)
    assert all(f.category in CATEGORIES for f in CATALOGUE.values())


@pytest.mark.parametrize("fault_id", fault_ids())
def test_fault_records_history_and_changes_only_objects(fault_id: str) -> None:
    base, faulty = first_use(fault_id)
    before = {str(ref_of(o)): o for o in base_parts(base).manifests}
    expanded, history = apply_app_and_faults(faulty)
    after = {str(ref_of(o)): o for o in expanded.spec.manifests}
    assert history, "a fault must change something"
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == set(history)
    fault_at = parse_time(faulty.spec.clock.faultAt)
    for key, change in history.items():
        assert change.at == fault_at
        assert change.previous == before.get(key)  # None exactly when the fault created the object
    for key in changed:  # symptoms are derived, never written
        assert "status" not in (after.get(key) or {}) or after[key]["kind"] == "Node"
    assert expanded.spec.faults == [] and expanded.spec.app is None


@pytest.mark.parametrize("fault_id", fault_ids())
def test_fault_implies_ground_truth(fault_id: str) -> None:
    _, faulty = first_use(fault_id)
    truth = implied_truth(faulty)
    expanded, history = apply_app_and_faults(faulty)
    objects = {str(ref_of(o)) for o in expanded.spec.manifests} | set(history)
    [cause] = truth.rootCauses
    assert cause.entity in objects
    assert cause.category == get_fault(fault_id).category and cause.condition
    assert all(group[0] == cause.entity and len(group) > 1 for group in truth.aliases)
    if get_fault(fault_id).target_kind == "Deployment":
        assert any(a.endswith("-*") for a in truth.aliases[0])  # the component's pods and ReplicaSets
    for edge in truth.propagation:
        assert edge.source != edge.target and edge.effect


def test_apply_is_deterministic() -> None:
    _, faulty = first_use("missing-destination-rule-subset-istio-virtual-service")
    again = copy.deepcopy(faulty)
    assert apply_app_and_faults(faulty)[0].spec.manifests == apply_app_and_faults(again)[0].spec.manifests


def test_missing_subset_routes_to_an_undefined_subset() -> None:
    s = scenario("bookinfo", [{"id": "missing-destination-rule-subset-istio-virtual-service",
                               "target": "bookinfo/Service/reviews", "args": {"subset": "v4", "weight": 30}}])
    expanded, history = apply_app_and_faults(s)
    objs = {str(ref_of(o)): o for o in expanded.spec.manifests}
    route = objs["bookinfo/VirtualService/reviews"]["spec"]["http"][0]["route"]
    assert [d["destination"]["subset"] for d in route] == ["v1", "v2", "v3", "v4"]
    assert sum(d["weight"] for d in route) == 100 and route[-1]["weight"] == 30
    assert "v4" not in {x["name"] for x in objs["bookinfo/DestinationRule/reviews"]["spec"]["subsets"]}
    assert expanded.spec.groundTruth.rootCauses[0].entity == "bookinfo/DestinationRule/reviews"
    assert [e.target for e in expanded.spec.groundTruth.propagation] == ["bookinfo/Service/reviews",
                                                                          "bookinfo/Service/productpage"]


def test_deleted_service_keeps_its_history_and_callers_in_truth() -> None:
    s = scenario("online-shop", [{"id": "deleted-kubernetes-service", "target": "otel-demo/Service/quote"}])
    expanded, history = apply_app_and_faults(s)
    assert all(ref_of(o) != Ref("Service", "quote", "otel-demo") for o in expanded.spec.manifests)
    assert history["otel-demo/Service/quote"].previous["spec"]["ports"][0]["port"] == 8090
    edges = [(e.source, e.target) for e in expanded.spec.groundTruth.propagation]
    assert ("otel-demo/Service/quote", "otel-demo/Service/shipping") in edges
    assert ("otel-demo/Service/shipping", "otel-demo/Service/frontend") in edges
    assert "otel-demo/Deployment/quote" in expanded.spec.groundTruth.aliases[0]


def test_component_aliases_include_pod_and_replicaset_globs() -> None:
    s = scenario("hotel-reservation", [{"id": "nonexistent-kubernetes-workload-container-image",
                                        "target": "hotel-reservation/Deployment/geo"}])
    truth = implied_truth(s)
    assert truth.aliases == [["hotel-reservation/Deployment/geo", "hotel-reservation/Service/geo",
                              "hotel-reservation/Pod/geo-*", "hotel-reservation/ReplicaSet/geo-*"]]


def test_unknown_argument_is_one_clear_line() -> None:
    s = scenario("bookinfo", [{"id": "scaled-to-zero-kubernetes-workload", "target": "bookinfo/Deployment/details-v1",
                               "args": {"replicas": 0}}])
    with pytest.raises(FaultError) as exc:
        apply_app_and_faults(s)
    assert str(exc.value) == ("spec.faults[0] (scaled-to-zero-kubernetes-workload): fault "
                              "scaled-to-zero-kubernetes-workload: args.replicas: unknown argument")


def test_wrong_argument_type_is_one_clear_line() -> None:
    with pytest.raises(FaultError) as exc:
        get_fault("fault-injection-abort-istio-virtual-service").validate_args({"percentage": "lots"})
    assert "\n" not in str(exc.value)
    assert str(exc.value).startswith("fault fault-injection-abort-istio-virtual-service: args.percentage: ")


def test_unknown_fault_and_wrong_target_kind_are_clear() -> None:
    with pytest.raises(FaultError, match=r"unknown fault 'no-such-fault' \(known: aggressive-outlier"):
        get_fault("no-such-fault")
    s = scenario("bookinfo", [{"id": "invalid-kubernetes-service-selector",
                               "target": "bookinfo/Deployment/details-v1"}])
    with pytest.raises(FaultError, match="target bookinfo/Deployment/details-v1 is a Deployment, this fault targets "
                                         "a Service"):
        apply_app_and_faults(s)
    s = scenario("bookinfo", [{"id": "invalid-kubernetes-service-selector", "target": "details"}])
    with pytest.raises(FaultError, match="is not namespace/Kind/name"):
        apply_app_and_faults(s)


def test_semantic_argument_errors_are_caught() -> None:
    s = scenario("bookinfo", [{"id": "insufficient-kubernetes-workload-container-resources",
                               "target": "bookinfo/Deployment/details-v1", "args": {"memoryLimit": "4Gi"}}])
    with pytest.raises(FaultError, match="memoryLimit 4Gi is not below the 38Mi the process uses"):
        apply_app_and_faults(s)


def test_two_faults_merge_their_truth() -> None:
    s = scenario("online-shop", [
        {"id": "scaled-to-zero-kubernetes-workload", "target": "otel-demo/Deployment/quote"},
        {"id": "fault-injection-abort-istio-virtual-service", "target": "otel-demo/Service/cart"}])
    truth = implied_truth(s)
    assert [r.entity for r in truth.rootCauses] == ["otel-demo/Deployment/quote", "otel-demo/VirtualService/cart"]
    assert truth.aliases[0][0] == "otel-demo/Deployment/quote" and len(truth.aliases) == 1  # a VS has no alias
    assert {e.source for e in truth.propagation} >= {"otel-demo/VirtualService/cart", "otel-demo/Service/quote"}
