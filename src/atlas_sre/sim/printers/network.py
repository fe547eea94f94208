"""Printers for traffic objects: Service, Endpoints, EndpointSlice, Ingress, IngressClass, NetworkPolicy.

These are the tables an agent reads to spot "service has no endpoints" (`<none>` in ENDPOINTS),
a LoadBalancer stuck at `<pending>`, or a selector that matches nothing, so the formatting rules
(`80:30080/TCP`, the "+ N more..." truncation after three endpoints, `<unset>` for an empty
EndpointSlice) are those of kube-apiserver 1.32's printers.go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim.printers.columns import AGE, NAME, Column, Printer, field, field_or
from atlas_sre.sim.printers.common import Obj, dig, format_label_selector, format_labels

_MAX_LISTED = 3


def _join_host_port(ip: str, port: Any) -> str:
    """`net.JoinHostPort`: IPv6 addresses go in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _with_more(items: list[str], count: int) -> str:
    """`listWithMoreString`: the first three, "+ N more...", `<unset>` when empty."""
    text = ",".join(items[:_MAX_LISTED])
    if count > _MAX_LISTED:
        return f"{text} + {count - _MAX_LISTED} more..."
    return text or "<unset>"


def format_endpoints(obj: Obj) -> str:
    """`formatEndpoints` for core/v1 Endpoints: `ip:port` per address and port, at most three shown."""
    subsets = obj.get("subsets") or []
    if not subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    more = False
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:  # headless services without ports list bare IPs
            count += len(addresses)
            for addr in addresses:
                if len(listed) == _MAX_LISTED:
                    more = True
                    break
                listed.append(addr.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for addr in addresses:
                if len(listed) == _MAX_LISTED:
                    more = True
                    break
                listed.append(_join_host_port(addr.get("ip", ""), port.get("port")))
    text = ",".join(listed)
    return f"{text} + {count - _MAX_LISTED} more..." if more else text


def _service_external_ip(spec: Obj, status: Obj) -> str:
    """`getServiceExternalIP` (wide: the apiserver never clips load-balancer addresses)."""
    kind = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        lb = sorted(
            {
                i.get("ip") or i.get("hostname")
                for i in dig(status, "loadBalancer", "ingress") or []
                if i.get("ip") or i.get("hostname")
            }
        )
        if external:
            return ",".join(lb + external)
        return ",".join(lb) if lb else "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _ports(ports: list[Obj] | None) -> str:
    """`makePortString`: `80/TCP` or `80:30080/TCP`, comma-joined."""
    pieces = []
    for p in ports or []:
        proto = p.get("protocol") or "TCP"
        node_port = int(p.get("nodePort") or 0)
        pieces.append(f"{p.get('port')}:{node_port}/{proto}" if node_port > 0 else f"{p.get('port')}/{proto}")
    return ",".join(pieces)


def _cluster_ip(obj: Obj, now: datetime) -> str:
    """The first of `spec.clusterIPs` (else `spec.clusterIP`), `<none>` for headless services."""
    spec = obj.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return ips[0] if ips else "<none>"


def _slice_ports(obj: Obj, now: datetime) -> str:
    """An EndpointSlice's port numbers (a port without a number prints its name, else `*`)."""
    ports = []
    for p in obj.get("ports") or []:
        ports.append(str(p["port"]) if p.get("port") is not None else (p.get("name") or "*"))
    return _with_more(ports, len(ports))


def _slice_endpoints(obj: Obj, now: datetime) -> str:
    """Every address of every endpoint in the slice, at most three shown."""
    addresses = [a for ep in obj.get("endpoints") or [] for a in ep.get("addresses") or []]
    return _with_more(addresses, len(addresses))


def _ingress_hosts(rules: list[Obj]) -> str:
    """`formatHosts`: up to three rule hosts, `*` when none names a host."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == _MAX_LISTED:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - _MAX_LISTED} more..." if more else text


def _ingress_address(obj: Obj, now: datetime) -> str:
    """The load balancer's ingress points (IPs or hostnames), sorted and unique."""
    lb = {
        i.get("ip") or i.get("hostname")
        for i in dig(obj, "status", "loadBalancer", "ingress") or []
        if i.get("ip") or i.get("hostname")
    }
    return ",".join(sorted(lb))


def _ingress_class_parameters(obj: Obj, now: datetime) -> str:
    """`Kind.apiGroup/name` of the class parameters, `<none>` without them."""
    params = dig(obj, "spec", "parameters")
    if not params:
        return "<none>"
    text = params.get("kind", "")
    if params.get("apiGroup") is not None:
        text += "." + params["apiGroup"]
    return text + "/" + params.get("name", "")


PRINTERS: dict[str, Printer] = {
    "Service": Printer([
        NAME,
        Column("Type", "type determines how the Service is exposed.", field_or("spec", "type", default="ClusterIP")),
        Column("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly.",
               _cluster_ip),
        Column("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
               "traffic for this service.",
               lambda o, now: _service_external_ip(o.get("spec") or {}, o.get("status") or {})),
        Column("Port(s)", "The list of ports that are exposed by this service.",
               lambda o, now: _ports(dig(o, "spec", "ports")) or "<none>"),
        AGE,
        Column("Selector", "Route service traffic to pods with label keys and values matching this selector.",
               lambda o, now: format_labels(dig(o, "spec", "selector")), priority=1),
    ]),
    "Endpoints": Printer([
        NAME,
        Column("Endpoints", "The set of all endpoints is the union of all subsets.",
               lambda o, now: format_endpoints(o)),
        AGE,
    ]),
    "EndpointSlice": Printer([
        NAME,
        Column("AddressType", "addressType specifies the type of address carried by this EndpointSlice.",
               field("addressType")),
        Column("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice.",
               _slice_ports),
        Column("Endpoints", "endpoints is a list of unique endpoints in this slice.", _slice_endpoints),
        AGE,
    ]),
    "Ingress": Printer([
        NAME,
        Column("Class", "The name of the IngressClass resource that should be used for additional configuration",
               field_or("spec", "ingressClassName", default="<none>")),
        Column("Hosts", "Hosts that incoming requests are matched against before the ingress rule",
               lambda o, now: _ingress_hosts(dig(o, "spec", "rules") or [])),
        Column("Address", "Address is a list containing ingress points for the load-balancer", _ingress_address),
        Column("Ports", "Ports of TLS configurations that open",
               lambda o, now: "80, 443" if dig(o, "spec", "tls") else "80"),
        AGE,
    ]),
    "IngressClass": Printer([
        NAME,
        Column("Controller", "Controller that is responsible for handling this class",
               field_or("spec", "controller", default="")),
        Column("Parameters", "A reference to a resource with additional parameters", _ingress_class_parameters),
        AGE,
    ]),
    "NetworkPolicy": Printer([
        NAME,
        Column("Pod-Selector", "Selects the pods to which this NetworkPolicy object applies.",
               lambda o, now: format_label_selector(dig(o, "spec", "podSelector"))),
        AGE,
    ]),
}
