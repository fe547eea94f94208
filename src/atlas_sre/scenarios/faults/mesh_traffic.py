"""Istio traffic-policy faults: a fault-injection abort left on, a route timeout shorter than the
service's latency, and a connection pool too small for the load."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature
from atlas_sre.scenarios.faults.mesh_common import (
    destination_rule,
    duration_ms,
    http_routes,
    mesh_fault,
    mesh_services,
    routing_virtual_services,
    slow_enough,
)
from atlas_sre.scenarios.faults.topology import callers, dependencies, entry_services, latency_ms, service_workloads


class AbortArgs(FaultArgs):
    httpStatus: int = 503
    percentage: float = 100.0


@mesh_fault("fault-injection-abort-istio-virtual-service",
            "A VirtualService fault-injection abort (from a chaos test) left on.",
            category="Change", args=AbortArgs, candidates=mesh_services, symptom="errors",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("FI",), proxy="client"),
            draw=lambda parts, target, rng: {"httpStatus": rng.choice([503, 500, 503]),
                                             "percentage": float(rng.choice([100, 100, 50, 30]))})
def ABORT(parts: Parts, target: Ref, args: AbortArgs, rng: random.Random) -> Impact:
    if not 0 < args.percentage <= 100:
        raise FaultError("fault fault-injection-abort-istio-virtual-service: args.percentage: must be in (0, 100]")
    refs = routing_virtual_services(parts, target)
    for ref in refs:
        for rule in http_routes(parts.edit(ref), target):
            rule["fault"] = {"abort": {"httpStatus": args.httpStatus, "percentage": {"value": args.percentage}}}
    return Impact(refs[0], f"fault injection abort ({args.httpStatus} for {args.percentage:g}% of requests) "
                  "left on in the route to " + target.name,
                  f"{args.httpStatus} FI (fault injected) on {args.percentage:g}% of calls", impacted=target,
                  related=refs[1:])


class TimeoutArgs(FaultArgs):
    timeout: str | None = None  # default: a third of the service's end-to-end latency, in ms


@mesh_fault("short-timeout-istio-virtual-service",
            "A VirtualService route timeout shorter than the service takes to answer.",
            category="Misconfiguration", args=TimeoutArgs, candidates=slow_enough, symptom="timeouts",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("UT",), proxy="client"),
            draw=lambda parts, target, rng: {
                "timeout": f"{max(1, int(latency_ms(parts, target) * rng.choice([0.2, 0.4])))}ms"})
def TIMEOUT(parts: Parts, target: Ref, args: TimeoutArgs, rng: random.Random) -> Impact:
    latency = latency_ms(parts, target)
    timeout = args.timeout or f"{max(1, int(latency / 3))}ms"
    if duration_ms(timeout, "fault short-timeout-istio-virtual-service: args.timeout") >= latency:
        raise FaultError(f"fault short-timeout-istio-virtual-service: timeout {timeout} is not below the "
                         f"~{latency:g}ms {target.name} needs")
    refs = routing_virtual_services(parts, target)
    for ref in refs:
        for rule in http_routes(parts.edit(ref), target):
            rule["timeout"] = timeout
            rule.pop("retries", None)
    return Impact(refs[0], f"route timeout {timeout} is shorter than {target.name}'s ~{latency:g}ms response time",
                  "504 UT (upstream request timeout)", impacted=target, related=refs[1:])


class PoolArgs(FaultArgs):
    maxConnections: int = 1
    http1MaxPendingRequests: int = 1
    http2MaxRequests: int = 1


def _busy(parts: Parts) -> list[Ref]:
    """Services with several callers or on the entry path: enough concurrency to overflow a pool of one."""
    entries = set(entry_services(parts))
    return [r for r in mesh_services(parts) if r in entries or len(callers(parts, r)) >= 2]


@mesh_fault("undersized-connection-pool-istio-destination-rule",
            "A DestinationRule connectionPool so small that normal load trips the circuit breaker.",
            category="Misconfiguration", args=PoolArgs, candidates=_busy, symptom="errors",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("UO",), proxy="client"))
def CONNECTION_POOL(parts: Parts, target: Ref, args: PoolArgs, rng: random.Random) -> Impact:
    ref = destination_rule(parts, target)
    dr = parts.edit(ref)
    policy = dr["spec"].setdefault("trafficPolicy", {})
    policy["connectionPool"] = {"tcp": {"maxConnections": args.maxConnections},
                                "http": {"http1MaxPendingRequests": args.http1MaxPendingRequests,
                                         "http2MaxRequests": args.http2MaxRequests,
                                         "maxRequestsPerConnection": 1}}
    return Impact(ref, f"connectionPool allows {args.maxConnections} connection(s) and "
                  f"{args.http1MaxPendingRequests} pending request(s), far below the concurrent load on "
                  f"{target.name}", "503 UO (upstream overflow, circuit breaking)", impacted=target)



class OutlierArgs(FaultArgs):
    consecutive5xxErrors: int = 1
    baseEjectionTime: str = "15m"
    maxEjectionPercent: int = 100
    dependency: str | None = None  # where a small chaos abort makes the service answer a few 5xx
    abortPercent: float = 5.0


def _mesh_dependencies(parts: Parts, service: Ref) -> list[Ref]:
    mesh = set(mesh_services(parts))
    return sorted({d.service for w in service_workloads(parts, service) for d in dependencies(parts, w)
                   if d.call.required and d.service in mesh}, key=str)


@mesh_fault("aggressive-outlier-detection-istio-destination-rule",
            "Outlier detection so aggressive (1 error, 100% ejectable) that a few upstream errors eject "
                "every host.",
            category="Misconfiguration", args=OutlierArgs,
            candidates=lambda parts: [r for r in mesh_services(parts) if _mesh_dependencies(parts, r)],
            symptom="errors", signature=Signature(alerts=("HighRequestErrorRate",), flags=("UH",), proxy="client"),
            draw=lambda parts, target, rng: {"dependency": rng.choice(_mesh_dependencies(parts, target)).name,
                                             "abortPercent": float(rng.choice([2, 5, 10]))})
def OUTLIER(parts: Parts, target: Ref, args: OutlierArgs, rng: random.Random) -> Impact:
    deps = [d for d in _mesh_dependencies(parts, target) if args.dependency in (None, d.name)]
    if not deps:
        raise FaultError(f"fault aggressive-outlier-detection-istio-destination-rule: {target} has no meshed "
                         f"dependency {args.dependency or ''}".rstrip())
    ref = destination_rule(parts, target)
    dr = parts.edit(ref)
    dr["spec"].setdefault("trafficPolicy", {})["outlierDetection"] = {
        "consecutive5xxErrors": args.consecutive5xxErrors, "interval": "10s",
        "baseEjectionTime": args.baseEjectionTime, "maxEjectionPercent": args.maxEjectionPercent}
    vs_refs = routing_virtual_services(parts, deps[0])
    for vs in vs_refs:
        for rule in http_routes(parts.edit(vs), deps[0]):
            rule["fault"] = {"abort": {"httpStatus": 503, "percentage": {"value": args.abortPercent}}}
    return Impact(ref, f"outlierDetection ejects a host after {args.consecutive5xxErrors} 5xx for "
                  f"{args.baseEjectionTime} with maxEjectionPercent {args.maxEjectionPercent}; the "
                  f"{args.abortPercent:g}% of errors {target.name} passes on from {deps[0].name} eject every host",
                  "503 UH (all hosts ejected)", impacted=target, related=vs_refs)


FAULTS = [ABORT, TIMEOUT, CONNECTION_POOL, OUTLIER]
