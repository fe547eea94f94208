"""Alerts from object state (kube-prometheus rules), on hand-built objects and through the whole engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from test_mesh_fixtures import FAULT, OBSERVE, START, alerts, edit, manifests, registry, run

from atlas_sre.kube.quantity import parse_quantity as quantity
from atlas_sre.sim.clock import SimClock
from atlas_sre.sim.images import Requirement
from atlas_sre.sim.mesh.alerts import onset
from atlas_sre.sim.mesh.alerts_k8s import pod_alerts, target_alerts, workload_alerts

CLOCK = SimClock(START, FAULT, OBSERVE)
T0 = "2026-11-26T09:00:00Z"


def pod(name: str, phase: str, statuses: list[dict[str, Any]], ready: str = "False", ip: str = "10.244.0.9",
        labels: dict[str, str] | None = None, owner: str = "ReplicaSet") -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "shop", "creationTimestamp": T0,
                                        "labels": labels or {"app": "api"},
                                        "ownerReferences": [{"kind": owner, "name": "api-5d4f"}]},
            "status": {"phase": phase, "podIP": ip, "containerStatuses": statuses,
                       "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": T0}]}}


def waiting(reason: str) -> dict[str, Any]:
    return {"name": "api", "state": {"waiting": {"reason": reason}}}


def test_pod_rules() -> None:
    found = pod_alerts([pod("crash", "Running", [waiting("CrashLoopBackOff")]),
                        pod("pull", "Pending", [waiting("ImagePullBackOff")]),
                        pod("fine", "Running", [{"name": "api", "state": {"running": {}}}], ready="True"),
                        pod("job", "Running", [waiting("CrashLoopBackOff")], owner="Job")], CLOCK)
    got = sorted((a["alertname"], a["pod"]) for a in found)
    assert got == [("KubeContainerWaiting", "pull"), ("KubePodCrashLooping", "crash"), ("KubePodNotReady", "crash"),
                   ("KubePodNotReady", "pull")]
    crash = next(a for a in found if a["alertname"] == "KubePodCrashLooping")
    assert crash == {"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "shop", "pod": "crash",
                     "container": "api", "summary": "Pod is crash looping.",
                     "description": 'Pod shop/crash (api) is in waiting state (reason: "CrashLoopBackOff").',
                     "startsAt": "2026-11-26T09:15:00Z"}


def test_pending_alert_is_not_yet_firing() -> None:
    late = pod("late", "Pending", [waiting("ContainerCreating")])
    late["metadata"]["creationTimestamp"] = "2026-11-26T09:50:00Z"
    late["status"]["conditions"][0]["lastTransitionTime"] = "2026-11-26T09:50:00Z"
    assert pod_alerts([late], CLOCK) == []


def test_workload_rules() -> None:
    objs = [
        {"kind": "Deployment", "metadata": {"name": "api", "namespace": "shop", "uid": "u1", "creationTimestamp": T0},
         "spec": {"replicas": 3}, "status": {"availableReplicas": 1}},
        {"kind": "ReplicaSet", "metadata": {"name": "api-5d4f", "namespace": "shop", "creationTimestamp": T0,
                                            "ownerReferences": [{"uid": "u1", "name": "api"}]}},
        {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "api", "namespace": "shop", "creationTimestamp": T0},
         "spec": {"maxReplicas": 5}, "status": {"currentReplicas": 5}},
        {"kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "shop", "creationTimestamp": T0},
         "spec": {"hard": {"requests.cpu": "1"}}, "status": {"hard": {"requests.cpu": "1", "pods": "10"},
                                                            "used": {"requests.cpu": "1000m", "pods": "3"}}},
    ]
    got = sorted((a["alertname"], a["severity"]) for a in workload_alerts(objs, CLOCK))
    assert got == [("KubeDeploymentReplicasMismatch", "warning"), ("KubeHpaMaxedOut", "warning"),
                   ("KubeQuotaFullyUsed", "info")]
    assert quantity("1Gi") == 2**30 and quantity("250m") * 4 == 1


def test_target_down_counts_scheduled_pods_that_are_not_running() -> None:
    svc = {"kind": "Service", "metadata": {"name": "api", "namespace": "shop"}, "spec": {"selector": {"app": "api"}}}
    up = pod("a", "Running", [{"name": "api", "state": {"running": {}}}], ready="True")
    down = pod("b", "Running", [waiting("CrashLoopBackOff")])
    assert [a["alertname"] for a in target_alerts([svc, up, down], CLOCK)] == ["TargetDown"]
    assert target_alerts([svc, up], CLOCK) == []


def test_onset_slides_the_rate_window_across_the_change() -> None:
    ok, bad = [(10.0, 1.0, False)], [(10.0, 1.0, True)]
    ratio = lambda p: sum(r for _, r, b in p if b) / sum(r for _, r, _ in p) > 0.05  # noqa: E731
    assert onset(ratio, ok, bad, FAULT, CLOCK) == FAULT + timedelta(seconds=20)
    assert onset(ratio, ok, ok, FAULT, CLOCK) is None
    assert onset(ratio, bad, bad, FAULT, CLOCK) == START


def test_crash_looping_app_fires_through_the_engine() -> None:
    reg = registry()
    reg["example.io/shop/db:1.0"] = reg["example.io/shop/db:1.0"].model_copy(
        update={"requires": [Requirement(env="DB_PASSWORD")]})
    state = run(reg=reg)
    names = {a["alertname"] for a in alerts(state)}
    assert {"KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch", "TargetDown",
            "HighRequestErrorRate"} <= names
    db = [a for a in alerts(state) if a.get("pod", "").startswith("db-v1-")]
    assert {a["alertname"] for a in db} == {"KubePodCrashLooping", "KubePodNotReady"}


def test_healthy_scenario_without_mesh_objects_has_no_alerts() -> None:
    objs = edit(manifests(), "Deployment", "db-v1", lambda d: d["spec"].update(replicas=1))
    assert run(objs).extras["alerts"] == []
