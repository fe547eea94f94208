"""IST0101 for VirtualService destinations: unknown host, unknown host:port, host+subset missing in DRs.

Why: a route to a host, port or subset Envoy has no cluster for fails every request it carries with
`503 NC cluster_not_found`, while every pod looks healthy, so only the configuration shows it.
"""

from __future__ import annotations

from atlas_sre.analyzers.base import Finding, Level, Resource, finding
from atlas_sre.analyzers.k8s import name_of, ns_of, service_ports, spec
from atlas_sre.analyzers.mesh import (
    destination_rules_for,
    destinations,
    fqdn,
    host_known,
    service_entity,
    service_for,
)
from atlas_sre.analyzers.snapshot import Snapshot

NAME = "vs-destinations"


class VirtualServiceDestinations:
    """Every VirtualService route (and mirror) must lead to a known host, port and subset."""

    name = NAME
    codes = ("IST0101",)

    def analyze(self, snap: Snapshot) -> list[Finding]:
        out: list[Finding] = []
        for vs in snap.of_kind("VirtualService"):
            ns = ns_of(vs)
            seen: set[tuple[str, str]] = set()
            for section, _, dest in destinations(vs):
                host = str(dest.get("host") or "")
                if not host or "*" in host:
                    continue
                full = fqdn(host, ns, snap)
                if not host_known(snap, full):
                    self._add(out, seen, vs, "host", host, service_entity(full))
                    continue
                svc = service_for(snap, full)
                port = (dest.get("port") or {}).get("number")
                if svc is not None and port is not None and int(port) not in service_ports(svc):
                    self._add(out, seen, vs, "host:port", f"{host}:{port}", [Resource.of(svc).entity])
                subset = dest.get("subset")
                if subset and section in ("http", "tcp", "tls"):
                    rules = destination_rules_for(snap, full)
                    if not any(
                        s.get("name") == subset for dr in rules for s in spec(dr).get("subsets") or []
                    ):
                        related = [Resource.of(dr).entity for dr in rules]
                        self._add(
                            out, seen, vs, "host+subset in destinationrule", f"{host}+{subset}", related
                        )
        return out

    @staticmethod
    def _add(
        out: list[Finding], seen: set[tuple[str, str]], vs: dict, reftype: str, value: str, related: list[str]
    ) -> None:
        if (reftype, value) in seen:
            return
        seen.add((reftype, value))
        out.append(
            finding(
                NAME,
                "IST0101",
                Level.ERROR,
                vs,
                f'Referenced {reftype} not found: "{value}"',
                evidence=[f"VirtualService {ns_of(vs)}/{name_of(vs)} routes to {value}"],
                related=related,
            )
        )
