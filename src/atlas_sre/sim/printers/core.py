"""Tables for cluster-level objects an SRE looks at first: Node, Namespace, core/v1 Event, ComponentStatus.

Event's LAST SEEN is only the age of `lastTimestamp` (with `series`/`eventTime` fallbacks, as in
kube-apiserver 1.32's `printEvent`); the "(x31 over 40m)" form belongs to `kubectl describe` and
`kubectl events`, which compute it client-side, never to `kubectl get events`.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.sim.printers.columns import AGE, NAME, Column, Printer, field, field_or
from atlas_sre.sim.printers.common import Obj, dig, meta, name, since

_ROLE_PREFIX = "node-role.kubernetes.io/"


def _node_status(obj: Obj, now: datetime) -> str:
    """Ready / NotReady / Unknown (the last Ready condition wins, as in Go's condition map), then cordoned."""
    states = []
    for cond in dig(obj, "status", "conditions") or []:
        if cond.get("type") == "Ready":
            states = ["Ready" if cond.get("status") == "True" else "NotReady"]
    states = states or ["Unknown"]
    if dig(obj, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    return ",".join(states)


def _node_roles(obj: Obj, now: datetime) -> str:
    """`node-role.kubernetes.io/<role>` label keys and the legacy `kubernetes.io/role` value."""
    roles = set()
    for key, value in (meta(obj).get("labels") or {}).items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(title: str, kind: str) -> Column:
    """The wide column `title`: the first `status.addresses` entry of type `kind`."""

    def cell(obj: Obj, now: datetime) -> str:
        addresses = dig(obj, "status", "addresses") or []
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    return Column(title, "List of addresses reachable to the node.", cell, priority=1)


def _event_seen(obj: Obj, now: datetime) -> tuple[str, str, int]:
    """`printEvent`'s (last seen, first seen, count): `series` wins over lastTimestamp and count."""
    first = since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
    last = since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series is not None:
        last = since(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    return last, first, count


def _event_object(obj: Obj, now: datetime) -> str:
    """`kind/name` of the involved object, kind lower-cased."""
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    return f"{kind}/{involved['name']}" if involved.get("name") else kind


def _event_source(obj: Obj, now: datetime) -> str:
    """`component, host` from `source`, else from the events.k8s.io reporting fields."""
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def _component_health(obj: Obj, now: datetime) -> tuple[str, str, str]:
    """`printComponentStatus`: (status, message, error) of the first `Healthy` condition."""
    for cond in obj.get("conditions") or []:
        if cond.get("type") == "Healthy":
            healthy = "Healthy" if cond.get("status") == "True" else "Unhealthy"
            return healthy, str(cond.get("message") or ""), str(cond.get("error") or "")
    return "Unknown", "", ""


PRINTERS: dict[str, Printer] = {
    "Node": Printer([
        NAME,
        Column("Status", "The status of the node", _node_status),
        Column("Roles", "The roles of the node", _node_roles),
        AGE,
        Column("Version", "Kubelet Version reported by the node.", field("status", "nodeInfo", "kubeletVersion")),
        _node_address("Internal-IP", "InternalIP"),
        _node_address("External-IP", "ExternalIP"),
        Column("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
               field_or("status", "nodeInfo", "osImage", default="<unknown>"), priority=1),
        Column("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
               field_or("status", "nodeInfo", "kernelVersion", default="<unknown>"), priority=1),
        Column("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API "
               "(e.g. containerd://1.4.2).",
               field_or("status", "nodeInfo", "containerRuntimeVersion", default="<unknown>"), priority=1),
    ]),
    "Namespace": Printer([
        NAME,
        Column("Status", "The status of the namespace", field_or("status", "phase", default="Active")),
        AGE,
    ]),
    "Event": Printer([
        Column("Last Seen", "The time at which the most recent occurrence of this event was recorded.",
               _event_seen, part=0),
        Column("Type", "Type of this event (Normal, Warning), new types could be added in the future", field("type")),
        Column("Reason", "This should be a short, machine understandable string that gives the reason for the "
               "transition into the object's current status.", field("reason")),
        Column("Object", "The object that this event is about.", _event_object),
        Column("Subobject", "If referring to a piece of an object instead of an entire object, this string should "
               "contain a valid JSON/Go field access statement.", field("involvedObject", "fieldPath"), priority=1),
        Column("Source", "The component reporting this event.", _event_source, priority=1),
        Column("Message", "A human-readable description of the status of this operation.",
               lambda o, now: str(o.get("message", "")).strip()),
        Column("First Seen", "The time at which the event was first recorded.",
               _event_seen, priority=1, part=1),
        Column("Count", "The number of times this event has occurred.",
               _event_seen, priority=1, part=2),
        Column("Name", "Name must be unique within a namespace.", lambda o, now: name(o), format="name", priority=1),
    ]),
    "ComponentStatus": Printer([
        NAME,
        Column("Status", "Status of the component conditions", _component_health, part=0),
        Column("Message", "Message of the component conditions", _component_health, part=1),
        Column("Error", "Error of the component conditions", _component_health, part=2),
    ]),
}
