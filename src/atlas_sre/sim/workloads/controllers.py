"""Stage 2: the controllers, run in scenario-time order.

Everything that exists at the cluster's start is reconciled first (kube-system before the
scenario's own objects, then manifest order); objects a fault creates, every change from
`SimSpec.history`, HPA rescales and evictions follow from one time-ordered queue. Pods are
admitted (webhooks, quota) and scheduled the moment they are created, so what a later controller
sees (free quota, free node capacity) is what the cluster had then. The scheduler may preempt
lower-priority ReplicaSet pods; the hook it uses to delete and replace them is installed here.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable
from datetime import datetime

from atlas_sre.sim.objects.index import add_object, index_of, remove_object
from atlas_sre.sim.objects.meta import born, created_at
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.scheduler.preempt import take_followups
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.cronjobs import reconcile_cronjob
from atlas_sre.sim.workloads.daemonsets import reconcile_daemonset
from atlas_sre.sim.workloads.deployments import Deferred, reconcile_deployment
from atlas_sre.sim.workloads.hpa_scale import clamp_to_hpa, hpa_actions
from atlas_sre.sim.workloads.jobs import reconcile_job
from atlas_sre.sim.workloads.nodelifecycle import eviction_actions
from atlas_sre.sim.workloads.podgen import admit_template, new_pod
from atlas_sre.sim.workloads.quota import ledger
from atlas_sre.sim.workloads.replicasets import preemption_hooks, reconcile_bare_replicaset
from atlas_sre.sim.workloads.revisions import record_revisions
from atlas_sre.sim.workloads.statefulsets import reconcile_statefulset

_KINDS = ("Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")


def admit_bare_pod(spec: SimSpec, state: ClusterState, pod: Obj) -> Obj | None:
    """A Pod from the manifests, through admission; None if the apiserver would have refused it."""
    md = pod["metadata"]
    created = created_at(state, pod)
    owners = md.get("ownerReferences") or []
    template = {"metadata": md, "spec": pod.get("spec") or {}}
    admitted = admit_template(state, template, md["namespace"], created, sim=spec, name=md["name"],
                              owner=owners[0] if owners else None)
    remove_object(state, pod)
    if admitted.error or ledger(state).admit(admitted, md["name"], created):
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


def _reconcile(spec: SimSpec, state: ClusterState, obj: Obj) -> list[Deferred]:
    """Run the controller of one object (if it is still the stored one); its later actions."""
    kind, md = obj["kind"], obj["metadata"]
    if index_of(state).get(kind, md.get("namespace"), md["name"]) is not obj:
        return []
    if kind == "Pod":
        admit_bare_pod(spec, state, obj)
    elif kind == "Deployment":
        return reconcile_deployment(spec, state, obj)
    elif kind == "ReplicaSet" and not md.get("ownerReferences"):
        reconcile_bare_replicaset(spec, state, obj)
    elif kind == "StatefulSet":
        return reconcile_statefulset(spec, state, obj)
    elif kind == "DaemonSet":
        return reconcile_daemonset(spec, state, obj)
    elif kind == "Job":
        return reconcile_job(spec, state, obj)
    elif kind == "CronJob":
        return reconcile_cronjob(spec, state, obj)
    return []


def run_controllers(spec: SimSpec, state: ClusterState) -> None:
    """The controllers stage: everything in scenario-time order.

    Objects that exist at the cluster's start are reconciled first; objects created later (a
    fault's new Deployment) and every later action (rollouts, HPA rescales, evictions) run from
    one queue ordered by time, ties in the order they were queued, so what a controller sees at
    `t` (free quota, free node room) is what the cluster had at `t`.
    """
    clamp_to_hpa(state)
    ledger(state)
    scheduler_of(spec, state).preemption = preemption_hooks(spec, state)
    queue: list[tuple[datetime, int, Callable[[], list[Deferred] | None]]] = []
    order = itertools.count()

    def push(items: list[Deferred] | None) -> None:
        for at, action in [*(items or []), *take_followups(state)]:
            heapq.heappush(queue, (at, next(order), action))

    for obj in _order([o for o in list(state.objects) if o.get("kind") in _KINDS]):
        at = born(state, obj)
        if at > state.clock.start:
            push([(at, functools.partial(_reconcile, spec, state, obj))])
        else:
            push(_reconcile(spec, state, obj))
    push(hpa_actions(spec, state))
    push(eviction_actions(spec, state))
    while queue:
        _at, _, action = heapq.heappop(queue)
        push(action())
    record_revisions(spec, state)
