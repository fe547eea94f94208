"""Tables for storage: PersistentVolumeClaim, PersistentVolume and StorageClass (kube-apiserver 1.32).

1.32 prints a VOLUMEATTRIBUTESCLASS column (`<unset>` unless set) and VOLUMEMODE only with
`-o wide`; a claim that is not bound shows empty CAPACITY and ACCESS MODES, which is how a
Pending PVC reads on a real cluster.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from atlas_sre.sim.printers.columns import AGE, NAME, Column, Printer, field, field_or
from atlas_sre.sim.printers.common import Obj, dig, meta, name

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


def _phase(obj: Obj, now: datetime) -> str:
    """`status.phase`, or Terminating once the object is being deleted."""
    return "Terminating" if meta(obj).get("deletionTimestamp") else dig(obj, "status", "phase") or ""


def _storage_class_of(obj: Obj, now: datetime) -> str:
    """The beta annotation wins over `spec.storageClassName`."""
    annotated = (meta(obj).get("annotations") or {}).get(_STORAGE_CLASS_ANNOTATION)
    return annotated if annotated is not None else (dig(obj, "spec", "storageClassName") or "")


def _claim_capacity(obj: Obj, now: datetime) -> str:
    """The bound volume's capacity (empty while the claim is not bound)."""
    return str(dig(obj, "status", "capacity", "storage") or "0") if dig(obj, "spec", "volumeName") else ""


def _claim_modes(obj: Obj, now: datetime) -> str:
    """The bound volume's access modes (empty while the claim is not bound)."""
    return access_modes(dig(obj, "status", "accessModes")) if dig(obj, "spec", "volumeName") else ""


def _claim_ref(obj: Obj, now: datetime) -> str:
    """`namespace/name` of the claim a volume is bound to."""
    claim = dig(obj, "spec", "claimRef")
    return f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""


def _class_name(obj: Obj, now: datetime) -> str:
    """The class name, marked `(default)` when either default-class annotation says "true"."""
    annotations = meta(obj).get("annotations") or {}
    default = any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS)
    return name(obj) + (" (default)" if default else "")


# Columns PersistentVolumeClaim and PersistentVolume share (their descriptions name the kind).
def _storage_class(kind: str) -> Column:
    return Column("StorageClass", f"StorageClass of the {kind}", _storage_class_of)


def _volume_attributes_class(kind: str) -> Column:
    return Column("VolumeAttributesClass", f"VolumeAttributesClass of the {kind}",
                  field_or("spec", "volumeAttributesClassName", default="<unset>"))


def _volume_mode(desc: str) -> Column:
    return Column("VolumeMode", desc, field_or("spec", "volumeMode", default="<unset>"), priority=1)


PRINTERS: dict[str, Printer] = {
    "PersistentVolumeClaim": Printer([
        NAME,
        Column("Status", "phase represents the current phase of PersistentVolumeClaim.", _phase),
        Column("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim.",
               field("spec", "volumeName")),
        Column("Capacity", "capacity represents the actual resources of the underlying volume.", _claim_capacity),
        Column("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has.",
               _claim_modes),
        _storage_class("pvc"),
        _volume_attributes_class("pvc"),
        AGE,
        _volume_mode("volumeMode defines what type of volume is required by the claim."),
    ]),
    "PersistentVolume": Printer([
        NAME,
        Column("Capacity", "capacity is the description of the persistent volume's resources and capacity.",
               lambda o, now: str(dig(o, "spec", "capacity", "storage") or "0")),
        Column("Access Modes", "accessModes contains all ways the volume can be mounted.",
               lambda o, now: access_modes(dig(o, "spec", "accessModes"))),
        Column("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
               "released from its claim.", field("spec", "persistentVolumeReclaimPolicy")),
        Column("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim.", _phase),
        Column("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and "
               "PersistentVolumeClaim.", _claim_ref),
        _storage_class("pv"),
        _volume_attributes_class("pv"),
        Column("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine "
               "parsing and tidy display in the CLI.", field_or("status", "reason", default="")),
        AGE,
        _volume_mode("volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
                     "remain in raw block state."),
    ]),
    "StorageClass": Printer([
        replace(NAME, cell=_class_name),
        Column("Provisioner", "provisioner indicates the type of the provisioner.", field("provisioner")),
        Column("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
               "PersistentVolumes of this storage class.", field_or("reclaimPolicy", default="Delete")),
        Column("VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned "
               "and bound.", field_or("volumeBindingMode", default="Immediate")),
        Column("AllowVolumeExpansion", "allowVolumeExpansion shows whether the storage class allow volume expand.",
               lambda o, now: bool(o.get("allowVolumeExpansion", False))),
        AGE,
    ]),
}
