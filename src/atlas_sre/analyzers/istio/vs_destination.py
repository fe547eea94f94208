"""IST0101 for VirtualService destinations: unknown host, unknown host:port, host+subset missing in DRs.

Why: a route to a host, port or subset Envoy has no cluster for fails every request it carries with
`503 NC cluster_not_found`, while every pod looks healthy, so only the configuration shows it.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import name_of, ns_of, service_ports, spec
from atlas_sre.analyzers.mesh import (
    destination_rules_for,
    destinations,
    fqdn,
    host_known,
    service_entity,
    service_for,
)
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "vs-destinations"


class VirtualServiceDestinations(Check, name=NAME, codes=("IST0101",), kind="VirtualService"):
    """Every VirtualService route (and mirror) must lead to a known host, port and subset."""

    def check(self, snap: Snapshot, vs: Obj) -> Iterator[Finding]:
        ns = ns_of(vs)
        seen: set[tuple[str, str]] = set()
        for reftype, value, related in self._misses(snap, vs, ns):
            if (reftype, value) in seen:
                continue
            seen.add((reftype, value))
            yield self.finding(
                "IST0101", Level.ERROR, vs, f'Referenced {reftype} not found: "{value}"',
                evidence=[f"VirtualService {ns}/{name_of(vs)} routes to {value}"], related=related,
            )

    @staticmethod
    def _misses(snap: Snapshot, vs: Obj, ns: str) -> Iterator[tuple[str, str, list[str]]]:
        """(reference type, value, related entities) for each destination that leads nowhere."""
        for section, _, dest in destinations(vs):
            host = str(dest.get("host") or "")
            if not host or "*" in host:
                continue
            full = fqdn(host, ns, snap)
            if not host_known(snap, full):
                yield "host", host, service_entity(full)
                continue
            svc = service_for(snap, full)
            port = (dest.get("port") or {}).get("number")
            if svc is not None and port is not None and int(port) not in service_ports(svc):
                yield "host:port", f"{host}:{port}", [Resource.of(svc).entity]
            subset = dest.get("subset")
            if subset and section in ("http", "tcp", "tls"):
                rules = destination_rules_for(snap, full)
                if not any(s.get("name") == subset for dr in rules for s in spec(dr).get("subsets") or []):
                    yield "host+subset in destinationrule", f"{host}+{subset}", [Resource.of(dr).entity for dr in rules]
