"""Kubernetes Events, written the way controllers, the scheduler and the kubelet write them.

`kubectl describe` renders "64s (x31 over 40m)" from `count`, `firstTimestamp` and
`lastTimestamp`, and finds events through `involvedObject` (uid for pods, kind for others), so
those fields must be exact.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim.clock import UTC
from atlas_sre.sim.ids import digest
from atlas_sre.sim.state import ClusterState, Obj

# Who writes what: `source.component` / `reportingComponent` as the real components set them.
KUBELET = "kubelet"
SCHEDULER = "default-scheduler"
DEPLOYMENT_CONTROLLER = "deployment-controller"
REPLICASET_CONTROLLER = "replicaset-controller"
# The apiserver's default --event-ttl: older events are gone from a real cluster.
EVENT_TTL = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVENT_NS = uuid.UUID("0b6f4a52-3c1e-5d7a-9e2b-6a1d8c4f3e07")  # uuid5 namespace of Event uids


def involved(obj: Obj, field_path: str | None = None) -> dict[str, Any]:
    """An `involvedObject` reference to `obj` (optionally to one of its containers)."""
    md = obj["metadata"]
    ref: dict[str, Any] = {
        "kind": obj["kind"],
        "namespace": md.get("namespace"),
        "name": md["name"],
        "uid": md.get("uid"),
        "apiVersion": obj["apiVersion"],
        "resourceVersion": md.get("resourceVersion"),
    }
    if field_path:
        ref["fieldPath"] = field_path
    return {k: v for k, v in ref.items() if v is not None}


def event_identity(obj_name: str, first: datetime, *identity: Any) -> tuple[str, str]:
    """(name, uid) of an Event, as client-go's recorder names it and the apiserver stamps it.

    The name is `<object>.<UnixNano of the first occurrence, in hex>` (`makeEvent`): the
    rendered first instant to the millisecond, plus a stable sub-millisecond part drawn from the
    event's identity so two events in the same millisecond never share a name. The uid is a
    UUID derived from the identity alone, so it does not move with the clock's anchor.
    """
    stamp = first if first.tzinfo else first.replace(tzinfo=UTC)
    millis = (stamp - _EPOCH) // timedelta(milliseconds=1)
    nanos = millis * 1_000_000 + int.from_bytes(digest("event-ns", obj_name, *identity)[:4], "big") % 1_000_000
    return f"{obj_name}.{nanos:x}", str(uuid.uuid5(_EVENT_NS, json.dumps([obj_name, *identity], default=str)))


def emit(
    state: ClusterState,
    obj: Obj,
    reason: str,
    message: str,
    *,
    first: datetime,
    last: datetime | None = None,
    count: int = 1,
    type_: str = "Normal",
    component: str = KUBELET,
    host: str | None = None,
    field_path: str | None = None,
    name_salt: str | None = None,
    expire: bool = True,
) -> Obj | None:
    """Append one (possibly aggregated) Event about `obj` and return it; None if already expired.

    Times are scenario times; they are rendered through the state's clock. The name and uid come
    from `event_identity`, as Kubernetes names events. With `expire` (the
    default) an event the apiserver's TTL has already dropped at observe time, or one that has not
    happened yet, is not written; the kubelet applies the TTL itself and passes `expire=False`.
    `name_salt` keeps two events with the same reason and message (a first occurrence and its later
    series) from sharing one name.
    """
    clock = state.clock
    last = last or first
    if expire and (last < clock.observe_at - EVENT_TTL or first > clock.observe_at):
        return None
    md = obj["metadata"]
    namespace = md.get("namespace") or "default"
    identity = (md.get("uid"), reason, message, field_path, name_salt)
    name, uid = event_identity(md["name"], clock.at(first), *identity)
    source: dict[str, str] = {"component": component}
    if host:
        source["host"] = host
    event: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "creationTimestamp": clock.iso(first),
            "resourceVersion": str(1000 + len(state.objects)),
        },
        "involvedObject": involved(obj, field_path),
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": clock.iso(first),
        "lastTimestamp": clock.iso(last),
        "count": count,
        "type": type_,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
    state.objects.append(event)
    return event
