"""ATL230: a HorizontalPodAutoscaler pinned at maxReplicas (or targeting an absurdly low utilisation).

Why: an HPA at its ceiling cannot absorb more load (KubeHpaMaxedOut); one that targets a few percent
of CPU scales to the ceiling under any load and can leave replicas Pending when nodes are full.
It is an Error when the scaled workload has pods the scheduler cannot place.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import live_pods, ns_of, owner, spec, status
from atlas_sre.analyzers.snapshot import Obj, Snapshot
from atlas_sre.analyzers.workload.pending import unscheduled

NAME = "autoscaling"
LOW_TARGET = 10  # percent


def _low_targets(hpa: Obj) -> list[str]:
    out = []
    for metric in spec(hpa).get("metrics") or []:
        target = (metric.get("resource") or {}).get("target") or {}
        value = target.get("averageUtilization")
        if isinstance(value, int) and value <= LOW_TARGET:
            out.append(f"{(metric.get('resource') or {}).get('name', '?')} {value}%")
    if (
        isinstance(spec(hpa).get("targetCPUUtilizationPercentage"), int)
        and spec(hpa)["targetCPUUtilizationPercentage"] <= LOW_TARGET
    ):
        out.append(f"cpu {spec(hpa)['targetCPUUtilizationPercentage']}%")
    return out


class Autoscaling(Check, name=NAME, codes=("ATL230",), kind="HorizontalPodAutoscaler"):
    """HPAs must have headroom and a sensible target."""

    def check(self, snap: Snapshot, hpa: Obj) -> Iterator[Finding]:
        ref = spec(hpa).get("scaleTargetRef") or {}
        target = Resource(str(ref.get("kind") or "Deployment"), str(ref.get("name") or ""), ns_of(hpa))
        most = int(spec(hpa).get("maxReplicas") or 0)
        current = int(status(hpa).get("currentReplicas") or 0)
        desired = int(status(hpa).get("desiredReplicas") or 0)
        low = _low_targets(hpa)
        at_max = most > 0 and max(current, desired) >= most
        if not (at_max or low):
            return
        pending = [p for p in live_pods(snap, ns_of(hpa)) if unscheduled(p) and Resource.of(owner(snap, p)) == target]
        parts = []
        if at_max:
            parts.append(
                f"scaled {target.kind} {target.name} to maxReplicas {most} (current {current}, desired {desired})"
            )
        if low:
            parts.append(f"targets {' and '.join(low)} utilisation, so any load scales it to the maximum")
        text = "HPA " + "; ".join(parts)
        if pending:
            text += f"; {len(pending)} replica(s) are Pending"
        limited = [
            str(c.get("message"))
            for c in status(hpa).get("conditions") or []
            if c.get("type") == "ScalingLimited" and c.get("status") == "True"
        ]
        yield self.finding("ATL230", Level.ERROR if pending else Level.WARNING, hpa, text + ".", evidence=limited,
                           related=[target.entity])
