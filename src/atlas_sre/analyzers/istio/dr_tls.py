"""ATL104 (a DestinationRule turns Istio mTLS off towards STRICT workloads) and IST0128 (client TLS
without caCertificates).

Why: `trafficPolicy.tls.mode: DISABLE` (or SIMPLE/MUTUAL, which originate plain TLS instead of Istio
mTLS) makes every client sidecar send something a STRICT server rejects: `503 UF` /
`upstream_reset_before_response_started{connection_termination}` at the callers, nothing at the
server. istioctl retired its check for this conflict (IST0113) with auto-mTLS; the conflict itself
still breaks traffic, so we keep it.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import has_sidecar, name_of, ns_of, service_pods, spec
from atlas_sre.analyzers.mesh import fqdn, mtls_mode, service_for
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "dr-tls"
_NOT_ISTIO = ("DISABLE", "SIMPLE", "MUTUAL")


def _tls_settings(dr: Obj) -> list[tuple[int | None, dict]]:
    """(port or None, tls) for the DR-wide and port-level TLS settings."""
    policy = spec(dr).get("trafficPolicy") or {}
    out: list[tuple[int | None, dict]] = []
    if isinstance(policy.get("tls"), dict):
        out.append((None, policy["tls"]))
    for pl in policy.get("portLevelSettings") or []:
        if isinstance(pl.get("tls"), dict):
            out.append(((pl.get("port") or {}).get("number"), pl["tls"]))
    return out


class DestinationRuleTls(Check, name=NAME, codes=("ATL104", "IST0128"), kind="DestinationRule"):
    """Client TLS settings must match what the destination requires."""

    def check(self, snap: Snapshot, dr: Obj) -> Iterator[Finding]:
        host = str(spec(dr).get("host") or "")
        svc = service_for(snap, fqdn(host, ns_of(dr), snap))
        pods = [p for p in service_pods(snap, svc) if has_sidecar(p)] if svc is not None else []
        for port, tls in _tls_settings(dr):
            mode = str(tls.get("mode") or "")
            if (
                mode in ("SIMPLE", "MUTUAL")
                and not tls.get("caCertificates")
                and not tls.get("credentialName")
                and not tls.get("insecureSkipVerify")
            ):
                yield self.finding(
                    "IST0128", Level.WARNING, dr,
                    f"DestinationRule {name_of(dr)} in namespace {ns_of(dr)} has TLS mode set to {mode} but no "
                    f"caCertificates are set to validate server identity for host: {host}",
                )
            if mode not in _NOT_ISTIO or not pods or svc is None:
                continue
            strict, pa = mtls_mode(snap, pods[0], port)
            if strict != "STRICT" or pa is None:
                continue
            what = "plaintext" if mode == "DISABLE" else f"{mode} TLS without the Istio client certificate"
            where = f" port {port}" if port else ""
            yield self.finding(
                "ATL104", Level.ERROR, dr,
                f"trafficPolicy.tls.mode {mode} makes clients send {what} to {host}{where}, but "
                f"PeerAuthentication {ns_of(pa)}/{name_of(pa)} requires STRICT mTLS there; connections are "
                "reset (503 UF).",
                related=[Resource.of(pa).entity, Resource.of(svc).entity],
            )
