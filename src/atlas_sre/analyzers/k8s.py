"""Kubernetes object helpers shared by the analyzers: labels, selectors, owners, ports, env, DNS names.

Why here: every analyzer asks the same questions ("which pods does this Service select", "which
Deployment owns this pod", "what does this env var point at"), and answering them one way keeps
findings consistent (a pod-level problem is always reported on the same owning workload).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from atlas_sre.analyzers.base import Resource
from atlas_sre.analyzers.snapshot import Obj, Snapshot
from atlas_sre.kube.labels import map_matches
from atlas_sre.kube.labels import selector_matches as selector_matches
from atlas_sre.kube.namespaces import SYSTEM_NAMESPACES as SYSTEM_NAMESPACES

PROXY = "istio-proxy"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
CLUSTER_DOMAIN = "svc.cluster.local"


def md(obj: Obj) -> dict[str, Any]:
    return obj.get("metadata") or {}


def ns_of(obj: Obj) -> str:
    return str(md(obj).get("namespace") or "")


def name_of(obj: Obj) -> str:
    return str(md(obj).get("name") or "")


def labels(obj: Obj) -> dict[str, str]:
    return md(obj).get("labels") or {}


def spec(obj: Obj) -> dict[str, Any]:
    return obj.get("spec") or {}


def status(obj: Obj) -> dict[str, Any]:
    return obj.get("status") or {}


def pod_spec(obj: Obj) -> dict[str, Any]:
    """The pod spec of a Pod or of any pod template owner (Deployment, Job, CronJob...)."""
    if obj.get("kind") == "Pod":
        return spec(obj)
    if obj.get("kind") == "CronJob":
        return ((spec(obj).get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec") or {}
    return (spec(obj).get("template") or {}).get("spec") or {}


def template_labels(obj: Obj) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return labels(obj)
    return ((spec(obj).get("template") or {}).get("metadata") or {}).get("labels") or {}


def has_sidecar(pod: Obj) -> bool:
    """An `istio-proxy` container (or native-sidecar init container), as istioctl's IST0103 checks."""
    ps = pod_spec(pod)
    return any(
        c.get("name") == PROXY for c in (ps.get("containers") or []) + (ps.get("initContainers") or [])
    )


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status(pod).get("conditions") or []
    )


def live_pods(snap: Snapshot, namespace: str | None = None) -> list[Obj]:
    """Pods that exist and are not finished or being deleted."""
    return [
        p
        for p in snap.of_kind("Pod", namespace)
        if not md(p).get("deletionTimestamp") and status(p).get("phase") not in ("Succeeded", "Failed")
    ]


def service_pods(snap: Snapshot, svc: Obj) -> list[Obj]:
    """Live pods a Service's selector picks (none for selector-less Services)."""
    sel = spec(svc).get("selector")
    if not sel:
        return []
    return [p for p in live_pods(snap, ns_of(svc)) if map_matches(sel, labels(p))]


def owner(snap: Snapshot, obj: Obj) -> Obj:
    """The top controller of a pod: Pod -> ReplicaSet -> Deployment, Job -> CronJob; else itself."""
    current = obj
    for _ in range(3):
        ref = next((r for r in md(current).get("ownerReferences") or [] if r.get("controller")), None)
        if ref is None:
            return current
        parent = snap.get(str(ref.get("kind")), ns_of(current), str(ref.get("name")))
        if parent is None:
            return current
        current = parent
    return current


def by_owner(snap: Snapshot, pods: Iterable[Obj]) -> dict[Resource, tuple[Obj, list[Obj]]]:
    """Pods grouped by owning workload, in first-seen order: `{Resource: (owner, pods)}`."""
    out: dict[Resource, tuple[Obj, list[Obj]]] = {}
    for pod in pods:
        top = owner(snap, pod)
        out.setdefault(Resource.of(top), (top, []))[1].append(pod)
    return out


def workloads(snap: Snapshot, namespace: str | None = None) -> list[Obj]:
    """Deployments, StatefulSets, DaemonSets and Jobs (the objects an SRE would change)."""
    return [o for kind in WORKLOAD_KINDS for o in snap.of_kind(kind, namespace)]


