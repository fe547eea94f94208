"""Objects the API serves that no workload controller writes: CRDs, metrics, events.k8s.io views,
component statuses.

On a real cluster these come from other components (the Istio installer's CRDs, metrics-server,
the events.k8s.io conversion); the server synthesises them from the registry and the derived
state so `kubectl get crd`, `kubectl top` and the events API read as they would there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim.ids import resource_version, uid
from atlas_sre.sim.printers.istio import ISTIO_PRINTER_COLUMNS
from atlas_sre.sim.resources import RESOURCES, ResourceType

Obj = dict[str, Any]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def printer_columns(kind: str) -> list[dict[str, Any]]:
    """A CRD kind's `additionalPrinterColumns` (none: the apiserver then shows NAME and AGE)."""
    return [dict(c) for c in ISTIO_PRINTER_COLUMNS.get(kind, [])]


def crd_object(rt: ResourceType, created: str) -> Obj:
    """The CustomResourceDefinition an installer would have applied for `rt`."""
    name = f"{rt.plural}.{rt.group}"
    columns = printer_columns(rt.kind)
    versions: list[Obj] = []
    for v in rt.versions:
        version: Obj = {"name": v, "served": True, "storage": v == rt.version}
        if columns:
            version["additionalPrinterColumns"] = columns
        version["schema"] = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
        version["subresources"] = {"status": {}}
        versions.append(version)
    names: Obj = {"plural": rt.plural, "singular": rt.singular_name, "kind": rt.kind, "listKind": rt.list_kind}
    if rt.short_names:
        names["shortNames"] = list(rt.short_names)
    if rt.categories:
        names["categories"] = list(rt.categories)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": name,
            "uid": uid(0, "CustomResourceDefinition", None, name),
            "resourceVersion": resource_version("crd", name),
            "generation": 1,
            "creationTimestamp": created,
            "labels": {"app": "istio-pilot", "chart": "istio", "heritage": "Tiller", "release": "istio"},
            "annotations": {"helm.sh/resource-policy": "keep"},
        },
        "spec": {
            "group": rt.group,
            "names": names,
            "scope": "Namespaced" if rt.namespaced else "Cluster",
            "versions": versions,
            "conversion": {"strategy": "None"},
        },
        "status": {
            "acceptedNames": names,
            "storedVersions": [rt.version],
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": created, "reason": r, "message": m}
                for t, r, m in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        },
    }


def crd_objects(created: datetime) -> list[Obj]:
    """One CRD per custom resource type in the registry."""
    return [crd_object(rt, _iso(created)) for rt in RESOURCES if rt.crd]


COMPONENTS = ("controller-manager", "etcd-0", "scheduler")


def component_statuses() -> list[Obj]:
    """`kubectl get componentstatuses`: the apiserver probes the scheduler, controller-manager and etcd.

    The simulated control plane has no faults, so each probe answers as a healthy one does: the
    scheduler's and controller-manager's `/healthz` body `ok`, and etcd's client probe `ok`.
    """
    return [{"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": name, "creationTimestamp": None},
             "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]} for name in COMPONENTS]


def _cpu(milli: int) -> str:
    return f"{milli * 1_000_000}n" if milli else "0"


def _memory(mi: int) -> str:
    return f"{mi * 1024}Ki" if mi else "0"


def metrics_objects(state: Any, now: datetime) -> list[Obj]:
    """PodMetrics and NodeMetrics as metrics-server reports them (nanocores, Ki), labels copied."""
    stamp = _iso(now)
    labels: dict[tuple[str, str | None, str], Obj] = {}
    for obj in state.objects:
        if obj.get("kind") in ("Pod", "Node"):
            md = obj.get("metadata") or {}
            labels[(obj["kind"], md.get("namespace"), md.get("name", ""))] = dict(md.get("labels") or {})
    out: list[Obj] = []
    for (namespace, pod), containers in state.pod_usage.items():
        md: Obj = {"name": pod, "namespace": namespace, "creationTimestamp": stamp}
        md["labels"] = labels.get(("Pod", namespace, pod), {})
        out.append({
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": md,
            "timestamp": stamp,
            "window": "30s",
            "containers": [
                {"name": c, "usage": {"cpu": _cpu(u.cpu_milli), "memory": _memory(u.memory_mi)}}
                for c, u in containers.items()
            ],
        })
    for node, u in state.node_usage.items():
        out.append({
            "kind": "NodeMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {"name": node, "creationTimestamp": stamp, "labels": labels.get(("Node", None, node), {})},
            "timestamp": stamp,
            "window": "30s",
            "usage": {"cpu": _cpu(u.cpu_milli), "memory": _memory(u.memory_mi)},
        })
    return out


def events_v1(event: Obj) -> Obj:
    """A core/v1 Event as events.k8s.io/v1 shows it (the apiserver converts between the two)."""
    out: Obj = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": event.get("metadata", {})}
    out["eventTime"] = event.get("eventTime")
    if event.get("series"):
        out["series"] = event["series"]
    pairs = (("reportingController", "reportingComponent"), ("reportingInstance", "reportingInstance"),
             ("action", "action"), ("reason", "reason"), ("regarding", "involvedObject"),
             ("related", "related"), ("note", "message"), ("type", "type"),
             ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
             ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"))
    for new, old in pairs:
        if event.get(old) not in (None, "", {}):
            out[new] = event[old]
    return out
