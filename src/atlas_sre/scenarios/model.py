"""Scenario format v1 (DESIGN.md §4): the incident, plain manifests, hidden behaviour, ground truth.

Only `spec.incident` ever reaches an agent. `registry` and `groundTruth` are hidden; `faults` are
applied by injectors before the simulator runs, so the engine sees only objects and behaviour.
`groundTruth` is the grading room's `GroundTruth` (one definition; its strict file rules apply here).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.grading.truth import GroundTruth
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


class Scenario(_Model):
    apiVersion: str = API_VERSION
    kind: str = "Scenario"
    metadata: Metadata
    spec: ScenarioSpec
