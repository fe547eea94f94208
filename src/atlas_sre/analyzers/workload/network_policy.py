"""ATL250 (NetworkPolicies block all ingress to a Service's pods on its ports) and ATL251 (they block
a workload's egress to the Services it calls).

Why: a dropped packet leaves no event and no log on the server; callers just time out (`503 UF/URX
connection_timeout`). Policies are evaluated per pod as Kubernetes does: a pod selected by any
policy of a direction is isolated in that direction, and traffic is allowed if any rule of any
selecting policy admits the port. Peers are not evaluated (a rule admitting the port from some peer
counts as allowing it), so a finding means no peer at all can connect.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import (
    SYSTEM_NAMESPACES,
    by_owner,
    container_ports,
    dependencies,
    labels,
    live_pods,
    name_of,
    ns_of,
    pod_spec,
    selector_matches,
    service_pods,
    spec,
)
from atlas_sre.analyzers.snapshot import Obj, Snapshot

NAME = "network-policy"


def _types(np: Obj) -> set[str]:
    types = set(spec(np).get("policyTypes") or [])
    if not types:
        types = {"Ingress"} | ({"Egress"} if spec(np).get("egress") else set())
    return types


def selecting(snap: Snapshot, pod: Obj, direction: str) -> list[Obj]:
    """NetworkPolicies in the pod's namespace that select it for `direction` (Ingress/Egress)."""
    return [
        np
        for np in snap.of_kind("NetworkPolicy", ns_of(pod))
        if direction in _types(np) and selector_matches(spec(np).get("podSelector"), labels(pod))
    ]


def _port_ok(rule_ports: list[dict[str, Any]] | None, port: int, port_names: set[str]) -> bool:
    if not rule_ports:
        return True
    for rp in rule_ports:
        value = rp.get("port")
        if value is None:
            return True
        if str(value) == str(port) or str(value) in port_names:
            return True
        end = rp.get("endPort")
        if end and str(value).isdigit() and int(value) <= port <= int(end):
            return True
    return False


def allowed(policies: list[Obj], direction: str, port: int, names: set[str] = frozenset()) -> bool:
    """Does any rule of `policies` admit `port` in `direction` (no policy: not isolated, allowed)?"""
    if not policies:
        return True
    key = "ingress" if direction == "Ingress" else "egress"
    return any(
        _port_ok(rule.get("ports"), port, names) for np in policies for rule in spec(np).get(key) or []
    )


def _target_port(svc: Obj, pod: Obj, port: int | None = None) -> list[tuple[int, set[str]]]:
    """(container port number, names) each Service port lands on in this pod."""
    out = []
    for sp in spec(svc).get("ports") or []:
        if port is not None and int(sp.get("port", 0)) != port:
            continue
        target = sp.get("targetPort", sp.get("port"))
        for _, cp in container_ports(pod_spec(pod)):
            if str(cp.get("containerPort")) == str(target) or cp.get("name") == target:
                out.append((int(cp["containerPort"]), {str(cp.get("name"))} if cp.get("name") else set()))
                break
        else:
            if str(target).isdigit():
                out.append((int(target), set()))
    return out


class NetworkPolicies(Check, name=NAME, codes=("ATL250", "ATL251")):
    """NetworkPolicies must let a Service's callers in and a workload's calls out."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        if not snap.has("NetworkPolicy"):
            return
        for svc in snap.of_kind("Service"):
            pods = service_pods(snap, svc)
            if not pods or ns_of(svc) in SYSTEM_NAMESPACES:
                continue
            pols = selecting(snap, pods[0], "Ingress")
            blocked = [p for p, names in _target_port(svc, pods[0]) if not allowed(pols, "Ingress", p, names)]
            if pols and blocked:
                for np in pols:
                    yield self.finding(
                        "ATL250",
                        Level.ERROR,
                        np,
                        f"NetworkPolicy isolates the pods of Service {name_of(svc)} and no ingress rule "
                        f"admits port(s) {', '.join(map(str, blocked))}; callers time out.",
                        related=[Resource.of(svc).entity],
                    )
        policed = {ns_of(np) for np in snap.of_kind("NetworkPolicy")}
        for res, (top, pods) in by_owner(snap, [p for p in live_pods(snap) if ns_of(p) in policed]).items():
            pols = selecting(snap, pods[0], "Egress")
            if not pols:
                continue
            blocked = []
            for var, ns, name, port in dependencies(snap, top):
                svc = snap.get("Service", ns, name)
                backends = service_pods(snap, svc) if svc else []
                targets = _target_port(svc, backends[0], port) if backends else [(port, set())]
                if any(not allowed(pols, "Egress", p) for p, _ in targets):
                    blocked.append(f"{var}={name}:{port}")
            if blocked:
                for np in pols:
                    yield self.finding(
                        "ATL251",
                        Level.ERROR,
                        np,
                        f"NetworkPolicy restricts egress of {res.kind} {res.namespace}/{res.name} and no "
                        "egress rule "
                        f"admits its dependencies ({', '.join(blocked[:3])}); its calls time out.",
                        related=[res.entity],
                    )
