"""IST0101 (a VirtualService names a Gateway that does not exist) and IST0132 (its hosts are not
served by that Gateway).

Why: either way the ingress gateway has no route for the public host and answers `404 NR
route_not_found`; every workload behind it is healthy and idle.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import name_of, ns_of, spec
from atlas_sre.analyzers.mesh import gateway_hosts, gateway_key, host_matches
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "vs-gateways"


def _served(vs_host: str, gw_hosts: list[str]) -> bool:
    return any(host_matches(h, vs_host) or host_matches(vs_host, h) for h in gw_hosts)


class VirtualServiceGateways(Check, name=NAME, codes=("IST0101", "IST0132"), kind="VirtualService"):
    """Gateways a VirtualService binds to must exist and serve at least its hosts."""

    def check(self, snap: Snapshot, vs: Obj) -> Iterator[Finding]:
        ns = ns_of(vs)
        hosts = [str(h) for h in spec(vs).get("hosts") or []]
        for ref in spec(vs).get("gateways") or []:
            key = gateway_key(str(ref), ns)
            if key is None:
                continue
            gw = snap.get("Gateway", key[0], key[1])
            if gw is None:
                yield self.finding("IST0101", Level.ERROR, vs, f'Referenced gateway not found: "{ref}"',
                                   related=[Resource("Gateway", key[1], key[0]).entity])
                continue
            missing = [h for h in hosts if not _served(h, gateway_hosts(gw))]
            if missing:
                yield self.finding(
                    "IST0132", Level.WARNING, vs,
                    f"one or more host [{' '.join(missing)}] defined in VirtualService {ns}/{name_of(vs)} not "
                    f"found in Gateway {key[0]}/{key[1]}.",
                    evidence=[f"Gateway {key[0]}/{key[1]} hosts: {', '.join(gateway_hosts(gw)) or 'none'}"],
                    related=[Resource.of(gw).entity],
                )
