"""Services without endpoints, and why: the selector matches no pod (ATL220), the matching pods are
not Ready (ATL221), or the workload behind it was scaled to zero (ATL222).

Why three codes: they have three different fixes (the Service selector, the pods, the replica
count), and the callers see the same `503 UH no_healthy_upstream` for all of them. For a selector
that matches nothing, pods whose labels differ only in value are shown ("pods carry app=reviews-v2"),
which is usually the typo.
"""

from __future__ import annotations

import difflib

from atlas_sre.analyzers.base import Finding, Level, Resource, finding
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


class ServiceEndpoints:
    """Every Service with a selector should have at least one ready endpoint."""

    name = NAME
    codes = ("ATL220", "ATL221", "ATL222")

    def analyze(self, snap: Snapshot) -> list[Finding]:
        out: list[Finding] = []
        for svc in snap.of_kind("Service"):
            selector = spec(svc).get("selector") or {}
            if not selector or spec(svc).get("type") == "ExternalName" or ns_of(svc) in SYSTEM_NAMESPACES:
                continue
            pods = [p for p in live_pods(snap, ns_of(svc)) if map_matches(selector, labels(p))]
            pretty = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            if not pods:
                zero = scaled_to_zero(snap, ns_of(svc), selector)
                if zero:
                    w = zero[0]
                    out.append(
                        finding(
                            NAME,
                            "ATL222",
                            Level.ERROR,
                            w,
                            f"{w.get('kind')} {ns_of(w)}/{name_of(w)} is scaled to 0 replicas, so Service "
                            f"{name_of(svc)} has no endpoints.",
                            related=[Resource.of(svc).entity],
                        )
                    )
                    continue
                near = _near_misses(snap, svc, selector)
                hint = f"; pods in {ns_of(svc)} carry {' / '.join(near)}" if near else ""
                out.append(
                    finding(
                        NAME,
                        "ATL220",
                        Level.ERROR,
                        svc,
                        f"Service has no endpoints: selector {pretty} matches no pods{hint}.",
                    )
                )
            elif not any(is_ready(p) for p in pods):
                owners = ", ".join(r.entity for r in by_owner(snap, pods))
                out.append(
                    finding(
                        NAME,
                        "ATL221",
                        Level.ERROR,
                        svc,
                        f"Service has no ready endpoints: selector {pretty} matches {len(pods)} pod(s), "
                        f"none Ready ({owners}).",
                        related=list(r.entity for r in by_owner(snap, pods)),
                    )
                )
        return out
