"""Istio security policy: PeerAuthentication (who must speak mTLS) and AuthorizationPolicy (who may call).

PeerAuthentication: workload-selector policy > namespace policy > mesh-wide policy in the root
namespace; `UNSET` inherits; `portLevelMtls` (keyed by the *target* port) overrides the workload
policy; the default is PERMISSIVE.

AuthorizationPolicy, as the destination's proxy enforces it: DENY policies first (any matching
rule denies: `rbac_access_denied_matched_policy[ns[NS]-policy[NAME]-rule[I]]`), then ALLOW: if any
ALLOW policy applies to the workload, a request that matches none is denied
(`rbac_access_denied_matched_policy[none]`). Policies apply from the root namespace (mesh-wide),
the workload's namespace (no selector) or by selector. Source principals/namespaces exist only over
mTLS. On TCP ports, HTTP-only fields make an ALLOW rule match nothing and are ignored in a DENY rule.
`targetRef(s)` of kind Gateway applies the policy to the gateway pods that Gateway selects.
`when` understands `request.headers[...]`, `source.namespace`, `source.principal`,
`destination.port`; other keys are treated as satisfied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atlas_sre.kube.labels import map_matches
from atlas_sre.sim.mesh.world import ROOT_NS, Instance, World
from atlas_sre.sim.state import Obj

_HTTP_ONLY = ("methods", "notMethods", "paths", "notPaths", "hosts", "notHosts", "requestPrincipals",
              "notRequestPrincipals")


def _pa_mode(pa: Obj | None) -> str | None:
    mode = (((pa or {}).get("spec") or {}).get("mtls") or {}).get("mode")
    return None if mode in (None, "UNSET") else str(mode)


def _oldest(objs: list[Obj]) -> Obj | None:
    return min(objs, key=lambda o: (o["metadata"].get("creationTimestamp") or "", o["metadata"]["name"]),
               default=None)


def namespace_mtls(world: World, namespace: str) -> str:
    """Mesh-wide then namespace PeerAuthentication mode (what auto-mTLS infers for a service)."""
    mode = "PERMISSIVE"
    for ns in (ROOT_NS, namespace):
        pa = _oldest([p for p in world.list("PeerAuthentication", ns) if not (p.get("spec") or {}).get("selector")])
        mode = _pa_mode(pa) or mode
    return mode


def mtls_mode(world: World, inst: Instance, port: int) -> str:
    """STRICT, PERMISSIVE or DISABLE for traffic to `inst` on its target `port`."""
    mode = namespace_mtls(world, inst.namespace)
    selected = [p for p in world.list("PeerAuthentication", inst.namespace)
                if (p.get("spec") or {}).get("selector")
                and map_matches(((p["spec"]["selector"]) or {}).get("matchLabels"), inst.labels)]
    pa = _oldest(selected)
    if pa is not None:
        mode = _pa_mode(pa) or mode
        port_mode = ((pa["spec"].get("portLevelMtls") or {}).get(str(port)) or
                     (pa["spec"].get("portLevelMtls") or {}).get(port) or {}).get("mode")
        if port_mode and port_mode != "UNSET":
            mode = port_mode
    return mode


@dataclass(frozen=True)
class Caller:
    """What the destination proxy knows about a request's source and the request itself."""

    principal: str | None
    namespace: str | None
    path: str
    method: str
    host: str
    port: int
    headers: dict[str, str] = field(default_factory=dict, hash=False)


