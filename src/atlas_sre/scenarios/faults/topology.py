"""Read the call graph out of plain manifests + hidden behaviour, the way the traffic engine does.

Faults use it to pick compatible targets (a workload that calls something, a Service someone
calls) and ground truth uses it to write propagation edges from the broken component up to the
entry point. Nothing here knows an app by name: it follows env-var addresses to Services.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from atlas_sre.scenarios.faults.base import Obj, Parts, Ref, ref_of
from atlas_sre.sim.images import Call, ImageBehaviour

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Dependency:
    """One call edge: `caller` (a workload) reaches `service` on `port` through env var `env`."""

    caller: Ref
    container: str
    call: Call
    env: str | None
    service: Ref
    port: int | None


def kind_objects(parts: Parts, kind: str) -> list[Obj]:
    return [o for o in parts.manifests if o.get("kind") == kind]


def workloads(parts: Parts) -> list[Obj]:
    return [o for o in parts.manifests if o.get("kind") in WORKLOAD_KINDS]


def template_labels(workload: Obj) -> dict[str, str]:
    return ((workload.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}


def pod_spec(workload: Obj) -> Obj:
    return workload["spec"]["template"]["spec"]


def selects(service: Obj, workload: Obj) -> bool:
    """True when the Service's selector picks the workload's pods (same namespace)."""
    sel = (service.get("spec") or {}).get("selector") or {}
    if not sel or service["metadata"].get("namespace") != workload["metadata"].get("namespace"):
        return False
    labels = template_labels(workload)
    return all(labels.get(k) == v for k, v in sel.items())


def services_of(parts: Parts, workload: Obj) -> list[Obj]:
    return [s for s in kind_objects(parts, "Service") if selects(s, workload)]


def workloads_of(parts: Parts, service: Obj) -> list[Obj]:
    return [w for w in workloads(parts) if selects(service, w)]


def image_of(parts: Parts, container: Obj) -> ImageBehaviour | None:
    return parts.registry.get(container.get("image", ""))


def env_literal(container: Obj, name: str) -> str | None:
    for e in container.get("env") or []:
        if e.get("name") == name and "value" in e:
            return str(e["value"])
    return None


def parse_address(value: str, namespace: str) -> tuple[Ref, int | None]:
    """`http://cart.shop.svc.cluster.local:7070/x` → (shop/Service/cart, 7070)."""
    text = value.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = text.partition(":")
    labels = host.split(".")
    ns = labels[1] if len(labels) > 1 and labels[1] != "svc" else namespace
    return Ref("Service", labels[0], ns), (int(port) if port.isdigit() else None)


def dependencies(parts: Parts, workload: Obj) -> list[Dependency]:
    """Every call the workload's containers make, resolved to a Service when the address is literal."""
    out: list[Dependency] = []
    ns = workload["metadata"].get("namespace", "default")
    for c in pod_spec(workload).get("containers") or []:
        behaviour = image_of(parts, c)
        for call in [*behaviour.calls, *(rc for r in behaviour.routes for rc in r.calls or [])] if behaviour else []:
            addr = call.address
            value = (env_literal(c, addr.env) if addr.env else None) or addr.default
            if not value:
                continue
            svc, port = parse_address(value, ns)
            out.append(Dependency(ref_of(workload), c["name"], call, addr.env, svc, port))
    return out


def callers(parts: Parts, service: Ref) -> list[Dependency]:
    """Call edges that end at `service`."""
    return [d for w in workloads(parts) for d in dependencies(parts, w) if d.service == service]


def host_ref(host: str, namespace: str) -> Ref:
    """An Istio host (`reviews`, `reviews.bookinfo.svc.cluster.local`) as a Service reference."""
    return parse_address(host, namespace)[0]


def vs_destinations(vs: Obj) -> Iterator[Obj]:
    for route in (vs.get("spec") or {}).get("http") or []:
        yield from route.get("route") or []


