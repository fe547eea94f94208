"""Istio mTLS and sidecar faults: a workload out of the mesh under STRICT mTLS, a DestinationRule
that turns client TLS off against STRICT, injection disabled for a namespace, and a Sidecar
resource that hides a dependency."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, ref_of
from atlas_sre.scenarios.faults.capacity import injected
from atlas_sre.scenarios.faults.common import calling_workloads, front_service, restart, served_service_refs
from atlas_sre.scenarios.faults.mesh_common import (
    SECURITY,
    called_mesh_services,
    destination_rule,
    mesh_fault,
    mesh_services,
    meshed,
)
from atlas_sre.scenarios.faults.topology import callers, dependencies, kind_objects, template_labels

INJECT = "sidecar.istio.io/inject"


def strict_policy(parts: Parts, namespace: str) -> Ref | None:
    """The namespace-wide PeerAuthentication in STRICT mode, if any."""
    for pa in kind_objects(parts, "PeerAuthentication"):
        spec = pa.get("spec") or {}
        if pa["metadata"].get("namespace") == namespace and not spec.get("selector") and \
                (spec.get("mtls") or {}).get("mode") == "STRICT":
            return ref_of(pa)
    return None


def ensure_strict(parts: Parts, namespace: str) -> Ref:
    ref = strict_policy(parts, namespace)
    if ref is None:
        ref = Ref("PeerAuthentication", "default", namespace)
        parts.add({"apiVersion": SECURITY, "kind": "PeerAuthentication",
                   "metadata": {"name": "default", "namespace": namespace}, "spec": {"mtls": {"mode": "STRICT"}}})
    return ref


def _meshed_callers(parts: Parts) -> list[Ref]:
    """Injected workloads whose required calls go to meshed L7 Services."""
    mesh = set(mesh_services(parts))
    return [r for r in calling_workloads(parts) if injected(parts, parts.require(r)) and any(
        d.call.required and d.service in mesh for d in dependencies(parts, parts.require(r)))]


class StrictArgs(FaultArgs):
    pass


@mesh_fault("strict-mutual-tls-istio-service-mesh-enforcement",
            "Enforce STRICT mTLS in the namespace while one calling workload runs outside the mesh.",
            category="Misconfiguration", args=StrictArgs, target_kind="Deployment", candidates=_meshed_callers,
            symptom="errors", signature=Signature(alerts=("HighRequestErrorRate",)))
def STRICT_MTLS(parts: Parts, target: Ref, args: StrictArgs, rng: random.Random) -> Impact:
    pa = ensure_strict(parts, target.namespace or "default")
    w = parts.edit(target)
    md = w["spec"]["template"].setdefault("metadata", {})
    md.setdefault("labels", {})[INJECT] = "false"
    return Impact(target, f"{target.name} pods run without a sidecar (label {INJECT}=false) while "
                  f"PeerAuthentication {pa.name} requires mTLS: its plaintext calls are rejected",
                  "connection reset by peer on every call it makes", impacted=front_service(parts, target),
                  related=[pa])


class TlsArgs(FaultArgs):
    mode: str = "DISABLE"


@mesh_fault("disabled-tls-istio-destination-rule",
            "A DestinationRule with tls.mode DISABLE towards a namespace that enforces STRICT mTLS.",
            category="Misconfiguration", args=TlsArgs,
            candidates=called_mesh_services,
            symptom="errors", signature=Signature(alerts=("HighRequestErrorRate",), flags=("UF", "UC"), proxy="client"))
def DISABLED_TLS(parts: Parts, target: Ref, args: TlsArgs, rng: random.Random) -> Impact:
    if args.mode not in ("DISABLE", "SIMPLE"):
        raise FaultError(f"fault disabled-tls-istio-destination-rule: args.mode: {args.mode!r} is not "
                         "DISABLE or SIMPLE")
    pa = ensure_strict(parts, target.namespace or "default")
    ref = destination_rule(parts, target)
    dr = parts.edit(ref)
    dr["spec"].setdefault("trafficPolicy", {})["tls"] = {"mode": args.mode}
    return Impact(ref, f"trafficPolicy.tls.mode {args.mode} makes clients send plaintext while "
                  f"PeerAuthentication {pa.name} is STRICT", "503 UF (upstream connection reset)", impacted=target,
                  related=[pa])


class InjectionArgs(FaultArgs):
    restarted: list[str] | None = None  # workloads rolled after the label change; default: one calling workload


def _injection_targets(parts: Parts) -> list[Ref]:
    out = []
    for ns in kind_objects(parts, "Namespace"):
        name = ns["metadata"]["name"]
        if (ns["metadata"].get("labels") or {}).get("istio-injection") == "enabled" and strict_policy(parts, name) \
                and any(r.namespace == name for r in _meshed_callers(parts)):
            out.append(ref_of(ns))
    return out


@mesh_fault("disabled-sidecar-injection-kubernetes-namespace",
            "Disable sidecar injection on a STRICT-mTLS namespace; workloads restarted afterwards leave the mesh.",
            category="Change", args=InjectionArgs, target_kind="Namespace", candidates=_injection_targets,
            symptom="errors", signature=Signature(alerts=("HighRequestErrorRate",)),
            draw=lambda parts, target, rng: {"restarted": [rng.choice(
                [r for r in _meshed_callers(parts) if r.namespace == target.name]).name]})
def INJECTION_DISABLED(parts: Parts, target: Ref, args: InjectionArgs, rng: random.Random) -> Impact:
    callers_here = [r for r in _meshed_callers(parts) if r.namespace == target.name]
    names = args.restarted or ([callers_here[0].name] if callers_here else [])
    if not names:
        raise FaultError(f"fault disabled-sidecar-injection-kubernetes-namespace: no calling workload in {target}")
    ns = parts.edit(target)
    ns["metadata"].setdefault("labels", {})["istio-injection"] = "disabled"
    refs = [Ref("Deployment", n, target.name) for n in names]
    for r in refs:
        restart(parts, r)
    return Impact(target, f"namespace label istio-injection=disabled; restarted {', '.join(names)} came back "
                  "without sidecars, and STRICT mTLS rejects their plaintext calls",
                  "connection reset on every call from the restarted pods", impacted=front_service(parts, refs[0]),
                  related=refs, component=refs[0])


class SidecarArgs(FaultArgs):
    client: str | None = None  # the calling workload whose Sidecar hides the target; default: its first caller


def _hiding_clients(parts: Parts, service: Ref) -> list[Ref]:
    """Meshed callers in the Service's namespace (a Sidecar resource applies to its own namespace)."""
    return sorted({d.caller for d in callers(parts, service) if d.call.required
                   and d.caller.namespace == service.namespace and injected(parts, parts.require(d.caller))
                   and front_service(parts, d.caller)}, key=str)


