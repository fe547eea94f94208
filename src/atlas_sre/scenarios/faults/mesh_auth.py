"""Istio authorization faults: a DENY policy on a service, a DENY policy on the ingress gateway, and an
ALLOW policy that does not list the real caller. Denials are 403s logged by the enforcing proxy."""

from __future__ import annotations

import random
from typing import Any, Literal

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, ref_of
from atlas_sre.scenarios.faults.mesh_common import SECURITY, called_mesh_services, mesh_fault, mesh_services
from atlas_sre.scenarios.faults.mesh_routing import _gateways
from atlas_sre.scenarios.faults.topology import (
    allow_policies,
    callers,
    entry_services,
    pod_spec,
    service_workloads,
    template_labels,
)


def principal(parts: Parts, workload: Ref) -> str:
    sa = pod_spec(parts.require(workload)).get("serviceAccountName") or "default"
    return f"cluster.local/ns/{workload.namespace}/sa/{sa}"


def _selector(parts: Parts, service: Ref) -> dict[str, str]:
    return dict(parts.require(service)["spec"].get("selector") or {})


class DenyArgs(FaultArgs):
    name: str | None = None
    rule: Literal["namespace", "methods", "paths"] = "namespace"


def _deny_rule(target: Ref, rule: str) -> tuple[dict[str, Any], str]:
    if rule == "namespace":  # meant `notNamespaces`: deny everyone *outside* the app's namespace
        return {"from": [{"source": {"namespaces": [target.namespace]}}]}, f"requests from namespace {target.namespace}"
    if rule == "methods":
        return {"to": [{"operation": {"methods": ["GET", "POST"]}}]}, "GET and POST requests"
    return {"to": [{"operation": {"paths": ["/*"]}}]}, "every path (/*)"


def _draw_deny(parts: Parts, target: Ref, rng: random.Random) -> dict[str, Any]:
    entry = target in entry_services(parts)  # gateway traffic comes from istio-system, not the app namespace
    rule = rng.choice(["methods", "paths"] if entry else ["namespace", "methods", "paths"])
    suffix = {"namespace": "deny-external", "methods": "readonly-lockdown", "paths": "maintenance"}[rule]
    return {"rule": rule, "name": f"{target.name}-{suffix}"}


@mesh_fault("traffic-denying-istio-authorization-policy",
            "An AuthorizationPolicy with action DENY that matches the requests callers make to a service.",
            category="Misconfiguration", args=DenyArgs, candidates=mesh_services, symptom="forbidden",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("rbac_access_denied_matched_policy",),
                                proxy="server"),
            draw=_draw_deny)
def SERVICE_DENY(parts: Parts, target: Ref, args: DenyArgs, rng: random.Random) -> Impact:
    name = args.name or f"{target.name}-deny-external"
    rule, what = _deny_rule(target, args.rule)
    parts.add({"apiVersion": SECURITY, "kind": "AuthorizationPolicy",
               "metadata": {"name": name, "namespace": target.namespace},
               "spec": {"selector": {"matchLabels": _selector(parts, target)}, "action": "DENY", "rules": [rule]}})
    return Impact(Ref("AuthorizationPolicy", name, target.namespace or "default"),
                  f"DENY policy {name} on {target.name} matches {what}, i.e. its real callers",
                  "403 rbac_access_denied_matched_policy at the destination", impacted=target)


class GatewayDenyArgs(FaultArgs):
    name: str | None = None
    methods: list[str] = ["GET"]


@mesh_fault("traffic-denying-istio-gateway-authorization-policy",
            "An AuthorizationPolicy with action DENY on the ingress gateway for the methods users send.",
            category="Misconfiguration", args=GatewayDenyArgs, target_kind="Gateway", candidates=_gateways,
            symptom="forbidden",
            signature=Signature(alerts=("HighRequestErrorRate", "NoRequestsReceived"),
                                flags=("rbac_access_denied_matched_policy",), proxy="gateway"),
            draw=lambda parts, target, rng: {"name": f"{target.name}-{rng.choice(['deny', 'block-get', 'waf'])}"})
def GATEWAY_DENY(parts: Parts, target: Ref, args: GatewayDenyArgs, rng: random.Random) -> Impact:
    gw = parts.require(target)
    name = args.name or f"{target.name}-deny"
    parts.add({"apiVersion": SECURITY, "kind": "AuthorizationPolicy",
               "metadata": {"name": name, "namespace": "istio-system"},
               "spec": {"selector": {"matchLabels": dict(gw["spec"].get("selector") or {"istio": "ingressgateway"})},
                        "action": "DENY", "rules": [{"to": [{"operation": {"methods": list(args.methods)}}]}]}})
    return Impact(Ref("AuthorizationPolicy", name, "istio-system"),
                  f"DENY policy {name} on the ingress gateway rejects {'/'.join(args.methods)} requests",
                  "403 at the ingress gateway; the app receives no requests",
                  impacted=Ref("Service", "istio-ingressgateway", "istio-system"), related=[target])


class AllowArgs(FaultArgs):
    principals: list[str] | None = None  # who the policy admits; default: the real caller's account misspelt


def _allow_policy(parts: Parts, service: Ref) -> Ref | None:
    labels = template_labels(service_workloads(parts, service)[0])
    policies = allow_policies(parts, service.namespace, labels)
    return ref_of(policies[0]) if policies else None


@mesh_fault("missing-principal-istio-authorization-policy",
            "An ALLOW AuthorizationPolicy whose principals do not include the service's real caller.",
            category="Misconfiguration", args=AllowArgs, candidates=called_mesh_services, symptom="forbidden",
            signature=Signature(alerts=("HighRequestErrorRate",), flags=("rbac_access_denied_matched_policy[none]",),
                                proxy="server"))
def MISSING_PRINCIPAL(parts: Parts, target: Ref, args: AllowArgs, rng: random.Random) -> Impact:
    real = sorted({principal(parts, d.caller) for d in callers(parts, target) if d.call.required})
    if not real:
        raise FaultError(f"fault missing-principal-istio-authorization-policy: nobody calls {target}")
    admitted = args.principals or [real[0].replace("/sa/", "/sa/svc-")]
    if set(real) & set(admitted):
        raise FaultError("fault missing-principal-istio-authorization-policy: the policy still admits a caller")
    ref = _allow_policy(parts, target)
    rule = {"from": [{"source": {"principals": admitted}}]}
    if ref is not None:
        parts.edit(ref)["spec"]["rules"] = [rule]
    else:
        ref = Ref("AuthorizationPolicy", f"{target.name}-allow-callers", target.namespace)
        parts.add({"apiVersion": SECURITY, "kind": "AuthorizationPolicy",
                   "metadata": {"name": ref.name, "namespace": target.namespace},
                   "spec": {"selector": {"matchLabels": _selector(parts, target)}, "action": "ALLOW",
                            "rules": [rule]}})
    return Impact(ref, f"ALLOW policy admits only {', '.join(admitted)}; the real caller(s) "
                  f"{', '.join(real)} match no rule", "403 rbac_access_denied_matched_policy[none]",
                  impacted=target)


FAULTS = [SERVICE_DENY, GATEWAY_DENY, MISSING_PRINCIPAL]
