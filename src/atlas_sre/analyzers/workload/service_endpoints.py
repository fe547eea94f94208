"""Services without endpoints, and why: the selector matches no pod (ATL220), the matching pods are
not Ready (ATL221), or the workload behind it was scaled to zero (ATL222).

Why three codes: they have three different fixes (the Service selector, the pods, the replica
count), and the callers see the same `503 UH no_healthy_upstream` for all of them. For a selector
that matches nothing, pods whose labels differ only in value are shown ("pods carry app=reviews-v2"),
which is usually the typo.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import (
    SYSTEM_NAMESPACES,
    by_owner,
    is_ready,
    labels,
    live_pods,
    map_matches,
    name_of,
    ns_of,
    scaled_to_zero,
    spec,
)
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "service-endpoints"


def _near_misses(snap: Snapshot, svc: Obj, selector: dict[str, str]) -> list[str]:
    """`key=value` labels of pods in the namespace that have the selector's keys but other values."""
    seen: list[str] = []
    for pod in live_pods(snap, ns_of(svc)):
        lab = labels(pod)
        if all(k in lab for k in selector):
            text = ",".join(f"{k}={lab[k]}" for k in sorted(selector))
            if text not in seen:
                seen.append(text)
    wanted = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    return difflib.get_close_matches(wanted, seen, n=3, cutoff=0.5)


class ServiceEndpoints(Check, name=NAME, codes=("ATL220", "ATL221", "ATL222"), kind="Service"):
    """Every Service with a selector should have at least one ready endpoint."""

    def check(self, snap: Snapshot, svc: Obj) -> Iterator[Finding]:
        selector = spec(svc).get("selector") or {}
        if not selector or spec(svc).get("type") == "ExternalName" or ns_of(svc) in SYSTEM_NAMESPACES:
            return
        pods = [p for p in live_pods(snap, ns_of(svc)) if map_matches(selector, labels(p))]
        pretty = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        if not pods:
            yield self._no_endpoints(snap, svc, selector, pretty)
        elif not any(is_ready(p) for p in pods):
            owners = [r.entity for r in by_owner(snap, pods)]
            yield self.finding(
                "ATL221", Level.ERROR, svc,
                f"Service has no ready endpoints: selector {pretty} matches {len(pods)} pod(s), "
                f"none Ready ({', '.join(owners)}).",
                related=owners,
            )

    def _no_endpoints(self, snap: Snapshot, svc: Obj, selector: dict, pretty: str) -> Finding:
        """ATL222 on the workload scaled to zero behind the selector, else ATL220 with near misses."""
        zero = scaled_to_zero(snap, ns_of(svc), selector)
        if zero:
            w = zero[0]
            return self.finding(
                "ATL222", Level.ERROR, w,
                f"{w.get('kind')} {ns_of(w)}/{name_of(w)} is scaled to 0 replicas, so Service "
                f"{name_of(svc)} has no endpoints.",
                related=[Resource.of(svc).entity],
            )
        near = _near_misses(snap, svc, selector)
        hint = f"; pods in {ns_of(svc)} carry {' / '.join(near)}" if near else ""
        return self.finding(
            "ATL220", Level.ERROR, svc, f"Service has no endpoints: selector {pretty} matches no pods{hint}."
        )
