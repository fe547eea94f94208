"""ATL240 (a workload is configured to call a Service that does not exist) and ATL241 (it calls a
port the Service does not expose).

Why: service addresses live in env vars and ConfigMaps (`CART_ADDR=cart:7070`). A deleted Service
or a mistyped host gives `lookup cart: no such host`; a wrong port gives `connection refused` or a
timeout, while everything looks Running. Only cluster-DNS names are checked (`svc`, `svc.ns`,
`svc.ns.svc[.cluster.local]`); external hosts and `localhost` are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import SYSTEM_NAMESPACES, dependencies, service_ports, spec, workloads
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "dependencies"
_LOCAL = frozenset({"localhost", "127.0.0.1", "0.0.0.0"})


class Dependencies(Check, name=NAME, codes=("ATL240", "ATL241")):
    """Service addresses in a workload's configuration must name existing Services and ports."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for w in workloads(snap):
            if Resource.of(w).namespace not in SYSTEM_NAMESPACES:
                yield from self._check(snap, w)

    def _check(self, snap: Snapshot, w: Obj) -> Iterator[Finding]:
        for var, ns, name, port in dependencies(snap, w):
            if name in _LOCAL:
                continue
            svc = snap.get("Service", ns, name)
            target = Resource("Service", name, ns).entity
            if svc is None:
                yield self.finding(
                    "ATL240", Level.ERROR, w,
                    f"{var} points at {name}:{port}, but Service {ns}/{name} does not exist; "
                    "the name does not resolve (no such host).",
                    related=[target],
                )
            elif spec(svc).get("type") != "ExternalName" and port not in service_ports(svc):
                ports = ", ".join(str(p) for p in service_ports(svc))
                yield self.finding(
                    "ATL241", Level.ERROR, w,
                    f"{var} points at {name}:{port}, but Service {ns}/{name} exposes port(s) {ports}; "
                    f"calls to {port} fail.",
                    related=[target],
                )
