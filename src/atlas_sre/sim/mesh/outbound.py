"""The client-side Envoy (a sidecar or the ingress gateway): route → cluster → hosts → answer.

Given the matched route (or the default route to the Service), this applies the route's fault
injection, picks destinations by weight, resolves each to an Envoy cluster
(`outbound|port|subset|fqdn`; a missing Service, port or DestinationRule subset means no cluster →
`503 NC cluster_not_found`), finds the cluster's ready hosts (none → `503 UH no_healthy_upstream`),
applies connection-pool overflow (`UO`) and outlier ejection (`UH`), tries hosts with the retry
policy (`URX`), and enforces the route timeout (`504 UT response_timeout`) and the caller's own
timeout (`0 DC downstream_remote_disconnect`). It books the client proxy's access-log line and its
`reporter=source` metric for every resulting class.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from atlas_sre.sim.ids import cluster_ip
from atlas_sre.sim.mesh import pool
from atlas_sre.sim.mesh.model import (
    BODY_FAULT,
    BODY_NO_HEALTHY,
    BODY_RESET,
    BODY_RETRIED,
    BODY_TIMEOUT,
    RETRY_BACKOFF_MS,
    Branch,
    Flow,
    Ledger,
    Metric,
    ProxyLine,
    Response,
)
from atlas_sre.sim.mesh.policy import namespace_mtls
from atlas_sre.sim.mesh.request import EXTERNAL_IP, Client, Request
from atlas_sre.sim.mesh.resolve import fqdn, lookup_service
from atlas_sre.sim.mesh.routing import destination_rule, rule_host, subset_labels, traffic_policy, weighted
from atlas_sre.sim.mesh.upstream import Attempt, Context, Upstream, attempt, body_size
from atlas_sre.sim.mesh.world import Instance
from atlas_sre.sim.state import Obj


def _pct(spec: dict[str, Any]) -> float:
    if "percentage" in spec:
        return float((spec.get("percentage") or {}).get("value", 100.0)) / 100.0
    return float(spec.get("percent", 100)) / 100.0


def service_ip(ctx: Context, svc: Obj) -> str:
    """The Service's ClusterIP (a stable one when the manifest left it to the API server)."""
    ip = (svc.get("spec") or {}).get("clusterIP")
    md = svc["metadata"]
    return ip if ip and ip != "None" else cluster_ip(ctx.world.seed, md.get("namespace", "default"), md["name"])


def client_line(client: Client, req: Request, resp: Response, cluster: str, route: str, up: Upstream | None,
                inst: Instance | None, port: int, tcp: bool) -> ProxyLine:
    """The client proxy's access-log line for one final class."""
    flags = set(resp.flags.split(","))
    local_reply_ = bool(flags & {"UO", "UH", "NC", "NR", "FI"}) or inst is None
    connected = not local_reply_ and "UF" not in flags
    via = resp.details == "via_upstream"
    sent = body_size(inst, req.path) if resp.ok and inst is not None else len(resp.body)
    upstream_host = "-"
    if not local_reply_:
        upstream_host = f"{up.cluster_ip}:{up.svc_port}" if up and up.passthrough else "{peer}:" + str(port)
    return ProxyLine(
        client.key, "-" if tcp else req.method, "-" if tcp else req.path, "-" if tcp else "HTTP/1.1",
        0 if tcp else resp.status, resp.flags, "-" if tcp and via else resp.details, "-", resp.transport, 0, sent,
        resp.latency_ms, str(int(resp.service_ms)) if via and not tcp and resp.service_ms is not None else "-", req.xff,
        "-" if tcp else client.agent, "-" if tcp else req.authority, upstream_host, cluster,
        "{self}:{eph}" if connected else "-", "{self}:8080" if client.gateway else req.dialed,
        f"{EXTERNAL_IP}:{{eph}}" if client.gateway else "{self}:{eph}", "-", "-" if tcp else route,
        inst.key if inst else "", tcp)


