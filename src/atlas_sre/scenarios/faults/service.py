"""Service faults: a selector that matches no pods, a targetPort nothing listens on, a deleted Service,
a workload scaled to zero, a port name that declares the wrong protocol to the mesh."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.common import front_service, served_service_refs, serving_workloads
from atlas_sre.scenarios.faults.mesh_common import mesh_fault
from atlas_sre.scenarios.faults.topology import (
    allow_policies,
    image_of,
    pod_spec,
    service_workloads,
    template_labels,
    workloads_of,
)

UH = Signature(alerts=("HighRequestErrorRate", "NoRequestsReceived"), flags=("UH",), proxy="client")


def _component(parts: Parts, service: Ref) -> Ref | None:
    ws = workloads_of(parts, parts.require(service))
    return Ref(ws[0]["kind"], ws[0]["metadata"]["name"], service.namespace) if ws else None


class SelectorArgs(FaultArgs):
    selector: dict[str, str] | None = None  # default: the current selector with its first value misspelt


def _draw_selector(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    old = dict(parts.require(target)["spec"].get("selector") or {})
    k, v = next(iter(old.items()))
    choice = rng.randrange(3)
    if choice == 0:
        new = {**old, k: v + "-svc"}
    elif choice == 1:
        new = {**old, k: v[:-1] if len(v) > 3 else v + "x"}
    else:
        new = {**old, "tier": "backend"}
    return {"selector": new}


@fault("invalid-kubernetes-service-selector", "Change a Service's selector so it matches no pods (no endpoints).",
       category="Misconfiguration", args=SelectorArgs, target_kind="Service", candidates=served_service_refs,
       symptom="errors", signature=UH, draw=_draw_selector)
def INVALID_SELECTOR(parts: Parts, target: Ref, args: SelectorArgs, rng: random.Random) -> Impact:
    component = _component(parts, target)
    svc = parts.edit(target)
    old = dict(svc["spec"].get("selector") or {})
    new = args.selector or {k: (v + "-v2" if i == 0 else v) for i, (k, v) in enumerate(old.items())}
    svc["spec"]["selector"] = new
    if workloads_of(parts, svc):
        raise FaultError(f"fault invalid-kubernetes-service-selector: selector {new} still matches pods")
    pretty = ",".join(f"{k}={v}" for k, v in new.items())
    return Impact(target, f"selector {pretty} matches no pods, so the Service has no endpoints",
                  "503 UH (no healthy upstream)", impacted=target, component=component)


class TargetPortArgs(FaultArgs):
    port: int | None = None  # which Service port to edit (default: the first)
    targetPort: int | None = None  # default: one above the port the process listens on


def _listen_ports(parts: Parts, service: Ref) -> set[int]:
    out: set[int] = set()
    for w in workloads_of(parts, parts.require(service)):
        for c in pod_spec(w).get("containers") or []:
            b = image_of(parts, c)
            out |= {li.port for li in (b.listen if b else [])}
    return out


@fault("modified-target-port-kubernetes-service", "Change a Service's targetPort to a port the pods do not listen on.",
       category="Misconfiguration", args=TargetPortArgs, target_kind="Service", candidates=served_service_refs,
       symptom="errors", signature=Signature(alerts=("HighRequestErrorRate",), flags=("UF", "URX"), proxy="client"),
       draw=lambda parts, target, rng: {"targetPort": rng.choice(sorted(
           {8080, 8081, 9090, 3000} - _listen_ports(parts, target)))})
def TARGET_PORT(parts: Parts, target: Ref, args: TargetPortArgs, rng: random.Random) -> Impact:
    component = _component(parts, target)
    listening = _listen_ports(parts, target)
    svc = parts.edit(target)
    ports = svc["spec"].get("ports") or []
    p = next((x for x in ports if args.port in (None, x.get("port"))), None)
    if p is None:
        raise FaultError(f"fault modified-target-port-kubernetes-service: {target} has no port {args.port}")
    old = p.get("targetPort", p["port"])
    new = args.targetPort or (int(old) + 1 if str(old).isdigit() else int(p["port"]) + 1)
    if new in listening:
        raise FaultError(f"fault modified-target-port-kubernetes-service: targetPort {new} is a listening port")
    p["targetPort"] = new
    return Impact(target, f"port {p['port']} targets {new} but the pods listen on {old}",
                  "503 UF (connection refused)", impacted=target, component=component)


class NoArgs(FaultArgs):
    pass


@fault("deleted-kubernetes-service", "Delete a Service that other workloads call by name.",
       category="Change", args=NoArgs, target_kind="Service", candidates=served_service_refs, symptom="errors",
       signature=Signature(alerts=("HighRequestErrorRate",)))
def DELETED_SERVICE(parts: Parts, target: Ref, args: NoArgs, rng: random.Random) -> Impact:
    component = _component(parts, target)
    parts.remove(target)
    return Impact(target, f"Service {target.name} was deleted; its name no longer resolves",
                  f"lookup {target.name}: no such host", impacted=target, component=component)


@fault("scaled-to-zero-kubernetes-workload", "Scale a serving workload to zero replicas.",
       category="Change", args=NoArgs, candidates=serving_workloads, symptom="errors", signature=UH)
def SCALED_TO_ZERO(parts: Parts, target: Ref, args: NoArgs, rng: random.Random) -> Impact:
    w = parts.edit(target)
    old = w["spec"].get("replicas", 1)
    w["spec"]["replicas"] = 0
    return Impact(target, f"replicas scaled from {old} to 0", "503 UH (no endpoints)",
                  impacted=front_service(parts, target))


class PortNameArgs(FaultArgs):
    name: str | None = None  # default: `tcp-<old>` when an ALLOW policy needs HTTP fields, else http <-> grpc


def _http_like(parts: Parts) -> list[Ref]:
    return served_service_refs(parts, lambda s: any(str(p.get("name", "")).split("-")[0] in ("http", "grpc")
                                                    for p in s["spec"].get("ports") or []))


def _http_allow(parts: Parts, service: Ref) -> bool:
    """An ALLOW AuthorizationPolicy with HTTP-only fields selects the Service's pods."""
    ws = service_workloads(parts, service)
    labels = template_labels(ws[0]) if ws else {}
    return any(any(t.get("operation") for r in (ap.get("spec") or {}).get("rules") or [] for t in r.get("to") or [])
               for ap in allow_policies(parts, service.namespace, labels))


