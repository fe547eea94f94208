"""Pods from pod templates, passed through the admission chain a real create goes through.

Admission (ServiceAccount, LimitRanger, Priority, DefaultTolerationSeconds) depends only on the
template and the namespace, so it runs once per template (`admit_template`); each pod is then a
cheap clone plus its own name, labels, owner and token volume (`new_pod`). Quota admission depends
on what already exists and lives in `quota.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.state import ClusterState, Obj
from atlas_sre.sim.workloads.defaults import default_pod_spec
from atlas_sre.sim.workloads.index import index_of
from atlas_sre.sim.workloads.meta import clone, stamp
from atlas_sre.sim.workloads.quantity import pod_totals, qos_class

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_DEFAULT_TOLERATIONS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


@dataclass
class AdmittedTemplate:
    """A pod template after the per-template admission plugins, ready to stamp pods from."""

    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: dict[str, Any]
    error: str | None  # a Forbidden reason that rejects every pod of this template
    token: bool  # whether pods get the projected service-account token volume
    requests: dict[str, int]
    limits: dict[str, int]


def _limit_range_defaults(state: ClusterState, namespace: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(default requests, default limits) of the namespace's Container LimitRanges."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for lr in sorted(index_of(state).list("LimitRange", namespace), key=lambda o: o["metadata"]["name"]):
        for item in (lr.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            for k, v in (item.get("default") or {}).items():
                limits.setdefault(k, v)
                requests.setdefault(k, (item.get("defaultRequest") or {}).get(k, v))
            for k, v in (item.get("defaultRequest") or {}).items():
                requests.setdefault(k, v)
    return requests, limits


def _apply_limit_ranges(spec: dict[str, Any], requests: dict[str, Any], limits: dict[str, Any]) -> str | None:
    """Fill missing container resources from LimitRange defaults; the annotation text, if any."""
    notes: list[str] = []
    for key, prefix in (("containers", "container"), ("initContainers", "init container")):
        for c in spec.get(key) or []:
            res = c.setdefault("resources", {})
            set_req = [k for k in requests if k not in (res.get("requests") or {})]
            set_lim = [k for k in limits if k not in (res.get("limits") or {})]
            for k in set_lim:
                res.setdefault("limits", {})[k] = limits[k]
            for k in set_req:
                res.setdefault("requests", {})[k] = requests[k]
            if set_req:
                notes.append(f"{', '.join(sorted(set_req))} request for {prefix} {c['name']}")
            if set_lim:
                notes.append(f"{', '.join(sorted(set_lim))} limit for {prefix} {c['name']}")
    return "LimitRanger plugin set: " + "; ".join(notes) if notes else None


def _priority(state: ClusterState, spec: dict[str, Any]) -> str | None:
    """Resolve priorityClassName to spec.priority; the Forbidden reason if the class is missing."""
    name = spec.get("priorityClassName")
    classes = index_of(state).list("PriorityClass")
    if name:
        pc = index_of(state).get("PriorityClass", None, name)
        if pc is None:
            return f"no PriorityClass with name {name} was found"
    else:
        pc = next((c for c in classes if c.get("globalDefault")), None)
        if pc is not None:
            spec["priorityClassName"] = pc["metadata"]["name"]
    spec["priority"] = int(pc.get("value", 0)) if pc else 0
    spec.setdefault("preemptionPolicy", (pc or {}).get("preemptionPolicy", "PreemptLowerPriority"))
    return None


def _tolerations(spec: dict[str, Any]) -> None:
    tolerations = spec.setdefault("tolerations", [])
    for key in _DEFAULT_TOLERATIONS:
        if any(t.get("key") == key and t.get("effect") in (None, "", "NoExecute") for t in tolerations):
            continue
        if any(not t.get("key") and t.get("operator") == "Exists" for t in tolerations):
            continue
        tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})


def admit_template(state: ClusterState, template: dict[str, Any], namespace: str) -> AdmittedTemplate:
    """Run the per-template admission plugins over a (cloned) pod template."""
    tmd = template.get("metadata") or {}
    spec = default_pod_spec(clone(template.get("spec") or {}))
    annotations = dict(tmd.get("annotations") or {})
    error: str | None = None
    sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = sa_name
    sa = index_of(state).get("ServiceAccount", namespace, sa_name)
    if sa is None:
        error = f'error looking up service account {namespace}/{sa_name}: serviceaccount "{sa_name}" not found'
    token = spec.get("automountServiceAccountToken", (sa or {}).get("automountServiceAccountToken", True)) is not False
    req_defaults, lim_defaults = _limit_range_defaults(state, namespace)
    note = _apply_limit_ranges(spec, req_defaults, lim_defaults)
    if note:
        annotations["kubernetes.io/limit-ranger"] = note
    error = _priority(state, spec) or error
    _tolerations(spec)
    spec.setdefault("enableServiceLinks", True)
    requests, limits = pod_totals(spec)
    return AdmittedTemplate(namespace, dict(tmd.get("labels") or {}), annotations, spec, error, token,
                            requests, limits)


def new_pod(
    state: ClusterState,
    seed: int,
    admitted: AdmittedTemplate,
    name: str,
    created: datetime,
    *,
    labels: dict[str, str] | None = None,
    owner: dict[str, Any] | None = None,
    generate_name: str | None = None,
    spec_patch: dict[str, Any] | None = None,
) -> Obj:
    """One pod from an admitted template (not yet added to the state)."""
    spec = clone(admitted.spec)
    if spec_patch:
        spec.update(spec_patch)
    md: dict[str, Any] = {"name": name, "namespace": admitted.namespace}
    if generate_name:
        md["generateName"] = generate_name
    md["labels"] = {**admitted.labels, **(labels or {})}
    if admitted.annotations:
        md["annotations"] = dict(admitted.annotations)
    if owner:
        md["ownerReferences"] = [owner]
    pod: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec,
                "status": {"phase": "Pending", "qosClass": qos_class(spec)}}
    stamp(state, seed, pod, created)
    if admitted.token:
        vol = f"kube-api-access-{ids.safe_suffix(5, seed, md['uid'])}"
        spec.setdefault("volumes", []).append({"name": vol, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                        "path": "namespace"}]}},
        ]}})
        for key in ("initContainers", "containers"):
            for c in spec.get(key) or []:
                c.setdefault("volumeMounts", []).append({"name": vol, "mountPath": SA_MOUNT, "readOnly": True})
    return pod


def unique_suffix(seed: int, base: str, salt: Any, taken: dict[str, Any] | set[str]) -> str:
    """`<base><5 safe chars>` not already in `taken` (a generated name, stable for the same inputs)."""
    n = 0
    while True:
        name = f"{base}{ids.safe_suffix(5, seed, base, salt, n)}"
        if name not in taken:
            return name
        n += 1
