"""Server-side Tables: what `kubectl get` prints, computed here because kubectl no longer does.

The per-kind printers live in `atlas_sre.sim.printers.table`; this module adapts them to the API: the
Table version the client asked for, the list's resourceVersion, a CRD's printer columns (the
same ones its CustomResourceDefinition object declares), and row objects at the served version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_sre.sim.api import status as st
from atlas_sre.sim.api.synth import printer_columns
from atlas_sre.sim.printers.ages import AgeTemplate, LiveNow
from atlas_sre.sim.printers.table import to_table
from atlas_sre.sim.resources import ResourceType

Obj = dict[str, Any]


def row_object(obj: Obj, include_object: str) -> Obj | None:
    """What a Table row embeds: the object, its metadata only (the default) or nothing."""
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def render(rt: ResourceType, objects: list[Obj], now: datetime, *, include_object: str = "Metadata",
           table_version: str = "v1", resource_version: str = "", embed: list[Obj] | None = None) -> Obj:
    """The Table for `objects` of type `rt`; `embed` replaces the row objects (served versions)."""
    kind = rt.served_from or rt.kind
    crd_columns = printer_columns(kind) if rt.crd else None
    table = to_table(kind, objects, now, include_object=include_object, crd_columns=crd_columns)
    table["apiVersion"] = f"meta.k8s.io/{table_version}"
    if resource_version:
        table.setdefault("metadata", {})["resourceVersion"] = resource_version
    if embed is not None and include_object != "None":
        for row, obj in zip(table.get("rows", []), embed, strict=True):
            row["object"] = row_object(obj, include_object)
    return table


@dataclass
class LiveTable(st.Response):
    """A Table reply whose age cells are measured when it is sent (`at`), not when it was built.

    The server caches this object like any GET answer; each send renders the ages for the
    present instant from the cached template, so a cached `kubectl get` never freezes its AGE.
    """

    template: AgeTemplate | None = None

    def at(self, now: datetime) -> st.Response:
        """The reply as sent at `now`."""
        body = self.template.render(now) if self.template is not None else self.body
        return st.Response(self.status, body, self.content_type, self.headers)


def table_now(now: datetime, live: bool) -> datetime:
    """What a table is built against: `now` itself, or (live) placeholders filled in per send."""
    return LiveNow.of(now) if live else now


def respond(table: Obj, content_type: str, live: bool) -> st.Response:
    """The reply for a built Table; a live one keeps its age placeholders as a template."""
    response = st.ok(table, content_type)
    template = AgeTemplate.parse(response.body) if live else None
    if template is None:
        return response
    return LiveTable(response.status, response.body, response.content_type, response.headers, template=template)
