"""Scheduler preemption: a pending higher-priority pod evicts the fewest lower-priority pods it needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from atlas_sre.sim.state import Change
from conftest import (
    FAULT,
    deployment,
    derive_state,
    events_for,
    make_spec,
    namespace,
    node,
    of_kind,
    pods_of,
)

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
# every cluster has a tainted control-plane node (sim/workloads/kubeadm.py), counted like a real one
CONTROL_PLANE = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


def _class(name: str, value: int, policy: str | None = None) -> dict[str, Any]:
    pc: dict[str, Any] = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
    }
    if policy:
        pc["preemptionPolicy"] = policy
    return pc


def _cluster(critical_class: str = "high") -> tuple[list[dict[str, Any]], dict[str, Change]]:
    """One 1-CPU worker (one coredns replica takes 100m there, the other runs on the control-plane
    node, which tolerates): three 300m low-priority pods, then a 400m critical pod created at the fault."""
    filler = deployment(
        "filler", replicas=3, resources={"requests": {"cpu": "300m"}}, priorityClassName="low"
    )
    critical = deployment(
        "critical", replicas=1, resources={"requests": {"cpu": "400m"}}, priorityClassName=critical_class
    )
    manifests = [
        namespace("shop"),
        node("n1", cpu="1"),
        _class("low", -10),
        _class("high", 1000),
        _class("high-never", 1000, "Never"),
        filler,
        critical,
    ]
    return manifests, {"shop/Deployment/critical": Change(FAULT, None)}


def _first_message(state: Any, pod: dict[str, Any]) -> str:
    return sorted(events_for(state, pod, "FailedScheduling"), key=lambda e: e["count"])[0]["message"]


def test_high_priority_pod_preempts_the_fewest_low_priority_pods() -> None:
    manifests, history = _cluster()
    state = derive_state(make_spec(manifests, history=history))
    [critical] = pods_of(state, "shop", "critical-")
    uid = critical["metadata"]["uid"]
    assert critical["spec"]["nodeName"] == "n1" and critical["status"]["nominatedNodeName"] == "n1"
    assert critical["status"]["phase"] == "Running"
    assert _first_message(state, critical) == f"0/2 nodes are available: 1 Insufficient cpu, {CONTROL_PLANE}."
    [scheduled] = events_for(state, critical, "Scheduled")
    assert scheduled["firstTimestamp"] == state.clock.iso(
        FAULT + timedelta(seconds=30)
    )  # victims' grace period
    preempted = [e for e in of_kind(state, "Event", "shop") if e["reason"] == "Preempted"]
    assert len(preempted) == 2  # 900m free once all three go; one can stay (600m >= 400m), two cannot
    for e in preempted:
        assert (e["type"], e["source"]["component"]) == ("Normal", "default-scheduler")
        assert e["message"] == f"Preempted by pod {uid} on node n1"
        assert e["firstTimestamp"] == state.clock.iso(FAULT)
    victims = {e["involvedObject"]["name"] for e in preempted}
    fillers = pods_of(state, "shop", "filler-")
    assert len(fillers) == 3 and not victims & {p["metadata"]["name"] for p in fillers}  # deleted, replaced
    running = [p for p in fillers if p["spec"].get("nodeName")]
    replacements = [p for p in fillers if not p["spec"].get("nodeName")]
    assert len(running) == 1 and len(replacements) == 2
    for p in replacements:
        assert p["metadata"]["creationTimestamp"] == state.clock.iso(FAULT)
        assert _first_message(state, p) == (
            f"0/2 nodes are available: 1 Insufficient cpu, {CONTROL_PLANE}. preemption: 0/2 nodes are "
            f"available: 1 {NO_VICTIMS}, 1 {NOT_HELPFUL}.."
        )


def test_preemption_policy_never_waits_instead() -> None:
    manifests, history = _cluster("high-never")
    state = derive_state(make_spec(manifests, history=history))
    [critical] = pods_of(state, "shop", "critical-")
    assert not critical["spec"].get("nodeName") and "nominatedNodeName" not in critical["status"]
    assert _first_message(state, critical) == (
        f"0/2 nodes are available: 1 Insufficient cpu, {CONTROL_PLANE}. preemption: not "
        "eligible due to preemptionPolicy=Never.."
    )
    assert not [e for e in of_kind(state, "Event", "shop") if e["reason"] == "Preempted"]
    assert sum(1 for p in pods_of(state, "shop", "filler-") if p["spec"].get("nodeName")) == 3