def _value_match(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return pattern == value


def _field(spec: dict[str, Any], name: str, value: str | None) -> bool:
    """One positive/negative field pair (`principals`/`notPrincipals` …) of a source or operation."""
    if name in spec and not any(_value_match(str(p), value) for p in spec[name]):
        return False
    neg = "not" + name[0].upper() + name[1:]
    return not (neg in spec and any(_value_match(str(p), value) for p in spec[neg]))


def _source_matches(src: dict[str, Any], req: Caller) -> bool:
    if "requestPrincipals" in src:
        return False
    return _field(src, "principals", req.principal) and _field(src, "namespaces", req.namespace)


def _operation_matches(op: dict[str, Any], req: Caller) -> bool:
    host = req.host.split(":", 1)[0]
    return (_field(op, "methods", req.method) and _field(op, "paths", req.path.split("?", 1)[0])
            and (_field(op, "hosts", req.host) or _field(op, "hosts", host)) and _field(op, "ports", str(req.port)))


def _when_matches(cond: dict[str, Any], req: Caller) -> bool:
    key = str(cond.get("key", ""))
    values, negs = cond.get("values"), cond.get("notValues") or []
    actual: str | None
    if key.startswith("request.headers["):
        actual = req.headers.get(key[len("request.headers["):-1].lower())
    elif key == "source.namespace":
        actual = req.namespace
    elif key == "source.principal":
        actual = req.principal
    elif key == "destination.port":
        actual = str(req.port)
    else:
        return not key.startswith("request.auth.")
    ok = values is None or any(_value_match(str(v), actual) for v in values)
    return ok and not any(_value_match(str(v), actual) for v in negs)


def _strip_http(part: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in part.items() if k not in _HTTP_ONLY}


def rule_matches(rule: dict[str, Any], req: Caller, tcp: bool, deny: bool) -> bool:
    """Whether a request matches one rule (`from` OR'ed, fields AND'ed, `to` OR'ed, `when` AND'ed)."""
    sources = [f.get("source") or {} for f in rule.get("from") or []]
    ops = [t.get("operation") or {} for t in rule.get("to") or []]
    if tcp:
        if not deny and any(k in part for part in sources + ops for k in _HTTP_ONLY):
            return False
        sources, ops = [_strip_http(s) for s in sources], [_strip_http(o) for o in ops]
    if sources and not any(_source_matches(s, req) for s in sources):
        return False
    if ops and not any(_operation_matches(o, req) for o in ops):
        return False
    return all(_when_matches(c, req) for c in rule.get("when") or [])


def _targets_gateway(world: World, policy: Obj, inst: Instance) -> bool:
    spec = policy.get("spec") or {}
    refs = list(spec.get("targetRefs") or []) + ([spec["targetRef"]] if spec.get("targetRef") else [])
    for ref in refs:
        if ref.get("kind") != "Gateway":
            continue
        gw = world.get("Gateway", policy["metadata"].get("namespace"), ref.get("name", ""))
        if gw and map_matches((gw.get("spec") or {}).get("selector"), inst.labels):
            return True
    return False


def applicable(world: World, inst: Instance) -> list[Obj]:
    """AuthorizationPolicies that the proxy of `inst` enforces."""
    out = []
    for policy in world.list("AuthorizationPolicy"):
        ns = policy["metadata"].get("namespace", "default")
        spec = policy.get("spec") or {}
        if spec.get("targetRef") or spec.get("targetRefs"):
            if _targets_gateway(world, policy, inst):
                out.append(policy)
            continue
        selector = (spec.get("selector") or {}).get("matchLabels")
        if selector:
            if ns == inst.namespace and map_matches(selector, inst.labels):
                out.append(policy)
        elif ns in (ROOT_NS, inst.namespace):
            out.append(policy)
    return sorted(out, key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"]))


def authorize(world: World, inst: Instance, req: Caller, tcp: bool = False) -> str | None:
    """None when allowed, else the RESPONSE_CODE_DETAILS the destination proxy logs for the denial."""
    policies = applicable(world, inst)
    for policy in policies:
        if (policy.get("spec") or {}).get("action") != "DENY":
            continue
        for i, rule in enumerate((policy.get("spec") or {}).get("rules") or []):
            if rule_matches(rule, req, tcp, deny=True):
                md = policy["metadata"]
                return f"rbac_access_denied_matched_policy[ns[{md.get('namespace')}]-policy[{md['name']}]-rule[{i}]]"
    allows = [p for p in policies if (p.get("spec") or {}).get("action", "ALLOW") == "ALLOW"]
    if not allows:
        return None
    for policy in allows:
        if any(rule_matches(r, req, tcp, deny=False) for r in (policy.get("spec") or {}).get("rules") or []):
            return None
    return "rbac_access_denied_matched_policy[none]"
