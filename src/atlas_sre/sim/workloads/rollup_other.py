"""Status of StatefulSets, DaemonSets, Jobs and ResourceQuotas from what finally exists."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.kube.quantity import amount, format_amount
from atlas_sre.kube.requests import pod_totals
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.state import ClusterState, Obj
from atlas_sre.sim.workloads.jobs import END_MESSAGES, JOB_CONTROLLER, job_run
from atlas_sre.sim.workloads.podstatus import TERMINAL, active, phase, pod_ready

# count/<resource>.<group> quota names -> kinds
_COUNTED = {
    "pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
    "persistentvolumeclaims": "PersistentVolumeClaim", "replicationcontrollers": "ReplicationController",
    "resourcequotas": "ResourceQuota", "deployments.apps": "Deployment", "replicasets.apps": "ReplicaSet",
    "statefulsets.apps": "StatefulSet", "daemonsets.apps": "DaemonSet", "jobs.batch": "Job",
    "cronjobs.batch": "CronJob", "horizontalpodautoscalers.autoscaling": "HorizontalPodAutoscaler",
    "ingresses.networking.k8s.io": "Ingress", "networkpolicies.networking.k8s.io": "NetworkPolicy",
}


def _compact(status: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k in keep or v not in (0, None)}


def rollup_statefulset(state: ClusterState, sts: Obj, pods: list[Obj]) -> None:
    """replicas/ready/current/updated counts and the current and update revisions."""
    current, update = state.extras.get("sts_revisions", {}).get(sts["metadata"]["uid"], ("", ""))
    revs = [p["metadata"].get("labels", {}).get("controller-revision-hash") for p in pods]
    n_update = sum(1 for r in revs if r == update)
    ready = sum(1 for p in pods if pod_ready(p))
    replicas = int(sts["spec"].get("replicas", 1))
    done = n_update == replicas
    status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(pods),
              "readyReplicas": ready, "currentReplicas": n_update if done else len(pods) - n_update,
              "updatedReplicas": n_update, "currentRevision": update if done else current,
              "updateRevision": update, "collisionCount": 0, "availableReplicas": ready}
    sts["status"] = _compact(status, ("observedGeneration", "replicas", "collisionCount", "availableReplicas"))


def rollup_daemonset(state: ClusterState, ds: Obj, pods: list[Obj]) -> None:
    """Scheduled/ready/available counts against the eligible nodes."""
    desired = len(state.extras.get("daemon_nodes", {}).get(ds["metadata"]["uid"], []))
    scheduled = sum(1 for p in pods if p["spec"].get("nodeName"))
    ready = sum(1 for p in pods if pod_ready(p))
    status = {"currentNumberScheduled": scheduled, "desiredNumberScheduled": desired, "numberMisscheduled": 0,
              "numberReady": ready, "numberAvailable": ready, "numberUnavailable": max(desired - ready, 0),
              "observedGeneration": ds["metadata"].get("generation", 1), "updatedNumberScheduled": scheduled}
    ds["status"] = _compact(status, ("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled",
                                     "numberReady", "observedGeneration"))


def _finished_at(state: ClusterState, pod: Obj) -> datetime | None:
    times = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated") or {}
        if term.get("finishedAt"):
            times.append(parse_time(term["finishedAt"]) - state.clock.shift)
    return max(times) if times else None


def rollup_job(state: ClusterState, job: Obj, pods: list[Obj]) -> None:
    """active/ready/succeeded/failed, start and completion, and the Job's terminal conditions.

    A failed Job carries 1.32's pair of conditions: `FailureTarget` (the controller decided) and
    `Failed` (its pods are gone), both with the reason and message of its warning event.
    """
    spec = job["spec"]
    jr = job_run(state, job)
    start = state.extras.get("job_started", {}).get(job["metadata"]["uid"])
    succeeded = [p for p in pods if phase(p) == "Succeeded"]
    failed = [p for p in pods if phase(p) == "Failed"]
    running = active(pods)
    status: dict[str, Any] = {"active": len(running), "ready": sum(1 for p in running if pod_ready(p)),
                              "succeeded": len(succeeded), "failed": len(failed) + (jr.deleted if jr else 0),
                              "terminating": 0, "uncountedTerminatedPods": {}}
    if start is not None:
        status["startTime"] = state.clock.iso(start)
    completions = spec.get("completions")
    clock = state.clock
    if jr is not None and jr.reason is not None and jr.failed_at is not None:
        at, message = clock.iso(jr.failed_at), END_MESSAGES[jr.reason]
        status["conditions"] = [
            {"type": kind, "status": "True", "lastProbeTime": at, "lastTransitionTime": at,
             "reason": jr.reason, "message": message} for kind in ("FailureTarget", "Failed")]
    elif completions is not None and succeeded and len(succeeded) >= int(completions):
        done = max((t for t in (_finished_at(state, p) for p in succeeded) if t),
                   default=(start or clock.start) + timedelta(seconds=5))
        status["completionTime"] = clock.iso(done)
        status["conditions"] = [{"type": "Complete", "status": "True", "lastProbeTime": clock.iso(done),
                                 "lastTransitionTime": clock.iso(done)}]
        emit(state, job, "Completed", "Job completed", first=done, component=JOB_CONTROLLER)
    job["status"] = _compact(status, ("uncountedTerminatedPods", "ready", "terminating"))


def _quota_usage(state: ClusterState, ns: str, resource: str) -> int:
    idx = index_of(state)
    if resource.startswith("count/"):
        kind = _COUNTED.get(resource[len("count/"):])
        objs = idx.list(kind, ns) if kind else []
        return len(active(objs)) if kind == "Pod" else len(objs)
    if resource in _COUNTED:
        objs = idx.list(_COUNTED[resource], ns)
        return len(active(objs)) if resource == "pods" else len(objs)
    if resource in ("services.nodeports", "services.loadbalancers"):
        kinds = ("NodePort", "LoadBalancer") if resource == "services.nodeports" else ("LoadBalancer",)
        return sum(1 for s in idx.list("Service", ns) if (s.get("spec") or {}).get("type") in kinds)
    if resource == "requests.storage":
        return sum(amount("storage", ((p.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage"))
                   for p in idx.list("PersistentVolumeClaim", ns))
    total = 0
    name = resource.split(".", 1)[1] if resource.startswith(("requests.", "limits.")) else resource
    use_limits = resource.startswith("limits.")
    for pod in idx.list("Pod", ns):
        if (pod.get("status") or {}).get("phase") in TERMINAL:
            continue
        requests, limits = pod_totals(pod.get("spec") or {})
        total += (limits if use_limits else requests).get(name, 0)
    return total


def rollup_quota(state: ClusterState, quota: Obj) -> None:
    """status.hard (canonical) and status.used (what exists now) for every tracked resource."""
    ns = quota["metadata"]["namespace"]
    hard = (quota.get("spec") or {}).get("hard") or {}
    quota["status"] = {
        "hard": {k: format_amount(k, amount(k, v)) for k, v in hard.items()},
        "used": {k: format_amount(k, _quota_usage(state, ns, k)) for k in hard},
    }
