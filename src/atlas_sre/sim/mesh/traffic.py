"""Walk the call graph from the entry points and book everything the traffic causes.

Entry points (`spec.traffic.entrypoints`), one of:

- `{gateway: istio-system/istio-ingressgateway, host: shop.example.com, path: /productpage, rps: 20}`
  — outside users through the ingress gateway Service (`port` defaults to 80; `method`, `headers`
  optional);
- `{service: shop/frontend, port: 8080, path: /, rps: 10, source: shop/loadgenerator}` — an
  in-cluster load generator: with `source` (a Deployment/StatefulSet) its ready pods send the
  requests through their own sidecar; without it an anonymous in-mesh client (mTLS, routing
  rules apply, no logs on its side; `mesh: false` makes it a plaintext client outside the mesh).
- `{source: shop/report-builder, path: /run, rps: 0.5}` (no `service`) — a self-driven worker (a
  CronJob's running pods, a queue consumer): at `rps` its pods do what their image does for `path`
  (its `routes`/`calls`, through its own sidecar), writing their own proxy and app log lines.

With no entry points, every host of a VirtualService bound to a Gateway gets 10 rps at the path of
its first route (what users of the published hosts would send).

A served request runs the image's `calls` in order (those of the first `routes` entry matching
its path and method, when the image serves paths differently) and fails fast: the first failing required call
makes the service answer `onDependencyError.status` and log `onDependencyError.log`; optional
calls log and continue. Rates are propagated exactly (fractions × rps) in two passes: the first
measures the request rate each client offers to each Envoy cluster, the second uses those rates
for connection-pool overflow and outlier ejection, and the load each container is offered for
saturation (`capacity.py`: a container whose CPU cannot keep up queues, slows and refuses).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.mesh.capacity import REFUSED_MS, Saturation, load_of, overloaded
from atlas_sre.sim.mesh.hop import gateway_hop, hop
from atlas_sre.sim.mesh.model import AppLine, Branch, Dist, EntryLine, Flow, Ledger, Load, Response, compress
from atlas_sre.sim.mesh.request import BROWSER_AGENT, Request, instance_client, synthetic_client
from atlas_sre.sim.mesh.requires import request_refusal
from atlas_sre.sim.mesh.resolve import call_address, parse_address
from atlas_sre.sim.mesh.upstream import Context
from atlas_sre.sim.mesh.world import ROOT_NS, Instance, World

DEFAULT_RPS = 10.0
MAX_DEPTH = 16
REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class _Safe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, **values: Any) -> str:
    """Fill `{name}` placeholders; unknown ones stay as written (templates are hidden data)."""
    try:
        return template.format_map(_Safe(values)).rstrip()
    except (ValueError, IndexError, AttributeError):
        for k, v in values.items():
            template = template.replace("{" + k + "}", str(v))
        return template.rstrip()


def _convolve(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = [(pa * pb, la + lb) for pa, la in a for pb, lb in b if pa * pb > 0]
    return [(f, r.latency_ms) for f, r in compress([(f, Response(200, latency_ms=lat)) for f, lat in out])]


def _dependency_line(beh: ImageBehaviour, name: str, resp: Response) -> str:
    status = str(resp.status) if resp.status else resp.error
    body = resp.body if resp.status else ""
    return render(beh.onDependencyError.log, dependency=name, status=status, body=body,
                  error=resp.error or resp.body or str(resp.status), flags=resp.flags)


def _overloaded(dist: Dist, ledger: Ledger, sat: Saturation, own_ms: float) -> tuple[Dist, Ledger]:
    """A saturated server (see `capacity.py`): the admitted share waits in its full queue and runs
    throttled (only it calls dependencies); the rest is refused with 503 at once."""
    admitted = Ledger()
    admitted.merge(ledger, sat.served)
    extra = own_ms * (sat.rho - 1.0) + sat.wait_ms
    refused = Response(503, body=REASONS[503], latency_ms=REFUSED_MS)
    return compress([(f * sat.served, replace(r, latency_ms=r.latency_ms + extra)) for f, r in dist]
                    + [(1.0 - sat.served, refused)]), admitted


def serve(ctx: Context, inst: Instance, container: dict[str, Any], path: str, method: str) -> tuple[Dist, Ledger]:
    """What `inst`'s app answers to one request kind, and everything serving it causes."""
    key = ("serve", inst.key, container.get("name"), path, method)
    if key in ctx.hops:
        cached: tuple[Dist, Ledger] = ctx.hops[key]
        return cached
    world = ctx.world
    beh = world.behaviour(container.get("image", "")) or ImageBehaviour()
    own_ms, calls = beh.served(path, method)
    if key in ctx.active or len(ctx.active) >= MAX_DEPTH:
        return [(1.0, Response(200, latency_ms=own_ms))], Ledger()
    ctx.active.add(key)
    name = container.get("name", "")
    client = instance_client(inst, name)
    ledger = Ledger()
    reach, ok_lat = 1.0, [(1.0, own_ms)]
    failures: Dist = []
    refused = request_refusal(world, inst, container, beh, path, method)  # requires[].onFail: request
    if refused is not None:
        ledger.add(AppLine(inst.key, name, refused[0]), 1.0)
        failures, reach, calls = [(1.0, replace(refused[1], latency_ms=own_ms))], 0.0, []
    for call in calls:
        address = call_address(world, inst.namespace, inst.spec, container, call, world.started(inst, name))
        if address is None:
            branches = [Branch(1.0, Response(0, error=f"no address configured for {call.name}"))]
        else:
            t = parse_address(address)
            req = Request(call.name, t.host, t.port, t.authority, call.path, call.method, (), call.protocol,
                          call.timeoutMs)
            branches = hop(ctx, client, req)
        base = sum(p * lat for p, lat in ok_lat)
        for b in branches:
            ledger.merge(b.ledger, reach * b.fraction)
            if not b.response.ok:
                ledger.add(AppLine(inst.key, name, _dependency_line(beh, call.name, b.response)), reach * b.fraction)
                if call.required:
                    status = beh.onDependencyError.status
                    failures.append((reach * b.fraction, Response(status, body=REASONS.get(status, "error"),
                                                                  latency_ms=base + b.response.latency_ms)))
        good = [b for b in branches if b.response.ok] if call.required else branches
        p_good = sum(b.fraction for b in good)
        if p_good <= 0:
            reach = 0.0
            break
        ok_lat = _convolve(ok_lat, [(b.fraction / p_good, b.response.latency_ms) for b in good])
        if call.required:
            reach *= p_good
    dist = compress([(reach * p, Response(200, latency_ms=lat)) for p, lat in ok_lat] + failures)
    sat: Saturation | None = ctx.saturated.get((inst.key, name))
    if sat is not None:
        dist, ledger = _overloaded(dist, ledger, sat, own_ms)
    ledger.add(Load(inst.key, name), 1.0)
    if beh.logs.request:
        for frac, r in dist:
            text = render(beh.logs.request, status=r.status, latencyMs=int(round(r.latency_ms)), path=path,
                          method=method)
            ledger.add(AppLine(inst.key, name, text), frac)
    ctx.active.discard(key)
    ctx.hops[key] = (dist, ledger)
    return dist, ledger


