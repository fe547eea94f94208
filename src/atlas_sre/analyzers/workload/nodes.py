"""ATL213 (a node is NotReady or under pressure) and ATL214 (a node is cordoned).

Why: a NotReady node takes its pods' endpoints with it; a cordoned node (`Ready,SchedulingDisabled`)
refuses new pods, which matters most when workloads are pinned to it. The cordon is Error when
pods that cannot be scheduled say so, Warning otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import live_pods, name_of, status
from atlas_sre.analyzers.snapshot import Snapshot
from atlas_sre.analyzers.workload.pending import scheduling_message, unscheduled

NAME = "nodes"
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


class Nodes(Check, name=NAME, codes=("ATL213", "ATL214")):
    """Nodes must be Ready, without pressure, and schedulable."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        blocked = [
            p for p in live_pods(snap) if unscheduled(p) and "unschedulable" in scheduling_message(snap, p)
        ]
        for node in snap.of_kind("Node"):
            conds = {c.get("type"): c for c in status(node).get("conditions") or []}
            ready = conds.get("Ready")
            if ready is not None and ready.get("status") != "True":
                yield self.finding(
                    "ATL213",
                    Level.ERROR,
                    node,
                    f"Node {name_of(node)} is NotReady ({ready.get('reason') or 'unknown reason'}): "
                    f"{ready.get('message') or 'kubelet stopped posting status'}",
                )
            for kind in PRESSURE:
                if (conds.get(kind) or {}).get("status") == "True":
                    yield self.finding(
                        "ATL213",
                        Level.WARNING,
                        node,
                        f"Node {name_of(node)} reports {kind}: {conds[kind].get('message') or ''}".rstrip(
                            ": "
                        ),
                    )
            if (node.get("spec") or {}).get("unschedulable"):
                level = Level.ERROR if blocked else Level.WARNING
                tail = f"; {len(blocked)} pod(s) wait because nodes are unschedulable" if blocked else ""
                yield self.finding(
                    "ATL214",
                    level,
                    node,
                    f"Node {name_of(node)} is cordoned (SchedulingDisabled){tail}.",
                    evidence=[
                        f"pod {p['metadata'].get('namespace')}/{name_of(p)} Pending" for p in blocked[:3]
                    ],
                )
