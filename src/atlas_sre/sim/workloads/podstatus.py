"""Reading pod status as the kubelet stage wrote it: readiness, phase, when readiness changed.

Shared by the endpoints, rollup and HPA stages so that "ready" means one thing everywhere: the
pod's Ready condition is "True".
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.state import ClusterState, Obj

TERMINAL = ("Succeeded", "Failed")


def pod_ready(pod: Obj) -> bool:
    """The pod's Ready condition is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def ready_since(state: ClusterState, pod: Obj) -> datetime | None:
    """When the pod's Ready condition last changed (scenario time), if it has one."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("lastTransitionTime"):
            return parse_time(c["lastTransitionTime"]) - state.clock.shift
    return None


def active(pods: list[Obj]) -> list[Obj]:
    """Pods that count for a controller: not Succeeded or Failed."""
    return [p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL]


def phase(pod: Obj) -> str:
    """The pod's phase (Pending when the kubelet has not said otherwise)."""
    return str((pod.get("status") or {}).get("phase") or "Pending")