def virtual_services_for(parts: Parts, service: Ref) -> list[Obj]:
    """Mesh-internal VirtualServices whose `hosts` name the Service."""
    out = []
    for vs in kind_objects(parts, "VirtualService"):
        ns = vs["metadata"].get("namespace", "default")
        if any(host_ref(h, ns) == service for h in (vs.get("spec") or {}).get("hosts") or []):
            out.append(vs)
    return out


def destination_rule_for(parts: Parts, service: Ref) -> Obj | None:
    for dr in kind_objects(parts, "DestinationRule"):
        ns = dr["metadata"].get("namespace", "default")
        if host_ref((dr.get("spec") or {}).get("host", ""), ns) == service:
            return dr
    return None


def ingress_virtual_services(parts: Parts) -> list[Obj]:
    """VirtualServices bound to a Gateway (the ones that route user traffic in)."""
    return [vs for vs in kind_objects(parts, "VirtualService") if (vs.get("spec") or {}).get("gateways")]


def entry_services(parts: Parts) -> list[Ref]:
    """The Services user traffic reaches first (behind the gateway, or named by a service entry point)."""
    out: list[Ref] = []
    for ep in parts.traffic.get("entrypoints") or []:
        if ep.get("service"):
            ns, _, name = str(ep["service"]).partition("/")
            refs = [Ref("Service", name, ns)]
        else:
            refs = []
            for vs in ingress_virtual_services(parts):
                if ep.get("host") in (vs.get("spec") or {}).get("hosts", []):
                    ns = vs["metadata"].get("namespace", "default")
                    refs += [host_ref(d["destination"]["host"], ns) for d in vs_destinations(vs)]
        out += [r for r in refs if r not in out]
    return out


def service_workloads(parts: Parts, service: Ref) -> list[Obj]:
    svc = parts.find(service)
    return workloads_of(parts, svc) if svc else []


def allow_policies(parts: Parts, namespace: str | None, labels: dict[str, str]) -> list[Obj]:
    """ALLOW AuthorizationPolicies in `namespace` whose (non-empty) selector matches pods labelled `labels`."""
    out = []
    for ap in kind_objects(parts, "AuthorizationPolicy"):
        spec = ap.get("spec") or {}
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        if ap["metadata"].get("namespace") == namespace and spec.get("action", "ALLOW") == "ALLOW" \
                and sel and all(labels.get(k) == v for k, v in sel.items()):
            out.append(ap)
    return out


def served_services(parts: Parts) -> list[Ref]:
    """Services that receive traffic: called by some workload or an entry point."""
    seen: list[Ref] = []
    for ref in entry_services(parts) + [d.service for w in workloads(parts) for d in dependencies(parts, w)]:
        if ref not in seen and parts.find(ref) is not None:
            seen.append(ref)
    return seen


def latency_ms(parts: Parts, service: Ref, _depth: int = 0) -> float:
    """End-to-end latency of one request to `service` (its own latency plus required calls, in series)."""
    if _depth > 12:
        return 0.0
    worst = 0.0
    for w in service_workloads(parts, service):
        total = 0.0
        for c in pod_spec(w).get("containers") or []:
            b = image_of(parts, c)
            total += b.latencyMs if b else 0.0
        for d in dependencies(parts, w):
            if d.call.required and d.call.protocol != "tcp":
                total += latency_ms(parts, d.service, _depth + 1)
        worst = max(worst, total)
    return worst


def critical_services(parts: Parts) -> list[Ref]:
    """Services on the user's path: entry services and whatever they (transitively) require."""
    queue = list(entry_services(parts))
    seen: list[Ref] = []
    while queue:
        ref = queue.pop(0)
        if ref in seen or parts.find(ref) is None:
            continue
        seen.append(ref)
        for w in service_workloads(parts, ref):
            queue += [d.service for d in dependencies(parts, w) if d.call.required]
    return sorted(seen, key=str)
