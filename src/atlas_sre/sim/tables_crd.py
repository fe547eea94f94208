"""Tables for custom resources, driven by a CRD's `additionalPrinterColumns`, plus Istio's columns.

This reproduces the apiextensions-apiserver table convertor: NAME first, then one column per
printer column evaluated as a (simple) JSONPath; a CRD that declares no columns gets a single
AGE column (`serveDefaultColumnsIfEmpty`). A CRD that declares columns but no Age column gets no
AGE, exactly as on a real cluster. Cell values follow `cellForJSONValue`: `string` columns print
the value as kubectl's JSONPath printer does (arrays and objects as compact JSON, `["reviews"]`),
`date` columns become ages, and a missing value is a null cell (kubectl shows it blank).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import UTC, human_duration, parse_time
from atlas_sre.sim.tables_common import AGE_DESC, Cells, Obj, Printer, as_utc, col, name, name_col

_MISSING = object()
_TOKEN = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_\-/$]+)      # .field
      | \[(?P<quote>['"])(?P<key>.*?)(?P=quote)\]   # ['key.with.dots']
      | \[(?P<index>-?\d+)\]                 # [0]
      | \[\*\] | \.\*                        # wildcards
      | \[\?\(@(?P<fpath>(?:\.[A-Za-z0-9_\-]+)+)\s*(?P<op>==|!=)\s*(?P<fq>['"]?)(?P<fval>[^'"\)]*)(?P=fq)\)\]
    """,
    re.VERBOSE,
)

# The Age column Istio's CRDs declare (and the apiserver's default when a CRD declares none).
AGE_COLUMN: Obj = {
    "name": "Age",
    "type": "date",
    "jsonPath": ".metadata.creationTimestamp",
    "description": AGE_DESC,
}


def _pcol(name_: str, path: str, desc: str) -> Obj:
    return {"name": name_, "type": "string", "jsonPath": path, "description": desc}


# additionalPrinterColumns from istio/istio manifests/charts/base/files/crd-all.gen.yaml, keyed by kind.
# An empty list is a CRD without printer columns (the apiserver then shows NAME and AGE).
ISTIO_PRINTER_COLUMNS: dict[str, list[Obj]] = {
    "VirtualService": [
        _pcol(
            "Gateways", ".spec.gateways", "The names of gateways and sidecars that should apply these routes"
        ),
        _pcol("Hosts", ".spec.hosts", "The destination hosts to which traffic is being sent"),
        AGE_COLUMN,
    ],
    "DestinationRule": [
        _pcol("Host", ".spec.host", "The name of a service from the service registry"),
        AGE_COLUMN,
    ],
    "Gateway": [],
    "ServiceEntry": [
        _pcol("Hosts", ".spec.hosts", "The hosts associated with the ServiceEntry"),
        _pcol(
            "Location",
            ".spec.location",
            "Whether the service is external to the mesh or part of the mesh "
            "(MESH_EXTERNAL or MESH_INTERNAL)",
        ),
        _pcol(
            "Resolution", ".spec.resolution", "Service resolution mode for the hosts (NONE, STATIC, or DNS)"
        ),
        AGE_COLUMN,
    ],
    "Sidecar": [],
    "EnvoyFilter": [],
    "WorkloadEntry": [
        AGE_COLUMN,
        _pcol("Address", ".spec.address", "Address associated with the network endpoint."),
    ],
    "WorkloadGroup": [AGE_COLUMN],
    "ProxyConfig": [],
    "PeerAuthentication": [
        _pcol("Mode", ".spec.mtls.mode", "Defines the mTLS mode used for peer authentication."),
        AGE_COLUMN,
    ],
    "AuthorizationPolicy": [_pcol("Action", ".spec.action", "The operation to take."), AGE_COLUMN],
    "RequestAuthentication": [],
    "Telemetry": [AGE_COLUMN],
    "WasmPlugin": [AGE_COLUMN],
}


def _step(values: list[Any], match: re.Match[str]) -> list[Any]:
    """Apply one JSONPath step to every current value (missing keys drop out, as AllowMissingKeys)."""
    out: list[Any] = []
    for value in values:
        if match.group("field") is not None or match.group("key") is not None:
            key = match.group("field") if match.group("field") is not None else match.group("key")
            if isinstance(value, dict) and key in value:
                out.append(value[key])
        elif match.group("index") is not None:
            idx = int(match.group("index"))
            if isinstance(value, list) and -len(value) <= idx < len(value):
                out.append(value[idx])
        elif match.group("fpath") is not None:
            keys = match.group("fpath").strip(".").split(".")
            for item in value if isinstance(value, list) else []:
                got: Any = item
                for k in keys:
                    got = got.get(k, _MISSING) if isinstance(got, dict) else _MISSING
                equal = got is not _MISSING and _text(got) == match.group("fval")
                if equal == (match.group("op") == "=="):
                    out.append(item)
        elif isinstance(value, list):
            out.extend(value)
        elif isinstance(value, dict):
            out.extend(value.values())
    return out


def find(obj: Obj, path: str) -> list[Any]:
    """All values a simple JSONPath selects (`.spec.hosts`, `.status.conditions[?(@.type=="Ready")].status`).

    Enough of kubectl's JSONPath for printer columns: fields, `['quoted.keys']`, `[N]`, `[*]` and
    `[?(@.path==value)]` filters. Missing keys select nothing (`AllowMissingKeys`).
    """
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    values: list[Any] = [obj]
    pos = 0
    while pos < len(text) and values:
        match = _TOKEN.match(text, pos)
        if match is None:
            return []
        values = _step(values, match)
        pos = match.end()
    return values


def _go_json(value: Any) -> str:
    """Go's `json.Marshal`: compact, map keys sorted, `<`, `>`, `&` escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _text(value: Any) -> str:
    """How kubectl's JSONPath printer writes one value."""
    if isinstance(value, (dict, list)):
        return _go_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_value(type_: str, value: Any, now: datetime) -> Any:
    """`cellForJSONValue` (string columns go through the JSONPath printer instead)."""
    if value is None:
        return None
    if type_ == "string":
        return _text(value)
    if type_ == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if type_ == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if type_ == "boolean" and isinstance(value, bool):
        return value
    if type_ == "date" and isinstance(value, str):
        try:
            return human_duration(as_utc(now) - parse_time(value).astimezone(UTC))
        except ValueError:
            return "<invalid>"
    return None


def crd_printer(columns: list[Obj] | None) -> Printer:
    """The table convertor of a CRD version with these `additionalPrinterColumns`."""
    specs = list(columns or []) or [AGE_COLUMN]
    defs = [name_col()]
    for c in specs:
        path = c.get("jsonPath") or c.get("JSONPath") or ""
        desc = c.get("description") or f"Custom resource definition column (in JSONPath format): {path}"
        defs.append(
            col(
                c["name"],
                c.get("type", "string"),
                desc,
                fmt=c.get("format", ""),
                priority=int(c.get("priority") or 0),
            )
        )

    def cells(obj: Obj, now: datetime) -> Cells:
        row: Cells = [name(obj)]
        for c in specs:
            found = find(obj, c.get("jsonPath") or c.get("JSONPath") or "")
            row.append(cell_value(c.get("type", "string"), found[0], now) if found else None)
        return row

    return Printer(defs, cells)
