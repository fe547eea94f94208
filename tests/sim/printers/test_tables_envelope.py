"""The Table envelope: column definitions, includeObject, resourceVersion, fallback kinds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from atlas_sre.sim.printers.table import to_table

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str, rv: str = "100", **body: Any) -> dict:
    return {
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": ts(60 * 50),
            "resourceVersion": rv,
            "labels": {"app": name},
        },
        **body,
    }


def test_unknown_kind_gets_name_and_age() -> None:
    table = to_table("Widget", [obj("Widget", "w")], NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"][0]["cells"] == ["w", "2d2h"]


def test_empty_list_keeps_columns() -> None:
    table = to_table("Deployment", [], NOW)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["rows"] == [] and len(table["columnDefinitions"]) == 8
    assert set(table["columnDefinitions"][0]) == {"name", "type", "format", "description", "priority"}


@pytest.mark.parametrize("mode", ["Metadata", "Object", "None"])
def test_include_object(mode: str) -> None:
    cm = obj("ConfigMap", "cfg", data={"k": "v"})
    cm["apiVersion"] = "v1"
    row = to_table("ConfigMap", [cm], NOW, include_object=mode)["rows"][0]
    if mode == "Metadata":
        # only what kubectl reads from a row (namespace, labels, identity): no annotations/owners
        cm["metadata"]["annotations"] = {"a": "b"}
        row = to_table("ConfigMap", [cm], NOW, include_object=mode)["rows"][0]
        expected = {k: cm["metadata"][k] for k in ("name", "namespace", "labels")}
        assert row["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": expected}
    elif mode == "Object":
        assert row["object"] == cm and row["object"] is not cm
    else:
        assert "object" not in row


def test_include_object_rejects_unknown_value() -> None:
    with pytest.raises(ValueError, match="includeObject"):
        to_table("ConfigMap", [], NOW, include_object="Everything")


def test_resource_version() -> None:
    items = [obj("ConfigMap", "a", rv="120"), obj("ConfigMap", "b", rv="99")]
    assert to_table("ConfigMap", items, NOW)["metadata"] == {"resourceVersion": "120"}
    assert to_table("ConfigMap", items[1:], NOW)["metadata"] == {"resourceVersion": "99"}
