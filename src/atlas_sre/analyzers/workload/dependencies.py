"""ATL240 (a workload is configured to call a Service that does not exist) and ATL241 (it calls a
port the Service does not expose).

Why: service addresses live in env vars and ConfigMaps (`CART_ADDR=cart:7070`). A deleted Service
or a mistyped host gives `lookup cart: no such host`; a wrong port gives `connection refused` or a
timeout, while everything looks Running. Only cluster-DNS names are checked (`svc`, `svc.ns`,
`svc.ns.svc[.cluster.local]`); external hosts and `localhost` are left alone.
"""

from __future__ import annotations

from atlas_sre.analyzers.base import Finding, Level, Resource, finding
from atlas_sre.analyzers.k8s import SYSTEM_NAMESPACES, dependencies, service_ports, spec, workloads
from atlas_sre.analyzers.snapshot import Snapshot

NAME = "dependencies"
_LOCAL = frozenset({"localhost", "127.0.0.1", "0.0.0.0"})


class Dependencies:
    """Service addresses in a workload's configuration must name existing Services and ports."""

    name = NAME
    codes = ("ATL240", "ATL241")

    def analyze(self, snap: Snapshot) -> list[Finding]:
        out: list[Finding] = []
        for w in workloads(snap):
            res = Resource.of(w)
            if res.namespace in SYSTEM_NAMESPACES:
                continue
            for var, ns, name, port in dependencies(snap, w):
                if name in _LOCAL:
                    continue
                svc = snap.get("Service", ns, name)
                target = Resource("Service", name, ns).entity
                if svc is None:
                    out.append(
                        finding(
                            NAME,
                            "ATL240",
                            Level.ERROR,
                            w,
                            f"{var} points at {name}:{port}, but Service {ns}/{name} does not exist; "
                            "the name does not resolve (no such host).",
                            related=[target],
                        )
                    )
                elif spec(svc).get("type") != "ExternalName" and port not in service_ports(svc):
                    ports = ", ".join(str(p) for p in service_ports(svc))
                    out.append(
                        finding(
                            NAME,
                            "ATL241",
                            Level.ERROR,
                            w,
                            f"{var} points at {name}:{port}, but Service {ns}/{name} exposes port(s) "
                            f"{ports}; calls to {port} fail.",
                            related=[target],
                        )
                    )
        return out