def _final(client: Client, req: Request, resp: Response, cluster: str, route: str, up: Upstream | None,
           inst: Instance | None, port: int, tcp: bool, ledger: Ledger | None = None) -> Branch:
    """A branch with the client-side line, the source-reported metric and the flow booked."""
    out = Ledger()
    if ledger is not None:
        out.merge(ledger)
    if client.logs:
        out.add(client_line(client, req, resp, cluster, route, up, inst, port, tcp), 1.0)
    svc = (up.service, up.service_name, up.service_ns) if up else ("unknown", "unknown", "unknown")
    if client.logs:  # a source without pods has no proxy to report for it
        out.add(Metric(client.workload, client.namespace or "unknown", *svc, inst.workload if inst else "unknown",
                       inst.namespace if inst else "unknown", 0 if tcp else resp.status, resp.flags, "source",
                       round(resp.latency_ms, 1), tcp), 1.0)
    if cluster not in ("-", ""):
        out.add(Flow(client.key or "external", cluster), 1.0)
    return Branch(1.0, resp, out)


def _shape(req: Request, resp: Response, route_timeout: float | None, delay_ms: float) -> Response:
    """Route timeout (504 UT), then an injected delay (DI), then the caller's own timeout.

    The route timeout starts at the router, after the fault filter's delay; the caller's clock
    runs for the whole exchange. A caller that gives up first shows `0 DC` at its proxy and a
    deadline error in its app.
    """
    if route_timeout and resp.latency_ms > route_timeout:
        resp = Response(504, "UT", "response_timeout", BODY_TIMEOUT, route_timeout, dest_5xx=True)
    if delay_ms:
        resp = resp.later(delay_ms, "DI")
    app = req.timeout_ms
    if app and resp.latency_ms > app:
        cause = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        return Response(0, "DC", "downstream_remote_disconnect", "", app, f'{req.op()} "{req.url()}": {cause}')
    return resp


def local_reply(client: Client, req: Request, status: int, flags: str, details: str, body: str = "",
                cluster: str = "-", route: str = "-", up: Upstream | None = None, delay_ms: float = 0.0) -> Branch:
    """An answer Envoy makes itself without reaching a host (NR, NC, UH, UO, FI, black hole)."""
    resp = _shape(req, Response(status, flags, details, body, 0.0), None, delay_ms)
    return _final(client, req, resp, cluster, route, up, None, 0, False)


def routed(ctx: Context, client: Client, req: Request, route: dict[str, Any] | None, rule_ns: str,
           default: Obj | None, tcp: bool) -> list[Branch]:
    """All classes for a matched route (None: the default route to `default`).

    Envoy's fault filter runs first: an abort share never reaches a cluster (`FI
    fault_filter_abort`, the chosen destination's cluster still logged); a delay share waits
    `fixedDelay` (`DI`) and then proceeds normally.
    """
    if route is None:
        assert default is not None
        dests = [(1.0, {"host": fqdn(default), "port": {"number": req.port}})]
        name = "default"
    else:
        dests = weighted(route.get("route") or [])
        name = route.get("name") or "-"
    fault = {} if tcp else (route or {}).get("fault") or {}
    abort, delay = fault.get("abort"), fault.get("delay")
    delay_ms = (pool.duration_ms((delay or {}).get("fixedDelay")) or 0.0) if delay else 0.0
    p_delay = _pct(delay) if delay_ms else 0.0
    out: list[Branch] = []
    for share, dest in dests:
        if abort:
            p = _pct(abort)
            host = rule_host(dest.get("host", ""), rule_ns)
            number = int((dest.get("port") or {}).get("number") or req.port)
            svc = _service_by_host(ctx, host)
            up = _named(ctx, svc, number) if svc else None
            fi = local_reply(client, req, int(abort.get("httpStatus") or 503), "FI", "fault_filter_abort", BODY_FAULT,
                             f"outbound|{number}|{dest.get('subset', '')}|{host}", name, up)
            out.append(Branch(share * p, fi.response, fi.ledger))
            share *= 1 - p
        for part, extra in ((1 - p_delay, 0.0), (p_delay, delay_ms)):
            if share * part > 0:
                out.extend(Branch(share * part * b.fraction, b.response, b.ledger)
                           for b in cluster_branches(ctx, client, req, dest, rule_ns, route, tcp, name, extra))
    return [b for b in out if b.fraction > 0]


