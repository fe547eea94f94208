"""PersistentVolumeClaims and the PersistentVolumes provisioned for them.

A claim whose StorageClass exists binds to a generated `pvc-<uid>` volume; one whose class is
missing stays Pending with the persistentvolume-controller's ProvisioningFailed event, which the
scheduler then turns into "pod has unbound immediate PersistentVolumeClaims" for its pods.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.kube.quantity import to_int
from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import created_at, stamp
from atlas_sre.sim.state import ClusterState, Obj

PV_CONTROLLER = "persistentvolume-controller"
RETRY = timedelta(seconds=15)  # the PV controller's resync: how often a pending claim is retried


def _retries(state: ClusterState, first: datetime) -> tuple[int, datetime]:
    """(count, last) of an event repeated every RETRY from `first` until observation."""
    elapsed = max(timedelta(0), state.clock.observe_at - first)
    count = 1 + int(elapsed / RETRY)
    return count, first + RETRY * (count - 1)


def default_class(state: ClusterState) -> str | None:
    """The StorageClass marked default (what the DefaultStorageClass admission plugin assigns)."""
    for sc in index_of(state).list("StorageClass"):
        ann = sc["metadata"].get("annotations") or {}
        if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
            return str(sc["metadata"]["name"])
    return None


def _set_bound(pvc: Obj, volume: str, capacity: str, provisioner: str | None) -> None:
    md, spec = pvc["metadata"], pvc["spec"]
    ann = md.setdefault("annotations", {})
    ann["pv.kubernetes.io/bind-completed"] = "yes"
    ann["pv.kubernetes.io/bound-by-controller"] = "yes"
    if provisioner:
        ann["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
        ann["volume.kubernetes.io/storage-provisioner"] = provisioner
    spec["volumeName"] = volume
    pvc["status"] = {"phase": "Bound", "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                     "capacity": {"storage": capacity}}


def _provision(state: ClusterState, seed: int, pvc: Obj, sc: Obj, created: datetime) -> None:
    md, spec = pvc["metadata"], pvc["spec"]
    name = f"pvc-{md['uid']}"
    storage = str(((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi"))
    pv: Obj = {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": sc.get("provisioner", "")},
                     "finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {"accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]), "capacity": {"storage": storage},
                 "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": md["name"],
                              "namespace": md["namespace"], "uid": md["uid"],
                              "resourceVersion": md.get("resourceVersion")},
                 "hostPath": {"path": f"/var/local-path-provisioner/{name}_{md['namespace']}_{md['name']}",
                              "type": "DirectoryOrCreate"},
                 "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                 "storageClassName": sc["metadata"]["name"], "volumeMode": spec.get("volumeMode", "Filesystem")},
        "status": {"phase": "Bound"},
    }
    add_object(state, stamp(state, seed, pv, created + timedelta(seconds=1)))
    _set_bound(pvc, name, storage, sc.get("provisioner"))


def _static_match(state: ClusterState, pvc: Obj) -> Obj | None:
    want = to_int(((pvc["spec"].get("resources") or {}).get("requests") or {}).get("storage", 0))
    modes = set(pvc["spec"].get("accessModes") or [])
    for pv in index_of(state).list("PersistentVolume"):
        ps = pv.get("spec") or {}
        if (pv.get("status") or {}).get("phase", "Available") != "Available" or ps.get("storageClassName"):
            continue
        if to_int((ps.get("capacity") or {}).get("storage", 0)) >= want and modes <= set(ps.get("accessModes") or []):
            return pv
    return None


def bind_claim(state: ClusterState, seed: int, pvc: Obj, created: datetime) -> None:
    """Bind one claim (provisioning a volume) or leave it Pending with the controller's event."""
    spec: dict[str, Any] = pvc.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")
    pvc["metadata"].setdefault("finalizers", ["kubernetes.io/pvc-protection"])
    if (pvc.get("status") or {}).get("phase") == "Bound" and spec.get("volumeName"):
        return
    if "storageClassName" not in spec and (klass := default_class(state)):
        spec["storageClassName"] = klass
    klass = spec.get("storageClassName") or ""
    pvc["status"] = {"phase": "Pending"}
    if not klass:
        pv = _static_match(state, pvc)
        if pv is not None:
            pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": pvc["metadata"]["namespace"],
                                      "name": pvc["metadata"]["name"], "uid": pvc["metadata"]["uid"]}
            pv.setdefault("status", {})["phase"] = "Bound"
            _set_bound(pvc, pv["metadata"]["name"], str(pv["spec"]["capacity"]["storage"]), None)
            return
        count, last = _retries(state, created)
        emit(state, pvc, "FailedBinding", "no persistent volumes available for this claim and no storage class is set",
             first=created, last=last, count=count, component=PV_CONTROLLER)
        return
    sc = index_of(state).get("StorageClass", None, klass)
    if sc is None:
        count, last = _retries(state, created)
        emit(state, pvc, "ProvisioningFailed", f'storageclass.storage.k8s.io "{klass}" not found',
             first=created, last=last, count=count, type_="Warning", component=PV_CONTROLLER)
        return
    if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
        return  # bound by `bind_waiting_claims` once a pod using it is scheduled
    _provision(state, seed, pvc, sc, created)


def bind_waiting_claims(state: ClusterState, seed: int, consumers: dict[tuple[str, str], datetime]) -> None:
    """Bind WaitForFirstConsumer claims used by a scheduled pod; the rest wait with their event.

    `consumers` maps (namespace, claim) to when the first pod using it was scheduled.
    """
    idx = index_of(state)
    for pvc in idx.list("PersistentVolumeClaim"):
        if pvc.get("status", {}).get("phase") != "Pending":
            continue
        sc = idx.get("StorageClass", None, pvc["spec"].get("storageClassName") or "")
        if sc is None or sc.get("volumeBindingMode") != "WaitForFirstConsumer":
            continue
        key = (pvc["metadata"]["namespace"], pvc["metadata"]["name"])
        if key in consumers:
            _provision(state, seed, pvc, sc, consumers[key])
            continue
        first = created_at(state, pvc)
        count, last = _retries(state, first)
        emit(state, pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding",
             first=first, last=last, count=count, component=PV_CONTROLLER)
