"""Tables for pod controllers: Deployment, ReplicaSet, ReplicationController, StatefulSet,
DaemonSet and PodDisruptionBudget.

Column names, types and cell formats follow kube-apiserver 1.32's printers.go, so that "0/2" in
READY reads exactly as on a real cluster. `spec.replicas` is defaulted to 1, as the apiserver
would have done, because hand-written scenario manifests may omit it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from atlas_sre.sim.printers.columns import AGE, NAME, Column, Printer, status_count, template_columns
from atlas_sre.sim.printers.common import (
    Obj,
    dig,
    format_labels,
    int_or_string,
    selector_string,
    status_int,
)


def _replicas(obj: Obj, now: datetime) -> int:
    """`spec.replicas`, defaulted to 1 as the apiserver does."""
    value = dig(obj, "spec", "replicas")
    return 1 if value is None else int(value)


def _ready_of_desired(obj: Obj, now: datetime) -> str:
    """READY as `ready/desired` (Deployment, StatefulSet)."""
    return f"{status_int(obj, 'readyReplicas')}/{_replicas(obj, now)}"


def _budget(field_name: str) -> Callable[[Obj, datetime], str]:
    """A PodDisruptionBudget's minAvailable / maxUnavailable (an IntOrString), N/A when unset."""

    def cell(obj: Obj, now: datetime) -> str:
        value = dig(obj, "spec", field_name)
        return "N/A" if value is None else int_or_string(value)

    return cell


def _rc_selector(obj: Obj) -> str:
    """A ReplicationController's selector is a plain label map, not a LabelSelector."""
    return format_labels(dig(obj, "spec", "selector"))


def _replica_set(controller: str, **template: Callable[[Obj], str]) -> Printer:
    """ReplicaSet and ReplicationController: DESIRED / CURRENT / READY; only the selector's syntax differs."""
    return Printer([
        NAME,
        Column("Desired", "Replicas is the number of desired replicas.", _replicas, type="integer"),
        Column("Current", "Replicas is the most recently observed number of replicas.", status_count("replicas"),
               type="integer"),
        Column("Ready", f"The number of ready replicas for this {controller}.", status_count("readyReplicas"),
               type="integer"),
        AGE,
        *template_columns(**template),
    ])


PRINTERS: dict[str, Printer] = {
    "Deployment": Printer([
        NAME,
        Column("Ready", "Number of the pod with ready state", _ready_of_desired),
        Column("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired "
               "template spec.", status_count("updatedReplicas")),
        Column("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this "
               "deployment.", status_count("availableReplicas")),
        AGE,
        *template_columns(selector=lambda o: selector_string(dig(o, "spec", "selector"))),
    ]),
    "ReplicaSet": _replica_set("replica set"),
    "ReplicationController": _replica_set("replication controller", selector=_rc_selector),
    "StatefulSet": Printer([
        NAME,
        Column("Ready", "Number of the pod with ready state", _ready_of_desired),
        AGE,
        *template_columns(selector=None),
    ]),
    "DaemonSet": Printer([
        NAME,
        Column("Desired", "The total number of nodes that should be running the daemon pod.",
               status_count("desiredNumberScheduled"), type="integer"),
        Column("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
               "daemon pod.", status_count("currentNumberScheduled"), type="integer"),
        Column("Ready", "The number of nodes that should be running the daemon pod and have one or more of the daemon "
               "pod running and ready.", status_count("numberReady"), type="integer"),
        Column("Up-to-date", "The total number of nodes that are running updated daemon pod",
               status_count("updatedNumberScheduled"), type="integer"),
        Column("Available", "The number of nodes that should be running the daemon pod and have one or more of the "
               "daemon pod running and available.", status_count("numberAvailable"), type="integer"),
        Column("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node.",
               lambda o, now: format_labels(dig(o, "spec", "template", "spec", "nodeSelector"))),
        AGE,
        *template_columns(),
    ]),
    "PodDisruptionBudget": Printer([
        NAME,
        Column("Min Available", "The minimum number of pods that must be available.", _budget("minAvailable")),
        Column("Max Unavailable", "The maximum number of pods that may be unavailable.", _budget("maxUnavailable")),
        Column("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.",
               status_count("disruptionsAllowed"), type="integer"),
        AGE,
    ]),
}