def _named(ctx: Context, svc: Obj, number: int, cluster: str = "-", tcp: bool = False) -> Upstream:
    """An Upstream that names a Service (for metrics of answers that never reached a host)."""
    md = svc["metadata"]
    return Upstream(fqdn(svc), md["name"], md.get("namespace", "default"), service_ip(ctx, svc), number, cluster, "",
                    False, tcp)


def _service_by_host(ctx: Context, host: str) -> Obj | None:
    parts = host.split(".")
    if len(parts) == 5 and host.endswith(".svc.cluster.local"):
        return lookup_service(ctx.world, host, parts[1])
    return None


def cluster_branches(ctx: Context, client: Client, req: Request, dest: dict[str, Any], rule_ns: str,
                     route: dict[str, Any] | None, tcp: bool, route_name: str, delay_ms: float = 0.0
                     ) -> list[Branch]:
    """Classes for one route destination: cluster lookup, hosts, pool, ejection, retries, timeouts."""
    world = ctx.world
    host = rule_host(dest.get("host", ""), rule_ns)
    svc = _service_by_host(ctx, host)
    ports = ((svc or {}).get("spec") or {}).get("ports") or []
    number = int((dest.get("port") or {}).get("number") or (ports[0]["port"] if len(ports) == 1 else req.port))
    svc_port = next((p for p in ports if int(p.get("port", 0)) == number), None)
    subset = dest.get("subset", "") or ""
    if svc is None or svc_port is None:
        return [local_reply(client, req, 503, "NC", "cluster_not_found", "", "-", route_name, delay_ms=delay_ms)]
    svc_ns = svc["metadata"].get("namespace", "default")
    dr = destination_rule(world, host, client.namespace or svc_ns, svc_ns)
    labels = subset_labels(dr, subset) if subset else {}
    if labels is None:
        return [local_reply(client, req, 503, "NC", "cluster_not_found", "", "-", route_name,
                            _named(ctx, svc, number), delay_ms)]
    cluster = f"outbound|{number}|{subset}|{host}"
    policy = traffic_policy(dr, subset, number)
    tls = ((policy.get("tls") or {}).get("mode") or "").upper()
    hosts = [(i, p) for i, p in world.endpoints(svc, svc_port) if all(i.labels.get(k) == v for k, v in labels.items())]
    base = Upstream(host, svc["metadata"]["name"], svc_ns, service_ip(ctx, svc), number, cluster, subset, False, tcp)
    if not hosts:
        return [local_reply(client, req, 503, "UH", "no_healthy_upstream", BODY_NO_HEALTHY, cluster, route_name, base,
                            delay_ms)]
    route_timeout = None if tcp else pool.duration_ms((route or {}).get("timeout"))
    per_try = None if tcp else pool.per_try_ms(route)
    app_left = req.timeout_ms - delay_ms if req.timeout_ms else None
    deadline = min((t for t in (per_try, route_timeout, app_left) if t), default=None)
    per_host: Hosts = []
    for inst, port in hosts:
        auto = inst.sidecar and namespace_mtls(world, inst.namespace) != "DISABLE"
        mtls = tls == "ISTIO_MUTUAL" or (not tls and auto)
        up = Upstream(base.service, base.service_name, svc_ns, base.cluster_ip, number, cluster, subset, mtls, tcp)
        per_host.append((inst, port, up, attempt(ctx, client, inst, port, req, up, deadline)))
    timing = (route_timeout, delay_ms)
    return combine(ctx, client, req, per_host, policy, None if tcp else (route or {}), route_name, base, timing)


Hosts = list[tuple[Instance, int, Upstream, list[Attempt]]]


def _per_try_cut(a: Attempt, per_try: float) -> Attempt:
    """A try still unanswered at `perTryTimeout` is reset by the client's Envoy (`UT upstream_per_try_timeout`).

    The destination's side was already written with this deadline (`0 DC` at `per_try`).
    """
    if a.response.latency_ms <= per_try or a.response.flags not in ("-",):
        return a
    resp = Response(504, "UT", "upstream_per_try_timeout", BODY_TIMEOUT, per_try, dest_5xx=True)
    return Attempt(a.fraction, resp, a.ledger, a.inst, a.port)


