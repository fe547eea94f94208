"""The OpenAPI documents the server answers: `/openapi/v3` (root and one per group-version) and `/openapi/v2`.

Two clients read them. `kubectl explain` finds a resource's kind through the operations under its
path (`x-kubernetes-group-version-kind`), then the schema carrying that kind, and prints the real
field docs. `kubectl apply/create` look up whether the PATCH operation accepts `fieldValidation`
(server-side validation): with it they send the request and read the read-only account's 403,
as on a real cluster, instead of validating locally. So every served type gets an item path with
its PATCH (for read-only types GET, for reviews the collection's POST), and its group-version
document carries the schemas.

The documents depend only on the registry and the packaged schemas, never on the served state:
each part is built once per process, on its first request, and shared by every server.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from atlas_sre.sim.api.openapi import v2proto
from atlas_sre.sim.api.openapi.schemas import definitions_for
from atlas_sre.sim.api.openapi.v3 import components
from atlas_sre.sim.api.status import dumps
from atlas_sre.sim.resources import RESOURCES, ResourceType

TITLE, VERSION = "Kubernetes", "v1.32.4"
_LOCK = threading.RLock()  # a part may build the part it needs
_BUILT: dict[str, Any] = {}


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _item_path(rt: ResourceType, version: str) -> str:
    base = "/" + _gv_path(rt.group, version)
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    return f"{base}{scope}/{rt.plural}/{{name}}"


def _operation(rt: ResourceType, version: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """(path, operations) naming the kind: the item's PATCH declaring `fieldValidation`, else its GET,
    else (a create-only review) the collection's POST."""
    gvk = {"group": rt.group, "version": version, "kind": rt.kind}
    responses = {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}}
    field_validation = {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    if "patch" in rt.verbs:
        return _item_path(rt, version), {"patch": {
            "operationId": f"patch{rt.kind}", "parameters": [field_validation],
            "responses": responses, "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk}}
    if "get" in rt.verbs:
        return _item_path(rt, version), {"get": {
            "operationId": f"read{rt.kind}", "responses": responses, "x-kubernetes-action": "get",
            "x-kubernetes-group-version-kind": gvk}}
    return _item_path(rt, version).rsplit("/", 1)[0], {"post": {
        "operationId": f"create{rt.kind}", "responses": responses, "x-kubernetes-action": "post",
        "x-kubernetes-group-version-kind": gvk}}


def _types(group: str, version: str) -> list[ResourceType]:
    """The kinds a group-version serves."""
    return [rt for rt in RESOURCES if rt.group == group and version in rt.versions]


def gv_document(group: str, version: str, definitions: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI v3 document of one group-version, over its definitions (`definitions_for`)."""
    paths: dict[str, Any] = {}
    for rt in _types(group, version):
        path, operations = _operation(rt, version)
        paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.0.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": paths,
        "components": {"schemas": components(definitions)},
    }


def _definitions() -> dict[str, Any]:
    """gv path → that group-version's definitions (Swagger spelling), every served group-version."""
    found: dict[str, Any] = {}
    for group, version in sorted({(rt.group, v) for rt in RESOURCES for v in rt.versions}):
        found[_gv_path(group, version)] = definitions_for(_types(group, version), version)
    return found


def _build_v3() -> dict[str, Any]:
    documents: dict[str, bytes] = {}
    for key, definitions in built("definitions").items():
        group, version = (key.split("/")[1:] if key.startswith("apis/") else ["", key.split("/")[1]])
        documents[key] = dumps(gv_document(group, version, definitions))
    paths = {
        key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={hashlib.sha512(body).hexdigest().upper()}"}
        for key, body in documents.items()
    }
    return {"root": dumps({"paths": paths}), "documents": documents}


def _build_v2() -> dict[str, bytes]:
    every: dict[str, Any] = {}
    for definitions in built("definitions").values():
        every.update(definitions)
    every = dict(sorted(every.items()))
    return {"protobuf": v2proto.document(every, TITLE, VERSION),
            "json": dumps({"swagger": "2.0", "info": {"title": TITLE, "version": VERSION}, "paths": {},
                           "definitions": every})}


_BUILDERS = {"definitions": _definitions, "v3": _build_v3, "v2": _build_v2}


def built(part: str) -> Any:
    """One part of the documents, built on first use and kept for the process: the definitions
    (~0.1 s), v3 (~0.2 s: every `kubectl explain` and write) or v2 (~0.5 s: only its own readers)."""
    with _LOCK:
        if part not in _BUILT:
            _BUILT[part] = _BUILDERS[part]()
        return _BUILT[part]


class OpenAPI:
    """Answers `/openapi/...` paths from the process-wide documents."""

    def get(self, segments: list[str], accept: str = "") -> tuple[bytes, str] | None:
        """(body, content type) for `/openapi/v2`, `/openapi/v3` or `/openapi/v3/<gv path>`; None otherwise.

        v2 is protobuf when asked for (kubectl always is) and JSON otherwise, as the apiserver negotiates.
        """
        if segments == ["openapi", "v2"]:
            if "protobuf" in accept:
                return built("v2")["protobuf"], v2proto.CONTENT_TYPE
            return built("v2")["json"], "application/json"
        if segments == ["openapi", "v3"]:
            return built("v3")["root"], "application/json"
        if segments[:2] == ["openapi", "v3"]:
            body = built("v3")["documents"].get("/".join(segments[2:]))
            return (body, "application/json") if body is not None else None
        return None
