"""A lookup index over the derived objects, kept in `state.extras["index"]`.

`ClusterState.find/get` scan every object; with 10,000 pods and as many events that is quadratic
across the stages. Every object the workload stages create goes through `add_object`, which keeps
it findable by (kind, namespace, name) and pods findable by label, so selectors cost the size of
their answer instead of the size of the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from atlas_sre.kube.labels import selector_pairs, workload_selector_matches
from atlas_sre.sim.state import ClusterState, Obj

INDEX_KEY = "index"


class ObjectIndex:
    """Objects by kind and namespace (insertion order kept), pods also by label pair."""

    def __init__(self) -> None:
        self._by_name: dict[tuple[str, str | None], dict[str, Obj]] = {}
        self._by_kind: dict[str, list[Obj]] = {}
        self._pod_labels: dict[tuple[str | None, str, str], list[Obj]] = {}

    def add(self, obj: Obj) -> None:
        """Index one object (events are not indexed: nothing looks them up by name)."""
        kind = obj.get("kind", "")
        if kind == "Event":
            return
        md = obj["metadata"]
        ns = md.get("namespace")
        self._by_name.setdefault((kind, ns), {})[md["name"]] = obj
        self._by_kind.setdefault(kind, []).append(obj)
        if kind == "Pod":
            for k, v in (md.get("labels") or {}).items():
                self._pod_labels.setdefault((ns, k, v), []).append(obj)

    def remove(self, obj: Obj) -> None:
        """Forget one object (a pod a rollout deleted before it was ever served)."""
        kind = obj.get("kind", "")
        md = obj["metadata"]
        ns = md.get("namespace")
        names = self._by_name.get((kind, ns), {})
        if names.get(md["name"]) is obj:
            del names[md["name"]]
        self._by_kind[kind] = [o for o in self._by_kind.get(kind, []) if o is not obj]
        if kind == "Pod":
            for k, v in (md.get("labels") or {}).items():
                bucket = self._pod_labels.get((ns, k, v), [])
                self._pod_labels[(ns, k, v)] = [o for o in bucket if o is not obj]

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """One object, or None."""
        return self._by_name.get((kind, namespace), {}).get(name)

    def list(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """Objects of a kind, in creation order; all namespaces when `namespace` is None."""
        if namespace is None:
            return list(self._by_kind.get(kind, []))
        return list(self._by_name.get((kind, namespace), {}).values())

    def names(self, kind: str, namespace: str | None) -> dict[str, Obj]:
        """The live name → object map of one kind in one namespace (do not mutate)."""
        return self._by_name.get((kind, namespace), {})

    def namespaces(self) -> list[str]:
        """Names of every Namespace object."""
        return [o["metadata"]["name"] for o in self._by_kind.get("Namespace", [])]

    def select_pods(self, namespace: str | None, selector: dict[str, Any] | None) -> list[Obj]:
        """Pods in `namespace` whose labels match a Service-style or LabelSelector-style selector.

        An empty or missing selector matches nothing (as for Services); candidates come from the
        rarest `key=value` pair so the cost follows the answer, not the namespace.
        """
        if not selector:
            return []
        pairs = selector_pairs(selector)
        if pairs:
            buckets = [self._pod_labels.get((namespace, k, v), []) for k, v in pairs]
            candidates: Iterable[Obj] = min(buckets, key=len)
        else:
            candidates = self._by_name.get(("Pod", namespace), {}).values()
        return [p for p in candidates if workload_selector_matches(selector, p["metadata"].get("labels") or {})]


def index_of(state: ClusterState) -> ObjectIndex:
    """The state's index, built from `state.objects` the first time it is asked for."""
    idx = state.extras.get(INDEX_KEY)
    if idx is None:
        idx = ObjectIndex()
        for obj in state.objects:
            idx.add(obj)
        state.extras[INDEX_KEY] = idx
    return idx


def add_object(state: ClusterState, obj: Obj) -> Obj:
    """Append an object to the state and to its index; returns the object."""
    state.objects.append(obj)
    index_of(state).add(obj)
    return obj


def remove_object(state: ClusterState, obj: Obj) -> None:
    """Drop an object from the state and its index (identity, not equality)."""
    for i in range(len(state.objects) - 1, -1, -1):
        if state.objects[i] is obj:
            del state.objects[i]
            break
    index_of(state).remove(obj)
