"""Scenario format v1 (DESIGN.md §4): the incident, plain manifests, hidden behaviour, ground truth.

Only `spec.incident` ever reaches an agent. `registry` and `groundTruth` are hidden; `faults` are
applied by injectors before the simulator runs, so the engine sees only objects and behaviour.
`groundTruth` is the grading room's `GroundTruth` (one definition; its strict file rules apply here).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atlas_sre.grading.truth import GroundTruth
from atlas_sre.scenarios.limits import MAX_INT, MAX_LIST, MAX_MANIFESTS, MAX_NAME, MAX_RPS, MAX_SPAN_DAYS, YEAR_RANGE
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.images import ImageBehaviour

API_VERSION = "atlas-sre/v1"
DEFAULT_CLOCK = {
    "start": "2026-11-26T08:00:00Z",
    "faultAt": "2026-11-26T09:20:00Z",
    "observeAt": "2026-11-26T10:00:00Z",
}


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Short = Annotated[str, Field(max_length=MAX_NAME)]
Label = Annotated[str, Field(max_length=1024)]


def scenario_time(value: str) -> datetime:
    """An RFC 3339 scenario time within YEAR_RANGE (the simulator adds offsets to every time, so
    a year 1 or 9999 would overflow), as an aware datetime; ValueError with a short reason."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"expected an RFC 3339 time like 2026-11-26T08:00:00Z, got {str(value)[:40]!r}")
    try:
        parsed = parse_time(value)
    except ValueError:
        raise ValueError(f"expected an RFC 3339 time like 2026-11-26T08:00:00Z, got {value!r}") from None
    if not YEAR_RANGE[0] <= parsed.year <= YEAR_RANGE[1]:
        raise ValueError(f"year {parsed.year} is outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}")
    return parsed


Time = Annotated[str, Field(max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(_Model):
    name: Name
    labels: dict[Short, Label] = Field(default_factory=dict, max_length=MAX_LIST)
    annotations: dict[Short, Annotated[str, Field(max_length=65_536)]] = Field(default_factory=dict,
                                                                               max_length=MAX_LIST)


class Alert(BaseModel):
    """A firing alert as the incident reports it (Prometheus-style labels)."""

    model_config = ConfigDict(extra="allow")
    alertname: Short
    severity: Short = "warning"


class Incident(_Model):
    """All an agent is told."""

    summary: Annotated[str, Field(max_length=4096)]
    alerts: list[Alert] = Field(default_factory=list, max_length=MAX_LIST)


class Clock(_Model):
    """Scenario time: when the cluster came up, when the fault landed, when the incident is observed."""

    start: Time = DEFAULT_CLOCK["start"]
    faultAt: Time = DEFAULT_CLOCK["faultAt"]
    observeAt: Time = DEFAULT_CLOCK["observeAt"]

    @field_validator("start", "faultAt", "observeAt")
    @classmethod
    def _time(cls, value: str) -> str:
        scenario_time(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> Clock:
        start, observe = scenario_time(self.start), scenario_time(self.observeAt)
        if observe < start:
            raise ValueError(f"observeAt {self.observeAt} is before start {self.start}")
        if observe - start > timedelta(days=MAX_SPAN_DAYS):
            raise ValueError(f"start to observeAt spans more than {MAX_SPAN_DAYS} days")
        fault = scenario_time(self.faultAt)
        if abs(fault - start) > timedelta(days=MAX_SPAN_DAYS) or abs(observe - fault) > timedelta(days=MAX_SPAN_DAYS):
            raise ValueError(f"faultAt {self.faultAt} is more than {MAX_SPAN_DAYS} days from start/observeAt")
        return self


class FaultRef(_Model):
    """One injector from the fault catalogue, applied to a target entity with arguments."""

    id: Short
    target: Short | None = None
    args: dict[Short, Any] = Field(default_factory=dict, max_length=MAX_LIST)


class HistoryEntry(_Model):
    """An object's past, which no manifest can say: it was created at `at` (no `previous`), or it
    changed at `at` and was `previous` before (a partial object laid over the current one: maps
    merge, lists of named items merge by `name`). A Deployment whose template changed rolls out
    from the previous ReplicaSet (revision 1) to the current one (revision 2) at `at`."""

    target: Annotated[str, Field(max_length=3 * MAX_NAME)]  # namespace/Kind/name (cluster-scoped: Kind/name)
    at: Time  # RFC 3339, scenario time
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
        scenario_time(value)
        return value


class Entrypoint(_Model):
    """One source of requests (`spec.traffic.entrypoints[]`, see `sim/mesh/traffic.py`)."""

    gateway: Short | None = None
    service: Short | None = None
    source: Short | None = None
    host: Short | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    path: Annotated[str, Field(max_length=4096)] | None = None
    method: Annotated[str, Field(max_length=16)] | None = None
    headers: dict[Short, Annotated[str, Field(max_length=4096)]] | None = None
    rps: Annotated[float, Field(ge=0, le=MAX_RPS, allow_inf_nan=False)] | None = None
    mesh: bool | None = None


class Traffic(_Model):
    """`spec.traffic`: checked here, handed to the simulator as the plain mapping it was."""

    entrypoints: list[Entrypoint] | None = Field(default=None, max_length=MAX_LIST)


class ScenarioSpec(_Model):
    seed: Annotated[int, Field(ge=0, le=MAX_INT)] = 0
    clock: Clock = Field(default_factory=Clock)
    incident: Incident
    app: Short | None = None
    manifests: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_MANIFESTS)
    registry: dict[Annotated[str, Field(max_length=4096)], ImageBehaviour] = Field(
        default_factory=dict, max_length=MAX_MANIFESTS)
    traffic: dict[str, Any] = Field(default_factory=dict)  # checked as `Traffic` by the loader
    faults: list[FaultRef] = Field(default_factory=list, max_length=MAX_LIST)
    groundTruth: GroundTruth = Field(default_factory=GroundTruth)
    history: list[HistoryEntry] = Field(default_factory=list, max_length=MAX_MANIFESTS)

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
    md = obj.get("metadata") if isinstance(obj, dict) else None
    md = md if isinstance(md, dict) else {}  # a malformed manifest is refused later, with its line
    ns = md.get("namespace")
    return f"{ns}/{obj.get('kind')}/{md.get('name')}" if ns else f"{obj.get('kind')}/{md.get('name')}"


class Scenario(_Model):
    apiVersion: str = API_VERSION
    kind: str = "Scenario"
    metadata: Metadata
    spec: ScenarioSpec