# Targets are Services an HTTP-field ALLOW policy protects: that failure mode is what the traffic engine
# models today (an http <-> grpc mismatch is applied as asked but shows no symptom there).


@mesh_fault("misnamed-protocol-port-kubernetes-service",
            "Rename a Service port so Istio's protocol selection picks the wrong protocol.",
            category="Misconfiguration", args=PortNameArgs,
            candidates=lambda parts: [r for r in _http_like(parts) if _http_allow(parts, r)], symptom="errors",
            signature=Signature(alerts=("HighRequestErrorRate",)))
def MISNAMED_PORT(parts: Parts, target: Ref, args: PortNameArgs, rng: random.Random) -> Impact:
    component = _component(parts, target)
    allow = _http_allow(parts, target)
    svc = parts.edit(target)
    p = next(x for x in svc["spec"]["ports"] if str(x.get("name", "")).split("-")[0] in ("http", "grpc"))
    old = p["name"]
    new = args.name or (f"tcp-{old}" if allow else "http" if old.startswith("grpc") else "grpc")
    p["name"] = new
    p.pop("appProtocol", None)
    if new.startswith("tcp"):
        why = "the mesh now treats it as plain TCP, so the ALLOW policy's HTTP rules match nothing"
        effect = "connections reset (RBAC denies every request on a TCP port)"
    else:
        why = f"the mesh now speaks {new.split('-')[0]} to a server that speaks {old.split('-')[0]}"
        effect = "503 (upstream protocol error)"
    return Impact(target, f"port {p['port']} renamed {old} -> {new}; {why}", effect, impacted=target,
                  component=component)


FAULTS = [INVALID_SELECTOR, TARGET_PORT, DELETED_SERVICE, SCALED_TO_ZERO, MISNAMED_PORT]
