"""Tables for custom resources, driven by a CRD's `additionalPrinterColumns`.

This reproduces the apiextensions-apiserver table convertor: NAME first, then one column per
printer column evaluated as a (simple) JSONPath; a CRD that declares no columns gets a single
AGE column (`serveDefaultColumnsIfEmpty`). A CRD that declares columns but no Age column gets no
AGE, exactly as on a real cluster. Cell values follow `cellForJSONValue`: `string` columns print
the value as kubectl's JSONPath printer does (arrays and objects as compact JSON, `["reviews"]`),
`date` columns become ages, and a missing value is a null cell (kubectl shows it blank).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import UTC, parse_time
from atlas_sre.sim.printers.ages import elapsed
from atlas_sre.sim.printers.columns import AGE_DESC, NAME, Cell, Column, Printer
from atlas_sre.sim.printers.common import Obj
from atlas_sre.sim.printers.jsonpath import find, text

# The apiserver's column for a CRD that declares none (Istio's CRDs declare the same one).
AGE_COLUMN: Obj = {
    "name": "Age",
    "type": "date",
    "jsonPath": ".metadata.creationTimestamp",
    "description": AGE_DESC,
}


def cell_value(type_: str, value: Any, now: datetime) -> Any:
    """`cellForJSONValue` (string columns go through the JSONPath printer instead)."""
    if value is None:
        return None
    if type_ == "string":
        return text(value)
    if type_ == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if type_ == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if type_ == "boolean" and isinstance(value, bool):
        return value
    if type_ == "date" and isinstance(value, str):
        try:
            return elapsed(parse_time(value).astimezone(UTC), now)
        except ValueError:
            return "<invalid>"
    return None


def _json_path_cell(path: str, type_: str) -> Cell:
    """The first value `path` selects, as a cell of `type_`; a null cell when it selects nothing."""

    def cell(obj: Obj, now: datetime) -> Any:
        found = find(obj, path)
        return cell_value(type_, found[0], now) if found else None

    return cell


def _column(spec: Obj) -> Column:
    """One `additionalPrinterColumns` entry as a table column."""
    path = spec.get("jsonPath") or spec.get("JSONPath") or ""
    type_ = spec.get("type", "string")
    return Column(
        spec["name"],
        spec.get("description") or f"Custom resource definition column (in JSONPath format): {path}",
        _json_path_cell(path, type_),
        type=type_,
        format=spec.get("format", ""),
        priority=int(spec.get("priority") or 0),
    )


def crd_printer(columns: list[Obj] | None) -> Printer:
    """The table convertor of a CRD version with these `additionalPrinterColumns`."""
    return Printer([NAME, *(_column(c) for c in list(columns or []) or [AGE_COLUMN])])
