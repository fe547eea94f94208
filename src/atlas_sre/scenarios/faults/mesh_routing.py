"""Istio routing faults: subsets the DestinationRule lacks or that select nothing, routes to a wrong
host or port, a Gateway host that matches nothing, a VirtualService detached from its Gateway."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, ref_of
from atlas_sre.scenarios.faults.common import pick
from atlas_sre.scenarios.faults.mesh_common import (
    called_mesh_services,
    destination_rule,
    http_routes,
    mesh_fault,
    mesh_services,
    new_virtual_service,
    rescale,
    routing_virtual_services,
)
from atlas_sre.scenarios.faults.topology import (
    ingress_virtual_services,
    kind_objects,
    service_workloads,
    template_labels,
    virtual_services_for,
)

NC = Signature(alerts=("HighRequestErrorRate",), flags=("NC",), proxy="client")
NR = Signature(alerts=("HighRequestErrorRate", "NoRequestsReceived"), flags=("NR",), proxy="gateway")


class SubsetArgs(FaultArgs):
    subset: str = "v4"  # the subset the new route sends traffic to
    weight: int = 50  # percent of the Service's traffic sent there


def _subset_route(parts: Parts, service: Ref, subset: str, weight: int) -> Ref:
    """Route `weight`% of the Service's mesh traffic to `subset`, keeping the rest where it went."""
    existing = virtual_services_for(parts, service)
    if not existing:
        parts.add(new_virtual_service(service, [{"destination": {"host": service.name, "subset": "stable"}}]))
        existing = [parts.require(Ref("VirtualService", service.name, service.namespace))]
    vs = parts.edit(ref_of(existing[0]))
    rule = http_routes(vs, service)[0]
    keep = list(rule["route"])
    before = [int(d.get("weight", 100 // len(keep))) for d in keep]
    weights = rescale(before, 100 - weight)
    for d, w in zip(keep, weights, strict=True):
        d["weight"] = w
    rule["route"] = [d for d in keep if d["weight"] > 0] + [
        {"destination": {"host": service.name, "subset": subset}, "weight": weight}]
    return ref_of(vs)


def _pod_version_labels(parts: Parts, service: Ref) -> dict[str, str]:
    labels = template_labels(service_workloads(parts, service)[0])
    key = "version" if "version" in labels else next(iter(parts.require(service)["spec"]["selector"]))
    return {key: labels[key]}


@mesh_fault("missing-destination-rule-subset-istio-virtual-service",
            "A VirtualService routes part of the traffic to a subset the DestinationRule does not define.",
            category="Misconfiguration", args=SubsetArgs, candidates=called_mesh_services, symptom="errors",
            signature=NC,
            draw=lambda parts, target, rng: {"subset": pick(rng, ["v4", "canary", "v2-beta"]),
                                             "weight": rng.choice([20, 30, 50, 100])})
def MISSING_SUBSET(parts: Parts, target: Ref, args: SubsetArgs, rng: random.Random) -> Impact:
    dr_ref = destination_rule(parts, target)
    dr = parts.edit(dr_ref)
    subsets = dr["spec"].setdefault("subsets", [])
    if any(s["name"] == args.subset for s in subsets):
        raise FaultError(f"fault missing-destination-rule-subset-istio-virtual-service: subset {args.subset!r} exists")
    if not subsets:
        subsets.append({"name": "stable", "labels": _pod_version_labels(parts, target)})
    vs_ref = _subset_route(parts, target, args.subset, args.weight)
    return Impact(dr_ref, f"subset {args.subset}, referenced by VirtualService {vs_ref.name}, is not defined",
                  f"503 NC (cluster_not_found) on ~{args.weight}% of calls", impacted=target, related=[vs_ref])


class EmptySubsetArgs(FaultArgs):
    labels: dict[str, str] = {"version": "v1.0"}  # what the subset selects (no pod carries it)


@mesh_fault("empty-subset-istio-destination-rule",
            "A DestinationRule subset whose labels select no pods, while a route still sends traffic to it.",
            category="Misconfiguration", args=EmptySubsetArgs, candidates=called_mesh_services, symptom="errors",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("UH",), proxy="client"),
            draw=lambda parts, target, rng: {"labels": rng.choice([{"version": "v1.0"}, {"version": "stable"},
                                                                   {"track": "stable"}])})
def EMPTY_SUBSET(parts: Parts, target: Ref, args: EmptySubsetArgs, rng: random.Random) -> Impact:
    dr_ref = destination_rule(parts, target)
    dr = parts.edit(dr_ref)
    subsets = dr["spec"].setdefault("subsets", [])
    routed = {d["destination"].get("subset") for v in virtual_services_for(parts, target)
              for r in http_routes(v, target) for d in r["route"]}
    chosen = next((s for s in subsets if s["name"] in routed), None)
    if chosen is None:
        chosen = {"name": "v1", "labels": {}}
        subsets.append(chosen)
        existing = virtual_services_for(parts, target)
        if existing:
            vs = parts.edit(ref_of(existing[0]))
            for r in http_routes(vs, target):
                r["route"] = [{"destination": {"host": target.name, "subset": "v1"}}]
        else:
            parts.add(new_virtual_service(target, [{"destination": {"host": target.name, "subset": "v1"}}]))
    chosen["labels"] = dict(args.labels)
    pretty = ",".join(f"{k}={v}" for k, v in args.labels.items())
    return Impact(dr_ref, f"subset {chosen['name']} selects {pretty}, which no pod carries",
                  "503 UH (no healthy upstream) for traffic routed to that subset", impacted=target,
                  related=[Ref("VirtualService", target.name, target.namespace)])


class HostArgs(FaultArgs):
    host: str | None = None  # default: the Service name with a typo


@mesh_fault("wrong-destination-host-istio-virtual-service",
            "A VirtualService route points at a host that does not exist.",
            category="Misconfiguration", args=HostArgs, candidates=mesh_services, symptom="errors", signature=NC,
            draw=lambda parts, target, rng: {"host": rng.choice([f"{target.name}s", f"{target.name}-svc",
                                                                 f"{target.name}.default.svc.cluster.local"])})
def WRONG_HOST(parts: Parts, target: Ref, args: HostArgs, rng: random.Random) -> Impact:
    host = args.host or f"{target.name}s"
    vs_ref = routing_virtual_services(parts, target)[0]
    vs = parts.edit(vs_ref)
    for r in http_routes(vs, target):
        for d in r["route"]:
            d["destination"]["host"] = host
    return Impact(vs_ref, f"route destination host {host} is not a service in the mesh (should be {target.name})",
                  "503 NC (cluster_not_found)", impacted=target)


class PortArgs(FaultArgs):
    port: int | None = None  # default: one above the Service port


@mesh_fault("wrong-destination-port-istio-virtual-service",
            "A VirtualService route sends traffic to a port the Service does not expose.",
            category="Misconfiguration", args=PortArgs, candidates=mesh_services, symptom="errors", signature=NC,
            draw=lambda parts, target, rng: {
                "port": parts.require(target)["spec"]["ports"][0]["port"] + rng.choice([1, 10])})
def WRONG_PORT(parts: Parts, target: Ref, args: PortArgs, rng: random.Random) -> Impact:
    svc_ports = [p["port"] for p in parts.require(target)["spec"]["ports"]]
    port = args.port or svc_ports[0] + 1
    if port in svc_ports:
        raise FaultError(f"fault wrong-destination-port-istio-virtual-service: {target} exposes port {port}")
    vs_ref = routing_virtual_services(parts, target)[0]
    vs = parts.edit(vs_ref)
    for r in http_routes(vs, target):
        for d in r["route"]:
            d["destination"]["port"] = {"number": port}
    return Impact(vs_ref, f"route destination port {port} is not a port of Service {target.name} "
                  f"({', '.join(map(str, svc_ports))})", "503 NC (cluster_not_found)", impacted=target)


def _gateways(parts: Parts) -> list[Ref]:
    bound = {g.split("/")[-1] for vs in ingress_virtual_services(parts) for g in vs["spec"]["gateways"]}
    return sorted((ref_of(g) for g in kind_objects(parts, "Gateway") if g["metadata"]["name"] in bound), key=str)


class GatewayHostArgs(FaultArgs):
    host: str | None = None  # default: the same name under another domain


@mesh_fault("mismatched-host-istio-gateway", "Change a Gateway's host so requests for the real host match no server.",
            category="Misconfiguration", args=GatewayHostArgs, target_kind="Gateway", candidates=_gateways,
            symptom="not-found", signature=NR,
            draw=lambda parts, target, rng: {
                "host": _typo_host(parts.require(target)["spec"]["servers"][0]["hosts"][0], rng)})
def GATEWAY_HOST(parts: Parts, target: Ref, args: GatewayHostArgs, rng: random.Random) -> Impact:
    gw = parts.edit(target)
    old = gw["spec"]["servers"][0]["hosts"][0]
    new = args.host or old.rsplit(".", 1)[0] + ".org"
    for server in gw["spec"]["servers"]:
        server["hosts"] = [new if h == old else h for h in server["hosts"]]
    vss = [ref_of(v) for v in ingress_virtual_services(parts) if target.name in
           [g.split("/")[-1] for g in v["spec"]["gateways"]]]
    return Impact(target, f"Gateway serves host {new}, but users and the VirtualService use {old}",
                  "404 NR (route_not_found) at the ingress gateway",
                  impacted=Ref("Service", "istio-ingressgateway", "istio-system"), related=vss)


def _typo_host(host: str, rng: random.Random) -> str:
    name, _, domain = host.partition(".")
    return rng.choice([f"{name}.{domain.rsplit('.', 1)[0]}.org", f"www.{host}", f"{name}-v2.{domain}"])


class UnbindArgs(FaultArgs):
    gateway: str | None = None  # default: the Gateway name with a typo


def _ingress_vs(parts: Parts) -> list[Ref]:
    return sorted((ref_of(v) for v in ingress_virtual_services(parts)), key=str)


@mesh_fault("unbound-gateway-istio-virtual-service",
            "Bind the public VirtualService to a Gateway name that does not exist.",
            category="Misconfiguration", args=UnbindArgs, target_kind="VirtualService", candidates=_ingress_vs,
            symptom="not-found", signature=NR,
            draw=lambda parts, target, rng: {
                "gateway": pick(rng, ["gateway", "public-gateway", "istio-system/main-gateway"])})
def UNBOUND_GATEWAY(parts: Parts, target: Ref, args: UnbindArgs, rng: random.Random) -> Impact:
    vs = parts.edit(target)
    old = vs["spec"]["gateways"][0]
    new = args.gateway or f"{old}-v2"
    vs["spec"]["gateways"] = [new]
    gw = Ref("Gateway", old.split("/")[-1], target.namespace)
    return Impact(target, f"VirtualService is bound to gateway {new}, which does not exist (was {old}); no route "
                  "serves the public host", "404 NR (route_not_found) at the ingress gateway",
                  impacted=Ref("Service", "istio-ingressgateway", "istio-system"), related=[gw])


FAULTS = [MISSING_SUBSET, EMPTY_SUBSET, WRONG_HOST, WRONG_PORT, GATEWAY_HOST, UNBOUND_GATEWAY]
