"""Printers for traffic objects: Service, Endpoints, EndpointSlice, Ingress, IngressClass, NetworkPolicy.

These are the tables an agent reads to spot "service has no endpoints" (`<none>` in ENDPOINTS),
a LoadBalancer stuck at `<pending>`, or a selector that matches nothing, so the formatting rules
(`80:30080/TCP`, the "+ N more..." truncation after three endpoints, `<unset>` for an empty
EndpointSlice) are those of kube-apiserver 1.32's printers.go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim.tables_common import (
    Cells,
    Obj,
    Printer,
    age,
    age_col,
    col,
    dig,
    format_label_selector,
    format_labels,
    name,
    name_col,
)

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


def _service(obj: Obj, now: datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        name(obj),
        spec.get("type") or "ClusterIP",
        ips[0] if ips else "<none>",
        _service_external_ip(spec, status),
        _ports(spec.get("ports")) or "<none>",
        age(obj, now),
        format_labels(spec.get("selector")),
    ]


def _endpoints(obj: Obj, now: datetime) -> Cells:
    return [name(obj), format_endpoints(obj), age(obj, now)]


def _endpointslice(obj: Obj, now: datetime) -> Cells:
    ports = []
    for p in obj.get("ports") or []:
        ports.append(str(p["port"]) if p.get("port") is not None else (p.get("name") or "*"))
    addresses = [a for ep in obj.get("endpoints") or [] for a in ep.get("addresses") or []]
    return [
        name(obj),
        obj.get("addressType", ""),
        _with_more(ports, len(ports)),
        _with_more(addresses, len(addresses)),
        age(obj, now),
    ]


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


def _ingress(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    lb = sorted(
        {
            i.get("ip") or i.get("hostname")
            for i in dig(obj, "status", "loadBalancer", "ingress") or []
            if i.get("ip") or i.get("hostname")
        }
    )
    return [
        name(obj),
        spec.get("ingressClassName") or "<none>",
        _ingress_hosts(spec.get("rules") or []),
        ",".join(lb),
        "80, 443" if spec.get("tls") else "80",
        age(obj, now),
    ]


def _ingress_class(obj: Obj, now: datetime) -> Cells:
    params = dig(obj, "spec", "parameters")
    text = "<none>"
    if params:
        text = params.get("kind", "")
        if params.get("apiGroup") is not None:
            text += "." + params["apiGroup"]
        text += "/" + params.get("name", "")
    return [name(obj), dig(obj, "spec", "controller") or "", text, age(obj, now)]


def _network_policy(obj: Obj, now: datetime) -> Cells:
    return [name(obj), format_label_selector(dig(obj, "spec", "podSelector")), age(obj, now)]


PRINTERS: dict[str, Printer] = {
    "Service": Printer(
        [
            name_col(),
            col("Type", "string", "type determines how the Service is exposed."),
            col(
                "Cluster-IP",
                "string",
                "clusterIP is the IP address of the service and is usually assigned randomly.",
            ),
            col(
                "External-IP",
                "string",
                "externalIPs is a list of IP addresses for which nodes in "
                "the cluster will also accept traffic for this service.",
            ),
            col("Port(s)", "string", "The list of ports that are exposed by this service."),
            age_col(),
            col(
                "Selector",
                "string",
                "Route service traffic to pods with label keys and values matching this selector.",
                priority=1,
            ),
        ],
        _service,
    ),
    "Endpoints": Printer(
        [
            name_col(),
            col("Endpoints", "string", "The set of all endpoints is the union of all subsets."),
            age_col(),
        ],
        _endpoints,
    ),
    "EndpointSlice": Printer(
        [
            name_col(),
            col(
                "AddressType",
                "string",
                "addressType specifies the type of address carried by this EndpointSlice.",
            ),
            col(
                "Ports",
                "string",
                "ports specifies the list of network ports exposed by each endpoint in this slice.",
            ),
            col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
            age_col(),
        ],
        _endpointslice,
    ),
    "Ingress": Printer(
        [
            name_col(),
            col(
                "Class",
                "string",
                "The name of the IngressClass resource that should be used for additional configuration",
            ),
            col(
                "Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"
            ),
            col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
            col("Ports", "string", "Ports of TLS configurations that open"),
            age_col(),
        ],
        _ingress,
    ),
    "IngressClass": Printer(
        [
            name_col(),
            col("Controller", "string", "Controller that is responsible for handling this class"),
            col("Parameters", "string", "A reference to a resource with additional parameters"),
            age_col(),
        ],
        _ingress_class,
    ),
    "NetworkPolicy": Printer(
        [
            name_col(),
            col("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies."),
            age_col(),
        ],
        _network_policy,
    ),
}
