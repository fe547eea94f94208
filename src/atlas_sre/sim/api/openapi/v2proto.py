"""`/openapi/v2` as kubectl reads it: a gnostic `openapi_v2.Document`, protobuf-encoded.

client-go asks for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and decodes the
body with no fallback to JSON, so the server must speak protobuf. Only the messages a Swagger
document of definitions needs are written, with their field numbers from gnostic's
`openapiv2/OpenAPIv2.proto`; a few lines of wire format keep the server free of a protobuf runtime.
Vendor extensions and enum values are `Any{yaml}` values; JSON is valid YAML, so they are JSON.
"""

from __future__ import annotations

import json
from typing import Any

# Asked for as `...spec.v2@v1.0+protobuf`; answered with `.v1.0` (Go's mime parser rejects the `@`).
CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
Schema = dict[str, Any]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _bytes(field: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes or embedded message)."""
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode("utf-8")) if text else b""


def _bool(field: int, value: bool) -> bytes:
    return _varint(field << 3) + b"\x01" if value else b""


def _any(value: Any) -> bytes:
    """gnostic `Any`: field 2 is the YAML text."""
    return _str(2, json.dumps(value, ensure_ascii=False))


def _named_any(name: str, value: Any) -> bytes:
    return _str(1, name) + _bytes(2, _any(value))


def schema(s: Schema) -> bytes:
    """gnostic `Schema`. Keywords Swagger 2.0 has no field for (oneOf, anyOf) are dropped, as there."""
    out = bytearray()
    out += _str(1, s.get("$ref", ""))
    out += _str(2, s.get("format", ""))
    out += _str(4, s.get("description", ""))
    for name in s.get("required") or ():
        out += _str(19, name)
    for value in s.get("enum") or ():
        out += _bytes(20, _any(value))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes(21, _bytes(1, schema(extra)))
    elif isinstance(extra, bool):
        out += _bytes(21, _varint(2 << 3) + (b"\x01" if extra else b"\x00"))
    kind = s.get("type")
    if kind:
        out += _bytes(22, b"".join(_str(1, t) for t in ([kind] if isinstance(kind, str) else kind)))
    if isinstance(s.get("items"), dict):
        out += _bytes(23, _bytes(1, schema(s["items"])))
    for sub in s.get("allOf") or ():
        out += _bytes(24, schema(sub))
    if s.get("properties"):
        out += _bytes(25, b"".join(_bytes(1, _str(1, k) + _bytes(2, schema(v))) for k, v in s["properties"].items()))
    out += _bool(27, bool(s.get("readOnly")))
    for key, value in s.items():
        if key.startswith("x-"):
            out += _bytes(31, _named_any(key, value))
    return bytes(out)


def document(definitions: dict[str, Schema], title: str, version: str) -> bytes:
    """gnostic `Document`: swagger (1), info (2: title 1, version 2), definitions (9)."""
    info = _str(1, title) + _str(2, version)
    defs = b"".join(_bytes(1, _str(1, name) + _bytes(2, schema(s))) for name, s in definitions.items())
    return _str(1, "2.0") + _bytes(2, info) + _bytes(9, defs)