def _hideable(parts: Parts) -> list[Ref]:
    return sorted((r for r in served_service_refs(parts) if meshed(parts, r) and _hiding_clients(parts, r)), key=str)


@mesh_fault("dependency-hiding-istio-sidecar",
            "A Sidecar resource restricts a workload's egress hosts and leaves out one of its dependencies.",
            category="Misconfiguration", args=SidecarArgs, candidates=_hideable, symptom="errors",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("502", "BlackHoleCluster"), proxy="client"),
            draw=lambda parts, target, rng: {"client": rng.choice(_hiding_clients(parts, target)).name})
def SIDECAR_HIDING(parts: Parts, target: Ref, args: SidecarArgs, rng: random.Random) -> Impact:
    clients = [c for c in _hiding_clients(parts, target) if args.client in (None, c.name)]
    if not clients:
        raise FaultError(f"fault dependency-hiding-istio-sidecar: no meshed caller {args.client!r} of {target}")
    caller = clients[0]
    client = parts.require(caller)
    visible = sorted({f"./{d.service.name}.{d.service.namespace}.svc.cluster.local"
                      for d in dependencies(parts, client) if d.service != target})
    name = f"{caller.name}-egress"
    parts.add({"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
               "metadata": {"name": name, "namespace": target.namespace},
               "spec": {"workloadSelector": {"labels": dict(template_labels(client))},
                        "egress": [{"hosts": visible + ["istio-system/*"]}],
                        "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}})
    return Impact(Ref("Sidecar", name, target.namespace or "default"),
                  f"Sidecar {name} limits {caller.name}'s egress to an explicit host list that omits "
                  f"{target.name}, with REGISTRY_ONLY", f"{caller.name}'s calls to {target.name} are black-holed",
                  impacted=front_service(parts, caller), related=[caller], component=caller)


FAULTS = [STRICT_MTLS, DISABLED_TLS, INJECTION_DISABLED, SIDECAR_HIDING]
