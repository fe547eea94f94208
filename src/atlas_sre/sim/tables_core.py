"""Printers for cluster-level objects an SRE looks at first: Node, Namespace and core/v1 Event.

Event's LAST SEEN is only the age of `lastTimestamp` (with `series`/`eventTime` fallbacks, as in
kube-apiserver 1.32's `printEvent`); the "(x31 over 40m)" form belongs to `kubectl describe` and
`kubectl events`, which compute it client-side, never to `kubectl get events`.
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
    since,
)


def _node(obj: Obj, now: datetime) -> Cells:
    status = obj.get("status") or {}
    states = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":  # later duplicates win, as in Go's condition map
            states = ["Ready" if cond.get("status") == "True" else "NotReady"]
    states = states or ["Unknown"]
    if dig(obj, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (meta(obj).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/") :]:
            roles.add(key[len("node-role.kubernetes.io/") :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        return next(
            (a.get("address", "") for a in status.get("addresses") or [] if a.get("type") == kind), "<none>"
        )

    return [
        name(obj),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        age(obj, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event(obj: Obj, now: datetime) -> Cells:
    """`printEvent`: LAST SEEN is only the age of lastTimestamp (no "(xN over M)" in `get events`)."""
    first = since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
    last = since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series is not None:
        last = since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    return [
        last,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(obj.get("message", "")).strip(),
        first,
        count,
        name(obj),
    ]


PRINTERS: dict[str, Printer] = {
    "Node": Printer(
        [
            name_col(),
            col("Status", "string", "The status of the node"),
            col("Roles", "string", "The roles of the node"),
            age_col(),
            col("Version", "string", "Kubelet Version reported by the node."),
            col("Internal-IP", "string", "List of addresses reachable to the node.", priority=1),
            col("External-IP", "string", "List of addresses reachable to the node.", priority=1),
            col(
                "OS-Image",
                "string",
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
                priority=1,
            ),
            col(
                "Kernel-Version",
                "string",
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                priority=1,
            ),
            col(
                "Container-Runtime",
                "string",
                "ContainerRuntime Version reported by the node through "
                "runtime remote API (e.g. containerd://1.4.2).",
                priority=1,
            ),
        ],
        _node,
    ),
    "Namespace": Printer(
        [name_col(), col("Status", "string", "The status of the namespace"), age_col()],
        lambda o, now: [name(o), dig(o, "status", "phase") or "Active", age(o, now)],
    ),
    "Event": Printer(
        [
            col(
                "Last Seen",
                "string",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            col(
                "Type",
                "string",
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            col(
                "Reason",
                "string",
                "This should be a short, machine understandable string that gives "
                "the reason for the transition into the object's current status.",
            ),
            col("Object", "string", "The object that this event is about."),
            col(
                "Subobject",
                "string",
                "If referring to a piece of an object instead of an entire "
                "object, this string should contain a valid JSON/Go field access statement.",
                priority=1,
            ),
            col("Source", "string", "The component reporting this event.", priority=1),
            col("Message", "string", "A human-readable description of the status of this operation."),
            col("First Seen", "string", "The time at which the event was first recorded.", priority=1),
            col("Count", "string", "The number of times this event has occurred.", priority=1),
            col("Name", "string", "Name must be unique within a namespace.", fmt="name", priority=1),
        ],
        _event,
    ),
}
