"""Just enough OpenAPI v3 for kubectl's write commands to reach the server and be refused there.

`kubectl apply/create/replace` validate first: they look up, in `/openapi/v3`, whether the PATCH
operation of the object's kind accepts `fieldValidation` (server-side validation). Without any
OpenAPI they fall back to client-side validation, fail to download a schema and never send the
request, so the agent would read "failed to download openapi" instead of the RBAC-style 403 a
read-only account gets on a real cluster. These documents declare exactly that parameter and no
schemas: `kubectl explain` still fails, with a short error.
"""

from __future__ import annotations

import hashlib
from typing import Any

from atlas_sre.sim.api.status import dumps
from atlas_sre.sim.resources import RESOURCES, ResourceType


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _item_path(rt: ResourceType, version: str) -> str:
    base = "/" + _gv_path(rt.group, version)
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    return f"{base}{scope}/{rt.plural}/{{name}}"


def _patch_operation(rt: ResourceType, version: str) -> dict[str, Any]:
    return {
        "operationId": f"patch{rt.kind}",
        "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}],
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": version, "kind": rt.kind},
    }


def gv_document(group: str, version: str) -> dict[str, Any] | None:
    """The OpenAPI v3 document of one group-version (PATCH operations only), or None."""
    types = [rt for rt in RESOURCES if rt.group == group and version in rt.versions and "patch" in rt.verbs]
    if not types:
        return None
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4"},
        "paths": {_item_path(rt, version): {"patch": _patch_operation(rt, version)} for rt in types},
        "components": {"schemas": {}},
    }


class OpenAPI:
    """The root discovery document and the per-group-version documents, built once."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        gvs = sorted({(rt.group, v) for rt in RESOURCES for v in rt.versions})
        for group, version in gvs:
            doc = gv_document(group, version)
            if doc is not None:
                self.documents[_gv_path(group, version)] = dumps(doc)
        paths = {
            key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={hashlib.sha512(body).hexdigest()[:32].upper()}"}
            for key, body in self.documents.items()
        }
        self.root = dumps({"paths": paths})

    def get(self, segments: list[str]) -> bytes | None:
        """`/openapi/v3` or `/openapi/v3/<gv path>`; None for anything else (v2 included)."""
        if segments == ["openapi", "v3"]:
            return self.root
        if segments[:2] == ["openapi", "v3"]:
            return self.documents.get("/".join(segments[2:]))
        return None
