"""Stage 6: Deployment and ReplicaSet status from the pods the kubelet stage left behind.

Counts come from pod readiness; conditions use the deployment controller's reasons and messages
(MinimumReplicasAvailable, NewReplicaSetAvailable, ReplicaSetUpdated, ProgressDeadlineExceeded,
FailedCreate). A Deployment whose new ReplicaSet once became fully available keeps
NewReplicaSetAvailable even if its pods break later, because the controller never re-checks a
finished rollout against its deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import created_at
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.cronjobs import rollup_cronjob
from atlas_sre.sim.workloads.deployments import Rollout, max_unavailable, rollout_of
from atlas_sre.sim.workloads.failures import failure_of, strip_prefix
from atlas_sre.sim.workloads.podstatus import active, pod_ready, ready_since
from atlas_sre.sim.workloads.readiness import step_for
from atlas_sre.sim.workloads.replicasets import ReplicaRun, run_of
from atlas_sre.sim.workloads.rollup_other import (
    rollup_daemonset,
    rollup_job,
    rollup_quota,
    rollup_statefulset,
)


def pods_by_owner(state: ClusterState) -> dict[str, list[Obj]]:
    """Every pod under the uid of each of its owners (one pass over the pods)."""
    out: dict[str, list[Obj]] = {}
    for p in index_of(state).list("Pod"):
        for ref in p["metadata"].get("ownerReferences") or []:
            out.setdefault(ref.get("uid"), []).append(p)
    return out


def _cond(ctype: str, status: str, reason: str, message: str, update: datetime, transition: datetime,
          state: ClusterState) -> dict[str, Any]:
    return {"type": ctype, "status": status, "lastUpdateTime": state.clock.iso(update),
            "lastTransitionTime": state.clock.iso(transition), "reason": reason, "message": message}


def _compact(status: dict[str, Any]) -> dict[str, Any]:
    """Drop zero counters, as the API's omitempty does."""
    return {k: v for k, v in status.items() if v not in (0, None, []) or k == "observedGeneration"}


def rollup_replicaset(state: ClusterState, rs: Obj, run: ReplicaRun | None,
                      owned: dict[str, list[Obj]] | None = None) -> dict[str, int]:
    """Write a ReplicaSet's status; returns its counters for the owning Deployment."""
    pods = active(run.pods if run is not None else (owned or {}).get(rs["metadata"]["uid"], []))
    ready = sum(1 for p in pods if pod_ready(p))
    counts = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
              "availableReplicas": ready}
    status: dict[str, Any] = {**counts, "observedGeneration": rs["metadata"].get("generation", 1)}
    status = _compact(status)
    status.setdefault("replicas", 0)
    failure = failure_of(state, rs)
    if failure is not None and len(pods) < int(rs["spec"].get("replicas", 0)):
        status["conditions"] = [{"type": "ReplicaFailure", "status": "True",
                                 "lastTransitionTime": state.clock.iso(failure.first), "reason": "FailedCreate",
                                 "message": strip_prefix(failure.message)}]
    rs["status"] = status
    return counts


def _available_condition(state: ClusterState, deploy: Obj, pods: list[Obj], available: int,
                         min_available: int) -> dict[str, Any]:
    created = created_at(state, deploy)
    if available >= min_available:
        times = sorted(t for t in (ready_since(state, p) for p in pods if pod_ready(p)) if t)
        when = times[min_available - 1] if min_available and len(times) >= min_available else created
        when = max(when, created)
        return _cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.",
                     when, when, state)
    broken = sorted(t for t in (ready_since(state, p) for p in pods if not pod_ready(p)) if t)
    drop = len(pods) - min_available  # how many had to fail before availability was lost
    when = broken[min(max(drop, 0), len(broken) - 1)] if broken else created
    when = max(when, created)
    return _cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.",
                 when, when, state)


