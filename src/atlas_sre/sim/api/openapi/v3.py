"""Swagger 2.0 definitions → OpenAPI v3 components, spelled as the apiserver spells them.

The differences kubectl's `explain` template depends on: a reference with its own description
becomes `{"description": ..., "allOf": [{"$ref": ...}]}` (the field's text, then the type's, is
what explain prints), references point into `#/components/schemas/`, and IntOrString / Quantity
are `oneOf` with no `type`, so explain names them (`<IntOrString>`) instead of calling them strings.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.sim.api.openapi.schemas import REF

Schema = dict[str, Any]
V3_REF = "#/components/schemas/"
_SPECIAL: dict[str, Schema] = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
}


def _field(schema: Schema) -> Schema:
    """One property (or items / additionalProperties) schema in v3 spelling."""
    if "$ref" in schema:
        out = {k: v for k, v in schema.items() if k != "$ref"}
        out["allOf"] = [{"$ref": V3_REF + schema["$ref"][len(REF):]}]
        if "description" not in out:
            out["default"] = {}
        return out
    return _object(schema)


def _object(schema: Schema) -> Schema:
    out: Schema = {}
    for key, value in schema.items():
        if key == "properties":
            value = {name: _field(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = _field(value)
        elif key == "x-kubernetes-int-or-string":
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        out[key] = value
    return out


def components(definitions: dict[str, Schema]) -> dict[str, Schema]:
    """`components.schemas` for a group-version document."""
    return {name: dict(_SPECIAL[name]) if name in _SPECIAL else _object(schema)
            for name, schema in definitions.items()}
