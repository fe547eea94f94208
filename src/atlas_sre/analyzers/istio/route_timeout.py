"""ATL121: a VirtualService route timeout below the latency the destination actually shows.

Why: a timeout shorter than the service needs turns every slow-enough request into `504 UT
response_timeout` at the caller. Latency is not configuration, so the evidence comes from
istio-proxy access logs: the destination's inbound durations, and callers' `UT` lines for that host.
Without logs this analyzer stays silent rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas_sre.analyzers.accesslog import parse_lines, percentile
from atlas_sre.analyzers.base import Check, Finding, Level
from atlas_sre.analyzers.k8s import (
    by_owner,
    dependencies,
    has_sidecar,
    labels,
    live_pods,
    map_matches,
    name_of,
    ns_of,
    owner,
    service_pods,
    spec,
    workloads,
)
from atlas_sre.analyzers.mesh import fqdn, gateway_key, service_for
from atlas_sre.analyzers.snapshot import LogRequest, Obj, Snapshot

NAME = "route-timeout"
CUT_SHARE = 0.8  # an inbound request dropped by the caller after >= 80% of the timeout was cut by it
MIN_SAMPLES = 3
ABANDONED_SHARE = 0.2  # at least this share of inbound requests cut at the timeout
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_SCALE = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def duration_ms(text: str) -> float | None:
    """`250ms`, `1.5s`, `2m` -> milliseconds; None when unparseable."""
    m = _DURATION.match(str(text).strip())
    return float(m.group(1)) * _SCALE[m.group(2)] if m else None


def timed_routes(snap: Snapshot) -> list[tuple[Obj, int, float, Obj]]:
    """(VirtualService, rule index, timeout ms, Service) for routes with a timeout to a known Service."""
    out = []
    for vs in snap.of_kind("VirtualService"):
        for i, rule in enumerate(spec(vs).get("http") or []):
            ms = duration_ms(str(rule.get("timeout") or ""))
            if ms is None:
                continue
            for route in rule.get("route") or []:
                host = str((route.get("destination") or {}).get("host") or "")
                svc = service_for(snap, fqdn(host, ns_of(vs), snap))
                if svc is not None:
                    out.append((vs, i, ms, svc))
    return out


def _gateway_pods(snap: Snapshot, vs: Obj) -> list[Obj]:
    """Pods of the Gateways a VirtualService is bound to (they are its callers at the ingress)."""
    out = []
    for ref in spec(vs).get("gateways") or []:
        key = gateway_key(str(ref), ns_of(vs))
        gw = snap.get("Gateway", key[0], key[1]) if key else None
        sel = spec(gw).get("selector") if gw else None
        if sel:
            out += [p for p in live_pods(snap) if map_matches(sel, labels(p))]
    return out


def _callers(snap: Snapshot, svc: Obj) -> list[Obj]:
    return [
        w
        for w in workloads(snap)
        if any((ns, n) == (ns_of(svc), name_of(svc)) for _, ns, n, _ in dependencies(snap, w))
    ]


class RouteTimeout(Check, name=NAME, codes=("ATL121",)):
    """Route timeouts must exceed what the destination needs to answer."""

    def log_requests(self, snap: Snapshot) -> list[LogRequest]:
        reqs = []
        for _, _, _, svc in timed_routes(snap):
            servers = [p for p in service_pods(snap, svc) if has_sidecar(p)]
            reqs += [
                LogRequest(ns_of(ps[0]), name_of(ps[0])) for _, (_, ps) in by_owner(snap, servers).items()
            ]
            for w in _callers(snap, svc)[:2]:
                pods = [p for p in live_pods(snap, ns_of(w)) if has_sidecar(p) and owner(snap, p) is w]
                reqs += [LogRequest(ns_of(p), name_of(p)) for p in pods[:1]]
        for vs, _, _, _ in timed_routes(snap):
            reqs += [LogRequest(ns_of(p), name_of(p)) for p in _gateway_pods(snap, vs)[:1]]
        return reqs

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        done: set[tuple[str, str, int]] = set()
        for vs, i, timeout, svc in timed_routes(snap):
            key = (ns_of(vs), name_of(vs), i)
            if key in done:
                continue
            host = f"{name_of(svc)}.{ns_of(svc)}.svc.cluster.local"
            server_pods = {name_of(p) for p in service_pods(snap, svc)}
            done_ms, cut, timeouts, own_calls, own_failures = [], [], [], 0, 0
            for req, lines in sorted(snap.logs.items()):
                mine = req.pod in server_pods and req.namespace == ns_of(svc)
                for line in parse_lines(lines):
                    if line.inbound and mine:
                        if line.has_flag("DC") and line.duration_ms >= CUT_SHARE * timeout:
                            cut.append(line.raw)
                        elif line.code:
                            done_ms.append(line.duration_ms)
                    elif mine and line.outbound_host:
                        own_calls += 1
                        failed = line.code >= 500 or (line.code == 0 and line.flags != "-")  # TCP ok: 0 -
                        own_failures += failed and line.duration_ms >= CUT_SHARE * timeout  # slow failures
                    elif line.has_flag("UT") and line.outbound_host == host:
                        timeouts.append(line.raw)
            if own_calls and own_failures >= ABANDONED_SHARE * own_calls:
                continue  # the destination waits on hanging dependencies: the timeout is not the cause
            median = percentile(done_ms, 0.5) if done_ms else None
            abandoned = len(cut) >= MIN_SAMPLES and len(cut) >= ABANDONED_SHARE * (len(cut) + len(done_ms))
            if not (timeouts or abandoned or (median is not None and median > timeout)):
                continue
            done.add(key)
            seen = [f"{len(timeouts)} caller request(s) ended 504 UT response_timeout"] if timeouts else []
            if cut:
                seen.append(
                    f"{len(cut)} of {len(cut) + len(done_ms)} inbound requests were abandoned by the caller "
                    f"at the timeout (DC downstream_remote_disconnect)"
                )
            if median is not None:
                seen.append(f"median completed response {median} ms")
            yield self.finding(
                "ATL121",
                Level.ERROR,
                vs,
                f"http route[{i}] timeout {spec(vs)['http'][i].get('timeout')} is below the latency of "
                f"{name_of(svc)}: {'; '.join(seen)}.",
                evidence=(timeouts + cut)[:2],
                related=[f"{ns_of(svc)}/Service/{name_of(svc)}"],
            )
