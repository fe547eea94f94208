"""The self-reviews: the POSTs the server answers, because they only ask a question.

`kubectl auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview) is answered from the same
rules the server enforces (`rbac.py`): reads yes, writes no ("the simulated cluster is read-only"),
and no for what a read-only role lacks (proxy, exec, `/metrics`). `kubectl auth whoami`
(SelfSubjectReview) reports the kubeconfig's user, as authentication saw it.
"""

from __future__ import annotations

import json
from typing import Any

from atlas_sre.sim.api.rbac import allowed, non_resource_rules, path_allowed, resource_rules
from atlas_sre.sim.api.status import READ_ONLY, USER

REVIEWS = {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}
WHOAMI = "selfsubjectreviews"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


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


def _allowed(spec: dict[str, Any]) -> bool:
    if "nonResourceAttributes" in spec:
        attrs = spec["nonResourceAttributes"] or {}
        return path_allowed(str(attrs.get("verb", "")).lower(), str(attrs.get("path", "")))
    attrs = spec.get("resourceAttributes") or {}
    return allowed(str(attrs.get("verb", "")).lower(), str(attrs.get("group", "")), str(attrs.get("resource", "")),
                   str(attrs.get("subresource", "")))


def whoami(created: str) -> dict[str, Any]:
    """The SelfSubjectReview: the token's user and the group every authenticated user has."""
    return {"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": created},
            "status": {"userInfo": {"username": USER, "groups": ["system:authenticated"]}}}


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
            "resourceRules": [dict(r) for r in resource_rules()],
            "nonResourceRules": non_resource_rules(),
            "incomplete": False,
        }
        kind = "SelfSubjectRulesReview"
    else:
        ok = _allowed(spec)
        status = {"allowed": ok}
        attrs = spec.get("resourceAttributes") or spec.get("nonResourceAttributes") or {}
        if not ok and str(attrs.get("verb", "")).lower() in WRITE_VERBS:
            status["reason"] = READ_ONLY  # a read the role lacks is a plain RBAC "no", without a reason
        kind = "SelfSubjectAccessReview"
    return {"kind": kind, "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": None},
            "spec": spec, "status": status}
