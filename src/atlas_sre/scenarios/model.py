"""Scenario format v1 (DESIGN.md §4): the incident, plain manifests, hidden behaviour, ground truth.

Only `spec.incident` ever reaches an agent. `registry` and `groundTruth` are hidden; `faults` are
applied by injectors before the simulator runs, so the engine sees only objects and behaviour.
`groundTruth` is the grading room's `GroundTruth` (one definition; its strict file rules apply here).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atlas_sre.grading.truth import GroundTruth
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.images import ImageBehaviour

API_VERSION = "atlas-sre/v1"
DEFAULT_CLOCK = {
    "start": "2026-11-26T08:00:00Z",
    "faultAt": "2026-11-26T09:20:00Z",
    "observeAt": "2026-11-26T10:00:00Z",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(_Model):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Alert(BaseModel):
    """A firing alert as the incident reports it (Prometheus-style labels)."""

    model_config = ConfigDict(extra="allow")
    alertname: str
    severity: str = "warning"


class Incident(_Model):
    """All an agent is told."""

    summary: str
    alerts: list[Alert] = Field(default_factory=list)


class Clock(_Model):
    """Scenario time: when the cluster came up, when the fault landed, when the incident is observed."""

    start: str = DEFAULT_CLOCK["start"]
    faultAt: str = DEFAULT_CLOCK["faultAt"]
    observeAt: str = DEFAULT_CLOCK["observeAt"]


class FaultRef(_Model):
    """One injector from the fault catalogue, applied to a target entity with arguments."""

    id: str
    target: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class HistoryEntry(_Model):
    """An object's past, which no manifest can say: it was created at `at` (no `previous`), or it
    changed at `at` and was `previous` before (a partial object laid over the current one: maps
    merge, lists of named items merge by `name`). A Deployment whose template changed rolls out
    from the previous ReplicaSet (revision 1) to the current one (revision 2) at `at`."""

    target: str  # namespace/Kind/name, as in faults and ground truth (cluster-scoped: Kind/name)
    at: str  # RFC 3339, scenario time
    previous: dict[str, Any] | None = None

    @field_validator("target")
    @classmethod
    def _entity(cls, value: str) -> str:
        if len(value.split("/")) not in (2, 3) or not all(value.split("/")):
            raise ValueError(f"expected namespace/Kind/name or Kind/name, got {value!r}")
        return value

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_time(value)
        return value


class ScenarioSpec(_Model):
    seed: int = 0
    clock: Clock = Field(default_factory=Clock)
    incident: Incident
    app: str | None = None
    manifests: list[dict[str, Any]] = Field(default_factory=list)
    registry: dict[str, ImageBehaviour] = Field(default_factory=dict)
    traffic: dict[str, Any] = Field(default_factory=dict)
    faults: list[FaultRef] = Field(default_factory=list)
    groundTruth: GroundTruth = Field(default_factory=GroundTruth)
    history: list[HistoryEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _history_targets(self) -> ScenarioSpec:
        if self.app:
            return self  # the app's objects are known only once it is expanded
        known = {entity_of(m) for m in self.manifests}
        known |= {f"default/{k}" for k in known if k.count("/") == 1}  # namespaced, namespace left out
        for i, entry in enumerate(self.history):
            if entry.target not in known:
                raise ValueError(f"history[{i}].target {entry.target} matches no object in spec.manifests")
        return self


def entity_of(obj: dict[str, Any]) -> str:
    """`namespace/Kind/name` of a manifest (`Kind/name` without a namespace)."""
    md = obj.get("metadata") or {}
    ns = md.get("namespace")
    return f"{ns}/{obj.get('kind')}/{md.get('name')}" if ns else f"{obj.get('kind')}/{md.get('name')}"


class Scenario(_Model):
    apiVersion: str = API_VERSION
    kind: str = "Scenario"
    metadata: Metadata
    spec: ScenarioSpec
