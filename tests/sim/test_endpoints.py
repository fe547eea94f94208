"""Endpoints and EndpointSlices from crafted pods (readiness set directly, as the kubelet would)."""

from __future__ import annotations

import re
from typing import Any

from atlas_sre.sim.objects.meta import stamp
from atlas_sre.sim.state import ClusterState
from atlas_sre.sim.workloads.endpoints import reconcile_endpoints
from conftest import START, clock, deployment, derive_state, get, make_spec, namespace, of_kind, service

SEED = 1


def _pod(name: str, ip: str | None, ready: bool, labels: dict[str, str] | None = None,
         ports: list[dict[str, Any]] | None = None, phase: str = "Running", **spec: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": "2026-01-01T11:20:00Z"}]}
    if ip:
        status["podIP"] = ip
    container = {"name": "app", "image": "example.io/app:1.0",
                 "ports": ports if ports is not None else [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": labels or {"app": "web"}},
            "spec": {"nodeName": "worker-1", "containers": [container], **spec}, "status": status}


def _svc(ports: list[dict[str, Any]] | None = None, selector: dict[str, str] | None = None,
         **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"team": "shop"}},
            "spec": {"selector": selector if selector is not None else {"app": "web"},
                     "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                     **spec}}


def _run(*objects: dict[str, Any]) -> ClusterState:
    state = ClusterState(clock=clock())
    for obj in objects:
        state.objects.append(stamp(state, SEED, obj, START))
    reconcile_endpoints(make_spec([], seed=SEED), state)
    return state


def test_ready_and_not_ready_pods() -> None:
    state = _run(_svc(), _pod("web-a", "10.244.0.12", True), _pod("web-b", "10.244.0.5", False),
                 _pod("web-c", "10.244.0.9", True), _pod("other", "10.244.0.7", True, labels={"app": "other"}))
    ep = get(state, "Endpoints", "shop", "web")
    [subset] = ep["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.244.0.9", "10.244.0.12"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["web-b"]
    assert subset["addresses"][0]["nodeName"] == "worker-1"
    assert subset["addresses"][0]["targetRef"]["kind"] == "Pod"
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert ep["metadata"]["labels"] == {"team": "shop"}
    [sl] = of_kind(state, "EndpointSlice", "shop")
    assert re.fullmatch("web-[bcdfghjklmnpqrstvwxz2456789]{5}", sl["metadata"]["name"])
    assert sl["metadata"]["labels"] == {"team": "shop", "kubernetes.io/service-name": "web",
                                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    assert sl["addressType"] == "IPv4"
    assert sl["metadata"]["ownerReferences"][0]["kind"] == "Service"
    conditions = {e["targetRef"]["name"]: e["conditions"] for e in sl["endpoints"]}
    assert conditions == {"web-a": {"ready": True, "serving": True, "terminating": False},
                          "web-b": {"ready": False, "serving": False, "terminating": False},
                          "web-c": {"ready": True, "serving": True, "terminating": False}}
    assert sl["endpoints"][0]["addresses"] == ["10.244.0.5"]
    assert sl["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_named_target_port_resolves_per_pod() -> None:
    ports = [{"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    state = _run(_svc(ports), _pod("web-old", "10.244.0.2", True),
                 _pod("web-new", "10.244.0.3", True,
                      ports=[{"name": "http", "containerPort": 9090, "protocol": "TCP"}]),
                 _pod("web-noport", "10.244.0.4", True, ports=[]))
    subsets = get(state, "Endpoints", "shop", "web")["subsets"]
    assert sorted((s["ports"][0]["port"], [a["targetRef"]["name"] for a in s["addresses"]]) for s in subsets) == [
        (8080, ["web-old"]), (9090, ["web-new"])]
    slices = of_kind(state, "EndpointSlice", "shop")
    assert sorted(s["ports"][0]["port"] for s in slices if s["ports"]) == [8080, 9090]
    assert all(s["ports"][0]["name"] == "web" for s in slices if s["ports"])


def test_selector_matching_nothing_gives_empty_endpoints() -> None:
    state = _run(_svc(selector={"app": "nobody"}), _pod("web-a", "10.244.0.2", True))
    ep = get(state, "Endpoints", "shop", "web")
    assert "subsets" not in ep
    [sl] = of_kind(state, "EndpointSlice", "shop")
    assert sl["endpoints"] is None and sl["ports"] is None


def test_pods_without_ip_or_finished_are_left_out() -> None:
    state = _run(_svc(), _pod("web-pending", None, False, phase="Pending"),
                 _pod("web-done", "10.244.0.3", False, phase="Succeeded"), _pod("web-up", "10.244.0.4", True))
    [subset] = get(state, "Endpoints", "shop", "web")["subsets"]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["web-up"]
    assert "notReadyAddresses" not in subset


def test_terminating_pods_stay_in_slices_only() -> None:
    leaving = _pod("web-old", "10.244.1.3", True)
    leaving["metadata"]["deletionTimestamp"] = "2026-01-01T11:36:10Z"
    state = _run(_svc(), leaving, _pod("web-new", "10.244.0.4", True))
    [subset] = get(state, "Endpoints", "shop", "web")["subsets"]
    assert [a["targetRef"]["name"] for a in subset["addresses"]] == ["web-new"]
    [sl] = of_kind(state, "EndpointSlice", "shop")
    conditions = {e["targetRef"]["name"]: e["conditions"] for e in sl["endpoints"]}
    assert conditions["web-old"] == {"ready": False, "serving": True, "terminating": True}


def test_publish_not_ready_and_headless_hostnames() -> None:
    state = _run(_svc(clusterIP="None", publishNotReadyAddresses=True),
                 _pod("web-0", "10.244.0.2", False, hostname="web-0", subdomain="web"))
    ep = get(state, "Endpoints", "shop", "web")
    [address] = ep["subsets"][0]["addresses"]
    assert address["hostname"] == "web-0"
    assert ep["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
    [sl] = of_kind(state, "EndpointSlice", "shop")
    assert sl["endpoints"][0]["conditions"]["ready"] is True


def test_services_without_selector_get_no_managed_endpoints() -> None:
    state = _run(_svc(selector={}), _pod("web-a", "10.244.0.2", True))
    assert of_kind(state, "Endpoints", "shop") == [] and of_kind(state, "EndpointSlice", "shop") == []


def test_full_derive_publishes_running_pods_and_the_apiserver() -> None:
    state = derive_state(make_spec([namespace("shop"), deployment("web", replicas=2), service("web")]))
    ep = get(state, "Endpoints", "shop", "web")
    pods = {p["status"]["podIP"] for p in of_kind(state, "Pod", "shop")}
    listed = {a["ip"] for s in ep.get("subsets", []) for a in s.get("addresses", []) + s.get("notReadyAddresses", [])}
    assert listed == pods and len(pods) == 2
    kube = get(state, "Endpoints", "default", "kubernetes")
    assert kube["subsets"] == [{"addresses": [{"ip": "172.18.0.2"}],
                                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
    dns = get(state, "Endpoints", "kube-system", "kube-dns")
    assert [p["name"] for p in dns["subsets"][0]["ports"]] == ["dns", "dns-tcp", "metrics"]
