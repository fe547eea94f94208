"""`kubectl auth can-i`: the one POST the server answers, because it only asks a question.

The agent's account may get, list and watch everything (logs included) and do nothing else,
which is what the server enforces; these reviews report the same rules instead of a 403.
"""

from __future__ import annotations

import json
from typing import Any

READ_VERBS = {"get", "list", "watch"}
REVIEWS = {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}


PROTOBUF_MAGIC = b"k8s\x00"
# ResourceAttributes / NonResourceAttributes field numbers in k8s.io/api/authorization/v1 generated.proto
_RESOURCE_FIELDS = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"}
_NON_RESOURCE_FIELDS = {1: "path", 2: "verb"}


def _fields(data: bytes) -> dict[int, list[bytes]]:
    """Length-delimited fields of one protobuf message (the only wire type these messages use)."""
    out: dict[int, list[bytes]] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 2:
            length, i = _varint(data, i)
            out.setdefault(number, []).append(data[i:i + length])
            i += length
        else:
            break  # not a shape kubectl sends here
    return out


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(data):
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, i


def _spec_from_protobuf(body: bytes) -> dict[str, Any]:
    """kubectl sends reviews as protobuf: Unknown{raw: SelfSubjectAccessReview{spec: {attributes}}}."""
    raw = _fields(body[len(PROTOBUF_MAGIC):]).get(2, [b""])[0]
    spec = _fields(_fields(raw).get(2, [b""])[0])
    out: dict[str, Any] = {}
    for number, key, names in ((1, "resourceAttributes", _RESOURCE_FIELDS),
                               (2, "nonResourceAttributes", _NON_RESOURCE_FIELDS)):
        if number in spec:
            attrs = _fields(spec[number][0])
            out[key] = {name: attrs[n][0].decode("utf-8", "replace") for n, name in names.items() if n in attrs}
    return out


def _allowed(attrs: dict[str, Any]) -> bool:
    return str(attrs.get("verb", "")).lower() in READ_VERBS


def review(plural: str, body: bytes) -> dict[str, Any]:
    """The answered SelfSubjectAccessReview / SelfSubjectRulesReview for a JSON or protobuf body."""
    if body.startswith(PROTOBUF_MAGIC):
        spec = _spec_from_protobuf(body)
    else:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        spec = (request.get("spec") if isinstance(request, dict) else None) or {}
    if plural == "selfsubjectrulesreviews":
        status: dict[str, Any] = {
            "resourceRules": [{"verbs": sorted(READ_VERBS), "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
        kind = "SelfSubjectRulesReview"
    else:
        attrs = spec.get("resourceAttributes") or spec.get("nonResourceAttributes") or {}
        allowed = _allowed(attrs)
        status = {"allowed": allowed}
        if not allowed:
            status["reason"] = "the simulated cluster is read-only"
        kind = "SelfSubjectAccessReview"
    return {"kind": kind, "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": None},
            "spec": spec, "status": status}
