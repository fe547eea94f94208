"""Object metadata, label selectors, owner references and event emission shared by the stages.

Kept free of any stage logic so that every controller stamps objects the same way a real
apiserver would: uid, creationTimestamp, resourceVersion, generation, ownerReferences.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.events import record_event
from atlas_sre.sim.state import ClusterState, Obj

# The simulator does not import the scenarios room (data flows scenarios -> sim), hence its own list.
CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "PriorityClass", "CustomResourceDefinition", "IngressClass", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "APIService", "CSIDriver", "RuntimeClass", "VolumeAttachment", "CSINode",
}
# Built-in kinds whose strategy maintains `metadata.generation`; custom resources always do.
_GENERATION_KINDS = {
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "HorizontalPodAutoscaler",
    "NetworkPolicy", "Ingress", "PodDisruptionBudget", "EndpointSlice", "PriorityClass",
}
_CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
                "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1", "storage.k8s.io/v1",
                "scheduling.k8s.io/v1", "discovery.k8s.io/v1"}
# The apiserver's default --event-ttl: older events are gone from a real cluster.
EVENT_TTL = timedelta(hours=1)


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data, several times faster than `copy.deepcopy`."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def entity(kind: str, namespace: str | None, name: str) -> str:
    """The `ns/Kind/name` key SimSpec.history uses (cluster-scoped: `Kind/name`)."""
    return f"{namespace}/{kind}/{name}" if namespace else f"{kind}/{name}"


def has_generation(obj: Obj) -> bool:
    """Whether the apiserver would maintain `metadata.generation` for this object."""
    return obj.get("kind") in _GENERATION_KINDS or obj.get("apiVersion") not in _CORE_GROUPS


def stamp(state: ClusterState, seed: int, obj: Obj, created: datetime, generation: int = 1) -> Obj:
    """Fill uid, creationTimestamp, resourceVersion and (where kept) generation; returns `obj`."""
    md = obj.setdefault("metadata", {})
    kind, ns, name = obj["kind"], md.get("namespace"), md["name"]
    md.setdefault("uid", ids.uid(seed, kind, ns, name))
    md["creationTimestamp"] = state.clock.iso(created)
    md.setdefault("resourceVersion", ids.resource_version(seed, kind, ns, name, generation))
    if has_generation(obj):
        md["generation"] = generation
    return obj


def created_at(state: ClusterState, obj: Obj) -> datetime:
    """An object's creationTimestamp back in scenario time (the clock's anchor removed)."""
    return parse_time(obj["metadata"]["creationTimestamp"]) - state.clock.shift


def born(state: ClusterState, obj: Obj) -> datetime:
    """When a controller first acts on an object: its creation, or the cluster's start if earlier.

    Objects a fault creates (history `Change(at, previous=None)`) are stamped at `at`, so their
    controllers start there instead of at `clock.start`.
    """
    return max(created_at(state, obj), state.clock.start)


def owner_ref(owner: Obj, controller: bool = True) -> dict[str, Any]:
    """An ownerReference to `owner`, as controllers set it."""
    ref: dict[str, Any] = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if controller:
        ref["controller"] = True
        ref["blockOwnerDeletion"] = True
    return ref


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
    component: str,
    host: str | None = None,
    name_salt: str | None = None,
) -> Obj | None:
    """Record an event unless the apiserver's event TTL has already expired it at observe time.

    `name_salt` keeps two events with the same reason and message (a first occurrence and its
    later series) from sharing one name.
    """
    last = last or first
    if last < state.clock.observe_at - EVENT_TTL or first > state.clock.observe_at:
        return None
    ev = record_event(state, obj, reason, message, first=first, last=last, count=count, type_=type_,
                      component=component, host=host)
    if name_salt:
        ev["metadata"]["name"] = f"{obj['metadata']['name']}.{ids.safe_suffix(16, ev['metadata']['name'], name_salt)}"
    return ev


def selector_pairs(selector: dict[str, Any]) -> list[tuple[str, str]]:
    """The exact `key=value` requirements of a selector (Service map or LabelSelector)."""
    if "matchLabels" in selector or "matchExpressions" in selector:
        pairs = list((selector.get("matchLabels") or {}).items())
        for expr in selector.get("matchExpressions") or []:
            if expr.get("operator") == "In" and len(expr.get("values") or []) == 1:
                pairs.append((expr["key"], expr["values"][0]))
        return pairs
    return list(selector.items())


def expression_matches(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    """One matchExpressions requirement (In, NotIn, Exists, DoesNotExist, Gt, Lt)."""
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            a, b = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def label_selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Service selector (plain map) or a LabelSelector (matchLabels/matchExpressions)."""
    if not selector:
        return False
    if "matchLabels" in selector or "matchExpressions" in selector:
        if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
            return False
        return all(expression_matches(e, labels) for e in selector.get("matchExpressions") or [])
    return all(labels.get(k) == v for k, v in selector.items())


def selector_string(selector: dict[str, Any] | None) -> str:
    """A LabelSelector as kubectl prints it (`app=web,tier in (a,b)`)."""
    if not selector:
        return ""
    if not ("matchLabels" in selector or "matchExpressions" in selector):
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op, key, vals = e.get("operator"), e.get("key"), ",".join(sorted(e.get("values") or []))
        parts.append({"In": f"{key} in ({vals})", "NotIn": f"{key} notin ({vals})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, key))
    return ",".join(parts)
