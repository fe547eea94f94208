"""`Snapshot`: the objects (and a few bounded logs) the analyzers read, as the Kubernetes API served them.

Why a snapshot: analyzers must work on any cluster, so they never touch simulator internals; they
read what `kubectl get ... -o json` returned. Tests build one from plain dicts
(`Snapshot.from_objects`); `fetch.fetch_snapshot` builds one through kubectl. Indexes are built
once, so analyzers can ask "pods in shop matching app=reviews" or "events about Pod x" cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Obj = dict[str, Any]
_FRACTION = re.compile(r"(\.\d+)")


@dataclass(frozen=True, order=True)
class LogRequest:
    """One container log an analyzer wants (the last `tail` lines)."""

    namespace: str
    pod: str
    container: str = "istio-proxy"
    tail: int = 200


def _involved(event: Obj) -> tuple[str, str, str]:
    """(kind, namespace, name) an Event is about; core/v1 `involvedObject` or events.k8s.io `regarding`."""
    ref = event.get("involvedObject") or event.get("regarding") or {}
    return (str(ref.get("kind") or ""), str(ref.get("namespace") or ""), str(ref.get("name") or ""))


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 timestamp (`2026-11-26T10:00:00Z`, fractional seconds allowed), else None."""
    text = _FRACTION.sub(lambda m: m.group(1)[:7], text.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def event_message(event: Obj) -> str:
    """core/v1 `message` or events.k8s.io `note`."""
    return str(event.get("message") or event.get("note") or "")


def event_count(event: Obj) -> int:
    """How many times the event happened (core `count`, events.k8s.io `deprecatedCount`/series)."""
    series = event.get("series") or {}
    return int(event.get("count") or event.get("deprecatedCount") or series.get("count") or 1)


@dataclass
class Snapshot:
    """Objects by kind, events by involved object, secret names, and the logs fetched for analyzers.

    `secret_names` is None when secrets could not be listed (analyzers then skip secret checks);
    `errors` records what could not be read, so a report can say it is partial.
    """

    objects: list[Obj] = field(default_factory=list)
    logs: dict[LogRequest, list[str]] = field(default_factory=dict)
    secret_names: set[tuple[str, str]] | None = None
    errors: list[str] = field(default_factory=list)
    istio_served: bool = True

    def __post_init__(self) -> None:
        self._by_kind: dict[str, list[Obj]] = {}
        self._by_key: dict[tuple[str, str, str], Obj] = {}
        self._events: dict[tuple[str, str, str], list[Obj]] = {}
        for obj in self.objects:
            kind = str(obj.get("kind") or "")
            md = obj.get("metadata") or {}
            self._by_kind.setdefault(kind, []).append(obj)
            self._by_key.setdefault((kind, str(md.get("namespace") or ""), str(md.get("name") or "")), obj)
            if kind == "Event":
                self._events.setdefault(_involved(obj), []).append(obj)

    @classmethod
    def from_objects(
        cls,
        objects: Iterable[Obj],
        logs: dict[LogRequest, list[str]] | None = None,
        secret_names: Iterable[tuple[str, str]] | None = None,
        istio_served: bool = True,
    ) -> Snapshot:
        """A snapshot from plain dicts (tests, or a List's `items`). Secrets' names are taken from objects."""
        objs = [o for o in objects if isinstance(o, dict)]
        names = set(secret_names) if secret_names is not None else None
        secrets = {
            (str(o["metadata"].get("namespace") or ""), str(o["metadata"].get("name") or ""))
            for o in objs
            if o.get("kind") == "Secret" and o.get("metadata")
        }
        if secrets:
            names = (names or set()) | secrets
        return cls(
            objects=[o for o in objs if o.get("kind") != "Secret"],
            logs=dict(logs or {}),
            secret_names=names,
            istio_served=istio_served,
        )

    # -- lookups -------------------------------------------------------------------------------

    def of_kind(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """Objects of one kind (optionally in one namespace), in API list order."""
        objs = self._by_kind.get(kind, [])
        if namespace is None:
            return list(objs)
        return [o for o in objs if (o.get("metadata") or {}).get("namespace") == namespace]

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """One object by identity (namespace None/"" for cluster-scoped kinds)."""
        return self._by_key.get((kind, namespace or "", name))

    def has(self, kind: str) -> bool:
        return bool(self._by_kind.get(kind))

    def events_for(self, kind: str, namespace: str | None, name: str) -> list[Obj]:
        """Events whose involved object is this one, oldest `lastTimestamp` first."""
        evs = self._events.get((kind, namespace or "", name), [])
        return sorted(evs, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))

    def events(self, reason: str | None = None) -> list[Obj]:
        """All events, optionally only one reason."""
        return [e for e in self._by_kind.get("Event", []) if reason is None or e.get("reason") == reason]

    def namespaces(self) -> list[str]:
        """Names of the namespaces the API listed."""
        return [str(o["metadata"]["name"]) for o in self.of_kind("Namespace") if o.get("metadata")]

    def secret_exists(self, namespace: str, name: str) -> bool | None:
        """True/False when secrets were listed, None when unknown."""
        if self.secret_names is None:
            return None
        return (namespace, name) in self.secret_names

    def log_lines(self, namespace: str, pod: str, container: str = "istio-proxy") -> list[str]:
        """Fetched log lines of one container (any tail), [] when not fetched."""
        for req, lines in self.logs.items():
            if (req.namespace, req.pod, req.container) == (namespace, pod, container):
                return lines
        return []

    @property
    def observed_at(self) -> datetime | None:
        """The latest timestamp the objects mention (events, conditions, node heartbeats, container starts).

        Used as "now" for durations ("init container running for 40m"), so a snapshot read from a
        cluster served at a fixed instant and one read live both measure against their own clock.
        Node heartbeats matter: on a quiet cluster the latest other stamp can be an old restart
        itself, which would make hours-old history look current.
        """
        stamps: list[str] = []
        for ev in self._by_kind.get("Event", []):
            stamps.append(str(ev.get("lastTimestamp") or ev.get("eventTime") or ""))
        for obj in self.objects:
            st = obj.get("status") if isinstance(obj.get("status"), dict) else {}
            for c in st.get("conditions") or []:
                stamps += [str(c.get("lastTransitionTime") or ""), str(c.get("lastUpdateTime") or ""),
                           str(c.get("lastHeartbeatTime") or "")]
        for pod in self._by_kind.get("Pod", []):
            st = pod.get("status") or {}
            for cs in (st.get("containerStatuses") or []) + (st.get("initContainerStatuses") or []):
                for state in (cs.get("state") or {}).values():
                    stamps.append(
                        str((state or {}).get("startedAt") or (state or {}).get("finishedAt") or "")
                    )
        times = [t for t in (parse_time(s) for s in stamps if s) if t is not None]
        return max(times) if times else None

    @property
    def mesh_installed(self) -> bool:
        """Is Istio in use here: a control plane pod, an injection label, or any Istio config object."""
        if any(str(o.get("apiVersion", "")).split("/")[0].endswith("istio.io") for o in self.objects):
            return True
        for ns in self.of_kind("Namespace"):
            labels = (ns.get("metadata") or {}).get("labels") or {}
            if labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels:
                return True
        return any(
            (p.get("metadata") or {}).get("labels", {}).get("app") == "istiod" for p in self.of_kind("Pod")
        )
