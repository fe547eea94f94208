"""What the simulator takes in (`SimSpec`) and what it derives (`ClusterState`).

`SimSpec` is deliberately free of the scenario's name and ground truth: the engine cannot branch
on what it never receives. `ClusterState` is plain Kubernetes-shaped dicts plus the things the API
serves beside objects (container logs, resource usage for metrics.k8s.io).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import SimClock
from atlas_sre.sim.images import Registry

Obj = dict[str, Any]


@dataclass(frozen=True)
class Change:
    """An object whose current spec took effect at `at` (a fault, a rollout), replacing `previous`.

    Kept outside the manifests so nothing an agent can read reveals it; the engine uses it to
    start symptoms at the right time (a new ReplicaSet at the fault, the old one kept by the
    rolling-update rules).
    """

    at: datetime
    previous: Obj | None = None


@dataclass
class SimSpec:
    """The engine's whole input."""

    manifests: list[Obj]
    registry: Registry
    clock: SimClock
    seed: int = 0
    traffic: dict[str, Any] = field(default_factory=dict)
    # "namespace/Kind/name" (cluster-scoped: "Kind/name") -> when and from what it changed
    history: dict[str, Change] = field(default_factory=dict)


@dataclass(frozen=True)
class LogLine:
    """One line of a container log, at a scenario time."""

    ts: datetime
    text: str


@dataclass(frozen=True)
class LogKey:
    """Which log stream: `previous` is the last terminated instance of the container."""

    namespace: str
    pod: str
    container: str
    previous: bool = False


@dataclass
class Usage:
    """Resource use of one container or node at the observation time."""

    cpu_milli: int
    memory_mi: int


@dataclass
class ClusterState:
    """The derived cluster at `clock.observe_at`, ready to be served."""

    clock: SimClock
    objects: list[Obj] = field(default_factory=list)
    logs: dict[LogKey, list[LogLine]] = field(default_factory=dict)
    pod_usage: dict[tuple[str, str], dict[str, Usage]] = field(default_factory=dict)
    node_usage: dict[str, Usage] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # stage outputs for later stages (traffic, alerts)

    def add_log(self, key: LogKey, ts: datetime, text: str) -> None:
        """Append a log line; streams are sorted by time when served."""
        self.logs.setdefault(key, []).append(LogLine(ts, text))

    def find(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """All objects of a kind (optionally in one namespace)."""
        return [
            o
            for o in self.objects
            if o.get("kind") == kind and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """One object by kind, namespace and name."""
        for o in self.objects:
            md = o["metadata"]
            if o.get("kind") == kind and md.get("name") == name and md.get("namespace") == namespace:
                return o
        return None


# One step of the derivation: reads what earlier stages produced and adds its own objects, statuses,
# events, logs and usage (the engine runs them in order; see `engine.default_stages`).
Stage = Callable[[SimSpec, ClusterState], None]
