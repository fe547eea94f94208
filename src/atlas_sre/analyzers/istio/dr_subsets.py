"""IST0173 (a DestinationRule subset selects no pods) and IST0174 (a DestinationRule host is unknown).

Why: traffic routed to an empty subset gets `503 UH no_healthy_upstream`; a DestinationRule whose
host matches nothing silently applies to nothing (its TLS or pool settings never take effect).
IST0173 is not reported when the Service selects no pods at all: that cause is reported once, on
the Service or the workload (ATL220/ATL222), not again on every subset. Likewise, when the subset
is empty because the one workload it would select was scaled to 0 replicas, ATL127 names that
workload instead: the subset is right, the scale-down is the change to undo.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import labels, map_matches, name_of, ns_of, scaled_to_zero, service_pods, spec
from atlas_sre.analyzers.mesh import fqdn, host_known, service_entity, service_for
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "dr-subsets"


class DestinationRuleSubsets(Check, name=NAME, codes=("IST0173", "IST0174", "ATL127"), kind="DestinationRule"):
    """DestinationRule hosts must exist and each subset must select at least one pod of its Service."""

    def check(self, snap: Snapshot, dr: Obj) -> Iterator[Finding]:
        host = str(spec(dr).get("host") or "")
        if not host or "*" in host:
            return
        full = fqdn(host, ns_of(dr), snap)
        if not host_known(snap, full):
            yield self.finding(
                "IST0174", Level.WARNING, dr,
                f"The host {host} defined in the DestinationRule does not match any services in the mesh.",
                related=service_entity(full),
            )
            return
        svc = service_for(snap, full)
        if svc is None:
            return  # a ServiceEntry host: its endpoints are not pods
        pods = service_pods(snap, svc)
        if not pods:
            return
        for subset in spec(dr).get("subsets") or []:
            wanted = subset.get("labels") or {}
            if wanted and not any(map_matches(wanted, labels(p)) for p in pods):
                yield self._empty_subset(snap, dr, svc, pods, subset, wanted)

    def _empty_subset(self, snap: Snapshot, dr: Obj, svc: Obj, pods: list[Obj], subset: dict, wanted: dict) -> Finding:
        """ATL127 when a workload of the Service is scaled to zero behind the subset, else IST0173."""
        pretty = ",".join(f"{k}={v}" for k, v in sorted(wanted.items()))
        zero = scaled_to_zero(snap, ns_of(svc), spec(svc).get("selector") or {}, wanted)
        if zero:
            w = zero[0]
            return self.finding(
                "ATL127", Level.ERROR, w,
                f"{w.get('kind')} {ns_of(w)}/{name_of(w)} is scaled to 0 replicas, so subset "
                f"{subset.get('name')} ({pretty}) of DestinationRule {ns_of(dr)}/{name_of(dr)} "
                "selects no pods; traffic routed to it gets 503 UH (NoHealthyUpstream).",
                related=[Resource.of(dr).entity, Resource.of(svc).entity],
            )
        have = sorted({",".join(f"{k}={v}" for k, v in sorted(labels(p).items()) if k in wanted) for p in pods})
        return self.finding(
            "IST0173", Level.ERROR, dr,
            f"The Subset {subset.get('name')} defined in the DestinationRule does not select any pods. "
            "Which may lead to 503 UH (NoHealthyUpstream).",
            evidence=[
                f"subset labels {pretty}; pods of Service {ns_of(svc)}/{name_of(svc)} carry "
                f"{'; '.join(h for h in have if h) or 'none of these keys'}"
            ],
        )