def scaled_to_zero(snap: Snapshot, namespace: str, *selectors: dict[str, str]) -> list[Obj]:
    """Deployments/StatefulSets of `namespace` set to 0 replicas whose pods every selector would match:
    the workload that would serve a Service (or a subset of it) if it had not been scaled down."""
    return [
        w
        for w in workloads(snap, namespace)
        if w.get("kind") in ("Deployment", "StatefulSet")
        and all(map_matches(sel, template_labels(w)) for sel in selectors)
        and spec(w).get("replicas") == 0
    ]


def container_ports(ps: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(container name, port) for every declared container port of a pod spec."""
    return [(c.get("name", ""), p) for c in ps.get("containers") or [] for p in c.get("ports") or []]


def env_values(snap: Snapshot, namespace: str, container: dict[str, Any]) -> dict[str, str]:
    """Literal and ConfigMap-sourced env values (Secrets are never read)."""
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        ref = src.get("configMapRef")
        cm = snap.get("ConfigMap", namespace, ref.get("name", "")) if ref else None
        for k, v in ((cm or {}).get("data") or {}).items():
            env[(src.get("prefix") or "") + k] = str(v)
    for item in container.get("env") or []:
        if "value" in item:
            env[str(item.get("name"))] = str(item["value"])
            continue
        ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = snap.get("ConfigMap", namespace, ref.get("name", ""))
            value = ((cm or {}).get("data") or {}).get(ref.get("key", ""))
            if value is not None:
                env[str(item.get("name"))] = str(value)
    return env


_ADDRESS = re.compile(
    r"^(?:(?:https?|grpc|tcp|redis|mongodb|amqp)://)?(?:[^@/\s]+@)?"
    r"(?P<host>[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)*):(?P<port>\d{1,5})(?:/.*)?$"
)


def parse_address(value: str) -> tuple[str, int] | None:
    """`host:port` (optionally a URL) -> (host, port); None for anything else."""
    m = _ADDRESS.match(value.strip())
    return (m.group("host"), int(m.group("port"))) if m else None


def service_by_dns(snap: Snapshot, host: str, from_ns: str) -> tuple[str, str] | None:
    """The (namespace, name) a cluster-DNS name means, if it is a Service name at all.

    `svc` (caller's namespace), `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`; a dotted name
    whose second label is not a namespace (an external host) is not a Service name: None.
    """
    parts = host.split(".")
    if len(parts) == 1:
        return (from_ns, parts[0])
    rest = ".".join(parts[2:])
    if parts[1] in snap.namespaces() and rest in ("", "svc", CLUSTER_DOMAIN):
        return (parts[1], parts[0])
    return None


def dependencies(snap: Snapshot, obj: Obj) -> list[tuple[str, str, str, int]]:
    """Service addresses a workload's containers are configured with: (env var, ns, svc name, port)."""
    out = []
    ns = ns_of(obj)
    for c in pod_spec(obj).get("containers") or []:
        for var, value in env_values(snap, ns, c).items():
            addr = parse_address(value)
            target = service_by_dns(snap, addr[0], ns) if addr else None
            if addr and target:
                out.append((var, target[0], target[1], addr[1]))
    return out


def service_ports(svc: Obj) -> list[int]:
    return [int(p.get("port", 0)) for p in spec(svc).get("ports") or []]


def events_text(snap: Snapshot, obj: Obj, reasons: Iterable[str] | None = None) -> list[str]:
    """`Reason: message (xN)` for the object's events, optionally only some reasons."""
    wanted = set(reasons) if reasons is not None else None
    out = []
    for ev in snap.events_for(str(obj.get("kind")), ns_of(obj) or None, name_of(obj)):
        if wanted is None or ev.get("reason") in wanted:
            count = int(ev.get("count") or 1)
            out.append(
                f"{ev.get('reason')}: {ev.get('message') or ev.get('note') or ''}"
                + (f" (x{count})" if count > 1 else "")
            )
    return out
