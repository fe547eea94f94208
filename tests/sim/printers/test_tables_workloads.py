"""Workload, batch and autoscaling printers: cells as kube-apiserver 1.32 prints them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from atlas_sre.sim.printers.table import to_table

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str, spec: dict | None = None, status: dict | None = None, **extra: Any) -> dict:
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": ts(90)},
        "spec": spec or {},
        "status": status or {},
        **extra,
    }


def cells(kind: str, o: dict) -> list[Any]:
    return to_table(kind, [o], NOW)["rows"][0]["cells"]


def headers(kind: str, wide: bool = False) -> list[str]:
    return [c["name"] for c in to_table(kind, [], NOW)["columnDefinitions"] if wide or c["priority"] == 0]


TEMPLATE = {
    "spec": {
        "containers": [
            {"name": "app", "image": "shop/app:1.2"},
            {"name": "istio-proxy", "image": "istio/proxyv2:1.24"},
        ]
    }
}
SELECTOR = {
    "matchLabels": {"version": "v1", "app": "checkout"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}],
}


def test_deployment() -> None:
    d = obj(
        "Deployment",
        "checkout",
        {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
        {"readyReplicas": 1, "updatedReplicas": 3, "availableReplicas": 1},
    )
    assert headers("Deployment") == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert headers("Deployment", wide=True)[5:] == ["Containers", "Images", "Selector"]
    assert cells("Deployment", d) == [
        "checkout",
        "1/3",
        3,
        1,
        "90m",
        "app,istio-proxy",
        "shop/app:1.2,istio/proxyv2:1.24",
        "app=checkout,tier in (api,web),version=v1",
    ]
    bare = obj("Deployment", "zero", {"template": TEMPLATE})  # no replicas: defaulted to 1, no status yet
    assert cells("Deployment", bare)[1:4] == ["0/1", 0, 0]


def test_replicaset_statefulset_daemonset() -> None:
    rs = obj(
        "ReplicaSet",
        "checkout-7d9c",
        {"replicas": 2, "selector": {"matchLabels": {"app": "c"}}, "template": TEMPLATE},
        {"replicas": 2, "readyReplicas": 0},
    )
    assert headers("ReplicaSet") == ["Name", "Desired", "Current", "Ready", "Age"]
    assert cells("ReplicaSet", rs)[:5] == ["checkout-7d9c", 2, 2, 0, "90m"]
    assert cells("ReplicaSet", rs)[7] == "app=c"
    sts = obj("StatefulSet", "db", {"replicas": 3, "template": TEMPLATE}, {"readyReplicas": 2})
    assert headers("StatefulSet", wide=True) == ["Name", "Ready", "Age", "Containers", "Images"]
    assert cells("StatefulSet", sts)[:3] == ["db", "2/3", "90m"]
    ds = obj(
        "DaemonSet",
        "agent",
        {
            "selector": {},
            "template": {
                "spec": {
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [{"name": "a", "image": "agent:1"}],
                }
            },
        },
        {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    )
    assert headers("DaemonSet") == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-to-date",
        "Available",
        "Node Selector",
        "Age",
    ]
    assert cells("DaemonSet", ds) == [
        "agent",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "90m",
        "a",
        "agent:1",
        "<none>",
    ]


def test_job_status_completions_and_duration() -> None:
    assert headers("Job") == ["Name", "Status", "Completions", "Duration", "Age"]
    running = obj(
        "Job", "migrate", {"completions": 1, "template": TEMPLATE}, {"startTime": ts(5), "active": 1}
    )
    assert cells("Job", running)[:5] == ["migrate", "Running", "0/1", "5m", "90m"]
    done = obj(
        "Job",
        "backup",
        {"completions": 3, "parallelism": 3, "template": TEMPLATE},
        {
            "startTime": ts(60),
            "completionTime": ts(58),
            "succeeded": 3,
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    )
    assert cells("Job", done)[1:4] == ["Complete", "3/3", "2m"]
    failed = obj("Job", "f", {"parallelism": 4}, {"conditions": [{"type": "Failed", "status": "True"}]})
    assert cells("Job", failed)[1:4] == ["Failed", "0/1 of 4", ""]
    suspended = obj("Job", "s", {"completions": 1}, {"conditions": [{"type": "Suspended", "status": "True"}]})
    assert cells("Job", suspended)[1] == "Suspended"


def test_cronjob() -> None:
    cj = obj(
        "CronJob",
        "nightly",
        {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}},
        {"lastScheduleTime": ts(480), "active": [{"name": "nightly-1"}]},
    )
    assert headers("CronJob") == ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"]
    assert cells("CronJob", cj)[:7] == ["nightly", "0 2 * * *", "<none>", "False", 1, "8h", "90m"]


def test_hpa_targets() -> None:
    def hpa(metrics: list[dict], current: list[dict] | None = None, **spec: Any) -> dict:
        return obj(
            "HorizontalPodAutoscaler",
            "checkout",
            {
                "scaleTargetRef": {"kind": "Deployment", "name": "checkout"},
                "minReplicas": 2,
                "maxReplicas": 10,
                "metrics": metrics,
                **spec,
            },
            {"currentReplicas": 3, "currentMetrics": current or []},
        )

    cpu = {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
    }
    cpu_now = {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}
    assert headers("HorizontalPodAutoscaler") == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    assert cells("HorizontalPodAutoscaler", hpa([cpu], [cpu_now])) == [
        "checkout",
        "Deployment/checkout",
        "cpu: 45%/80%",
        "2",
        10,
        3,
        "90m",
    ]
    assert cells("HorizontalPodAutoscaler", hpa([cpu]))[2] == "cpu: <unknown>/80%"
    mem = {
        "type": "Resource",
        "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}},
    }
    pods = {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"averageValue": "100"}}}
    assert cells("HorizontalPodAutoscaler", hpa([cpu, mem, pods], [cpu_now]))[2] == (
        "cpu: 45%/80%, memory: <unknown>/500Mi + 1 more..."
    )
    assert cells("HorizontalPodAutoscaler", hpa([]))[2] == "<none>"
    v1 = obj(
        "HorizontalPodAutoscaler",
        "old",
        {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
            "targetCPUUtilizationPercentage": 70,
        },
        {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12},
    )
    assert cells("HorizontalPodAutoscaler", v1)[2:4] == ["cpu: 12%/70%", "1"]


def test_pod_disruption_budget() -> None:
    pdb = obj("PodDisruptionBudget", "checkout", {"minAvailable": 1}, {"disruptionsAllowed": 0})
    assert cells("PodDisruptionBudget", pdb) == ["checkout", "1", "N/A", 0, "90m"]
    pct = obj("PodDisruptionBudget", "web", {"maxUnavailable": "50%"}, {"disruptionsAllowed": 1})
    assert cells("PodDisruptionBudget", pct)[1:4] == ["N/A", "50%", 1]
