"""Server-side Tables (`meta.k8s.io/v1`), as kube-apiserver answers `Accept: ...;as=Table`.

kubectl 1.32 has no client-side printers for built-in kinds any more: `kubectl get pods` prints
whatever columns and cells the server sends. This module is therefore the single place where the
simulator decides what an agent *sees* in `kubectl get`: the per-kind printers (ported as facts
from kubernetes/pkg/printers/internalversion/printers.go, as column data in the kind modules), the CRD convertor
driven by `additionalPrinterColumns`, and the `includeObject` handling.

Like the real apiserver (which always generates tables with `Wide: true`), every row carries all
cells, priority-1 columns included; kubectl hides those unless `-o wide`.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from atlas_sre.sim.printers.batch import PRINTERS as _BATCH
from atlas_sre.sim.printers.cluster import PRINTERS as _CLUSTER
from atlas_sre.sim.printers.columns import Printer
from atlas_sre.sim.printers.common import Obj, meta
from atlas_sre.sim.printers.config import DEFAULT_CONVERTOR, DEFAULT_CONVERTOR_KINDS
from atlas_sre.sim.printers.config import PRINTERS as _CONFIG
from atlas_sre.sim.printers.core import PRINTERS as _CORE
from atlas_sre.sim.printers.crd import crd_printer
from atlas_sre.sim.printers.istio import ISTIO_PRINTER_COLUMNS
from atlas_sre.sim.printers.network import PRINTERS as _NETWORK
from atlas_sre.sim.printers.pod import PRINTERS as _POD
from atlas_sre.sim.printers.storage import PRINTERS as _STORAGE
from atlas_sre.sim.printers.workloads import PRINTERS as _WORKLOADS

__all__ = ["PRINTERS", "printer_for", "to_table"]

PRINTERS: dict[str, Printer] = {
    **_POD,
    **_WORKLOADS,
    **_BATCH,
    **_NETWORK,
    **_CORE,
    **_CONFIG,
    **_STORAGE,
    **_CLUSTER,
}
INCLUDE_OBJECT = ("Metadata", "Object", "None")


def printer_for(kind: str, crd_columns: list[dict] | None = None) -> Printer:
    """The printer the apiserver would use for `kind`.

    CRD columns win when given; then the built-in printers; then the default NAME / CREATED AT
    convertor of built-in kinds without a printer; then Istio's known columns; anything else is a
    custom resource without printer columns (NAME, AGE).
    """
    if crd_columns is not None:
        return crd_printer(crd_columns)
    if kind in PRINTERS:
        return PRINTERS[kind]
    if kind in DEFAULT_CONVERTOR_KINDS:
        return DEFAULT_CONVERTOR
    return crd_printer(ISTIO_PRINTER_COLUMNS.get(kind))


def _resource_version(objects: list[Obj]) -> str:
    """The Table's resourceVersion: the object's for one object, else the newest numeric one."""
    versions = [str(meta(o).get("resourceVersion") or "") for o in objects]
    if len(objects) == 1:
        return versions[0]
    numeric = [int(v) for v in versions if v.isdigit()]
    return str(max(numeric)) if numeric else ""


def _row_object(obj: Obj, include_object: str) -> Obj | None:
    """The row's `object`: PartialObjectMetadata, the full object, or nothing."""
    if include_object == "Object":
        return copy.deepcopy(obj)
    if include_object == "None":
        return None
    md = meta(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {k: copy.deepcopy(md[k]) for k in ROW_METADATA if k in md},
    }


# What kubectl reads from a row's object: the NAMESPACE column (-A), LABELS (--show-labels, -L).
# The real apiserver sends the whole metadata; kubectl decodes every row's object, so the fields it
# never prints (ownerReferences, annotations, managedFields) would only cost it time on big lists.
ROW_METADATA = ("name", "namespace", "labels")


def to_table(
    kind: str,
    objects: list[dict],
    now: datetime,
    *,
    include_object: str = "Metadata",
    crd_columns: list[dict] | None = None,
) -> dict:
    """Render `objects` (all of `kind`) as a `meta.k8s.io/v1` Table measured against `now`.

    `include_object` is the request's `includeObject` ("Metadata" by default; kubectl's `--sort-by`
    asks for "Object"; "None" drops it). `crd_columns` are a CRD version's
    `additionalPrinterColumns`. An empty list still yields the column definitions, which is how
    kubectl prints "No resources found".
    """
    if include_object not in INCLUDE_OBJECT:
        raise ValueError(f"unrecognized includeObject value: {include_object!r}")
    printer = printer_for(kind, crd_columns)
    rows: list[dict[str, Any]] = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj) if printer.conditions else None
        if conditions:
            row["conditions"] = conditions
        obj_value = _row_object(obj, include_object)
        if obj_value is not None:
            row["object"] = obj_value
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": _resource_version(objects)},
        "columnDefinitions": printer.definitions(),
        "rows": rows,
    }
