"""Istio helpers shared by the mesh analyzers: host resolution, routes, DestinationRules, mTLS mode.

Host semantics follow Istio: a short name (`reviews`) means `reviews.<rule namespace>.svc.cluster.local`;
dotted names are taken as written, except `svc.ns` / `svc.ns.svc`, which are completed when `ns`
exists (lenient on purpose: a finding should never come from spelling alone).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from atlas_sre.analyzers.k8s import CLUSTER_DOMAIN, labels, map_matches, name_of, ns_of, spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot

ROOT_NAMESPACE = "istio-system"
ROUTE_SECTIONS = ("http", "tcp", "tls")


def fqdn(host: str, namespace: str, snap: Snapshot | None = None) -> str:
    """Istio's host expansion relative to the rule's namespace (see module doc)."""
    if "*" in host:
        return host
    parts = host.split(".")
    if len(parts) == 1:
        return f"{host}.{namespace}.{CLUSTER_DOMAIN}"
    if (
        snap is not None
        and len(parts) in (2, 3)
        and parts[1] in snap.namespaces()
        and (len(parts) == 2 or parts[2] == "svc")
    ):
        return f"{parts[0]}.{parts[1]}.{CLUSTER_DOMAIN}"
    return host


def service_for(snap: Snapshot, host_fqdn: str) -> Obj | None:
    """The Kubernetes Service a `name.ns.svc.cluster.local` host names, if it exists."""
    suffix = "." + CLUSTER_DOMAIN
    if not host_fqdn.endswith(suffix):
        return None
    parts = host_fqdn[: -len(suffix)].split(".")
    if len(parts) != 2:
        return None
    return snap.get("Service", parts[1], parts[0])


def service_entity(host_fqdn: str) -> list[str]:
    """`[ns/Service/name]` for a cluster-local FQDN (the Service the host means), else []."""
    suffix = "." + CLUSTER_DOMAIN
    parts = host_fqdn.removesuffix(suffix).split(".")
    return [f"{parts[1]}/Service/{parts[0]}"] if host_fqdn.endswith(suffix) and len(parts) == 2 else []


def service_entry_hosts(snap: Snapshot) -> list[str]:
    return [str(h) for se in snap.of_kind("ServiceEntry") for h in spec(se).get("hosts") or []]


def host_matches(pattern: str, host: str) -> bool:
    """Istio host matching with a leading `*` wildcard."""
    return (
        pattern == "*" or pattern == host or (pattern.startswith("*") and fnmatch.fnmatchcase(host, pattern))
    )


def host_known(snap: Snapshot, host_fqdn: str) -> bool:
    """A Service or a ServiceEntry host exists for this FQDN (wildcards count)."""
    if service_for(snap, host_fqdn) is not None:
        return True
    return any(host_matches(h, host_fqdn) or host_matches(host_fqdn, h) for h in service_entry_hosts(snap))


def destinations(vs: Obj) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(section, rule index, destination) for every route and mirror destination of a VirtualService."""
    for section in ROUTE_SECTIONS:
        for i, rule in enumerate(spec(vs).get(section) or []):
            for route in rule.get("route") or []:
                if isinstance(route.get("destination"), dict):
                    yield section, i, route["destination"]
            if section == "http" and isinstance(rule.get("mirror"), dict):
                yield section, i, rule["mirror"]


def destination_rules_for(snap: Snapshot, host_fqdn: str) -> list[Obj]:
    """DestinationRules whose host (expanded in their namespace) covers this FQDN."""
    return [
        dr
        for dr in snap.of_kind("DestinationRule")
        if host_matches(fqdn(str(spec(dr).get("host", "")), ns_of(dr), snap), host_fqdn)
    ]


def workload_selector(policy: Obj) -> dict[str, str] | None:
    """`spec.selector.matchLabels` (security kinds) or `spec.workloadSelector.labels` (Sidecar)."""
    s = spec(policy)
    if isinstance(s.get("selector"), dict):
        return s["selector"].get("matchLabels") or {}
    if isinstance(s.get("workloadSelector"), dict):
        return s["workloadSelector"].get("labels") or {}
    return None


def applies_to(policy: Obj, pod: Obj) -> bool:
    """Does a namespaced Istio policy apply to this pod (root-namespace policies apply mesh-wide)?"""
    if ns_of(policy) not in (ns_of(pod), ROOT_NAMESPACE):
        return False
    return map_matches(workload_selector(policy), labels(pod))


def mtls_mode(snap: Snapshot, pod: Obj, port: int | None = None) -> tuple[str, Obj | None]:
    """The effective PeerAuthentication mode for a pod (and port): workload > namespace > mesh.

    `UNSET` and `INHERIT` defer to the next level; with no policy at all Istio runs PERMISSIVE.
    """
    ns = ns_of(pod)
    pas = snap.of_kind("PeerAuthentication")
    workload = [p for p in pas if ns_of(p) == ns and workload_selector(p) and applies_to(p, pod)]
    namespace = [p for p in pas if ns_of(p) == ns and not workload_selector(p)]
    mesh = [p for p in pas if ns_of(p) == ROOT_NAMESPACE and not workload_selector(p)]
    for level in (workload, namespace, mesh):
        for pa in sorted(level, key=name_of):
            s = spec(pa)
            if port is not None and str(port) in (s.get("portLevelMtls") or {}):
                mode = str((s["portLevelMtls"][str(port)] or {}).get("mode") or "UNSET")
            else:
                mode = str((s.get("mtls") or {}).get("mode") or "UNSET")
            if mode not in ("UNSET", "INHERIT", ""):
                return mode, pa
    return "PERMISSIVE", None


def gateway_key(ref: str, vs_namespace: str) -> tuple[str, str] | None:
    """(namespace, name) a VirtualService `gateways` entry means; None for the reserved `mesh`."""
    if ref == "mesh":
        return None
    if "/" in ref:
        ns, _, name = ref.partition("/")
        return ns, name
    if ref.count(".") >= 1:  # name.namespace.svc.cluster.local form
        parts = ref.split(".")
        return parts[1], parts[0]
    return vs_namespace, ref


def gateway_hosts(gw: Obj) -> list[str]:
    """Hosts of all servers of a Gateway, without their `namespace/` prefix."""
    return [str(h).split("/", 1)[-1] for s in spec(gw).get("servers") or [] for h in s.get("hosts") or []]
