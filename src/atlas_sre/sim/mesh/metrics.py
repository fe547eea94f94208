"""Prometheus-like numbers from the ledger: Istio request series, entry-point answers, CPU from load.

`mesh_metrics` rows mirror `istio_requests_total` (and `istio_tcp_connections_opened_total` for TCP
ports) as `rate(...[5m])` over the observation window, one row per label set, with p50/p99 of
`istio_request_duration_milliseconds`. Both reporters appear, as in a real mesh: `source` (the
client's proxy) and `destination` (the server's proxy; its source labels are `unknown` unless the
request came over mTLS with peer metadata).

CPU: each request a container handles costs `CPU_MILLI_PER_RPS` millicores per request/second (the
image's `usage.cpuMilliPerRps` when set), on top of the image's idle usage (a proxy about as much per
request it forwards); a container with a CPU limit never shows more than the limit (it is throttled,
see `capacity.py`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from atlas_sre.kube.requests import container_resources
from atlas_sre.sim.mesh.capacity import CPU_MILLI_PER_RPS, per_rps
from atlas_sre.sim.mesh.model import EntryLine, Ledger, Load, Metric, ProxyLine
from atlas_sre.sim.mesh.world import PROXY, World
from atlas_sre.sim.state import ClusterState


def quantile(points: list[tuple[float, float]], q: float) -> float:
    """Weighted quantile of (value, weight) points."""
    total = sum(w for _, w in points)
    if total <= 0:
        return 0.0
    acc = 0.0
    for value, weight in sorted(points):
        acc += weight
        if acc >= q * total - 1e-12:
            return value
    return max(v for v, _ in points)


def blend(parts: list[tuple[float, Ledger]]) -> Ledger:
    """One ledger whose rates are the time-weighted mean of `parts` ((weight, ledger), weights sum to 1)."""
    out = Ledger()
    for weight, ledger in parts:
        out.merge(ledger, weight)
    return out


def request_series(ledger: Ledger) -> list[dict[str, Any]]:
    """`istio_requests_total`-like rows (rate, p50, p99) from a ledger."""
    groups: dict[tuple[Any, ...], list[tuple[float, float]]] = {}
    labels: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec, rate in ledger.rates.items():
        if not isinstance(rec, Metric):
            continue
        row = asdict(rec)
        latency = row.pop("latency_ms")
        tcp = row.pop("tcp")
        key = tuple(row.values()) + (tcp,)
        labels[key] = {"metric": "istio_tcp_connections_opened_total" if tcp else "istio_requests_total",
                       **row, "request_protocol": "tcp" if tcp else "http"}
        groups.setdefault(key, []).append((latency, rate))
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        points = groups[key]
        out.append({**labels[key], "rate": round(sum(w for _, w in points), 4),
                    "p50_ms": round(quantile(points, 0.5), 1), "p99_ms": round(quantile(points, 0.99), 1)})
    return out


def entry_summary(ledger: Ledger) -> list[dict[str, Any]]:
    """Per entry point: rps, answer codes, error ratio and latency as its users saw them."""
    acc: dict[str, dict[str, Any]] = {}
    for rec, rate in ledger.rates.items():
        if isinstance(rec, EntryLine):
            e = acc.setdefault(rec.entry, {"entry": rec.entry, "codes": {}, "points": []})
            code = str(rec.status)
            e["codes"][code] = e["codes"].get(code, 0.0) + rate
            e["points"].append((rec.latency_ms, rate))
    out = []
    for name in sorted(acc):
        e = acc[name]
        total = sum(e["codes"].values())
        bad = sum(r for c, r in e["codes"].items() if not 200 <= int(c) < 400)
        out.append({"entry": name, "rps": round(total, 4),
                    "codes": {c: round(r, 4) for c, r in sorted(e["codes"].items())},
                    "error_ratio": round(bad / total, 4) if total else 0.0,
                    "p50_ms": round(quantile(e["points"], 0.5), 1), "p99_ms": round(quantile(e["points"], 0.99), 1)})
    return out


def add_cpu(state: ClusterState, world: World, ledger: Ledger) -> dict[tuple[str, str], dict[str, float]]:
    """Add request-driven CPU to `state.pod_usage`; returns rps per (namespace, pod) and container."""
    per_container: dict[tuple[str, str], float] = {}
    for rec, rate in ledger.rates.items():
        if isinstance(rec, Load):
            per_container[(rec.instance, rec.container)] = per_container.get((rec.instance, rec.container), 0.0) + rate
        elif isinstance(rec, ProxyLine) and rec.instance:
            per_container[(rec.instance, PROXY)] = per_container.get((rec.instance, PROXY), 0.0) + rate
    load: dict[tuple[str, str], dict[str, float]] = {}
    for (inst_key, container), rate in sorted(per_container.items()):
        inst = world.instances.get(inst_key)
        if inst is None:
            continue
        spec = next((c for c in inst.spec.get("containers") or [] if c.get("name") == container), {})
        beh = world.behaviour(spec.get("image", "")) if container != PROXY else None
        cost = per_rps(beh) if beh is not None else CPU_MILLI_PER_RPS
        limit = container_resources(spec)[1].get("cpu")
        for pod in inst.pods:
            key = (inst.namespace, pod["metadata"]["name"])
            rps = rate / len(inst.pods)
            load.setdefault(key, {})[container] = round(rps, 4)
            usage = state.pod_usage.get(key, {}).get(container)
            if usage is not None:
                usage.cpu_milli += int(round(rps * cost))
                if limit and usage.cpu_milli > limit:  # CFS throttling: a cgroup never uses more than its quota
                    usage.cpu_milli = limit
    return load
