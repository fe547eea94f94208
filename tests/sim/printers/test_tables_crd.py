"""Custom resource tables from additionalPrinterColumns, and Istio's printer columns."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from atlas_sre.sim.printers.istio import ISTIO_PRINTER_COLUMNS
from atlas_sre.sim.printers.jsonpath import find
from atlas_sre.sim.printers.table import to_table

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(minutes=95)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cr(kind: str, name: str, spec: dict, **extra: Any) -> dict:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": CREATED},
        "spec": spec,
        **extra,
    }


def render(kind: str, o: dict, columns: list[dict] | None = None) -> tuple[list[str], list[Any]]:
    cols = ISTIO_PRINTER_COLUMNS[kind] if columns is None else columns
    table = to_table(kind, [o], NOW, crd_columns=cols)
    return [c["name"] for c in table["columnDefinitions"]], table["rows"][0]["cells"]


def test_virtualservice_arrays_render_as_json_and_missing_is_null() -> None:
    vs = cr("VirtualService", "reviews", {"hosts": ["reviews"], "gateways": ["shop/gw", "mesh"]})
    assert render("VirtualService", vs) == (
        ["Name", "Gateways", "Hosts", "Age"],
        ["reviews", '["shop/gw","mesh"]', '["reviews"]', "95m"],
    )
    no_gw = cr("VirtualService", "ratings", {"hosts": ["ratings"]})
    assert render("VirtualService", no_gw)[1] == ["ratings", None, '["ratings"]', "95m"]


def test_istio_columns() -> None:
    dr = cr("DestinationRule", "reviews", {"host": "reviews.shop.svc.cluster.local", "subsets": []})
    assert render("DestinationRule", dr) == (
        ["Name", "Host", "Age"],
        ["reviews", "reviews.shop.svc.cluster.local", "95m"],
    )
    pa = cr("PeerAuthentication", "default", {"mtls": {"mode": "STRICT"}})
    assert render("PeerAuthentication", pa) == (["Name", "Mode", "Age"], ["default", "STRICT", "95m"])
    assert render("PeerAuthentication", cr("PeerAuthentication", "x", {}))[1] == ["x", None, "95m"]
    ap = cr("AuthorizationPolicy", "deny", {"action": "DENY"})
    assert render("AuthorizationPolicy", ap)[1] == ["deny", "DENY", "95m"]
    se = cr(
        "ServiceEntry",
        "ext",
        {"hosts": ["api.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS"},
    )
    assert render("ServiceEntry", se) == (
        ["Name", "Hosts", "Location", "Resolution", "Age"],
        ["ext", '["api.example.com"]', "MESH_EXTERNAL", "DNS", "95m"],
    )
    for kind in ("Gateway", "Sidecar", "EnvoyFilter", "RequestAuthentication"):
        assert render(kind, cr(kind, "g", {}))[0] == ["Name", "Age"]
    we = cr("WorkloadEntry", "vm", {"address": "10.1.2.3"})
    assert render("WorkloadEntry", we) == (["Name", "Age", "Address"], ["vm", "95m", "10.1.2.3"])


def test_istio_kinds_work_without_explicit_columns() -> None:
    vs = cr("VirtualService", "reviews", {"hosts": ["reviews"]})
    table = to_table("VirtualService", [vs], NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Gateways", "Hosts", "Age"]
    assert table["columnDefinitions"][3]["type"] == "date"


def test_typed_columns_priority_and_descriptions() -> None:
    columns = [
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {
            "name": "Ratio",
            "type": "number",
            "jsonPath": ".spec.ratio",
            "priority": 1,
            "description": "a ratio",
        },
        {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "First", "type": "string", "jsonPath": ".spec.items[0].name"},
        {"name": "Seen", "type": "date", "jsonPath": ".status.lastSeen"},
        {"name": "Bad", "type": "integer", "jsonPath": ".spec.paused"},
    ]
    o = {
        "kind": "Rollout",
        "metadata": {"name": "r", "creationTimestamp": CREATED},
        "spec": {"replicas": 3, "ratio": 0.5, "paused": False, "items": [{"name": "x"}, {"name": "y"}]},
        "status": {
            "conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"}],
            "lastSeen": (NOW - timedelta(seconds=42)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }
    table = to_table("Rollout", [o], NOW, crd_columns=columns)
    defs = table["columnDefinitions"]
    assert [c["name"] for c in defs] == [
        "Name",
        "Replicas",
        "Ratio",
        "Paused",
        "Ready",
        "First",
        "Seen",
        "Bad",
    ]
    assert defs[2]["priority"] == 1 and defs[2]["description"] == "a ratio"
    assert defs[1]["description"] == "Custom resource definition column (in JSONPath format): .spec.replicas"
    assert table["rows"][0]["cells"] == ["r", 3, 0.5, False, "False", "x", "42s", None]


def test_crd_without_columns_and_with_columns_but_no_age() -> None:
    o = cr("Thing", "t", {"size": 2})
    assert render("Thing", o, columns=[]) == (["Name", "Age"], ["t", "95m"])
    sized = [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]
    assert render("Thing", o, columns=sized) == (["Name", "Size"], ["t", 2])  # no AGE, as on a real cluster


def test_jsonpath_find() -> None:
    doc = {"spec": {"a.b": {"c": 1}, "list": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}}
    assert find(doc, "{.spec['a.b'].c}") == [1]
    assert find(doc, ".spec.list[*].v") == [1, 2]
    assert find(doc, ".spec.list[-1].k") == ["y"]
    assert find(doc, '.spec.list[?(@.k!="x")].v') == [2]
    assert find(doc, ".spec.missing.deeper") == []
    assert find(doc, ".spec.list[9]") == []
