"""Service, Endpoints, EndpointSlice, Ingress and NetworkPolicy printers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from atlas_sre.sim.printers.table import to_table

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)


def obj(kind: str, name: str, **body: Any) -> dict:
    created = (NOW - timedelta(hours=3, minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": created},
        **body,
    }


def cells(kind: str, o: dict) -> list[Any]:
    return to_table(kind, [o], NOW)["rows"][0]["cells"]


def test_service_types() -> None:
    cols = to_table("Service", [], NOW)["columnDefinitions"]
    assert [c["name"] for c in cols] == [
        "Name",
        "Type",
        "Cluster-IP",
        "External-IP",
        "Port(s)",
        "Age",
        "Selector",
    ]
    assert cols[-1]["priority"] == 1
    cip = obj(
        "Service",
        "checkout",
        spec={
            "type": "ClusterIP",
            "clusterIP": "10.96.12.7",
            "clusterIPs": ["10.96.12.7"],
            "selector": {"app": "checkout"},
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 9090, "protocol": "UDP"}],
        },
    )
    assert cells("Service", cip) == [
        "checkout",
        "ClusterIP",
        "10.96.12.7",
        "<none>",
        "80/TCP,9090/UDP",
        "3h2m",
        "app=checkout",
    ]
    np = obj(
        "Service",
        "web",
        spec={
            "type": "NodePort",
            "clusterIP": "10.96.1.1",
            "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}],
        },
    )
    assert cells("Service", np)[2:5] == ["10.96.1.1", "<none>", "80:30080/TCP"]
    assert cells("Service", np)[6] == "<none>"
    lb = obj(
        "Service",
        "gw",
        spec={
            "type": "LoadBalancer",
            "clusterIPs": ["10.96.0.9"],
            "ports": [{"port": 443, "nodePort": 31443}],
        },
    )
    assert cells("Service", lb)[3] == "<pending>"
    lb["status"] = {"loadBalancer": {"ingress": [{"ip": "34.1.2.3"}, {"hostname": "a.example.com"}]}}
    assert cells("Service", lb)[3] == "34.1.2.3,a.example.com"
    ext = obj("Service", "db", spec={"type": "ExternalName", "externalName": "db.example.com"})
    assert cells("Service", ext)[1:5] == ["ExternalName", "<none>", "db.example.com", "<none>"]
    headless = obj(
        "Service", "h", spec={"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432}]}
    )
    assert cells("Service", headless)[1:5] == ["ClusterIP", "None", "<none>", "5432/TCP"]


def test_endpoints_truncation() -> None:
    assert cells("Endpoints", obj("Endpoints", "checkout")) == ["checkout", "<none>", "3h2m"]
    two = obj(
        "Endpoints",
        "reviews",
        subsets=[
            {
                "addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.1.6"}],
                "ports": [{"port": 9080, "protocol": "TCP"}],
            }
        ],
    )
    assert cells("Endpoints", two)[1] == "10.244.1.5:9080,10.244.1.6:9080"
    five = obj(
        "Endpoints",
        "web",
        subsets=[{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)], "ports": [{"port": 80}]}],
    )
    assert cells("Endpoints", five)[1] == "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more..."
    portless = obj("Endpoints", "hl", subsets=[{"addresses": [{"ip": "10.0.0.7"}]}])
    assert cells("Endpoints", portless)[1] == "10.0.0.7"
    not_ready_only = obj(
        "Endpoints", "nr", subsets=[{"notReadyAddresses": [{"ip": "10.0.0.8"}], "ports": [{"port": 80}]}]
    )
    assert cells("Endpoints", not_ready_only)[1] == ""


def test_endpointslice() -> None:
    es = obj(
        "EndpointSlice",
        "reviews-abcde",
        addressType="IPv4",
        ports=[{"name": "http", "port": 9080, "protocol": "TCP"}],
        endpoints=[{"addresses": [f"10.244.1.{i}"], "conditions": {"ready": True}} for i in range(1, 5)],
    )
    assert cells("EndpointSlice", es) == [
        "reviews-abcde",
        "IPv4",
        "9080",
        "10.244.1.1,10.244.1.2,10.244.1.3 + 1 more...",
        "3h2m",
    ]
    empty = obj("EndpointSlice", "checkout-xyz", addressType="IPv4", ports=None, endpoints=[])
    assert cells("EndpointSlice", empty)[2:4] == ["<unset>", "<unset>"]


def test_ingress_and_ingress_class() -> None:
    ing = obj(
        "Ingress",
        "shop",
        spec={
            "ingressClassName": "nginx",
            "rules": [{"host": "shop.example.com"}, {}],
            "tls": [{"hosts": ["shop.example.com"]}],
        },
        status={"loadBalancer": {"ingress": [{"ip": "34.1.2.3"}]}},
    )
    assert cells("Ingress", ing) == ["shop", "nginx", "shop.example.com", "34.1.2.3", "80, 443", "3h2m"]
    assert cells("Ingress", obj("Ingress", "x", spec={}))[1:5] == ["<none>", "*", "", "80"]
    ic = obj(
        "IngressClass",
        "nginx",
        spec={
            "controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "Params", "name": "p"},
        },
    )
    assert cells("IngressClass", ic)[1:3] == ["k8s.io/ingress-nginx", "Params.k8s.example.com/p"]


def test_network_policy_selector() -> None:
    all_pods = obj("NetworkPolicy", "deny-all", spec={"podSelector": {}, "policyTypes": ["Ingress"]})
    assert cells("NetworkPolicy", all_pods) == ["deny-all", "<none>", "3h2m"]
    sel = obj(
        "NetworkPolicy",
        "db",
        spec={
            "podSelector": {
                "matchLabels": {"app": "db"},
                "matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}],
            }
        },
    )
    assert cells("NetworkPolicy", sel)[1] == "app=db,!canary"
