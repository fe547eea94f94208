"""IST0118 (a Service port name lacks a protocol prefix) and ATL125 (the port's protocol disagrees
with the container port it targets).

Why: Istio picks the protocol from the Service port name (`http-*`, `grpc-*`...) or `appProtocol`;
with none it sniffs, and with the wrong one the proxy speaks, say, HTTP/2 to an HTTP/1.1 server
(`503` protocol errors) although the pods are healthy. The container port's own name (or
`appProtocol`) is what the server says it speaks, so a disagreement is a strong signal.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import (
    SYSTEM_NAMESPACES,
    container_ports,
    name_of,
    ns_of,
    pod_spec,
    service_pods,
    spec,
)
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "port-protocol"
PROTOCOLS = ("http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp")
_FAMILY = {
    "http": "http",
    "http2": "http2",
    "grpc": "http2",
    "grpc-web": "http",
    "https": "tls",
    "tls": "tls",
    "tcp": "tcp",
    "mongo": "tcp",
    "mysql": "tcp",
    "redis": "tcp",
    "udp": "udp",
}


TCP_FAMILY = frozenset({"tcp", "tls", "mongo", "mysql", "redis"})
HTTP_FAMILY = frozenset({"http", "http2", "grpc", "grpc-web"})


def protocol_of(port: dict) -> str | None:
    """Istio's protocol for a Service/container port: `appProtocol`, else the name's prefix, else None."""
    app = str(port.get("appProtocol") or "").lower()
    if app:
        app = app.split("/")[-1].removeprefix("kubernetes.io/")
        return "http2" if app in ("h2c", "kubernetes.io/h2c") else app
    name = str(port.get("name") or "").lower()
    if name in PROTOCOLS:
        return name
    prefix = name.split("-")[0]
    return prefix if prefix in PROTOCOLS else None


def carried_http(port: dict, container_port: dict | None) -> str | None:
    """The HTTP-family protocol a port declared otherwise says it carries, else None.

    Two places say so without any traffic: the rest of its own name (`tcp-grpc`: a protocol
    prefix put in front of the real one) and the container port it targets (`grpc`).
    """
    for token in str(port.get("name") or "").lower().split("-")[1:]:
        if token in HTTP_FAMILY:
            return token
    theirs = protocol_of(container_port) if container_port else None
    return theirs if theirs in HTTP_FAMILY else None


def target_port(port: dict, ps: dict) -> dict | None:
    """The container port a Service port's targetPort names (by name or number)."""
    target = port.get("targetPort", port.get("port"))
    for _, cp in container_ports(ps):
        if (isinstance(target, str) and not target.isdigit() and cp.get("name") == target) or str(
            cp.get("containerPort")
        ) == str(target):
            return cp
    return None


class PortProtocol(Check, name=NAME, codes=("IST0118", "ATL125"), kind="Service"):
    """Service ports should declare a protocol, and it should be the one the pods declare."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        if snap.mesh_installed:
            yield from super().findings(snap)

    def check(self, snap: Snapshot, svc: Obj) -> Iterator[Finding]:
        if ns_of(svc) in SYSTEM_NAMESPACES or ns_of(svc) == "default" and name_of(svc) == "kubernetes":
            return
        pods = service_pods(snap, svc)
        for port in spec(svc).get("ports") or []:
            proto = protocol_of(port)
            if proto is None and str(port.get("protocol") or "TCP").upper() in ("UDP", "SCTP"):
                continue
            if proto is None:
                yield self.finding(
                    "IST0118", Level.INFO, svc,
                    f"Port name {port.get('name', '')} (port: {port.get('port')}, targetPort: "
                    f"{port.get('targetPort', port.get('port'))}) doesn't follow the naming convention of Istio port.",
                )
                continue
            declared = {protocol_of(cp) for p in pods[:1] if (cp := target_port(port, pod_spec(p)))} - {None}
            for theirs in sorted(p for p in declared if p):
                if _FAMILY.get(theirs, theirs) != _FAMILY.get(proto, proto):
                    yield self.finding(
                        "ATL125", Level.WARNING, svc,
                        f"Port {port.get('name')} (port: {port.get('port')}) makes the mesh speak {proto}, but "
                        f"the container port it targets is declared {theirs}; requests will fail with protocol "
                        "errors.",
                        evidence=[
                            f"pod {ns_of(pods[0])}/{name_of(pods[0])} declares port "
                            f"{port.get('targetPort', port.get('port'))} as {theirs}"
                        ],
                    )
