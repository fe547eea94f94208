"""One hop, from the caller's code to an answer: DNS, the Service port, then the client's path.

- The caller's resolver: a DNS policy without cluster DNS, or egress NetworkPolicy blocking
  UDP 53, fails the lookup; a name with no Service is `no such host`. The app never connects, so
  no proxy logs anything (Istio's DNS proxying is off by default).
- A Service port that does not exist: nothing answers on the ClusterIP (the app times out; with a
  sidecar, Envoy's TCP passthrough fails after its connect timeout and the app reads EOF).
- Without a client sidecar, kube-proxy picks any ready endpoint (no VirtualService, no subsets,
  plaintext); none → `connection refused`.
- With a sidecar: a Sidecar resource that hides the host sends traffic to PassthroughCluster
  (ALLOW_ANY: plaintext, no routing rules) or the black hole (REGISTRY_ONLY: `502 direct_response`,
  route `block_all`); a TCP port uses the VirtualService's `tcp` route or the Service; an HTTP port
  the first matching `http` route (no match: `404 NR route_not_found`) or the default route.
- The ingress gateway: no Gateway server on the port → the listener does not exist (refused);
  AuthorizationPolicy on the gateway (403, logged by the gateway); no server host or no bound
  VirtualService for the Host → `404 NR route_not_found`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from atlas_sre.sim.mesh.model import (
    BLACK_HOLE,
    BODY_RBAC,
    BODY_RESET,
    ENVOY_CONNECT_TIMEOUT_MS,
    Branch,
    Ledger,
    Response,
)
from atlas_sre.sim.mesh.netpol import dns_allowed
from atlas_sre.sim.mesh.outbound import client_line, combine, local_reply, routed, service_ip
from atlas_sre.sim.mesh.policy import Caller, authorize
from atlas_sre.sim.mesh.request import EXTERNAL_IP, Client, Request, gateway_client
from atlas_sre.sim.mesh.resolve import CLUSTER_DNS, dns_failure, fqdn, lookup_service
from atlas_sre.sim.mesh.routing import (
    egress_visible,
    gateway_servers,
    gateway_virtual_service,
    http_route,
    mesh_virtual_service,
    outbound_mode,
    port_protocol,
    sidecar_resource,
)
from atlas_sre.sim.mesh.upstream import APP_CONNECT_TIMEOUT_MS, Context, Upstream, attempt, client_peer
from atlas_sre.sim.mesh.world import Instance
from atlas_sre.sim.state import Obj


def _error(req: Request, cause: str, latency: float = 1.0) -> list[Branch]:
    return [Branch(1.0, Response(0, "-", "-", "", latency, f'{req.op()} "{req.url()}": {cause}'))]


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit()


def hop(ctx: Context, client: Client, req: Request) -> list[Branch]:
    """Every class of one request kind from `client` (memoised: the answer does not depend on rate)."""
    key = ("hop", client, req)
    if key not in ctx.hops:
        ctx.hops[key] = _hop(ctx, client, req)
    result: list[Branch] = ctx.hops[key]
    return result


def _hop(ctx: Context, client: Client, req: Request) -> list[Branch]:
    world = ctx.world
    if client.key and not _is_ip(req.host):
        failure = dns_failure(world, client.spec, req.host)
        if failure:
            return _error(req, failure, 5.0)
        if not dns_allowed(world, client_peer(client, world)):
            cause = (f"dial tcp: lookup {req.host} on {CLUSTER_DNS}:53: read udp {{self}}:{{eph}}->{CLUSTER_DNS}:53: "
                     "i/o timeout")
            return _error(req, cause, 10_000.0)
    svc = lookup_service(world, req.host, client.namespace or "default")
    if svc is None:
        return _error(req, f"dial tcp: lookup {req.host} on {CLUSTER_DNS}:53: no such host")
    req = replace(req, dialed=f"{service_ip(ctx, svc)}:{req.port}")
    svc_port = next((p for p in (svc.get("spec") or {}).get("ports") or [] if int(p.get("port", 0)) == req.port), None)
    if svc_port is None:
        return _no_port(client, req)
    tcp = port_protocol(svc_port, req.protocol) == "tcp"
    if not client.proxy:
        return direct(ctx, client, req, svc, svc_port, tcp)
    inst = world.instances.get(client.key)
    sidecar = sidecar_resource(world, inst) if inst else None
    svc_ns = svc["metadata"].get("namespace", "default")
    if not egress_visible(sidecar, client.namespace or "", svc_ns, fqdn(svc)):
        if outbound_mode(sidecar) == "REGISTRY_ONLY":  # Istio labels these requests BlackHoleCluster
            up = Upstream(BLACK_HOLE, BLACK_HOLE, "unknown", service_ip(ctx, svc), req.port, "-", "", False, tcp)
            return [local_reply(client, req, 502, "-", "direct_response", "", "-", "block_all", up)]
        return passthrough(ctx, client, req, svc, svc_port, tcp)
    vs = mesh_virtual_service(world, fqdn(svc))
    vs_ns = vs["metadata"].get("namespace", "default") if vs else svc_ns
    if tcp:
        tcp_routes = ((vs or {}).get("spec") or {}).get("tcp") or []
        return routed(ctx, client, req, tcp_routes[0] if tcp_routes else None, vs_ns, svc, True)
    if vs is None:
        return routed(ctx, client, req, None, svc_ns, svc, False)
    match = http_route(vs, req.path, req.method, req.header_map, client.labels, client.namespace or "", {"mesh"})
    if match is None:
        up = _upstream(ctx, svc, req.port, "-", False, False)
        return [local_reply(client, req, 404, "NR", "route_not_found", up=up)]
    return routed(ctx, client, req, match[1], vs_ns, svc, False)


def _no_port(client: Client, req: Request) -> list[Branch]:
    """Dialing a ClusterIP on a port the Service does not have: nothing ever answers."""
    if not client.proxy:
        wait = min(req.timeout_ms or APP_CONNECT_TIMEOUT_MS, APP_CONNECT_TIMEOUT_MS)
        return _error(req, f"dial tcp {req.dialed}: i/o timeout", wait)
    resp = Response(0, "UF", "-", "", ENVOY_CONNECT_TIMEOUT_MS, f'{req.op()} "{req.url()}": EOF')
    ledger = Ledger()
    if client.logs:
        up = Upstream("PassthroughCluster", "PassthroughCluster", "unknown", req.dialed.rsplit(":", 1)[0],
                      req.port, "PassthroughCluster", "", False, True, True)
        ledger.add(client_line(client, req, resp, "PassthroughCluster", "-", up, None, req.port, True), 1.0)
    return [Branch(1.0, resp, ledger)]


def _upstream(ctx: Context, svc: Obj, number: int, cluster: str, tcp: bool, passthrough: bool) -> Upstream:
    md = svc["metadata"]
    return Upstream(fqdn(svc), md["name"], md.get("namespace", "default"), service_ip(ctx, svc), number, cluster,
                    "", False, tcp, passthrough)


def direct(ctx: Context, client: Client, req: Request, svc: Obj, svc_port: dict[str, Any], tcp: bool) -> list[Branch]:
    """A client without a sidecar: kube-proxy to any ready endpoint, plaintext, no mesh routing."""
    hosts = ctx.world.endpoints(svc, svc_port)
    if not hosts:
        return _error(req, f"dial tcp {req.dialed}: connect: connection refused")
    up = _upstream(ctx, svc, int(svc_port["port"]), "-", tcp, False)
    pods = sum(len(i.pods) for i, _ in hosts)
    out: list[Branch] = []
    for inst, port in hosts:
        for a in attempt(ctx, client, inst, port, req, up, req.timeout_ms):
            resp = a.response
            if req.timeout_ms and resp.latency_ms > req.timeout_ms:
                cause = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                resp = Response(0, "-", "-", "", req.timeout_ms, f'{req.op()} "{req.url()}": {cause}')
            out.append(Branch(len(inst.pods) / pods * a.fraction, resp, a.ledger))
    return out


def passthrough(ctx: Context, client: Client, req: Request, svc: Obj, svc_port: dict[str, Any],
                tcp: bool) -> list[Branch]:
    """A host the proxy does not know (ALLOW_ANY): forwarded as-is to the ClusterIP, in plaintext."""
    up = _upstream(ctx, svc, int(svc_port["port"]), "PassthroughCluster", tcp, True)
    hosts = ctx.world.endpoints(svc, svc_port)
    if not hosts:
        details = "upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111}"
        reason = BODY_RESET + "connection failure, transport failure reason: delayed connect error: 111"
        return [local_reply(client, req, 503, "UF", details, reason, "PassthroughCluster", "allow_any", up)]
    per_host = [(inst, port, up, attempt(ctx, client, inst, port, req, up, req.timeout_ms)) for inst, port in hosts]
    return combine(ctx, client, req, per_host, {}, None, "allow_any", up, (None, 0.0))


def gateway_hop(ctx: Context, gw: Instance, target_port: int, req: Request) -> list[Branch]:
    """An outside request arriving at one ingress-gateway instance."""
    world = ctx.world
    client = gateway_client(gw)
    servers = gateway_servers(world, gw, req.port)
    if not servers:
        return _error(req, f"dial tcp {req.dialed}: connect: connection refused")
    req = replace(req, xff=EXTERNAL_IP)
    who = Caller(None, None, req.path, req.method, req.authority, target_port, req.header_map)
    denial = authorize(world, gw, who)
    if denial:
        return [local_reply(client, req, 403, "-", denial, BODY_RBAC)]
    _, vs = gateway_virtual_service(world, servers, req.authority)
    if vs is None:
        return [local_reply(client, req, 404, "NR", "route_not_found")]
    names: set[str] = set()
    for g, _ in servers:
        ns, name = g["metadata"].get("namespace", "default"), g["metadata"]["name"]
        names |= {f"{ns}/{name}"} | ({name} if ns == vs["metadata"].get("namespace") else set())
    match = http_route(vs, req.path, req.method, req.header_map, gw.labels, gw.namespace, names)
    if match is None:
        return [local_reply(client, req, 404, "NR", "route_not_found")]
    return routed(ctx, client, req, match[1], vs["metadata"].get("namespace", "default"), None, False)
