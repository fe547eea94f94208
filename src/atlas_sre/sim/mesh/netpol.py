"""Kubernetes NetworkPolicy: whether a TCP/UDP flow between two endpoints is allowed.

A pod selected by any policy of a type (Ingress/Egress) is isolated for that direction; a flow is
then allowed only if some rule of those policies admits the peer and port. `policyTypes` defaults
to Ingress, plus Egress when the policy has egress rules. Namespaces carry the automatic
`kubernetes.io/metadata.name` label. A blocked flow is dropped, so callers see a connect timeout.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from atlas_sre.kube.labels import selector_matches
from atlas_sre.sim.mesh.world import World
from atlas_sre.sim.state import Obj

KUBE_DNS = ("kube-system", {"k8s-app": "kube-dns"}, "10.96.0.10")


@dataclass(frozen=True)
class Peer:
    """One end of a flow: its namespace (None outside the cluster), pod labels, IP and named ports."""

    namespace: str | None
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str = ""
    port_names: dict[str, int] = field(default_factory=dict, hash=False)


def _ns_labels(world: World, namespace: str) -> dict[str, str]:
    return {**world.namespace_labels(namespace), "kubernetes.io/metadata.name": namespace}


def _types(policy: Obj) -> list[str]:
    spec = policy.get("spec") or {}
    return spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])


def _selecting(world: World, peer: Peer, kind: str) -> list[Obj]:
    if peer.namespace is None:
        return []
    return [p for p in world.list("NetworkPolicy", peer.namespace)
            if kind in _types(p) and selector_matches((p.get("spec") or {}).get("podSelector"), peer.labels)]


def _in_block(block: dict[str, Any], ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
        if addr not in ipaddress.ip_network(block.get("cidr", "0.0.0.0/0"), strict=False):
            return False
        return not any(addr in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])
    except ValueError:
        return False


def _peer_ok(world: World, rule_peer: dict[str, Any], policy_ns: str, other: Peer) -> bool:
    if "ipBlock" in rule_peer:
        return _in_block(rule_peer["ipBlock"], other.ip)
    if other.namespace is None:
        return False
    if "namespaceSelector" in rule_peer:
        if not selector_matches(rule_peer["namespaceSelector"], _ns_labels(world, other.namespace)):
            return False
    elif other.namespace != policy_ns:
        return False
    return "podSelector" not in rule_peer or selector_matches(rule_peer["podSelector"], other.labels)


def _port_ok(ports: list[dict[str, Any]] | None, port: int, protocol: str, names: dict[str, int]) -> bool:
    if not ports:
        return True
    for p in ports:
        if (p.get("protocol") or "TCP") != protocol:
            continue
        want = p.get("port")
        if want is None:
            return True
        number = names.get(want) if isinstance(want, str) and not want.isdigit() else int(want)
        if number is not None and (number == port or number <= port <= int(p.get("endPort") or number)):
            return True
    return False


def _allowed(world: World, policies: list[Obj], key: str, peer_key: str, other: Peer, port: int,
             protocol: str, names: dict[str, int]) -> bool:
    if not policies:
        return True
    for policy in policies:
        ns = policy["metadata"].get("namespace", "default")
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = rule.get(peer_key)
            if peers and not any(_peer_ok(world, p, ns, other) for p in peers):
                continue
            if _port_ok(rule.get("ports"), port, protocol, names):
                return True
    return False


def flow_allowed(world: World, src: Peer, dst: Peer, port: int, protocol: str = "TCP") -> bool:
    """Source egress and destination ingress both admit the flow to `dst` on `port`."""
    egress = _allowed(world, _selecting(world, src, "Egress"), "egress", "to", dst, port, protocol, dst.port_names)
    if not egress:
        return False
    return _allowed(world, _selecting(world, dst, "Ingress"), "ingress", "from", src, port, protocol, dst.port_names)


def dns_allowed(world: World, src: Peer) -> bool:
    """Whether the pod's egress policies let it reach cluster DNS on UDP 53."""
    ns, labels, ip = KUBE_DNS
    dns = Peer(ns, labels, ip, {"dns": 53})
    return _allowed(world, _selecting(world, src, "Egress"), "egress", "to", dns, 53, "UDP", {})
