"""Stage 2: the controllers, run in scenario-time order.

Everything that exists at the cluster's start is reconciled first (kube-system before the
scenario's own objects, then manifest order), and every change from `SimSpec.history` after
that, in the order it happened. Pods are admitted and scheduled the moment they are created, so
what a later controller sees (free quota, free node capacity) is what the cluster had then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.daemonsets import reconcile_daemonset
from atlas_sre.sim.workloads.deployments import reconcile_deployment
from atlas_sre.sim.workloads.index import add_object, index_of, remove_object
from atlas_sre.sim.workloads.jobs import reconcile_job
from atlas_sre.sim.workloads.meta import created_at, emit
from atlas_sre.sim.workloads.nodelifecycle import eviction_actions
from atlas_sre.sim.workloads.podgen import admit_template, new_pod
from atlas_sre.sim.workloads.quota import ledger
from atlas_sre.sim.workloads.replicasets import reconcile_bare_replicaset
from atlas_sre.sim.workloads.scheduler import scheduler_of
from atlas_sre.sim.workloads.statefulsets import reconcile_statefulset

HPA_COMPONENT = "horizontal-pod-autoscaler"
_KINDS = ("Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")


def clamp_to_hpa(state: ClusterState) -> None:
    """An HPA immediately moves its target's replicas into [minReplicas, maxReplicas]."""
    idx = index_of(state)
    for hpa in idx.list("HorizontalPodAutoscaler"):
        hspec, ns = hpa.get("spec") or {}, hpa["metadata"]["namespace"]
        ref = hspec.get("scaleTargetRef") or {}
        target = idx.get(str(ref.get("kind")), ns, str(ref.get("name")))
        if target is None:
            continue
        replicas = int(target["spec"].get("replicas", 1))
        low, high = int(hspec.get("minReplicas", 1)), int(hspec.get("maxReplicas", replicas))
        if replicas == 0 or low <= replicas <= high:
            continue
        size = min(max(replicas, low), high)
        why = "below Spec.MinReplicas" if replicas < low else "above Spec.MaxReplicas"
        target["spec"]["replicas"] = size
        emit(state, hpa, "SuccessfulRescale", f"New size: {size}; reason: Current number of replicas {why}",
             first=state.clock.start + timedelta(seconds=15), component=HPA_COMPONENT)


def admit_bare_pod(spec: SimSpec, state: ClusterState, pod: Obj) -> Obj | None:
    """A Pod from the manifests, through admission; None if the apiserver would have refused it."""
    md = pod["metadata"]
    admitted = admit_template(state, {"metadata": md, "spec": pod.get("spec") or {}}, md["namespace"])
    created = created_at(state, pod)
    remove_object(state, pod)
    if admitted.error or ledger(state).admit(admitted, md["name"]):
        return None  # `kubectl apply` would have failed: the pod never existed
    fresh = new_pod(state, spec.seed, admitted, md["name"], created, owner=None)
    for key in ("ownerReferences", "finalizers", "generateName"):
        if key in md:
            fresh["metadata"][key] = md[key]
    add_object(state, fresh)
    scheduler_of(spec, state).schedule(fresh, created)
    return fresh


def _order(objs: list[Obj]) -> list[Obj]:
    """kube-system first (the cluster was there before the apps), then stored order."""
    return sorted(objs, key=lambda o: o["metadata"].get("namespace") != "kube-system")


def run_controllers(spec: SimSpec, state: ClusterState) -> None:
    """The controllers stage."""
    idx = index_of(state)
    clamp_to_hpa(state)
    ledger(state)
    scheduler_of(spec, state)
    todo = _order([o for o in list(state.objects) if o.get("kind") in _KINDS])
    deferred: list[tuple[datetime, Any]] = []
    for obj in todo:
        kind, md = obj["kind"], obj["metadata"]
        if idx.get(kind, md.get("namespace"), md["name"]) is not obj:
            continue
        if kind == "Pod":
            admit_bare_pod(spec, state, obj)
        elif kind == "Deployment":
            deferred += reconcile_deployment(spec, state, obj)
        elif kind == "ReplicaSet" and not md.get("ownerReferences"):
            reconcile_bare_replicaset(spec, state, obj)
        elif kind == "StatefulSet":
            deferred += reconcile_statefulset(spec, state, obj)
        elif kind == "DaemonSet":
            deferred += reconcile_daemonset(spec, state, obj)
        elif kind == "Job":
            deferred += reconcile_job(spec, state, obj)
    deferred += eviction_actions(spec, state)
    for _at, later in sorted(deferred, key=lambda item: item[0]):
        later()
