"""Printers for pod controllers: Deployment, ReplicaSet, ReplicationController, StatefulSet,
DaemonSet and PodDisruptionBudget.

Column names, types and cell formats follow kube-apiserver 1.32's printers.go, so that "0/2" in
READY reads exactly as on a real cluster. `spec.replicas` is defaulted to 1, as the apiserver
would have done, because hand-written scenario manifests may omit it.
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
    format_label_selector,
    format_labels,
    int_or_string,
    layout_containers,
    name,
    name_col,
    selector_string,
    status_int,
    template_containers,
    wide_template_columns,
)


def _replicas(obj: Obj) -> int:
    """`spec.replicas`, defaulted to 1 as the apiserver does."""
    value = dig(obj, "spec", "replicas")
    return 1 if value is None else int(value)


def _deployment(obj: Obj, now: datetime) -> Cells:
    names, images = layout_containers(template_containers(obj))
    return [
        name(obj),
        f"{status_int(obj, 'readyReplicas')}/{_replicas(obj)}",
        status_int(obj, "updatedReplicas"),
        status_int(obj, "availableReplicas"),
        age(obj, now),
        names,
        images,
        selector_string(dig(obj, "spec", "selector")),
    ]


def _replica_cells(obj: Obj, now: datetime, selector: str) -> Cells:
    """DESIRED/CURRENT/READY rows shared by ReplicaSets and ReplicationControllers (only the selector differs)."""
    names, images = layout_containers(template_containers(obj))
    return [
        name(obj),
        _replicas(obj),
        status_int(obj, "replicas"),
        status_int(obj, "readyReplicas"),
        age(obj, now),
        names,
        images,
        selector,
    ]


def _replicaset(obj: Obj, now: datetime) -> Cells:
    return _replica_cells(obj, now, format_label_selector(dig(obj, "spec", "selector")))


def _replication_controller(obj: Obj, now: datetime) -> Cells:
    return _replica_cells(obj, now, format_labels(dig(obj, "spec", "selector")))


def _statefulset(obj: Obj, now: datetime) -> Cells:
    names, images = layout_containers(template_containers(obj))
    return [name(obj), f"{status_int(obj, 'readyReplicas')}/{_replicas(obj)}", age(obj, now), names, images]


def _daemonset(obj: Obj, now: datetime) -> Cells:
    names, images = layout_containers(template_containers(obj))
    return [
        name(obj),
        status_int(obj, "desiredNumberScheduled"),
        status_int(obj, "currentNumberScheduled"),
        status_int(obj, "numberReady"),
        status_int(obj, "updatedNumberScheduled"),
        status_int(obj, "numberAvailable"),
        format_labels(dig(obj, "spec", "template", "spec", "nodeSelector")),
        age(obj, now),
        names,
        images,
        format_label_selector(dig(obj, "spec", "selector")),
    ]


def _pdb(obj: Obj, now: datetime) -> Cells:
    spec = obj.get("spec") or {}
    min_av, max_un = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [
        name(obj),
        "N/A" if min_av is None else int_or_string(min_av),
        "N/A" if max_un is None else int_or_string(max_un),
        status_int(obj, "disruptionsAllowed"),
        age(obj, now),
    ]


PRINTERS: dict[str, Printer] = {
    "Deployment": Printer(
        [
            name_col(),
            col("Ready", "string", "Number of the pod with ready state"),
            col(
                "Up-to-date",
                "string",
                "Total number of non-terminated pods targeted by this "
                "deployment that have the desired template spec.",
            ),
            col(
                "Available",
                "string",
                "Total number of available pods (ready for at least "
                "minReadySeconds) targeted by this deployment.",
            ),
            age_col(),
            *wide_template_columns(),
        ],
        _deployment,
    ),
    "ReplicaSet": Printer(
        [
            name_col(),
            col("Desired", "integer", "Replicas is the number of desired replicas."),
            col("Current", "integer", "Replicas is the most recently observed number of replicas."),
            col("Ready", "integer", "The number of ready replicas for this replica set."),
            age_col(),
            *wide_template_columns(),
        ],
        _replicaset,
    ),
    "ReplicationController": Printer(
        [
            name_col(),
            col("Desired", "integer", "Replicas is the number of desired replicas."),
            col("Current", "integer", "Replicas is the most recently observed number of replicas."),
            col("Ready", "integer", "The number of ready replicas for this replication controller."),
            age_col(),
            *wide_template_columns(),
        ],
        _replication_controller,
    ),
    "StatefulSet": Printer(
        [
            name_col(),
            col("Ready", "string", "Number of the pod with ready state"),
            age_col(),
            *wide_template_columns(with_selector=False),
        ],
        _statefulset,
    ),
    "DaemonSet": Printer(
        [
            name_col(),
            col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
            col(
                "Current",
                "integer",
                "The number of nodes that are running at least 1 daemon pod "
                "and are supposed to run the daemon pod.",
            ),
            col(
                "Ready",
                "integer",
                "The number of nodes that should be running the daemon pod and "
                "have one or more of the daemon pod running and ready.",
            ),
            col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
            col(
                "Available",
                "integer",
                "The number of nodes that should be running the daemon pod "
                "and have one or more of the daemon pod running and available.",
            ),
            col(
                "Node Selector",
                "string",
                "NodeSelector is a selector which must be true for the pod to fit on a node.",
            ),
            age_col(),
            *wide_template_columns(),
        ],
        _daemonset,
    ),
    "PodDisruptionBudget": Printer(
        [
            name_col(),
            col("Min Available", "string", "The minimum number of pods that must be available."),
            col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
            col(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            age_col(),
        ],
        _pdb,
    ),
}
