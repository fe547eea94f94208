"""The served types' schemas, from the packaged data file, as the apiserver publishes them.

`schemas.json.gz` (built by `generate.py`) holds the Kubernetes definitions in their Swagger 2.0
spelling and the Istio CRDs' structural schemas. This module picks what one group-version serves
and wraps each CRD schema the way the apiextensions apiserver does (standard `apiVersion`, `kind`,
`metadata`, a `<Kind>List`, the `x-kubernetes-group-version-kind` marker kubectl looks up), so
`/openapi/v2` and `/openapi/v3` can both be written from one set of definitions.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from atlas_sre.sim.resources import ResourceType

DATA = Path(__file__).with_name("schemas.json.gz")
REF = "#/definitions/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
Schema = dict[str, Any]


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(DATA.read_bytes()))
    return data


@cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    """(group, version, kind) → definition name, for the built-in types."""
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in _data()["definitions"].items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return index


def crd_name(group: str, version: str, kind: str) -> str:
    """`networking.istio.io`, `v1`, `VirtualService` → `io.istio.networking.v1.VirtualService` (the apiserver's)."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _crd_definitions(group: str, version: str, kind: str, plural: str) -> dict[str, Schema] | None:
    """A CRD kind and its List as the apiextensions apiserver publishes them, or None without a schema."""
    structural = _data()["crds"].get(f"{group}/{version}/{kind}")
    if structural is None:
        return None
    standard = _data()["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]
    gvk = {"group": group, "kind": kind, "version": version}
    name = crd_name(group, version, kind)
    obj: Schema = {
        "type": "object",
        "properties": {"apiVersion": standard["apiVersion"], "kind": standard["kind"],
                       "metadata": standard["metadata"], **structural["properties"]},
        "x-kubernetes-group-version-kind": [gvk],
    }
    listing: Schema = {
        "description": f"{kind}List is a list of {kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": standard["apiVersion"],
            "items": {"description": f"List of {plural}. More info: "
                                     "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                      "type": "array", "items": {"$ref": REF + name}},
            "kind": standard["kind"],
            "metadata": {"description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/"
                                        "devel/sig-architecture/api-conventions.md#types-kinds",
                         "$ref": REF + META + "ListMeta"},
        },
        "x-kubernetes-group-version-kind": [{**gvk, "kind": f"{kind}List"}],
    }
    return {name: obj, f"{name}List": listing}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            found.add(ref[len(REF):])
        for key, value in node.items():
            if key != "$ref":
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def definitions_for(types: list[ResourceType], version: str) -> dict[str, Schema]:
    """The definitions one group-version document carries: its kinds, their Lists and every type they use."""
    builtin = _data()["definitions"]
    chosen: dict[str, Schema] = {}
    for rt in types:
        if rt.crd:
            chosen.update(_crd_definitions(rt.group, version, rt.kind, rt.plural) or {})
            continue
        for kind in (rt.kind, rt.list_kind):
            name = _by_gvk().get((rt.group, version, kind))
            if name is not None:
                chosen[name] = builtin[name]
    pending = list(chosen)
    while pending:
        used: set[str] = set()
        _refs(chosen[pending.pop()], used)
        for name in sorted(used - chosen.keys()):
            chosen[name] = builtin[name]
            pending.append(name)
    return dict(sorted(chosen.items()))
