"""Saturation: what a container does when the requests offered to it need more CPU than it may use.

A container's CPU demand is its idle use (`usage.cpuMilli`) plus `usage.cpuMilliPerRps` (default
`CPU_MILLI_PER_RPS`) per request/second its pod handles. Its supply is `limits.cpu` (CFS quota; a
container without a limit may use its node's allocatable CPU). Utilisation ρ = demand ÷ supply.

Below capacity (ρ ≤ 1) nothing changes: requests take the image's `latencyMs` as they always did.
Above it the cgroup is throttled and the process falls behind (a fluid D/D/1/K queue, per pod):

- every request's own processing is stretched by ρ (it gets 1/ρ of the CPU it needs);
- only a share 1/ρ of the offered requests can be served; the server's bounded request queue
  (`BACKLOG` requests per pod) stays full, so each served request first waits
  `BACKLOG ÷ served rate` (the queueing latency, at most `MAX_WAIT_MS`);
- the rest are turned away at once with `503` (the queue is full).

Nothing here is scripted: callers then see what their own configuration makes of slow and refused
answers (route `timeout` → `504 UT`, `retries` on 503 → `URX`, a `connectionPool` → `UO` as the
upstream latency grows, the caller's own `timeoutMs` → `context deadline exceeded`), and `kubectl top`
shows the container pinned at its limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_sre.kube.quantity import cpu_milli
from atlas_sre.kube.requests import container_resources
from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.mesh.model import Ledger, Load
from atlas_sre.sim.mesh.world import Instance, World

CPU_MILLI_PER_RPS = 0.5  # CPU a request costs when the image does not say (0.5 ms of CPU per request)
BACKLOG = 128  # requests a server keeps waiting per pod before it refuses more (a listen backlog)
MAX_WAIT_MS = 30_000.0  # a queued request older than this is dropped by the server (its request timeout)
REFUSED_MS = 1.0


@dataclass(frozen=True)
class Saturation:
    """How an overloaded container treats requests: share served, stretch of its own work, queue wait."""

    rho: float
    served: float
    wait_ms: float


def per_rps(beh: ImageBehaviour) -> float:
    """mCPU one request/second costs this image."""
    value = beh.usage.cpuMilliPerRps
    return CPU_MILLI_PER_RPS if value is None else float(value)


def supply_milli(world: World, inst: Instance, container: dict[str, Any]) -> float | None:
    """The CPU the container may use: its limit, else its node's allocatable CPU (None: unknown)."""
    limit = container_resources(container)[1].get("cpu")
    if limit:
        return float(limit)
    node = world.get("Node", None, str((inst.pods[0].get("spec") or {}).get("nodeName") or "")) if inst.pods else None
    alloc = ((node or {}).get("status") or {}).get("allocatable") or {}
    if "cpu" not in alloc:
        return None
    return float(cpu_milli(alloc["cpu"]))


def load_of(ledger: Ledger) -> dict[tuple[str, str], float]:
    """Requests/second each (instance, container) handles, summed over its pods."""
    out: dict[tuple[str, str], float] = {}
    for rec, rate in ledger.rates.items():
        if isinstance(rec, Load):
            out[(rec.instance, rec.container)] = out.get((rec.instance, rec.container), 0.0) + rate
    return out


def saturation(world: World, inst: Instance, container: dict[str, Any], rps: float) -> Saturation | None:
    """The overload of one container at `rps` requests/second over the instance's pods (None: below capacity)."""
    beh = world.behaviour(container.get("image", ""))
    if beh is None or not inst.pods or rps <= 0:
        return None
    supply = supply_milli(world, inst, container)
    if not supply:
        return None
    per_pod = rps / len(inst.pods)
    rho = (beh.usage.cpuMilli + per_pod * per_rps(beh)) / supply
    if rho <= 1.0:
        return None
    served = 1.0 / rho
    return Saturation(rho, served, min(BACKLOG / (per_pod * served) * 1000.0, MAX_WAIT_MS))


def overloaded(world: World, load: dict[tuple[str, str], float]) -> dict[tuple[str, str], Saturation]:
    """Every (instance, container) whose offered load exceeds what its CPU can serve."""
    out: dict[tuple[str, str], Saturation] = {}
    for (key, name), rps in sorted(load.items()):
        inst = world.instances.get(key)
        container = next((c for c in inst.app_containers() if c.get("name") == name), None) if inst else None
        if inst is None or container is None:
            continue
        sat = saturation(world, inst, container, rps)
        if sat is not None:
            out[(key, name)] = sat
    return out
