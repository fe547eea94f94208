"""Firing alerts from the mesh metrics, with ITBench-style golden-signal rules.

Rules (evaluated on `rate(...[5m])`, firing after `for`):
- HighRequestErrorRate (critical): a service's share of answers outside 2xx/3xx is above
  `errorRatio` (5%).
- HighRequestLatency (warning): a service's p99 request duration is above `latencyP99Ms` (1500 ms).
- NoRequestsReceived (warning): a service that received requests before a change now receives none.

A service's requests are the `reporter="source"` series into it, plus `reporter="destination"`
series from clients without a sidecar (source `unknown`), so each request counts once. Errors
count where they happen: answers with no destination service (a route not found at the gateway),
and local replies the caller's own proxy made without reaching the destination (`NR`, `NC`, `UO`,
`FI`, the `BlackHoleCluster` of a Sidecar resource) count against the sending workload
(`istio-ingressgateway` for outside traffic), not against a service that received nothing.
Thresholds can be overridden in `spec.traffic.alerts` (`errorRatio`, `latencyP99Ms`).

`startsAt` is when the rule started firing: the condition's onset plus `for` (Prometheus's
`FiredAt`). The onset is found by sliding the 5m rate window across the change (the history entry
that made the before and after traffic differ); without history, a condition present in the
current configuration is taken to hold since `clock.fault_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim.clock import SimClock
from atlas_sre.sim.mesh.metrics import quantile
from atlas_sre.sim.mesh.model import BLACK_HOLE, Ledger, Metric

FOR = timedelta(minutes=5)
RATE_WINDOW = timedelta(minutes=5)
ERROR_RATIO = 0.05
LATENCY_P99_MS = 1500.0

Key = tuple[str, str]


def _bad(code: int) -> bool:
    return not 200 <= code < 400


CALLER_SIDE_FLAGS = frozenset({"NR", "NC", "UO", "FI"})  # local replies made by the caller's own Envoy


def _caller_side(rec: Metric) -> bool:
    """A source-reported answer that never left the caller's proxy (so the destination saw nothing)."""
    return bool(CALLER_SIDE_FLAGS & set(rec.response_flags.split(","))) or rec.destination_service_name == BLACK_HOLE


def service_load(ledger: Ledger) -> dict[Key, list[tuple[float, float, bool]]]:
    """Per (namespace, service): (latency, rate, failed) points of the requests it answered."""
    out: dict[Key, list[tuple[float, float, bool]]] = {}
    for rec, rate in ledger.rates.items():
        if not isinstance(rec, Metric) or rec.tcp:
            continue
        if rec.reporter == "destination" and rec.source_workload != "unknown":
            continue
        if rec.destination_service_name == "unknown" or (rec.reporter == "source" and _caller_side(rec)):
            key = (rec.source_namespace, rec.source_workload)
        else:
            key = (rec.destination_service_namespace, rec.destination_service_name)
        out.setdefault(key, []).append((rec.latency_ms, rate, _bad(rec.response_code)))
    return out


def _ratio(points: list[tuple[float, float, bool]]) -> float:
    total = sum(r for _, r, _ in points)
    return sum(r for _, r, bad in points if bad) / total if total else 0.0


def _p99(points: list[tuple[float, float, bool]]) -> float:
    return quantile([(lat, r) for lat, r, _ in points], 0.99)


def _mix(before: list[tuple[float, float, bool]], after: list[tuple[float, float, bool]], f: float
         ) -> list[tuple[float, float, bool]]:
    return [(lat, r * (1 - f), b) for lat, r, b in before] + [(lat, r * f, b) for lat, r, b in after]


def onset(test: Any, before: list[tuple[float, float, bool]], after: list[tuple[float, float, bool]],
          change: datetime | None, clock: SimClock) -> datetime | None:
    """When the condition `test(points)` became true, or None if it does not hold now."""
    if change is None:
        return clock.fault_at if test(after) else None
    elapsed = clock.observe_at - change
    if elapsed < timedelta(0):
        return clock.start if test(before) else None
    steps = 30
    for i in range(steps + 1):
        f = i / steps
        if f * RATE_WINDOW > elapsed:
            break
        if test(_mix(before, after, f)):
            return clock.start if i == 0 and test(before) else change + f * RATE_WINDOW
    return None


def _alert(name: str, severity: str, ns: str, service: str, summary: str, description: str, start: datetime,
           clock: SimClock) -> dict[str, Any]:
    return {"alertname": name, "severity": severity, "namespace": ns, "service": service, "summary": summary,
            "description": description, "startsAt": clock.iso(start)}


def mesh_alerts(before: Ledger, after: Ledger, change: datetime | None, clock: SimClock,
                thresholds: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Golden-signal alerts for every service, from the before/after traffic."""
    limits = thresholds or {}
    ratio_max = float(limits.get("errorRatio", ERROR_RATIO))
    p99_max = float(limits.get("latencyP99Ms", LATENCY_P99_MS))
    old, new = service_load(before), service_load(after)
    out: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new)):
        ns, svc = key
        b, a = old.get(key, []), new.get(key, [])
        start = onset(lambda p: _ratio(p) > ratio_max, b, a, change, clock)
        if start is not None and start + FOR <= clock.observe_at:
            pct = _ratio(_mix(b, a, 1.0 if change is None else min(1.0, (clock.observe_at - change) / RATE_WINDOW)))
            out.append(_alert("HighRequestErrorRate", "critical", ns, svc,
                              f"High request error rate on service {svc}",
                              f"{pct:.1%} of requests to {svc}.{ns} failed over the last 5 minutes "
                              f"(threshold {ratio_max:.0%}).", start + FOR, clock))
        start = onset(lambda p: bool(p) and _p99(p) > p99_max, b, a, change, clock)
        if start is not None and start + FOR <= clock.observe_at:
            out.append(_alert("HighRequestLatency", "warning", ns, svc, f"High request latency on service {svc}",
                              f"p99 latency of requests to {svc}.{ns} is {_p99(a):.0f}ms "
                              f"(threshold {p99_max:.0f}ms).", start + FOR, clock))
        if change is not None and sum(r for _, r, _ in b) > 0 and not a:
            start = change + RATE_WINDOW
            if start + FOR <= clock.observe_at:
                out.append(_alert("NoRequestsReceived", "warning", ns, svc, f"Service {svc} receives no requests",
                                  f"No requests reached {svc}.{ns} in the last 5 minutes.", start + FOR, clock))
    return out
