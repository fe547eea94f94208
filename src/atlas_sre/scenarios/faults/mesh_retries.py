"""Istio retry-policy faults: a per-try timeout shorter than the service takes to answer.

Every try is reset by the caller's Envoy at `perTryTimeout` (`UT upstream_per_try_timeout`), the
retries repeat the same fate and multiply the load the destination sees, and the caller ends with
`504 URX,UT` after attempts × perTryTimeout. The latency it trips on is the service's own (its
image's latency plus its dependencies'), derived by the simulator.
"""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature
from atlas_sre.scenarios.faults.mesh_common import (
    duration_ms,
    http_routes,
    mesh_fault,
    routing_virtual_services,
    slow_enough,
)
from atlas_sre.scenarios.faults.topology import latency_ms


class PerTryArgs(FaultArgs):
    perTryTimeout: str | None = None  # default: a third of the service's end-to-end latency, in ms
    attempts: int = 3
    retryOn: str = "5xx,reset"


@mesh_fault("short-per-try-timeout-istio-virtual-service",
            "A VirtualService retry policy whose perTryTimeout is shorter than the service takes to answer.",
            category="Misconfiguration", args=PerTryArgs, candidates=slow_enough, symptom="timeouts",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("UT",), proxy="client"),
            draw=lambda parts, target, rng: {
                "perTryTimeout": f"{max(1, int(latency_ms(parts, target) * rng.choice([0.2, 0.4])))}ms",
                "attempts": rng.choice([2, 3, 3]), "retryOn": rng.choice(["5xx,reset", "gateway-error,reset"])})
def PER_TRY_TIMEOUT(parts: Parts, target: Ref, args: PerTryArgs, rng: random.Random) -> Impact:
    latency = latency_ms(parts, target)
    per_try = args.perTryTimeout or f"{max(1, int(latency / 3))}ms"
    if duration_ms(per_try, "fault short-per-try-timeout-istio-virtual-service: args.perTryTimeout") >= latency:
        raise FaultError(f"fault short-per-try-timeout-istio-virtual-service: perTryTimeout {per_try} is not below "
                         f"the ~{latency:g}ms {target.name} needs")
    if args.attempts < 1:
        raise FaultError("fault short-per-try-timeout-istio-virtual-service: args.attempts: must be at least 1")
    refs = routing_virtual_services(parts, target)
    for ref in refs:
        for rule in http_routes(parts.edit(ref), target):
            rule["retries"] = {"attempts": args.attempts, "perTryTimeout": per_try, "retryOn": args.retryOn}
            rule.pop("timeout", None)
    return Impact(refs[0], f"retries.perTryTimeout {per_try} is shorter than {target.name}'s ~{latency:g}ms "
                  f"response time; all {args.attempts + 1} tries are reset",
                  "504 URX,UT (per-try timeouts, retries exhausted)", impacted=target, related=refs[1:])


FAULTS = [PER_TRY_TIMEOUT]
