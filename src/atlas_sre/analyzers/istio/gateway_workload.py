"""IST0101 for Gateways: a selector that matches no gateway pod, a credentialName with no Secret.

Why: a Gateway whose selector picks no proxy configures nothing (the public host is simply not
served); a TLS server whose certificate Secret is missing fails every handshake.
"""

from __future__ import annotations

from atlas_sre.analyzers.base import Finding, Level, Resource, finding
from atlas_sre.analyzers.k8s import labels, live_pods, map_matches, ns_of, spec
from atlas_sre.analyzers.snapshot import Snapshot

NAME = "gateway-workload"


class GatewayWorkload:
    """A Gateway must select gateway pods, and its TLS credentials must exist."""

    name = NAME
    codes = ("IST0101",)

    def analyze(self, snap: Snapshot) -> list[Finding]:
        out: list[Finding] = []
        pods = live_pods(snap)
        for gw in snap.of_kind("Gateway"):
            selector = spec(gw).get("selector") or {}
            if selector and not any(map_matches(selector, labels(p)) for p in pods):
                pretty = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
                out.append(
                    finding(NAME, "IST0101", Level.ERROR, gw, f'Referenced selector not found: "{pretty}"')
                )
                continue
            for server in spec(gw).get("servers") or []:
                cred = (server.get("tls") or {}).get("credentialName")
                if not cred:
                    continue
                # Istio reads gateway credentials from the gateway pods' namespace.
                namespaces = sorted({ns_of(p) for p in pods if map_matches(selector, labels(p))}) or [
                    ns_of(gw)
                ]
                found = [snap.secret_exists(n, str(cred)) for n in namespaces]
                if None not in found and not any(found):
                    out.append(
                        finding(
                            NAME,
                            "IST0101",
                            Level.ERROR,
                            gw,
                            f'Referenced credentialName not found: "{cred}"',
                            related=[Resource("Secret", str(cred), namespaces[0]).entity],
                        )
                    )
        return out
