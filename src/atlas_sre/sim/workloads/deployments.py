"""The Deployment controller: ReplicaSets per pod template, and rolling updates between them.

Without history a Deployment has one ReplicaSet (revision 1) scaled up at the cluster's start.
When `SimSpec.history` says its template changed at `at`, the old ReplicaSet comes from the
previous template and a new one (revision 2) is rolled out with the real RollingUpdate
arithmetic (maxSurge rounded up, maxUnavailable down, both 25% by default): if the new pods
become ready and get a node the rollout completes; otherwise it stalls where Kubernetes stalls
(new ReplicaSet at min(replicas, surge + unavailable), old at replicas - unavailable).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.events import DEPLOYMENT_CONTROLLER, emit
from atlas_sre.sim.objects.index import add_object
from atlas_sre.sim.objects.meta import born, clone, entity, owner_ref, stamp
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.defaults import default_workload
from atlas_sre.sim.workloads.readiness import step_for
from atlas_sre.sim.workloads.replicasets import ReplicaRun, finish_run, scale_to, start_run

ROLLOUTS_KEY = "rollouts"
# (when, action): an action may return more deferred work (the controllers stage queues it by time)
Deferred = tuple[datetime, Callable[[], Any]]


@dataclass
class Rollout:
    """What the rollup stage needs to write a Deployment's status and conditions."""

    new: ReplicaRun
    old: list[ReplicaRun] = field(default_factory=list)
    started: datetime | None = None  # when the current ReplicaSet was created (Progressing since)
    last_scaled: datetime | None = None  # last time the controller scaled a ReplicaSet


