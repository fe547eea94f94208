"""ATL124: a Sidecar resource whose egress host list leaves out a Service its workloads call.

Why: `Sidecar.egress.hosts` limits which services a proxy knows. A dependency missing from the list
goes to the PassthroughCluster (ALLOW_ANY: no mesh routing, no mTLS) or the BlackHoleCluster
(REGISTRY_ONLY: `502 direct_response`), so the caller fails while the callee is healthy. The
calls a workload makes are read from its configuration (env / ConfigMap addresses).
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import by_owner, dependencies, labels, live_pods, map_matches, ns_of, spec
from atlas_sre.analyzers.mesh import ROOT_NAMESPACE, host_matches, workload_selector
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "sidecar-egress"


def sidecar_for(snap: Snapshot, pod: Obj) -> Obj | None:
    """The Sidecar resource that configures a pod: selector match > namespace default > mesh default."""
    ns = ns_of(pod)
    local = snap.of_kind("Sidecar", ns)
    for sc in local:
        sel = workload_selector(sc)
        if sel and map_matches(sel, labels(pod)):
            return sc
    for sc in local:
        if not workload_selector(sc):
            return sc
    return next((sc for sc in snap.of_kind("Sidecar", ROOT_NAMESPACE) if not workload_selector(sc)), None)


def egress_allows(sidecar: Obj, namespace: str, host_fqdn: str) -> bool:
    """Does any `egress[].hosts` entry (`ns/dnsName`, `.` = own namespace, `*` = any) import this host?"""
    listeners = spec(sidecar).get("egress") or []
    if not listeners:
        return True
    for listener in listeners:
        for entry in listener.get("hosts") or []:
            ns_part, _, dns = str(entry).partition("/")
            if ns_part == "~":
                continue
            ns_ok = ns_part == "*" or (ns_part == "." and namespace == ns_of(sidecar)) or ns_part == namespace
            if ns_ok and host_matches(dns, host_fqdn):
                return True
    return False


class SidecarEgress(Check, name=NAME, codes=("ATL124",)):
    """A workload's Sidecar must import every Service the workload is configured to call."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        if not snap.has("Sidecar"):
            return
        for res, (top, pods) in by_owner(snap, live_pods(snap)).items():
            sc = sidecar_for(snap, pods[0])
            if sc is None:
                continue
            hidden = []
            for var, ns, svc, port in dependencies(snap, top):
                host = f"{svc}.{ns}.svc.cluster.local"
                if snap.get("Service", ns, svc) is not None and not egress_allows(sc, ns, host):
                    hidden.append((var, ns, svc, port, host))
            if not hidden:
                continue
            mode = str((spec(sc).get("outboundTrafficPolicy") or {}).get("mode") or "ALLOW_ANY")
            effect = (
                "calls go to the BlackHoleCluster (502 direct_response)"
                if mode == "REGISTRY_ONLY"
                else "calls bypass mesh routing and mTLS (PassthroughCluster)"
            )
            var, ns, svc, port, host = hidden[0]
            yield self.finding(
                "ATL124",
                Level.ERROR if mode == "REGISTRY_ONLY" else Level.WARNING,
                sc,
                f"Sidecar egress hosts omit {host}, which {res.kind} {res.namespace}/{res.name} calls "
                f"({var}={svc}:{port}); with outboundTrafficPolicy {mode} its {effect}.",
                evidence=[
                    "egress hosts: "
                    + ", ".join(
                        str(h) for e in spec(sc).get("egress") or [] for h in e.get("hosts") or []
                    )
                ],
                related=[res.entity, *[Resource("Service", h[2], h[1]).entity for h in hidden]],
            )
