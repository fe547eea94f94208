"""ATL215: pods Pending for CPU or memory while a higher-priority workload holds a large share of it.

Why: `0/3 nodes are available: 3 Insufficient cpu` names the symptom on every starved pod, not
the cause. When a workload of higher priority (a batch job with a `PriorityClass` of 1000000) holds
a large share of the cluster's allocatable CPU or memory, it is what took the room (and what
preempted the others); the finding names it, with its priority and share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import by_owner, live_pods, pod_spec, spec, status
from atlas_sre.analyzers.snapshot import Obj, Snapshot
from atlas_sre.analyzers.workload.pending import scheduling_message, unscheduled
from atlas_sre.kube.quantity import parse_quantity_float as parse_quantity

NAME = "capacity"
MIN_SHARE = 0.2  # a culprit holds at least this share of the allocatable resource
_RESOURCES = {"cpu": "Insufficient cpu", "memory": "Insufficient memory"}


def requests(pod: Obj, resource: str) -> float:
    """Sum of the pod's container requests for `resource` (base units)."""
    return sum(
        parse_quantity(((c.get("resources") or {}).get("requests") or {}).get(resource, 0))
        for c in pod_spec(pod).get("containers") or []
    )


def priority(pod: Obj) -> int:
    return int(spec(pod).get("priority") or 0)


class Capacity(Check, name=NAME, codes=("ATL215",)):
    """When pods starve for CPU/memory, name the higher-priority workload holding it."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        pods = live_pods(snap)
        waiting = [p for p in pods if unscheduled(p)]
        running = [p for p in pods if status(p).get("phase") == "Running"]
        for resource, needle in _RESOURCES.items():
            starved = [p for p in waiting if needle in scheduling_message(snap, p)]
            if not starved:
                continue
            allocatable = sum(
                parse_quantity((status(n).get("allocatable") or {}).get(resource, 0))
                for n in snap.of_kind("Node")
                if not spec(n).get("unschedulable")
            )
            if allocatable <= 0:
                continue
            ceiling = max(priority(p) for p in starved)
            held: dict[Resource, float] = defaultdict(float)
            prio: dict[Resource, int] = {}
            for res, (_, mine) in by_owner(snap, [p for p in running if priority(p) > ceiling]).items():
                held[res] = sum(requests(p, resource) for p in mine)
                prio[res] = max(priority(p) for p in mine)
            if not held:
                continue
            top = max(held, key=lambda r: (held[r], r.entity))
            share = held[top] / allocatable
            if share < MIN_SHARE:
                continue
            starved_owners = sorted(r.entity for r in by_owner(snap, starved))
            yield self.finding(
                "ATL215", Level.ERROR, top,
                f"{top.kind} {top.namespace}/{top.name} (priority {prio[top]}) holds {share:.0%} of the cluster's "
                f"allocatable {resource}; {len(starved)} lower-priority pod(s) are Pending with {needle} "
                f"({', '.join(starved_owners[:3])}{', ...' if len(starved_owners) > 3 else ''}).",
            )
