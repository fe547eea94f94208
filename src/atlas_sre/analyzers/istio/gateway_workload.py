"""IST0101 for Gateways: a selector that matches no gateway pod, a credentialName with no Secret.

Why: a Gateway whose selector picks no proxy configures nothing (the public host is simply not
served); a TLS server whose certificate Secret is missing fails every handshake.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import labels, live_pods, map_matches, ns_of, spec
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "gateway-workload"


class GatewayWorkload(Check, name=NAME, codes=("IST0101",)):
    """A Gateway must select gateway pods, and its TLS credentials must exist."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        pods = live_pods(snap)
        for gw in snap.of_kind("Gateway"):
            yield from self._check(snap, gw, pods)

    def _check(self, snap: Snapshot, gw: Obj, pods: list[Obj]) -> Iterator[Finding]:
        selector = spec(gw).get("selector") or {}
        if selector and not any(map_matches(selector, labels(p)) for p in pods):
            pretty = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            yield self.finding("IST0101", Level.ERROR, gw, f'Referenced selector not found: "{pretty}"')
            return
        for server in spec(gw).get("servers") or []:
            cred = (server.get("tls") or {}).get("credentialName")
            if not cred:
                continue
            # Istio reads gateway credentials from the gateway pods' namespace.
            namespaces = sorted({ns_of(p) for p in pods if map_matches(selector, labels(p))}) or [ns_of(gw)]
            found = [snap.secret_exists(n, str(cred)) for n in namespaces]
            if None not in found and not any(found):
                yield self.finding("IST0101", Level.ERROR, gw, f'Referenced credentialName not found: "{cred}"',
                                   related=[Resource("Secret", str(cred), namespaces[0]).entity])
