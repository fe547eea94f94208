"""Istio routing configuration, resolved the way istiod turns it into Envoy routes and clusters.

- Hosts in VirtualServices and DestinationRules: a name without dots is short for
  `name.<rule namespace>.svc.cluster.local`; anything with a dot is taken literally (so
  `reviews.shop` matches no Service, as in Istio).
- Sidecars use VirtualServices bound to `mesh` (no `gateways`, or `mesh` listed); the oldest one
  per host wins. Gateways use VirtualServices that name them.
- A DestinationRule is looked up in the client's namespace, then the Service's, then the root
  namespace; subset `trafficPolicy` overrides the top-level one, `portLevelSettings` the rest.
- Service port protocol: named `http`/`http-*`/`http2`/`grpc*` or appProtocol http → HTTP;
  `tcp`/`tcp-*`/`tls`/`mongo`/`mysql`/`redis`… → TCP (no L7 routing, no HTTP metrics);
  unnamed → protocol sniffing, which detects HTTP for HTTP calls.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from atlas_sre.kube.labels import map_matches
from atlas_sre.sim.mesh.resolve import DOMAIN
from atlas_sre.sim.mesh.world import ROOT_NS, Instance, World
from atlas_sre.sim.state import Obj

_HTTP_PREFIXES = ("http", "http2", "grpc", "grpc-web")
_TCP_PREFIXES = ("tcp", "tls", "https", "mongo", "mysql", "redis", "mqtt", "kafka")


def rule_host(name: str, namespace: str) -> str:
    """A VS/DR host as istiod reads it (short names relative to the rule's namespace)."""
    return name if "." in name or name == "*" else f"{name}.{namespace}.{DOMAIN}"


def host_matches(pattern: str, host: str) -> bool:
    """Istio host match: exact, `*`, or a `*.suffix` wildcard."""
    return pattern == host or pattern == "*" or (pattern.startswith("*") and host.endswith(pattern[1:]))


def _age(obj: Obj) -> tuple[str, str, str]:
    md = obj["metadata"]
    return (md.get("creationTimestamp") or "", md.get("namespace", ""), md["name"])


def port_protocol(svc_port: dict[str, Any], call_protocol: str = "http") -> str:
    """`http` or `tcp`: how the sidecar treats traffic to this Service port."""
    app = (svc_port.get("appProtocol") or "").lower()
    name = (svc_port.get("name") or "").lower()
    if app:
        return "http" if app in ("http", "http2", "grpc", "kubernetes.io/h2c") else "tcp"
    prefix = name.split("-", 1)[0]
    if prefix in _HTTP_PREFIXES:
        return "http"
    if prefix in _TCP_PREFIXES:
        return "tcp"
    return "http" if call_protocol == "http" else "tcp"  # sniffed


def gateway_refs(vs: Obj) -> list[str]:
    """`ns/name` of the gateways a VS binds to (`mesh` kept as is)."""
    ns = vs["metadata"].get("namespace", "default")
    out = []
    for g in (vs.get("spec") or {}).get("gateways") or []:
        out.append(g if g == "mesh" or "/" in g else f"{ns}/{g}")
    return out


def mesh_virtual_service(world: World, host: str) -> Obj | None:
    """The VS sidecars apply to `host` (an FQDN)."""
    found = []
    for vs in world.list("VirtualService"):
        refs = gateway_refs(vs)
        if refs and "mesh" not in refs:
            continue
        ns = vs["metadata"].get("namespace", "default")
        if any(host_matches(rule_host(h, ns), host) for h in (vs.get("spec") or {}).get("hosts") or []):
            found.append(vs)
    return min(found, key=_age) if found else None


def gateway_servers(world: World, gw: Instance, port: int) -> list[tuple[Obj, dict[str, Any]]]:
    """(Gateway, server) pairs whose selector picks this gateway's pods and that listen on `port`."""
    out = []
    for gateway in sorted(world.list("Gateway"), key=_age):
        spec = gateway.get("spec") or {}
        if not map_matches(spec.get("selector"), gw.labels):
            continue
        for server in spec.get("servers") or []:
            if int((server.get("port") or {}).get("number", 0)) == port:
                out.append((gateway, server))
    return out


def _server_host_allows(entry: str, host: str, vs_ns: str | None, gw_ns: str) -> bool:
    ns_part, _, name = entry.rpartition("/")
    if vs_ns is not None and ns_part not in ("", "*") and (gw_ns if ns_part == "." else ns_part) != vs_ns:
        return False
    return host_matches(name, host) or fnmatchcase(host, name)


def gateway_virtual_service(world: World, servers: list[tuple[Obj, dict[str, Any]]], authority: str
                            ) -> tuple[str, Obj | None]:
    """Route selection at a gateway: ('nohost'|'novs'|'ok', VS) for the request's Host."""
    host = authority.split(":", 1)[0]
    hosted = [(g, s) for g, s in servers if any(_server_host_allows(h, host, None, g["metadata"].get("namespace", ""))
                                                for h in s.get("hosts") or [])]
    if not hosted:
        return "nohost", None
    names = {f"{g['metadata'].get('namespace', 'default')}/{g['metadata']['name']}" for g, _ in hosted}
    for vs in sorted(world.list("VirtualService"), key=_age):
        ns = vs["metadata"].get("namespace", "default")
        if not names.intersection(gateway_refs(vs)):
            continue
        if not any(host_matches(h, host) for h in (vs.get("spec") or {}).get("hosts") or []):
            continue
        if any(_server_host_allows(h, host, ns, g["metadata"].get("namespace", ""))
               for g, s in hosted for h in s.get("hosts") or []):
            return "ok", vs
    return "novs", None


def _string_match(rule: dict[str, Any] | None, value: str) -> bool:
    if not rule:
        return True
    if "exact" in rule:
        return bool(value == rule["exact"])
    if "prefix" in rule:
        return value.startswith(rule["prefix"])
    if "regex" in rule:
        return re.fullmatch(rule["regex"], value) is not None
    return True


def http_route(vs: Obj, path: str, method: str, headers: dict[str, str], source_labels: dict[str, str],
               source_ns: str, gateways: set[str]) -> tuple[int, dict[str, Any]] | None:
    """The first `http` route of `vs` this request matches (index, route), or None (→ 404 NR).

    `gateways` holds the names the requesting proxy answers to (`mesh` for sidecars; a gateway's
    `name` and `namespace/name`), checked against a match's `gateways`.
    """
    for i, route in enumerate((vs.get("spec") or {}).get("http") or []):
        matches = route.get("match") or [{}]
        for m in matches:
            if m.get("gateways") and not gateways.intersection(m["gateways"]):
                continue
            if not _string_match(m.get("uri"), path.split("?", 1)[0]) or not _string_match(m.get("method"), method):
                continue
            if any(not _string_match(rule, headers.get(name.lower(), "\0")) for name, rule in
                   (m.get("headers") or {}).items()):
                continue
            if m.get("sourceLabels") and not map_matches(m["sourceLabels"], source_labels):
                continue
            if m.get("sourceNamespace") and m["sourceNamespace"] != source_ns:
                continue
            return i, route
    return None


def weighted(destinations: list[dict[str, Any]]) -> list[tuple[float, dict[str, Any]]]:
    """Route destinations with their traffic shares (weights normalised; unset weights share the rest)."""
    if not destinations:
        return []
    if len(destinations) == 1:
        return [(1.0, destinations[0].get("destination") or {})]
    given = sum(int(d.get("weight") or 0) for d in destinations)
    unset = [d for d in destinations if d.get("weight") is None]
    rest = max(0, 100 - given) / len(unset) if unset else 0.0
    weights = [float(d["weight"]) if d.get("weight") is not None else rest for d in destinations]
    total = sum(weights) or 1.0
    return [(w / total, d.get("destination") or {}) for w, d in zip(weights, destinations, strict=True) if w > 0]


def destination_rule(world: World, host: str, client_ns: str, service_ns: str) -> Obj | None:
    """The DR that applies for a client: its own namespace first, then the service's, then root."""
    for ns in dict.fromkeys((client_ns, service_ns, ROOT_NS)):
        found = [dr for dr in world.list("DestinationRule", ns)
                 if host_matches(rule_host((dr.get("spec") or {}).get("host", ""), ns), host)]
        if found:
            return min(found, key=_age)
    return None


def subset_labels(dr: Obj | None, subset: str) -> dict[str, str] | None:
    """Labels of a named subset, or None when the DR does not define it (→ no Envoy cluster, NC)."""
    for s in ((dr or {}).get("spec") or {}).get("subsets") or []:
        if s.get("name") == subset:
            return dict(s.get("labels") or {})
    return None


def traffic_policy(dr: Obj | None, subset: str, port: int) -> dict[str, Any]:
    """The effective trafficPolicy for (subset, port): top level < port level < subset < subset port."""
    spec = (dr or {}).get("spec") or {}
    layers = [spec.get("trafficPolicy") or {}]
    for s in spec.get("subsets") or []:
        if subset and s.get("name") == subset:
            layers.append(s.get("trafficPolicy") or {})
    out: dict[str, Any] = {}
    for layer in layers:
        out.update({k: v for k, v in layer.items() if k != "portLevelSettings"})
        for pls in layer.get("portLevelSettings") or []:
            if int((pls.get("port") or {}).get("number", -1)) == port:
                out.update({k: v for k, v in pls.items() if k != "port"})
    return out


def sidecar_resource(world: World, inst: Instance) -> Obj | None:
    """The Sidecar resource that configures this workload's proxy (selector, namespace, then root)."""
    for sc in world.list("Sidecar", inst.namespace):
        sel = ((sc.get("spec") or {}).get("workloadSelector") or {}).get("labels")
        if sel and map_matches(sel, inst.labels):
            return sc
    for ns in (inst.namespace, ROOT_NS):
        for sc in world.list("Sidecar", ns):
            if not (sc.get("spec") or {}).get("workloadSelector"):
                return sc
    return None


def egress_visible(sidecar: Obj | None, client_ns: str, svc_ns: str, host: str) -> bool:
    """Whether a Sidecar's `egress.hosts` (`ns/host`, `./host`, `*/host`, `~/…`) lets the proxy see `host`."""
    if sidecar is None:
        return True
    egress = (sidecar.get("spec") or {}).get("egress")
    if not egress:
        return True
    for listener in egress:
        for entry in listener.get("hosts") or []:
            ns, _, pattern = entry.partition("/")
            if ns == "~":
                continue
            ns = client_ns if ns == "." else ns
            if ns not in ("*", svc_ns):
                continue
            if pattern == "*" or host_matches(rule_host(pattern, svc_ns), host):
                return True
    return False


def outbound_mode(sidecar: Obj | None) -> str:
    """ALLOW_ANY (Istio's default: unknown destinations pass through) or REGISTRY_ONLY (black hole)."""
    return str((((sidecar or {}).get("spec") or {}).get("outboundTrafficPolicy") or {}).get("mode") or "ALLOW_ANY")
