"""kube-scheduler's DefaultPreemption PostFilter: a pending pod evicts lower-priority pods.

When a pod fits nowhere and some node would hold it once pods of lower priority are gone, the
scheduler picks victims on one node (all lower-priority pods removed, then as many as possible
reprieved, most important first), deletes them with a `Preempted` event ("Preempted by pod
<uid> on node <node>"), nominates the node (`status.nominatedNodeName`) and binds the pod once
the victims have terminated (their grace period). The node is the one whose victims have the
lowest highest priority, then the lowest priority sum, then the fewest victims, then node order.

Simplifications: only nodes whose failing filters are resource ones (NodeResourcesFit) are
candidates; only pods a ReplicaSet controls can be victims (their ReplicaSet replaces them; the
hook that does so is registered by the controllers stage); PodDisruptionBudgets are not
consulted; a preemptor whose policy is `Never` does not preempt (its FailedScheduling says so);
victims are gone at once rather than Terminating for their grace period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from atlas_sre.kube.requests import pod_totals
from atlas_sre.sim.events import SCHEDULER, emit
from atlas_sre.sim.objects.meta import created_at
from atlas_sre.sim.scheduler import filters as f
from atlas_sre.sim.scheduler.nodes import NodeState, Placements, Verdict, dynamic_reasons
from atlas_sre.sim.state import ClusterState, Obj

PREEMPTED_KEY = "preempted"  # victim uid -> (when, preemptor uid, node)
# Controller work a preemption causes (a victim's replacement), run after the action that caused
# it: pods created in the same burst as the preemptor reach the scheduler's queue first.
FOLLOWUPS_KEY = "preemption_followups"


def take_followups(state: ClusterState) -> list[tuple[datetime, Callable[[], Any]]]:
    """The queued follow-up work (and clear the queue)."""
    return state.extras.pop(FOLLOWUPS_KEY, None) or []


@dataclass
class PreemptionHooks:
    """What the controllers let the scheduler do to victims: which pods it may evict, and evict one."""

    can_evict: Callable[[Obj], bool]
    evict: Callable[[Obj, datetime], None]


class Preempting(Placements, Protocol):
    """What preemption needs from the scheduler (`core.Scheduler`): its bindings, and to move pods."""

    preemption: PreemptionHooks | None

    def any_lower(self, prio: int) -> bool: ...
    def pods_on(self, node: NodeState) -> list[Obj]: ...
    def forget(self, pod: Obj, at: datetime) -> None: ...
    def bind(self, pod: Obj, node: NodeState, at: datetime, by_scheduler: bool = True) -> None: ...


def priority(pod: Obj) -> int:
    """The pod's resolved priority (admission wrote it from its PriorityClass; 0 without one)."""
    return int(pod["spec"].get("priority") or 0)


def never_preempts(pod: Obj, message: str | None) -> str | None:
    """The FailedScheduling message of a pod whose preemptionPolicy is Never: PostFilter says why."""
    if message and pod["spec"].get("preemptionPolicy") == "Never" and " preemption: " in message:
        return message.split(" preemption: ")[0] + " preemption: not eligible due to preemptionPolicy=Never.."
    return message


def _resource_only(reasons: list[str]) -> bool:
    return bool(reasons) and all(r.startswith("Insufficient ") or r == f.TOO_MANY_PODS for r in reasons)


def _fits_without(node: NodeState, requests: dict[str, int], gone: list[dict[str, int]]) -> bool:
    """NodeResourcesFit on `node` if pods with these requests were not there."""
    if node.pods - len(gone) >= node.max_pods:
        return False
    for r, v in requests.items():
        freed = sum(g.get(r, 0) for g in gone)
        if v > 0 and v > node.alloc.get(r, 0) - node.requested.get(r, 0) + freed:
            return False
    return True


def _victims_on(
    sched: Preempting, node: NodeState, pod: Obj, requests: dict[str, int], hooks: PreemptionHooks
) -> list[Obj] | None:
    """The minimal victims on one node (None when removing every lower-priority pod is not enough)."""
    mine = priority(pod)
    lower = [p for p in sched.pods_on(node) if priority(p) < mine and hooks.can_evict(p)]
    need = {id(p): pod_totals(p["spec"])[0] for p in lower}
    if not lower or not _fits_without(node, requests, list(need.values())):
        return None
    # reprieve the most important first: higher priority, then the longer-running
    lower.sort(key=lambda p: (-priority(p), created_at(sched.state, p), p["metadata"]["name"]))
    victims = list(lower)
    for p in lower:
        rest = [v for v in victims if v is not p]
        if _fits_without(node, requests, [need[id(v)] for v in rest]):
            victims = rest
    return victims


def try_preempt(
    sched: Preempting, pod: Obj, at: datetime, static: list[Verdict], ctx: dict[str, Any]
) -> tuple[NodeState, datetime] | None:
    """Preempt for `pod` at `at` if some node allows it: (node it is bound to, when); None otherwise."""
    hooks = sched.preemption
    if hooks is None or pod["spec"].get("preemptionPolicy") == "Never" or not sched.any_lower(priority(pod)):
        return None
    requests = pod_totals(pod["spec"])[0]
    best: tuple[tuple, NodeState, list[Obj]] | None = None
    for node, reason, _weight, _soft in static:
        if reason or not _resource_only(dynamic_reasons(sched, node, pod, requests, ctx)):
            continue
        victims = _victims_on(sched, node, pod, requests, hooks)
        if not victims:
            continue
        prios = [priority(v) for v in victims]
        key = (max(prios), sum(prios), len(victims), node.index)
        if best is None or key < best[0]:
            best = (key, node, victims)
    if best is None:
        return None
    _, node, victims = best
    grace = max(int(v["spec"].get("terminationGracePeriodSeconds", 30)) for v in victims)
    record = sched.state.extras.setdefault(PREEMPTED_KEY, {})
    for v in victims:
        record[v["metadata"]["uid"]] = (at, pod["metadata"]["uid"], node.name)
        emit(
            sched.state,
            v,
            "Preempted",
            f"Preempted by pod {pod['metadata']['uid']} on node {node.name}",
            first=at,
            component=SCHEDULER,
        )
        sched.forget(v, at)
    when = at + timedelta(seconds=grace)
    sched.bind(pod, node, when)
    for v in victims:
        hooks.evict(v, at)
    return node, when
