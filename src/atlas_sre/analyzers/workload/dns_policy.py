"""ATL252: pods whose DNS settings bypass cluster DNS while they call Services by name.

Why: with `dnsPolicy: None` and a nameserver that is not the cluster DNS Service (or `Default`,
the node's resolver) Service names stop resolving; every call fails with `no such host` or an i/o
timeout, and nothing in pod status shows it.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import SYSTEM_NAMESPACES, dependencies, pod_spec, spec, workloads
from atlas_sre.analyzers.snapshot import Snapshot

NAME = "dns-policy"


def cluster_dns_ips(snap: Snapshot) -> set[str]:
    """ClusterIPs of the cluster DNS Service (kube-system/kube-dns or any `k8s-app: kube-dns` Service)."""
    out = set()
    for svc in snap.of_kind("Service", "kube-system"):
        if (svc.get("metadata") or {}).get("name") == "kube-dns" or (
            (svc.get("metadata") or {}).get("labels") or {}
        ).get("k8s-app") == "kube-dns":
            out |= {
                str(ip) for ip in [spec(svc).get("clusterIP"), *(spec(svc).get("clusterIPs") or [])] if ip
            }
    return out


class DnsPolicy(Check, name=NAME, codes=("ATL252",)):
    """Workloads that call Services by name must use the cluster DNS."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        dns = cluster_dns_ips(snap)
        for w in workloads(snap):
            ps = pod_spec(w)
            policy = str(ps.get("dnsPolicy") or "ClusterFirst")
            if (w.get("metadata") or {}).get("namespace") in SYSTEM_NAMESPACES or policy.startswith("ClusterFirst"):
                continue
            deps = dependencies(snap, w)
            if not deps:
                continue
            servers = [str(s) for s in (ps.get("dnsConfig") or {}).get("nameservers") or []]
            if policy == "None" and (not dns or set(servers) & dns):
                continue
            where = f"nameserver(s) {', '.join(servers) or 'none'}" if policy == "None" else "the node's resolver"
            cluster = f" (cluster DNS is {', '.join(sorted(dns))})" if dns else ""
            var, _, name, port = deps[0]
            yield self.finding(
                "ATL252", Level.ERROR, w,
                f"dnsPolicy {policy} sends lookups to {where}{cluster}, so Service names such as "
                f"{name} ({var}={name}:{port}) do not resolve.",
            )
