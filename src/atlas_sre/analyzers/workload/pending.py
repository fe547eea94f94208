"""ATL210: pods the scheduler cannot place, with the scheduler's own reason (FailedScheduling).

Why: `0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector` already names
the cause class (selector, anti-affinity, cordon, resources, missing PVC); the finding adds the
objects behind it (the nodeSelector, the cordoned nodes, the missing claim) as related entities.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import by_owner, live_pods, name_of, ns_of, pod_spec, status
from atlas_sre.analyzers.snapshot import Obj, Snapshot, event_message

NAME = "pending"
_PVC = re.compile(r'persistentvolumeclaim "([^"]+)" not found')


def unscheduled(pod: Obj) -> bool:
    st = status(pod)
    if st.get("phase") != "Pending" or pod_spec(pod).get("nodeName"):
        return False
    return not any(
        c.get("type") == "PodScheduled" and c.get("status") == "True" for c in st.get("conditions") or []
    )


def scheduling_message(snap: Snapshot, pod: Obj) -> str:
    """The latest FailedScheduling message, else the PodScheduled condition's message."""
    evs = [
        e for e in snap.events_for("Pod", ns_of(pod), name_of(pod)) if e.get("reason") == "FailedScheduling"
    ]
    if evs:
        return event_message(evs[-1])
    cond = next((c for c in status(pod).get("conditions") or [] if c.get("type") == "PodScheduled"), {})
    return str(cond.get("message") or "")


class PendingPods(Check, name=NAME, codes=("ATL210",)):
    """Pods must be schedulable; when not, say why and what blocks them."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for res, (_, pods) in by_owner(snap, [p for p in live_pods(snap) if unscheduled(p)]).items():
            message = next((m for m in (scheduling_message(snap, p) for p in pods) if m), "")
            ps = pod_spec(pods[0])
            related: list[str] = []
            evidence = [f"pod {ns_of(p)}/{name_of(p)} Pending" for p in pods[:3]]
            for claim in _PVC.findall(message):
                related.append(Resource("PersistentVolumeClaim", claim, ns_of(pods[0])).entity)
            if "unschedulable" in message:
                related += [
                    Resource("Node", name_of(n)).entity
                    for n in snap.of_kind("Node")
                    if (n.get("spec") or {}).get("unschedulable")
                ]
            if ps.get("nodeSelector"):
                evidence.append(
                    "nodeSelector " + ",".join(f"{k}={v}" for k, v in sorted(ps["nodeSelector"].items()))
                )
            text = f"{len(pods)} pod(s) cannot be scheduled" + (
                f": {message}" if message else " (no FailedScheduling event yet)"
            )
            yield self.finding("ATL210", Level.ERROR, res, text, evidence, related)
