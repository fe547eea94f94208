"""Saturation faults: a CPU limit below what a serving container needs for its load.

The container is throttled: the simulator (`sim/mesh/capacity.py`) derives from its CPU demand
(idle use plus the requests it is offered) against the limit that it serves only part of its
requests, after a long queue, and refuses the rest with 503; callers see slow answers, their
timeouts and retries. Nothing crashes: pods stay Running and Ready.
"""

from __future__ import annotations

import random

from atlas_sre.kube.quantity import cpu_milli
from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.common import behaviour, main_container, serving_workloads


class CpuLimitArgs(FaultArgs):
    container: str | None = None
    cpuLimit: str | None = None  # default: 40% of what the process uses when idle


def _busy_enough(parts: Parts) -> list[Ref]:
    """Serving workloads whose process uses enough CPU that a lower limit is a whole number of millicores."""
    return [r for r in serving_workloads(parts)
            if behaviour(parts, main_container(parts.require(r))).usage.cpuMilli >= 5]


def _draw(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    idle = behaviour(parts, main_container(parts.require(target))).usage.cpuMilli
    return {"cpuLimit": f"{max(1, int(idle * rng.choice([0.3, 0.4, 0.5])))}m"}


@fault("insufficient-kubernetes-workload-container-cpu-limit",
       "Lower a serving container's CPU limit far below what it uses, so it is throttled and saturates under load.",
       category="Resource Saturation", args=CpuLimitArgs, candidates=_busy_enough, symptom="timeouts",
       signature=Signature(alerts=("HighRequestErrorRate", "HighRequestLatency")), draw=_draw)
def CPU_LIMIT(parts: Parts, target: Ref, args: CpuLimitArgs, rng: random.Random) -> Impact:
    c = main_container(parts.edit(target), args.container)
    idle = behaviour(parts, c).usage.cpuMilli
    limit = args.cpuLimit or f"{max(1, int(idle * 0.4))}m"
    if cpu_milli(limit) * 2 > idle:
        raise FaultError(f"fault insufficient-kubernetes-workload-container-cpu-limit: cpuLimit {limit} is not "
                         f"below half the ~{idle}m the process uses")
    res = c.setdefault("resources", {})
    res.setdefault("limits", {})["cpu"] = limit
    if cpu_milli((res.get("requests") or {}).get("cpu") or 0) > cpu_milli(limit):
        res["requests"]["cpu"] = limit  # the API server refuses a request above the limit
    return Impact(target, f"container {c['name']} CPU limit {limit} is far below the ~{idle}m it uses: "
                  "throttled, it queues and refuses requests", "slow answers and 503 (saturated server)")


FAULTS = [CPU_LIMIT]
