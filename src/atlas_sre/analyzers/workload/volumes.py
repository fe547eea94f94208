"""ATL211 (a workload mounts a PersistentVolumeClaim that does not exist) and ATL212 (a claim stays
Pending).

Why: a missing claim keeps every new pod Pending (`persistentvolumeclaim "x" not found`); a Pending
claim (no StorageClass, no matching volume) does the same one step later.
"""

from __future__ import annotations

from collections.abc import Iterator

from atlas_sre.analyzers.base import Check, Finding, Level, Resource
from atlas_sre.analyzers.k8s import events_text, name_of, ns_of, pod_spec, status, workloads
from atlas_sre.analyzers.snapshot import Snapshot

NAME = "volumes"


class Volumes(Check, name=NAME, codes=("ATL211", "ATL212")):
    """Claims that workloads mount must exist and be Bound."""

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        for w in workloads(snap):
            for vol in pod_spec(w).get("volumes") or []:
                claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
                if claim and snap.get("PersistentVolumeClaim", ns_of(w), claim) is None:
                    yield self.finding(
                        "ATL211", Level.ERROR, w,
                        f"volume {vol.get('name')} references PersistentVolumeClaim {claim}, which does "
                        "not exist; new pods stay Pending.",
                        related=[Resource("PersistentVolumeClaim", claim, ns_of(w)).entity],
                    )
        for pvc in snap.of_kind("PersistentVolumeClaim"):
            if status(pvc).get("phase") == "Pending":
                evs = events_text(snap, pvc)
                yield self.finding(
                    "ATL212", Level.WARNING, pvc,
                    f"PersistentVolumeClaim {name_of(pvc)} is Pending"
                    + (f": {evs[-1]}" if evs else "; no volume has been bound to it."),
                    evidence=evs[-2:],
                )
