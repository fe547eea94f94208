"""Printers for storage: PersistentVolumeClaim, PersistentVolume and StorageClass (kube-apiserver 1.32).

1.32 prints a VOLUMEATTRIBUTESCLASS column (`<unset>` unless set) and VOLUMEMODE only with
`-o wide`; a claim that is not bound shows empty CAPACITY and ACCESS MODES, which is how a
Pending PVC reads on a real cluster.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.tables_common import (
    Cells,
    Obj,
    Printer,
    age,
    age_col,
    col,
    dig,
    meta,
    name,
    name_col,
)

_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def access_modes(modes: list[str] | None) -> str:
    """`GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once."""
    given = set(modes or [])
    order = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    return ",".join(short for full, short in order if full in given)


def _storage_class_of(obj: Obj) -> str:
    annotated = (meta(obj).get("annotations") or {}).get(_STORAGE_CLASS_ANNOTATION)
    return annotated if annotated is not None else (dig(obj, "spec", "storageClassName") or "")


def _pvc(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    phase = "Terminating" if meta(obj).get("deletionTimestamp") else dig(obj, "status", "phase") or ""
    capacity, modes = "", ""
    if spec.get("volumeName"):
        modes = access_modes(dig(obj, "status", "accessModes"))
        capacity = str(dig(obj, "status", "capacity", "storage") or "0")
    return [
        name(obj),
        phase,
        spec.get("volumeName", ""),
        capacity,
        modes,
        _storage_class_of(obj),
        spec.get("volumeAttributesClassName") or "<unset>",
        age(obj, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _pv(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    phase = "Terminating" if meta(obj).get("deletionTimestamp") else dig(obj, "status", "phase") or ""
    return [
        name(obj),
        str(dig(spec, "capacity", "storage") or "0"),
        access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim_text,
        _storage_class_of(obj),
        spec.get("volumeAttributesClassName") or "<unset>",
        dig(obj, "status", "reason") or "",
        age(obj, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _storage_class(obj: Obj, now: datetime) -> Cells:
    annotations = meta(obj).get("annotations") or {}
    default = any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS)
    return [
        name(obj) + (" (default)" if default else ""),
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy") or "Delete",
        obj.get("volumeBindingMode") or "Immediate",
        bool(obj.get("allowVolumeExpansion", False)),
        age(obj, now),
    ]


PRINTERS: dict[str, Printer] = {
    "PersistentVolumeClaim": Printer(
        [
            name_col(),
            col("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
            col(
                "Volume",
                "string",
                "volumeName is the binding reference to the PersistentVolume backing this claim.",
            ),
            col("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
            col(
                "Access Modes",
                "string",
                "accessModes contains the actual access modes the volume backing the PVC has.",
            ),
            col("StorageClass", "string", "StorageClass of the pvc"),
            col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
            age_col(),
            col(
                "VolumeMode",
                "string",
                "volumeMode defines what type of volume is required by the claim.",
                priority=1,
            ),
        ],
        _pvc,
    ),
    "PersistentVolume": Printer(
        [
            name_col(),
            col(
                "Capacity",
                "string",
                "capacity is the description of the persistent volume's resources and capacity.",
            ),
            col("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
            col(
                "Reclaim Policy",
                "string",
                "persistentVolumeReclaimPolicy defines what "
                "happens to a persistent volume when released from its claim.",
            ),
            col(
                "Status",
                "string",
                "phase indicates if a volume is available, bound to a claim, or released by a claim.",
            ),
            col(
                "Claim",
                "string",
                "claimRef is part of a bi-directional binding between "
                "PersistentVolume and PersistentVolumeClaim.",
            ),
            col("StorageClass", "string", "StorageClass of the pv"),
            col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
            col(
                "Reason",
                "string",
                "reason is a brief CamelCase string that describes any "
                "failure and is meant for machine parsing and tidy display in the CLI.",
            ),
            age_col(),
            col(
                "VolumeMode",
                "string",
                "volumeMode defines if a volume is intended to be "
                "used with a formatted filesystem or to remain in raw block state.",
                priority=1,
            ),
        ],
        _pv,
    ),
    "StorageClass": Printer(
        [
            name_col(),
            col("Provisioner", "string", "provisioner indicates the type of the provisioner."),
            col(
                "ReclaimPolicy",
                "string",
                "reclaimPolicy controls the reclaimPolicy for "
                "dynamically provisioned PersistentVolumes of this storage class.",
            ),
            col(
                "VolumeBindingMode",
                "string",
                "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
            ),
            col(
                "AllowVolumeExpansion",
                "string",
                "allowVolumeExpansion shows whether the storage class allow volume expand.",
            ),
            age_col(),
        ],
        _storage_class,
    ),
}
