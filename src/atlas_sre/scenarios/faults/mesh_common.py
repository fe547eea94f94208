"""Helpers for Istio faults: find (or create) the VirtualService and DestinationRule that govern a
Service, the way an operator would when adding a route rule, and pick mesh-served targets."""

from __future__ import annotations

from functools import partial

from atlas_sre.scenarios.faults.base import FaultError, Obj, Parts, Ref, fault, ref_of
from atlas_sre.scenarios.faults.capacity import injected
from atlas_sre.scenarios.faults.common import served_service_refs
from atlas_sre.scenarios.faults.topology import (
    callers,
    critical_services,
    destination_rule_for,
    entry_services,
    host_ref,
    ingress_virtual_services,
    latency_ms,
    virtual_services_for,
    vs_destinations,
    workloads_of,
)

NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"

mesh_fault = partial(fault, domain="service-mesh", target_kind="Service")
"""`fault` for the service-mesh domain: aimed at a Service unless `target_kind` says otherwise."""


def meshed(parts: Parts, service: Ref) -> bool:
    """All pods behind the Service get a sidecar."""
    ws = workloads_of(parts, parts.require(service))
    return bool(ws) and all(injected(parts, w) for w in ws)


def mesh_services(parts: Parts, protocols: tuple[str, ...] = ("http", "grpc")) -> list[Ref]:
    """Meshed Services on the user's path with a port of an application protocol Istio routes at L7."""
    critical = set(critical_services(parts))

    def keep(svc: Obj) -> bool:
        return any(str(p.get("name", "")).split("-")[0] in protocols for p in svc["spec"].get("ports") or [])
    return [r for r in served_service_refs(parts, keep) if meshed(parts, r) and r in critical]


def called_mesh_services(parts: Parts) -> list[Ref]:
    """Meshed L7 Services that some workload calls (mesh-internal routing applies to them)."""
    return [r for r in mesh_services(parts) if any(d.call.required for d in callers(parts, r))]


def ingress_routes_to(parts: Parts, service: Ref) -> list[Obj]:
    """Gateway-bound VirtualServices with a destination on this Service."""
    out = []
    for vs in ingress_virtual_services(parts):
        ns = vs["metadata"].get("namespace", "default")
        if any(host_ref(d["destination"]["host"], ns) == service for d in vs_destinations(vs)):
            out.append(vs)
    return out


def routing_virtual_services(parts: Parts, service: Ref) -> list[Ref]:
    """VirtualServices carrying traffic to `service`, creating a plain internal one when there is none."""
    refs = [ref_of(v) for v in ingress_routes_to(parts, service)] if service in entry_services(parts) else []
    if any(d.call.required for d in callers(parts, service)):
        internal = [ref_of(v) for v in virtual_services_for(parts, service)]
        if not internal:
            parts.add(new_virtual_service(service))
            internal = [Ref("VirtualService", service.name, service.namespace)]
        refs += internal
    return refs


def new_virtual_service(service: Ref, route: list[Obj] | None = None) -> Obj:
    return {"apiVersion": NETWORKING, "kind": "VirtualService",
            "metadata": {"name": service.name, "namespace": service.namespace},
            "spec": {"hosts": [service.name],
                     "http": [{"route": route or [{"destination": {"host": service.name}}]}]}}


def destination_rule(parts: Parts, service: Ref, create: bool = True) -> Ref | None:
    """The DestinationRule for the Service (created empty when asked and missing)."""
    dr = destination_rule_for(parts, service)
    if dr is not None:
        return ref_of(dr)
    if not create:
        return None
    parts.add({"apiVersion": NETWORKING, "kind": "DestinationRule",
               "metadata": {"name": service.name, "namespace": service.namespace},
               "spec": {"host": service.name}})
    return Ref("DestinationRule", service.name, service.namespace)


def http_routes(vs: Obj, service: Ref) -> list[Obj]:
    """The VS's http rules that send at least some traffic to `service`."""
    ns = vs["metadata"].get("namespace", "default")
    return [r for r in (vs.get("spec") or {}).get("http") or []
            if any(host_ref(d["destination"]["host"], ns) == service for d in r.get("route") or [])]


def rescale(weights: list[int], total: int) -> list[int]:
    """Integer weights in the same proportions, summing exactly to `total` (largest remainders first)."""
    whole = sum(weights) or 1
    raw = [w * total / whole for w in weights]
    out = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[: total - sum(out)]:
        out[i] += 1
    return out


def duration_ms(text: str, where: str) -> float:
    """An Istio duration (`20ms`, `2s`) in milliseconds; anything else is a `FaultError` naming `where`."""
    if text.endswith("ms"):
        return float(text[:-2])
    if text.endswith("s"):
        return float(text[:-1]) * 1000
    raise FaultError(f"{where}: {text!r} is not like 20ms or 2s")


def slow_enough(parts: Parts) -> list[Ref]:
    """Mesh services slow enough (≥ 6 ms end to end) that a timeout a fraction of it is a whole millisecond."""
    return [r for r in mesh_services(parts) if latency_ms(parts, r) >= 6]
