"""Pods from pod templates, passed through the admission chain a real create goes through.

Admission (ServiceAccount, LimitRanger, Priority, DefaultTolerationSeconds, then the mutating
webhooks) depends only on the template, the namespace and the time, so it runs once per template
(`admit_template`); each pod is then a cheap clone plus its own name, labels, owner and token
volume (`new_pod`). Quota admission depends on what already exists and lives in `quota.py`; it
and the scheduler read the *admitted* requests, so whatever a webhook adds (Istio's sidecar) is
charged against ResourceQuota and node allocatable like the app's own containers.

Mutating webhooks are plain functions other rooms register in `state.extras["admission_mutators"]`
(`register_mutator`): `(spec, state, namespace, pod, created_at) -> None`, mutating `pod` (a dict
with `metadata` — namespace, labels, annotations, name or generateName, ownerReferences — and
`spec`) in place, as the apiserver's MutatingAdmissionWebhook plugin would.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas_sre.kube.requests import pod_totals, qos_class
from atlas_sre.sim import ids
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import clone, created_at, stamp
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.defaults import default_pod_spec

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_DEFAULT_TOLERATIONS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
MUTATORS_KEY = "admission_mutators"
Mutator = Callable[[SimSpec, ClusterState, str, Obj, datetime], None]


def register_mutator(state: ClusterState, mutator: Mutator) -> None:
    """Add a mutating admission webhook; it runs on every pod created after this call."""
    mutators = state.extras.setdefault(MUTATORS_KEY, [])
    if mutator not in mutators:
        mutators.append(mutator)


# What admission reads besides the template: a change to one of these starts a new admission epoch.
_ADMISSION_KINDS = ("Namespace", "LimitRange", "PriorityClass", "ServiceAccount",
                    "MutatingWebhookConfiguration")
_EPOCHS_KEY = "admission_epochs"


def admission_epoch(spec: SimSpec, state: ClusterState, at: datetime) -> int:
    """How many changes to what admission reads (history) happened by `at`; equal epochs admit alike."""
    times = state.extras.get(_EPOCHS_KEY)
    if times is None:
        times = state.extras[_EPOCHS_KEY] = sorted(
            c.at for key, c in spec.history.items() if key.split("/")[-2] in _ADMISSION_KINDS)
    return bisect.bisect_right(times, at)


def _existed(state: ClusterState, obj: Obj | None, at: datetime | None) -> Obj | None:
    """`obj` if it already existed at `at` (objects a fault creates only exist from then on)."""
    if obj is None or at is None or created_at(state, obj) <= at:
        return obj
    return None


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
    # where the token volume goes: the ServiceAccount plugin adds it before the webhooks add theirs
    token_index: int | None = None

    def as_template(self) -> dict[str, Any]:
        """The admitted pod template (what the kubelet will be asked to run)."""
        return {"metadata": {"labels": self.labels, "annotations": self.annotations}, "spec": self.spec}


def _limit_range_defaults(state: ClusterState, namespace: str,
                          at: datetime | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(default requests, default limits) of the namespace's Container LimitRanges."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    ranges = [lr for lr in index_of(state).list("LimitRange", namespace) if _existed(state, lr, at)]
    for lr in sorted(ranges, key=lambda o: o["metadata"]["name"]):
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


def _priority(state: ClusterState, spec: dict[str, Any], at: datetime | None) -> str | None:
    """Resolve priorityClassName to spec.priority; the Forbidden reason if the class is missing."""
    name = spec.get("priorityClassName")
    classes = [c for c in index_of(state).list("PriorityClass") if _existed(state, c, at)]
    if name:
        pc = _existed(state, index_of(state).get("PriorityClass", None, name), at)
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


def admit_template(state: ClusterState, template: dict[str, Any], namespace: str,
                   at: datetime | None = None, *, sim: SimSpec | None = None,
                   owner: dict[str, Any] | None = None, name: str | None = None) -> AdmittedTemplate:
    """Run the per-template admission plugins over a (cloned) pod template, as of time `at`.

    `owner` and `name` (a bare pod's) are what the webhooks see of the pod to be; without `sim`
    and `at` the webhooks do not run (nothing registered them, or the caller is a prediction).
    """
    tmd = template.get("metadata") or {}
    spec = default_pod_spec(clone(template.get("spec") or {}))
    annotations = dict(tmd.get("annotations") or {})
    labels = dict(tmd.get("labels") or {})
    error: str | None = None
    token = False
    if "kubernetes.io/config.mirror" not in annotations:  # the ServiceAccount plugin skips mirror (static) pods
        sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = spec["serviceAccount"] = sa_name
        sa = _existed(state, index_of(state).get("ServiceAccount", namespace, sa_name), at)
        if sa is None:
            error = f'error looking up service account {namespace}/{sa_name}: serviceaccount "{sa_name}" not found'
        token = spec.get("automountServiceAccountToken",
                         (sa or {}).get("automountServiceAccountToken", True)) is not False
    req_defaults, lim_defaults = _limit_range_defaults(state, namespace, at)
    note = _apply_limit_ranges(spec, req_defaults, lim_defaults)
    if note:
        annotations["kubernetes.io/limit-ranger"] = note
    error = _priority(state, spec, at) or error
    _tolerations(spec)
    spec.setdefault("enableServiceLinks", True)
    mutators: list[Mutator] = state.extras.get(MUTATORS_KEY) or []
    token_index = len(spec.get("volumes") or [])
    if mutators and sim is not None and at is not None and error is None:
        md: dict[str, Any] = {"namespace": namespace, "labels": labels, "annotations": annotations}
        md.update({"name": name} if name else {"generateName": f"{(owner or {}).get('name', 'pod')}-"})
        if owner:
            md["ownerReferences"] = [owner]
        pod: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}
        for mutate in mutators:
            mutate(sim, state, namespace, pod, at)
        labels, annotations, spec = md.get("labels") or {}, md.get("annotations") or {}, pod["spec"]
    requests, limits = pod_totals(spec)
    return AdmittedTemplate(namespace, labels, annotations, spec, error, token, requests, limits, token_index)


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
        volumes = spec.setdefault("volumes", [])
        volume = {"name": vol, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                        "path": "namespace"}]}},
        ]}}
        volumes.insert(len(volumes) if admitted.token_index is None else admitted.token_index, volume)
        # the built-in plugins run again after a webhook changed the pod, so its containers get the mount too
        for key in ("initContainers", "containers"):
            for c in spec.get(key) or []:
                mounts = c.setdefault("volumeMounts", [])
                if not any(m.get("mountPath") == SA_MOUNT for m in mounts):
                    mounts.append({"name": vol, "mountPath": SA_MOUNT, "readOnly": True})
    return pod


def unique_suffix(seed: int, base: str, salt: Any, taken: dict[str, Any] | set[str]) -> str:
    """`<base><5 safe chars>` not already in `taken` (a generated name, stable for the same inputs)."""
    n = 0
    while True:
        name = f"{base}{ids.safe_suffix(5, seed, base, salt, n)}"
        if name not in taken:
            return name
        n += 1
