"""One connection attempt from a client to one upstream instance, seen from both ends.

In order: NetworkPolicy (a dropped SYN → connect timeout), the destination sidecar's inbound
listener (PeerAuthentication: plaintext into STRICT, or mTLS into a DISABLE workload, is reset
before any HTTP is read; under STRICT the listener logs `"- - -" 0 NR filter_chain_not_found`), the destination's
AuthorizationPolicy (403, logged by the destination), whether the app listens on the target port
(refused: the destination sidecar logs `UF`, or the client's Envoy does when the destination has
no sidecar), then the app itself (its own answer and latency, recursively through its calls).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atlas_sre.sim.ids import digest
from atlas_sre.sim.mesh.model import (
    BODY_RBAC,
    BODY_RESET,
    ENVOY_CONNECT_TIMEOUT_MS,
    SIDECAR_OVERHEAD_MS,
    Dist,
    Ledger,
    Metric,
    ProxyLine,
    Response,
)
from atlas_sre.sim.mesh.netpol import Peer, flow_allowed
from atlas_sre.sim.mesh.policy import Caller, authorize, mtls_mode
from atlas_sre.sim.mesh.request import EXTERNAL_IP, Client, Request
from atlas_sre.sim.mesh.world import Instance, World

REFUSED = "delayed_connect_error:_111"
APP_CONNECT_TIMEOUT_MS = 30_000.0
Serve = Callable[[Instance, dict[str, Any], str, str], tuple[Dist, Ledger]]


@dataclass
class Context:
    """What every hop needs: the world, pass-1 flows (for pools and ejection), the serve function."""

    world: World
    serve: Serve
    flows: dict[tuple[str, str], float] = field(default_factory=dict)
    saturated: dict[tuple[str, str], Any] = field(default_factory=dict)  # (instance, container) → capacity.Saturation
    hops: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    active: set[tuple[Any, ...]] = field(default_factory=set)


@dataclass(frozen=True)
class Upstream:
    """Where the client's connection goes: the Service, the cluster and how it talks to it."""

    service: str
    service_name: str
    service_ns: str
    cluster_ip: str
    svc_port: int
    cluster: str
    subset: str
    mtls: bool
    tcp: bool
    passthrough: bool = False


@dataclass
class Attempt:
    """The outcome of one attempt against one instance: share, client view, server-side records."""

    fraction: float
    response: Response
    ledger: Ledger
    inst: Instance
    port: int


def body_size(inst: Instance, path: str) -> int:
    """A stable response size for a successful answer of this workload."""
    return 180 + int.from_bytes(digest("size", inst.workload, path)[:2], "big") % 4000


def client_peer(client: Client, world: World) -> Peer:
    """The client as NetworkPolicy sees it."""
    if not client.key:
        return Peer(client.namespace, {}, EXTERNAL_IP)
    inst = world.instances.get(client.key)
    return Peer(client.namespace, client.labels, inst.ips[0] if inst and inst.ips else "")


def _port_names(inst: Instance) -> dict[str, int]:
    return {p["name"]: int(p["containerPort"]) for c in inst.app_containers() for p in c.get("ports") or []
            if p.get("name")}


def _go_error(req: Request, cause: str) -> str:
    return f'{req.op()} "{req.url()}": {cause}'


def inbound_line(client: Client, inst: Instance, req: Request, up: Upstream, port: int, code: int, flags: str,
                 details: str, sent: int, duration: float, app_ms: float | None, transport: str = "-") -> ProxyLine:
    """The destination sidecar's access-log line for one request class."""
    sni = f"outbound_.{up.svc_port}_.{up.subset}_.{up.service}" if up.mtls else "-"
    remote = "{peer}:{eph}" if client.key else f"{EXTERNAL_IP}:{{eph}}"
    connected = app_ms is not None
    return ProxyLine(
        inst.key, "-" if up.tcp else req.method, "-" if up.tcp else req.path, "-" if up.tcp else "HTTP/1.1",
        0 if up.tcp else code, flags, "-" if up.tcp and details == "via_upstream" else details, "-",
        transport, 0, sent, duration, str(int(app_ms)) if connected and code and not up.tcp else "-", req.xff,
        "-" if up.tcp else client.agent, "-" if up.tcp else req.authority,
        "{self}:" + str(port) if connected or transport != "-" else "-", f"inbound|{port}||",
        "127.0.0.6:{eph}" if connected else "-", "{self}:" + str(port), remote, sni,
        "-" if up.tcp else "default", client.key, up.tcp,
    )


def no_filter_chain(client: Client, inst: Instance, port: int) -> ProxyLine:
    """The destination sidecar's listener line for a connection no filter chain matches.

    Under STRICT mTLS the inbound listener only has chains for Istio mTLS; a plaintext connection
    matches none, so Envoy closes it before any HTTP is read and logs a TCP-shaped line
    (`"- - -" 0 NR filter_chain_not_found`, no cluster, no route).
    """
    remote = "{peer}:{eph}" if client.key else f"{EXTERNAL_IP}:{{eph}}"
    return ProxyLine(inst.key, "-", "-", "-", 0, "NR", "filter_chain_not_found", "-", "-", 0, 0, 0.0, "-", "-",
                     "-", "-", "-", "-", "-", "{self}:" + str(port), remote, "-", "-", client.key, True)


def server_metric(client: Client, inst: Instance, up: Upstream, code: int, flags: str, latency: float) -> Metric:
    """reporter=destination: the source is only known when peer metadata came over mTLS."""
    known = up.mtls and client.key
    return Metric(client.workload if known else "unknown", (client.namespace or "unknown") if known else "unknown",
                  up.service, up.service_name, up.service_ns, inst.workload, inst.namespace,
                  0 if up.tcp else code, flags, "destination", round(latency, 1), up.tcp)


