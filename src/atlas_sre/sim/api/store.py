"""The served objects, indexed once when the server starts.

The state never changes while it is served (the API is read-only), so every index and every
serialised list item is computed once and shared by all request threads without locks: a view is
published with one atomic `setdefault`, and a list item's JSON is the same whichever thread writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from atlas_sre.sim.api.logs import index_logs
from atlas_sre.sim.api.status import dumps
from atlas_sre.sim.api.synth import component_statuses, crd_objects, events_v1, metrics_objects
from atlas_sre.sim.resources import RESOURCES, ResourceType, for_object

Obj = dict[str, Any]


def _key(obj: Obj) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return (md.get("namespace") or "", md.get("name") or "")


@dataclass
class View:
    """One type at one served version: served objects, the originals they came from, indexes, JSON."""

    rt: ResourceType
    version: str
    served: list[Obj]
    originals: list[Obj]
    by_ns: dict[str, list[int]] = field(default_factory=dict)
    by_name: dict[tuple[str, str], int] = field(default_factory=dict)
    item_json: list[bytes | None] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (namespace, name) per object: paging resumes by key

    def indexes(self, namespace: str | None) -> list[int]:
        """Positions of the objects in one namespace (all when None), in list order."""
        return list(range(len(self.served))) if namespace is None else self.by_ns.get(namespace, [])

    def find(self, namespace: str | None, name: str) -> int | None:
        return self.by_name.get((namespace or "", name))


class Store:
    """Objects by type (sorted as etcd lists them: namespace, then name), viewed at any served version."""

    def __init__(self, state: Any, live: bool | None = None) -> None:
        self.state = state
        self.clock = state.clock
        self.live = bool(getattr(state.clock, "live", False)) if live is None else live
        served = [*state.objects, *crd_objects(state.clock.at(state.clock.start)),
                  *metrics_objects(state, state.clock.now), *component_statuses()]
        self.skipped: list[Obj] = []  # kinds the registry does not serve
        by_type: dict[ResourceType, list[Obj]] = {}
        for obj in served:
            rt = for_object(obj)
            if rt is None:
                self.skipped.append(obj)
            else:
                by_type.setdefault(rt, []).append(obj)
        core_event = next(rt for rt in RESOURCES if rt.group == "" and rt.kind == "Event")
        self._objects: dict[ResourceType, list[Obj]] = {}
        for rt in RESOURCES:
            source = by_type.get(core_event, []) if rt.served_from else by_type.get(rt, [])
            self._objects[rt] = sorted(source, key=_key)
        self._views: dict[tuple[ResourceType, str], View] = {}
        self.logs = index_logs(state.logs)
        self.resource_version = self._max_resource_version(served)

    @property
    def now(self) -> datetime:
        """The served present, what table ages are measured against.

        A live store (its clock anchored to the wall clock when derived) moves with the wall
        clock, as kubectl's own ages in `describe` and `kubectl events` do; a store anchored to a
        fixed instant stays at the observation instant, so every answer is byte-identical.
        """
        if not self.live:
            return self.clock.now
        return max(self.clock.now, datetime.now(timezone.utc))

    @staticmethod
    def _max_resource_version(objects: list[Obj]) -> str:
        best = 1
        for obj in objects:
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
            if rv.isdigit():
                best = max(best, int(rv))
        return str(best)

    def _convert(self, rt: ResourceType, version: str, obj: Obj) -> Obj:
        if rt.served_from:
            return events_v1(obj)
        api_version = rt.group_version(version)
        if obj.get("apiVersion") == api_version:
            return obj
        return {"apiVersion": api_version, **{k: v for k, v in obj.items() if k != "apiVersion"}}

    def view(self, rt: ResourceType, version: str) -> View:
        """`rt` as served at `version`; built on first use. Threads racing here agree on one result."""
        key = (rt, version)
        cached = self._views.get(key)
        if cached is not None:
            return cached
        originals = self._objects[rt]
        built = View(rt, version, [self._convert(rt, version, o) for o in originals], originals)
        for i, obj in enumerate(built.served):
            ns, name = _key(obj)
            built.by_ns.setdefault(ns, []).append(i)
            built.by_name.setdefault((ns, name), i)
            built.keys.append((ns, name))
        built.item_json = [None] * len(originals)
        return self._views.setdefault(key, built)

    def list_json(self, view: View, indexes: list[int], page: dict[str, Any] | None = None) -> bytes:
        """A `PodList`-style reply, from cached item JSON (built-in kinds drop kind/apiVersion in lists).

        `page` adds a chunk's `continue` and `remainingItemCount` to the list's metadata.
        """
        parts = []
        for i in indexes:
            item = view.item_json[i]
            if item is None:
                obj = view.served[i]
                item = view.item_json[i] = dumps(
                    obj if view.rt.crd else {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")})
            parts.append(item)
        head = dumps({"kind": view.rt.list_kind, "apiVersion": view.rt.group_version(view.version),
                      "metadata": {"resourceVersion": self.resource_version, **(page or {})}})
        return head[:-1] + b',"items":[' + b",".join(parts) + b"]}"