def _progressing_condition(spec: SimSpec, state: ClusterState, deploy: Obj, rollout: Rollout,
                           complete: bool) -> dict[str, Any]:
    new = rollout.new
    name = new.rs["metadata"]["name"]
    created = created_at(state, deploy)
    started = rollout.started or created
    last = max(rollout.last_scaled or started, started)
    replicas = int(deploy["spec"].get("replicas", 1))
    bound = state.extras["scheduler"].pod_node
    finished = (new.ready and len(new.pods) >= replicas and all(p["metadata"]["uid"] in bound for p in new.pods)
                and all(len(o.pods) == 0 for o in rollout.old))
    if complete or finished:
        done = last + step_for(spec, state, new.rs["spec"]["template"])
        times = [ready_since(state, p) for p in new.pods if pod_ready(p)]
        if times and len(times) == len(new.pods) and all(times):
            done = max(t for t in times if t)
        return _cond("Progressing", "True", "NewReplicaSetAvailable",
                     f'ReplicaSet "{name}" has successfully progressed.',
                     max(done, created), created, state)
    for p in new.pods:
        t = ready_since(state, p)
        if t and pod_ready(p):
            last = max(last, t)
    deadline = last + timedelta(seconds=int(deploy["spec"].get("progressDeadlineSeconds", 600)))
    if deadline <= state.clock.observe_at:
        return _cond("Progressing", "False", "ProgressDeadlineExceeded",
                     f'ReplicaSet "{name}" has timed out progressing.',
                     deadline, deadline, state)
    return _cond("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.', last, created,
                 state)


def rollup_deployment(spec: SimSpec, state: ClusterState, deploy: Obj) -> None:
    """Write a Deployment's status from its ReplicaSets' pods."""
    rollout = rollout_of(state, deploy)
    if rollout is None:
        return
    runs = [rollout.new, *rollout.old]
    counts = [rollup_replicaset(state, r.rs, r) for r in runs]
    replicas = int(deploy["spec"].get("replicas", 1))
    total_spec = sum(int(r.rs["spec"].get("replicas", 0)) for r in runs)
    available = sum(c["availableReplicas"] for c in counts)
    pods = [p for r in runs for p in active(r.pods)]
    min_available = replicas - max_unavailable(deploy, replicas)
    status: dict[str, Any] = {
        "observedGeneration": deploy["metadata"].get("generation", 1),
        "replicas": sum(c["replicas"] for c in counts), "updatedReplicas": counts[0]["replicas"],
        "readyReplicas": sum(c["readyReplicas"] for c in counts), "availableReplicas": available,
        "unavailableReplicas": max(total_spec - available, 0),
    }
    complete = (counts[0]["replicas"] == replicas and counts[0]["availableReplicas"] == replicas
                and status["replicas"] == replicas)
    conditions = [_available_condition(state, deploy, pods, available, min_available),
                  _progressing_condition(spec, state, deploy, rollout, complete)]
    rs_failure = (rollout.new.rs.get("status") or {}).get("conditions") or []
    for c in rs_failure:
        if c["type"] == "ReplicaFailure":
            t = parse_time(c["lastTransitionTime"]) - state.clock.shift
            conditions.append(_cond("ReplicaFailure", "True", "FailedCreate", c["message"], t, t, state))
    status = _compact(status)
    status["conditions"] = conditions
    deploy["status"] = status


def rollup(spec: SimSpec, state: ClusterState) -> None:
    """The status rollup stage."""
    idx = index_of(state)
    owned = pods_by_owner(state)
    done: set[str] = set()
    for deploy in idx.list("Deployment"):
        rollup_deployment(spec, state, deploy)
        rollout = rollout_of(state, deploy)
        done |= {r.rs["metadata"]["uid"] for r in ([rollout.new, *rollout.old] if rollout else [])}
    for rs in idx.list("ReplicaSet"):
        if rs["metadata"]["uid"] not in done:
            rollup_replicaset(state, rs, run_of(state, rs), owned)
    for sts in idx.list("StatefulSet"):
        rollup_statefulset(state, sts, active(owned.get(sts["metadata"]["uid"], [])))
    for ds in idx.list("DaemonSet"):
        rollup_daemonset(state, ds, active(owned.get(ds["metadata"]["uid"], [])))
    for job in idx.list("Job"):
        rollup_job(state, job, owned.get(job["metadata"]["uid"], []))
    for cj in idx.list("CronJob"):
        rollup_cronjob(state, cj)
    for quota in idx.list("ResourceQuota"):
        rollup_quota(state, quota)