def _fail(client: Client, inst: Instance, port: int, resp: Response, ledger: Ledger | None = None) -> list[Attempt]:
    return [Attempt(1.0, resp, ledger or Ledger(), inst, port)]


def attempt(ctx: Context, client: Client, inst: Instance, port: int, req: Request, up: Upstream,
            deadline: float | None) -> list[Attempt]:
    """Every request class of one attempt against `inst` on target `port`."""
    world = ctx.world
    dial = f"{up.cluster_ip}:{up.svc_port}"
    dst = Peer(inst.namespace, inst.labels, inst.ips[0] if inst.ips else "", _port_names(inst))
    if not flow_allowed(world, client_peer(client, world), dst, port):
        if client.proxy:
            return _fail(client, inst, port, Response(
                503, "UF", "upstream_reset_before_response_started{connection_timeout}",
                BODY_RESET + "connection timeout", ENVOY_CONNECT_TIMEOUT_MS, dest_5xx=True))
        wait = min(req.timeout_ms or APP_CONNECT_TIMEOUT_MS, APP_CONNECT_TIMEOUT_MS)
        cause = _go_error(req, f"dial tcp {dial}: i/o timeout")
        return _fail(client, inst, port, Response(0, "-", "-", "", wait, cause))
    if inst.sidecar:
        mode = mtls_mode(world, inst, port)
        if (mode == "STRICT" and not up.mtls) or (mode == "DISABLE" and up.mtls):
            ledger = Ledger()
            if mode == "STRICT":  # no inbound filter chain accepts plaintext: the listener logs and closes
                ledger.add(no_filter_chain(client, inst, port), 1.0)
            if client.proxy:
                return _fail(client, inst, port, Response(
                    503, "UC", "upstream_reset_before_response_started{connection_termination}",
                    BODY_RESET + "connection termination", 1.0, dest_5xx=True), ledger)
            cause = f"read tcp {{self}}:{{eph}}->{dial}: read: connection reset by peer"
            return _fail(client, inst, port, Response(0, "-", "-", "", 1.0, _go_error(req, cause)), ledger)
        who = Caller(client.principal if up.mtls else None, client.namespace if up.mtls and client.key else None,
                     req.path, req.method, req.authority, port, req.header_map)
        denial = authorize(world, inst, who, up.tcp)
        if denial:
            ledger = Ledger()
            ledger.add(inbound_line(client, inst, req, up, port, 403, "-", denial, len(BODY_RBAC), 0.0, None), 1.0)
            ledger.add(server_metric(client, inst, up, 403, "-", 0.0), 1.0)
            body = BODY_RBAC if not up.tcp else ""
            status = 403 if not up.tcp else 0
            resp = Response(status, "-" if not up.tcp else "UC", "via_upstream", body, SIDECAR_OVERHEAD_MS,
                            "" if status else _go_error(req, "read: connection reset by peer"), service_ms=0.0)
            return _fail(client, inst, port, resp, ledger)
    container = world.container_for_port(inst, port)
    if container is None:
        return _refused(client, inst, port, req, up, dial)
    dist, served = ctx.serve(inst, container, req.path, req.method)
    out: list[Attempt] = []
    for frac, r in dist:
        app_ms = r.latency_ms
        total = app_ms + (SIDECAR_OVERHEAD_MS if inst.sidecar else 0.0)
        ledger = Ledger()
        ledger.merge(served)
        sent = len(r.body) if not r.ok else body_size(inst, req.path)
        if inst.sidecar:
            if deadline is not None and total > deadline:
                line = inbound_line(client, inst, req, up, port, 0, "DC", "downstream_remote_disconnect", 0,
                                    deadline, app_ms)
            else:
                line = inbound_line(client, inst, req, up, port, r.status, "-", "via_upstream", sent, total, app_ms)
            ledger.add(line, 1.0)
            ledger.add(server_metric(client, inst, up, r.status, "-", total), 1.0)
        resp = Response(r.status, "-", "via_upstream", r.body if not r.ok else "", total,
                        dest_5xx=r.status >= 500, service_ms=total)
        out.append(Attempt(frac, resp, ledger, inst, port))
    return out


def _refused(client: Client, inst: Instance, port: int, req: Request, up: Upstream, dial: str) -> list[Attempt]:
    """Nothing listens on the target port: the kernel refuses the connection."""
    reason = BODY_RESET + "connection failure, transport failure reason: delayed connect error: 111"
    details = "upstream_reset_before_response_started{connection_failure," + REFUSED + "}"
    if inst.sidecar:
        ledger = Ledger()
        ledger.add(inbound_line(client, inst, req, up, port, 503, "UF", details, len(reason), 0.0, None, REFUSED), 1.0)
        ledger.add(server_metric(client, inst, up, 503, "UF", 0.0), 1.0)
        if not client.proxy:
            return _fail(client, inst, port, Response(503, "-", "via_upstream", reason, 1.0, service_ms=0.0), ledger)
        return _fail(client, inst, port, Response(503, "-", "via_upstream", reason, 1.0, dest_5xx=True, service_ms=0.0),
                     ledger)
    if client.proxy:
        return _fail(client, inst, port, Response(503, "UF", details, reason, 1.0, transport=REFUSED,
                                                  dest_5xx=True))
    return _fail(client, inst, port, Response(0, "-", "-", "", 1.0, _go_error(req, f"dial tcp {dial}: connect: "
                                                                                  "connection refused")))
