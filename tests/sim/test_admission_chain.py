"""Mutating admission: webhooks (Istio's injector) run before quota admission and the scheduler."""

from __future__ import annotations

from typing import Any

from atlas_sre.kube.requests import pod_totals
from atlas_sre.sim.engine import default_stages, derive
from atlas_sre.sim.state import Change, ClusterState, SimSpec
from conftest import (
    FAULT,
    deployment,
    derive_state,
    get,
    make_spec,
    node,
    of_kind,
    pods_of,
)

MI = 2**20
TAINT = {"key": "dedicated", "value": "apps", "effect": "NoSchedule"}


def _meshed(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"} if labels is None else labels},
    }


def _web(replicas: int, cpu: str = "150m", memory: str = "64Mi") -> dict[str, Any]:
    """A Deployment pinned to the tainted `apps` node (the mesh control plane stays off it)."""
    return deployment(
        "web",
        replicas=replicas,
        resources={"requests": {"cpu": cpu, "memory": memory}},
        nodeSelector={"kubernetes.io/hostname": "apps"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"}],
    )


def _nodes(apps_cpu: str) -> list[dict[str, Any]]:
    return [
        node("system", cpu="8"),
        node("apps", cpu=apps_cpu, labels={"kubernetes.io/hostname": "apps"}, spec={"taints": [TAINT]}),
    ]


def _quota(hard: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "compute", "namespace": "shop"},
        "spec": {"hard": hard},
    }


def test_sidecar_requests_count_in_the_pods_effective_request() -> None:
    state = derive_state(make_spec([_meshed(), *_nodes("8"), _web(1)]))
    [pod] = pods_of(state, "shop", "web-")
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "istio-proxy"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["istio-init"]
    # sum(app, istio-proxy) = 250m/192Mi beats max(init) = istio-init's 100m/128Mi
    assert pod_totals(pod["spec"])[0] == {"cpu": 250, "memory": 192 * MI}
    assert pod["status"]["qosClass"] == "Burstable"
    token = [v["name"] for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-")]
    assert pod["spec"]["volumes"][0]["name"] == token[0]  # the ServiceAccount plugin ran before the webhook
    for c in [*pod["spec"]["containers"], *pod["spec"]["initContainers"]]:
        assert [m["name"] for m in c["volumeMounts"] if m["name"] == token[0]] == token, c["name"]


def test_scheduler_counts_the_sidecar_against_node_allocatable() -> None:
    state = derive_state(make_spec([_meshed(), *_nodes("500m"), _web(3)]))
    pods = pods_of(state, "shop", "web-")
    bound = [p for p in pods if p["spec"].get("nodeName") == "apps"]
    assert len(bound) == 2  # 2 x 250m; without the sidecar's 100m three 150m pods would fit
    [pending] = [p for p in pods if not p["spec"].get("nodeName")]
    assert pending["status"]["conditions"][0]["message"].startswith(
        "0/3 nodes are available: 1 Insufficient cpu"  # the other worker and the tainted control-plane node
    )
    on_node = [p for p in of_kind(state, "Pod") if p["spec"].get("nodeName") == "apps"]
    requested = state.extras["scheduler"].by_name["apps"].requested
    assert requested["cpu"] == sum(pod_totals(p["spec"])[0].get("cpu", 0) for p in on_node) == 500


def test_quota_admission_charges_the_sidecar() -> None:
    state = derive_state(
        make_spec(
            [
                _meshed(),
                *_nodes("8"),
                _web(2, cpu="100m"),
                _quota({"requests.cpu": "300m", "requests.memory": "1Gi"}),
            ]
        )
    )
    assert len(pods_of(state, "shop", "web-")) == 1  # 200m each with the sidecar: the second exceeds 300m
    [rs] = of_kind(state, "ReplicaSet", "shop")
    failures = [e["message"] for e in of_kind(state, "Event", "shop") if e["reason"] == "FailedCreate"]
    assert (
        failures
        and "exceeded quota: compute, requested: requests.cpu=200m, used: requests.cpu=200m, "
        "limited: requests.cpu=300m"
        in failures[0]
    )
    assert rs["status"]["conditions"][0]["reason"] == "FailedCreate"
    used = get(state, "ResourceQuota", "shop", "compute")["status"]["used"]
    assert used == {"requests.cpu": "200m", "requests.memory": "192Mi"}


def test_injection_reads_the_namespace_as_of_pod_creation() -> None:
    """Injection enabled at the fault: a workload restarted then gets sidecars, one left alone does not."""
    old_web = _web(1)
    new_web = _web(1)
    new_web["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    history = {
        "Namespace/shop": Change(FAULT, _meshed(labels={})),
        "shop/Deployment/web": Change(FAULT, old_web),
    }
    api = deployment("api", replicas=1)
    state = derive_state(make_spec([_meshed(), *_nodes("8"), new_web, api], history=history))
    [web_pod] = pods_of(state, "shop", "web-")
    assert [c["name"] for c in web_pod["spec"]["containers"]] == ["app", "istio-proxy"]
    assert web_pod["metadata"]["creationTimestamp"] >= state.clock.iso(FAULT)
    [api_pod] = pods_of(state, "shop", "api-")
    assert [c["name"] for c in api_pod["spec"]["containers"]] == ["app"]
    assert pod_totals(api_pod["spec"])[0] == {}


def test_a_registered_mutator_is_seen_by_quota_and_scheduler() -> None:
    """The hook itself: any room can add a mutating webhook, and admission charges what it adds."""
    from atlas_sre.sim.workloads.podgen import register_mutator

    def add_agent(spec: SimSpec, state: ClusterState, namespace: str, pod: dict[str, Any], at: Any) -> None:
        if namespace == "shop":
            pod["spec"]["containers"].append(
                {"name": "agent", "image": "example.io/app:1.0", "resources": {"requests": {"cpu": "400m"}}}
            )

    stages = default_stages()

    def materialize_with_webhook(spec: SimSpec, state: ClusterState) -> None:
        stages[0](spec, state)
        register_mutator(state, add_agent)

    state = derive(
        make_spec(
            [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
                node("n1", cpu="1"),
                deployment("web", replicas=2, resources={"requests": {"cpu": "100m"}}),
            ]
        ),
        [materialize_with_webhook, *stages[1:]],
    )
    pods = pods_of(state, "shop", "web-")
    assert [c["name"] for c in pods[0]["spec"]["containers"]] == ["app", "agent"]
    # coredns takes 200m of the node's 1 CPU: one 500m pod fits, the second does not
    assert sorted(bool(p["spec"].get("nodeName")) for p in pods) == [False, True]