def entry_name(entry: dict[str, Any]) -> str:
    """A readable label for an entry point: `GET shop.example.com/productpage`."""
    where = entry.get("host") or entry.get("service") or entry.get("source", "")
    return f"{entry.get('method', 'GET')} {where}{entry.get('path', '/')}"


def _split(ref: str, default_ns: str) -> tuple[str, str]:
    ns, _, name = ref.rpartition("/")
    return (ns or default_ns), name


def entry_branches(ctx: Context, entry: dict[str, Any]) -> list[Branch]:
    """Classes of one entry point's requests, as its source sees them."""
    world = ctx.world
    path, method = str(entry.get("path", "/")), str(entry.get("method", "GET"))
    headers = tuple(sorted((str(k).lower(), str(v)) for k, v in (entry.get("headers") or {}).items()))
    timeout = entry.get("timeoutMs")
    if entry.get("gateway"):
        ns, name = _split(str(entry["gateway"]), ROOT_NS)
        port = int(entry.get("port", 80))
        host = str(entry.get("host") or "*")
        req = Request("entry", host, port, host, path, method, headers, "http", timeout, dialed="{self}:8080")
        svc = world.get("Service", ns, name)
        svc_port = next((p for p in ((svc or {}).get("spec") or {}).get("ports") or [] if p.get("port") == port), None)
        hosts = world.endpoints(svc, svc_port) if svc and svc_port else []
        if not hosts:
            cause = f'{req.op()} "{req.url()}": dial tcp {name}.{ns}:{port}: connect: connection refused'
            return [Branch(1.0, Response(0, error=cause))]
        pods = sum(len(i.pods) for i, _ in hosts)
        return [Branch(len(i.pods) / pods * b.fraction, b.response, b.ledger)
                for i, tport in hosts for b in gateway_hop(ctx, i, tport, req)]
    if not entry.get("service") and entry.get("source"):
        return _self_driven(ctx, entry, path, method)
    ns, name = _split(str(entry.get("service", "")), "default")
    port = int(entry.get("port", 80))
    req = Request("entry", f"{name}.{ns}", port, f"{name}.{ns}:{port}", path, method, headers, "http", timeout)
    if entry.get("source"):
        src_ns, src = _split(str(entry["source"]), ns)
        insts = [i for i in world.instances.values() if i.namespace == src_ns and i.workload == src]
        total = sum(len(i.pods) for i in insts)
        return [Branch(len(i.pods) / total * b.fraction, b.response, b.ledger) for i in insts
                for b in hop(ctx, instance_client(i, i.app_containers()[0]["name"]), req)]
    client = synthetic_client(ns, bool(entry.get("mesh", True)), str(entry.get("userAgent") or BROWSER_AGENT))
    return hop(ctx, client, req)