def fenceposts(deploy: Obj, replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against `replicas`; never both zero."""
    ru = ((deploy["spec"].get("strategy") or {}).get("rollingUpdate") or {})

    def resolve(value: Any, up: bool) -> int:
        if isinstance(value, str) and value.endswith("%"):
            exact = int(value[:-1]) * replicas / 100
            return math.ceil(exact) if up else math.floor(exact)
        return int(value)

    surge = resolve(ru.get("maxSurge", "25%"), True)
    unavailable = resolve(ru.get("maxUnavailable", "25%"), False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(deploy: Obj, replicas: int) -> int:
    """`deploymentutil.MaxUnavailable`: 0 for Recreate or zero replicas, never more than `replicas`.

    The fenceposts alone would give 1 for a Deployment scaled to zero (both rounded to 0, then
    maxUnavailable forced to 1), i.e. a minimum availability of -1; the controller clamps it.
    """
    if replicas <= 0 or (deploy["spec"].get("strategy") or {}).get("type") == "Recreate":
        return 0
    return min(fenceposts(deploy, replicas)[1], replicas)


def _replicaset(spec: SimSpec, state: ClusterState, deploy: Obj, template: dict[str, Any], revision: int,
                created: datetime, replicas: int) -> Obj:
    md = deploy["metadata"]
    pth = ids.pod_template_hash(spec.seed, template)
    recreate = (deploy["spec"].get("strategy") or {}).get("type") == "Recreate"
    surge = 0 if recreate else fenceposts(deploy, replicas)[0]
    tmpl = clone(template)
    tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pth
    selector = clone(deploy["spec"].get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pth
    rs: Obj = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"{md['name']}-{pth}", "namespace": md["namespace"],
                     "labels": dict(tmpl["metadata"]["labels"]),
                     "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                     "deployment.kubernetes.io/max-replicas": str(replicas + surge),
                                     "deployment.kubernetes.io/revision": str(revision)},
                     "ownerReferences": [owner_ref(deploy)]},
        "spec": {"replicas": 0, "selector": selector, "template": tmpl},
    }
    stamp(state, spec.seed, rs, created)
    return add_object(state, rs)


def _scale(spec: SimSpec, state: ClusterState, deploy: Obj, run: ReplicaRun, target: int, at: datetime) -> None:
    current = int(run.rs["spec"].get("replicas", 0))
    if target == current and run.scaled_at is not None and len(run.pods) >= target:
        return
    direction = "up" if target > current else "down"
    if target != current and run.scaled_at is not None:  # a spec change of an existing ReplicaSet
        run.rs["metadata"]["generation"] = int(run.rs["metadata"].get("generation", 1)) + 1
    if target != current:
        emit(state, deploy, "ScalingReplicaSet",
             f"Scaled {direction} replica set {run.rs['metadata']['name']} from {current} to {target}",
             first=at, component=DEPLOYMENT_CONTROLLER)
    scale_to(spec, state, run, target, at)


def _roll(spec: SimSpec, state: ClusterState, deploy: Obj, rollout: Rollout, at: datetime) -> None:
    """Step the RollingUpdate (or Recreate) strategy from `at` until nothing changes."""
    new, old = rollout.new, rollout.old[0]
    replicas = int(deploy["spec"]["replicas"])
    step = step_for(spec, state, deploy["spec"]["template"])
    t = at
    if (deploy["spec"].get("strategy") or {}).get("type") == "Recreate":
        _scale(spec, state, deploy, old, 0, t)
        _scale(spec, state, deploy, new, replicas, t + step)
        rollout.last_scaled = t + step
        return
    surge = fenceposts(deploy, replicas)[0]
    min_available = replicas - max_unavailable(deploy, replicas)
    for _ in range(4 * replicas + 8):
        changed = False
        new_spec, old_spec = int(new.rs["spec"]["replicas"]), int(old.rs["spec"]["replicas"])
        scale_up = replicas + surge - (new_spec + old_spec)
        have = len(new.pods)
        if new_spec < replicas and scale_up > 0:
            _scale(spec, state, deploy, new, new_spec + min(scale_up, replicas - new_spec), t)
        elif have < new_spec:
            scale_to(spec, state, new, new_spec, t)  # the controller retries refused creates
        changed = int(new.rs["spec"]["replicas"]) != new_spec or len(new.pods) != have
        new_spec = int(new.rs["spec"]["replicas"])
        new_avail, old_avail = new.available(state, before=t), old.available(state, before=t)
        target = old_spec
        budget = (old_spec + new_spec) - min_available - (new_spec - new_avail)
        if budget > 0 and old_spec > 0:
            target -= min(budget, old_spec - old_avail)  # unhealthy old pods go first
            if old_avail + new_avail > min_available:
                target -= min(target, old_avail + new_avail - min_available)
        if target < old_spec:
            _scale(spec, state, deploy, old, max(target, 0), t)
            changed = True
        if not changed:
            break
        rollout.last_scaled = t
        t = t + step


def reconcile_deployment(spec: SimSpec, state: ClusterState, deploy: Obj) -> list[Deferred]:
    """Create the Deployment's ReplicaSets and pods at start; return the rollout to run at its change."""
    md = deploy["metadata"]
    start = born(state, deploy)
    replicas = int(deploy["spec"].get("replicas", 1))
    template = deploy["spec"]["template"]
    change = spec.history.get(entity("Deployment", md["namespace"], md["name"]))
    previous = clone(change.previous) if change and change.previous else None
    prev_template, prev_replicas = template, replicas
    if previous is not None:
        previous.setdefault("kind", "Deployment")
        default_workload(previous)
        prev_template = previous["spec"]["template"]
        prev_replicas = int(previous["spec"].get("replicas", 1))
    rolled = previous is not None and ids.pod_template_hash(spec.seed, prev_template) != ids.pod_template_hash(
        spec.seed, template)
    first = _replicaset(spec, state, deploy, prev_template, 1, start, prev_replicas)
    run = start_run(spec, state, first, start)
    rollout = Rollout(new=run, started=start, last_scaled=start)
    state.extras.setdefault(ROLLOUTS_KEY, {})[md["uid"]] = rollout
    md.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = "2" if rolled else "1"
    _scale(spec, state, deploy, run, prev_replicas, start)
    if change is None or (not rolled and prev_replicas == replicas):
        finish_run(spec, state, run)
        return []
    at = change.at

    def later() -> None:
        if rolled:
            new_rs = _replicaset(spec, state, deploy, template, 2, at, replicas)
            rollout.old, rollout.new = [run], start_run(spec, state, new_rs, at)
            rollout.started = at
            _roll(spec, state, deploy, rollout, at)
            finish_run(spec, state, rollout.new)
        else:
            _scale(spec, state, deploy, run, replicas, at)
            rollout.last_scaled = at
        finish_run(spec, state, run)

    return [(at, later)]


def rollout_of(state: ClusterState, deploy: Obj) -> Rollout | None:
    """The rollout record of a Deployment (None if the controller never saw it)."""
    return state.extras.get(ROLLOUTS_KEY, {}).get(deploy["metadata"]["uid"])


def rescale_deployment(spec: SimSpec, state: ClusterState, deploy: Obj, replicas: int, at: datetime) -> None:
    """`spec.replicas` changed at `at` (an HPA's rescale): the controller's `scale()` step.

    One active ReplicaSet (or a finished rollout) takes the whole new size; during a rollout the
    difference to `replicas + maxSurge` is shared in proportion to the ReplicaSets' sizes, newest
    first when adding and oldest first when removing, the rounding leftover going to the first.
    """
    deploy["spec"]["replicas"] = replicas
    deploy["metadata"]["generation"] = int(deploy["metadata"].get("generation", 1)) + 1
    rollout = rollout_of(state, deploy)
    if rollout is None:
        return
    runs = [rollout.new, *rollout.old]
    active = [r for r in runs if int(r.rs["spec"].get("replicas", 0)) > 0]
    recreate = (deploy["spec"].get("strategy") or {}).get("type") == "Recreate"
    surge = 0 if recreate else fenceposts(deploy, replicas)[0]
    for r in runs:
        r.rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(replicas)
        r.rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = str(replicas + surge)
    if len(active) <= 1:
        targets = {id(active[0] if active else rollout.new): replicas}
    else:
        total = sum(int(r.rs["spec"]["replicas"]) for r in active)
        to_add = replicas + surge - total
        ordered = active if to_add > 0 else list(reversed(active))
        shares = [int(int(r.rs["spec"]["replicas"]) * to_add / total) for r in ordered]
        shares[0] += to_add - sum(shares)
        targets = {id(r): max(int(r.rs["spec"]["replicas"]) + d, 0)
                   for r, d in zip(ordered, shares, strict=True)}
    for r in runs:
        if id(r) in targets:
            _scale(spec, state, deploy, r, targets[id(r)], at)
            finish_run(spec, state, r)
    rollout.last_scaled = at