def combine(ctx: Context, client: Client, req: Request, per_host: Hosts, policy: dict[str, Any],
            route: dict[str, Any] | None, route_name: str, base: Upstream, timing: tuple[float | None, float]
            ) -> list[Branch]:
    """Mix hosts (pool overflow, ejection), apply retries and timeouts, book the client side.

    `route` None means no retry policy (TCP, passthrough).
    """
    cluster, tcp = base.cluster, base.tcp
    route_timeout, delay_ms = timing
    per_try = pool.per_try_ms(route)
    if per_try:
        per_host = [(i, p, up, [_per_try_cut(a, per_try) for a in atts]) for i, p, up, atts in per_host]
    pods = sum(len(i.pods) for i, *_ in per_host)
    rps = ctx.flows.get((client.key or "external", cluster), 0.0) / max(1, client.pods)
    mean_ms = sum(len(i.pods) * sum(a.fraction * a.response.latency_ms for a in atts)
                  for i, _, _, atts in per_host) / pods
    uo = pool.overflow_share(policy.get("connectionPool"), rps, mean_ms)
    outlier = policy.get("outlierDetection")
    weights, all_out = [], 1.0
    for inst, _, _, atts in per_host:
        p5 = sum(a.fraction for a in atts if a.response.dest_5xx)
        e = pool.ejection_share(outlier, p5, rps * (1 - uo) / pods)
        weights.append(len(inst.pods) * (1 - e))
        all_out *= e ** len(inst.pods)
    if not pool.all_ejected_allowed(outlier, pods):
        all_out, weights = 0.0, [float(len(i.pods)) for i, *_ in per_host]
    out: list[Branch] = []
    if uo > 0:
        b = local_reply(client, req, 503, "UO", "upstream_reset_before_response_started{overflow}",
                        BODY_RESET + "overflow", cluster, route_name, base, delay_ms)
        out.append(Branch(uo, b.response, b.ledger))
    if all_out > 0:
        b = local_reply(client, req, 503, "UH", "no_healthy_upstream", BODY_NO_HEALTHY, cluster, route_name, base,
                        delay_ms)
        out.append(Branch((1 - uo) * all_out, b.response, b.ledger))
    total_w = sum(weights) or 1.0
    mixed = [(w / total_w * a.fraction, a, up)
             for w, (_, _, up, atts) in zip(weights, per_host, strict=True) for a in atts]
    retries, conditions = pool.retry_policy(route)
    q = sum(f for f, a, _ in mixed if pool.retriable(a.response, conditions)) if retries else 0.0
    fail_ms = (sum(f * a.response.latency_ms for f, a, _ in mixed if pool.retriable(a.response, conditions)) / q
               if q > 0 else 0.0) + RETRY_BACKOFF_MS
    if route_timeout and q > 0:  # the route timeout bounds all tries: no try starts after it
        retries = min(retries, max(0, math.ceil(route_timeout / fail_ms) - 1))
    tries = float(retries + 1) if q >= 1 else (1 - q ** (retries + 1)) / (1 - q)
    expect_k = sum(k * q**k for k in range(retries + 1)) / sum(q**k for k in range(retries + 1)) if q < 1 else 0.0
    served = (1 - uo) * (1 - all_out)
    for f, a, up in mixed:
        again = retries > 0 and pool.retriable(a.response, conditions)
        share = f * (q**retries if again else tries)
        resp = a.response
        if again:
            resp = resp.later(retries * fail_ms, "URX")
            body = resp.body.replace(BODY_RESET, BODY_RETRIED) if a.response.flags != "-" else resp.body
            resp = replace(resp, flags="URX" if a.response.flags == "-" else "URX," + a.response.flags, body=body)
        elif expect_k:
            resp = resp.later(expect_k * fail_ms)
        resp = _shape(req, resp, route_timeout, delay_ms)
        server_side = Ledger()
        server_side.merge(a.ledger, f * tries / share if share else 0.0)
        b = _final(client, req, resp, cluster, route_name, up, a.inst, a.port, tcp, server_side)
        out.append(Branch(served * share, b.response, b.ledger))
    return [b for b in out if b.fraction > 0]