def _self_driven(ctx: Context, entry: dict[str, Any], path: str, method: str) -> list[Branch]:
    """A worker that acts on its own (a CronJob's pods, a queue consumer): no one calls it; at `rps` its
    pods do the work their image does for `path` — its `calls` through its own sidecar, its log lines."""
    src_ns, src = _split(str(entry["source"]), "default")
    insts = [i for i in ctx.world.instances.values() if i.namespace == src_ns and i.workload == src]
    total = sum(len(i.pods) for i in insts)
    out: list[Branch] = []
    for inst in insts:
        dist, ledger = ctx.serve(inst, inst.app_containers()[0], path, method)
        # every branch carries the whole ledger: the shares sum to one, so it is booked once per job
        out += [Branch(len(inst.pods) / total * f, r, ledger) for f, r in dist]
    return out


def default_entrypoints(world: World) -> list[dict[str, Any]]:
    """10 rps to every host of every gateway-bound VirtualService, at its first route's path."""
    out: list[dict[str, Any]] = []
    for vs in world.list("VirtualService"):
        spec = vs.get("spec") or {}
        if not [g for g in spec.get("gateways") or [] if g != "mesh"]:
            continue
        first = ((spec.get("http") or [{}])[0].get("match") or [{}])[0].get("uri") or {}
        path = first.get("exact") or first.get("prefix") or "/"
        for host in spec.get("hosts") or []:
            if "*" not in host:
                out.append({"gateway": f"{ROOT_NS}/istio-ingressgateway", "host": host, "path": path,
                            "rps": DEFAULT_RPS})
    return out


def _context(world: World, flows: dict[tuple[str, str], float],
             saturated: dict[tuple[str, str], Saturation] | None = None) -> Context:
    ctx = Context(world, serve=lambda *a: ([], Ledger()), flows=flows, saturated=dict(saturated or {}))
    ctx.serve = lambda inst, c, path, method: serve(ctx, inst, c, path, method)
    return ctx


def _run(ctx: Context, entrypoints: list[dict[str, Any]]) -> Ledger:
    ledger = Ledger()
    for entry in entrypoints:
        rps = float(entry.get("rps", DEFAULT_RPS))
        for b in entry_branches(ctx, entry):
            ledger.merge(b.ledger, rps * b.fraction)
            ledger.add(EntryLine(entry_name(entry), b.response.status, b.response.flags,
                                 round(b.response.latency_ms, 1)), rps * b.fraction)
    return ledger


def evaluate(world: World, entrypoints: list[dict[str, Any]] | None) -> Ledger:
    """The steady-state ledger of a world under its entry points (two passes, see module doc)."""
    entries = entrypoints if entrypoints is not None else default_entrypoints(world)
    first = _run(_context(world, {}), entries)
    tuned = any(k in json.dumps(dr.get("spec") or {}) for dr in world.list("DestinationRule")
                for k in ('"connectionPool"', '"outlierDetection"'))
    saturated = overloaded(world, load_of(first))
    if not tuned and not saturated:
        return first
    flows = {(r.client, r.cluster): rate for r, rate in first.rates.items() if isinstance(r, Flow)}
    return _run(_context(world, flows, saturated), entries)
