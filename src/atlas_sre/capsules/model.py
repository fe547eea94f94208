"""The Skill Capsule: a reusable investigation procedure with measured usefulness.

It extends the seed's shape ``{"skill", "trigger", "procedure", "success_rate"}`` with what learning
needs. Counters (uses/successes/failures, deltas) are *owned by the store*: they change only through
atomic SQL increments in `CapsuleStore.record_use`, never by editing a model and writing it back.

Success rate (see `stats.py`): mean of Beta(prior_alpha + successes, prior_beta + failures), default
prior Beta(1, 1). An imported ``success_rate`` r that comes without counts becomes the *prior* as
pseudo-counts: prior_alpha = r·n0, prior_beta = (1 − r)·n0 with n0 = `IMPORT_PRIOR_STRENGTH` (10).
So the capsule reads exactly r before any use, ten real observations weigh as much as the imported
claim, and uses/successes/failures stay honest counts (pruning's `min_observations` is not fooled).
"""

from __future__ import annotations

import hashlib
import re
import string
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_serializer,
    field_validator,
    model_validator,
)

from atlas_sre.capsules.stats import DEFAULT_PRIOR_ALPHA, DEFAULT_PRIOR_BETA, BetaPosterior, safe_mean

IMPORT_PRIOR_STRENGTH = 10.0
"""Pseudo-observations an imported bare ``success_rate`` is worth."""

PLACEHOLDERS = frozenset({"namespace", "workload", "service"})
"""Parameters a command template may use; anything else is a typo or a leaked concrete name."""

CapsuleSource = Literal["teacher_correction", "trajectory", "import"]


class CapsuleStatus(str, Enum):
    """Lifecycle (as ATLAS playbook entries): only active/provisional capsules are retrieved."""

    ACTIVE = "active"
    PROVISIONAL = "provisional"
    DEPRECATED = "deprecated"
    PRUNED = "pruned"


RETRIEVABLE = frozenset({CapsuleStatus.ACTIVE, CapsuleStatus.PROVISIONAL})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def normalise_step(step: str) -> str:
    """Case/whitespace/trailing-punctuation-insensitive form of a procedure step (for the id)."""
    return " ".join(step.lower().split()).rstrip(".;:, ")


def capsule_id(skill: str, procedure: list[str]) -> str:
    """Stable id from skill + normalised procedure: the same lesson learnt twice is one row."""
    key = normalise_step(skill) + "\n" + "\n".join(normalise_step(s) for s in procedure)
    return "cap-" + hashlib.sha256(key.encode()).hexdigest()[:16]


class EvidencePattern(BaseModel):
    """A string (case-insensitive substring) or regex whose presence in command output proved the cause."""

    model_config = ConfigDict(frozen=True)

    pattern: str = Field(min_length=1)
    regex: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, data: Any) -> Any:
        return {"pattern": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _compiles(self) -> EvidencePattern:
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"evidence regex {self.pattern!r} does not compile: {exc}") from exc
        return self

    def search(self, output: str) -> bool:
        if self.regex:
            return re.search(self.pattern, output, re.IGNORECASE) is not None
        return self.pattern.lower() in output.lower()


class RootCausePattern(BaseModel):
    """What kind of entity was at fault and how (diagnosis `category`), never a concrete name."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(min_length=1, description="Kubernetes/Istio kind, e.g. DestinationRule")
    category: str = Field(min_length=1, description="diagnosis category, e.g. Misconfiguration")


class Capsule(BaseModel):
    """One Skill Capsule. Unknown keys are ignored so newer exports import into older code."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    id: str = ""
    skill: str = Field(min_length=1)
    trigger: str = Field(min_length=1)
    procedure: list[str] = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    commands: list[str] = Field(default_factory=list)
    evidence: list[EvidencePattern] = Field(default_factory=list)
    root_cause: RootCausePattern | None = None
    status: CapsuleStatus = CapsuleStatus.ACTIVE
    source: CapsuleSource = "import"
    prior_alpha: float = Field(default=DEFAULT_PRIOR_ALPHA, ge=0)
    prior_beta: float = Field(default=DEFAULT_PRIOR_BETA, ge=0)
    uses: int = Field(default=0, ge=0)
    successes: int = Field(default=0, ge=0)
    failures: int = Field(default=0, ge=0)
    # Outcomes of paired runs of the same incidents *without* the capsule (the control).
    baseline_successes: int = Field(default=0, ge=0)
    baseline_failures: int = Field(default=0, ge=0)
    tokens_delta_sum: float = 0.0
    tokens_delta_n: int = Field(default=0, ge=0)
    time_delta_sum: float = 0.0
    time_delta_n: int = Field(default=0, ge=0)
    born_at_incident: int = Field(default=0, ge=0, description="store incident counter, set on insert")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _seed_success_rate(cls, data: Any) -> Any:
        """Turn a bare seed ``success_rate`` into prior pseudo-counts (module docstring)."""
        if not isinstance(data, dict) or "success_rate" not in data:
            return data
        data = dict(data)
        rate = data.pop("success_rate")
        has_counts = any(data.get(k) for k in ("successes", "failures"))
        has_prior = "prior_alpha" in data or "prior_beta" in data
        if rate is not None and not has_counts and not has_prior:
            rate = float(rate)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"success_rate must be in [0, 1], got {rate}")
            # Rounded so 0.88 becomes 8.8/1.2, not 8.800000000000001/1.1999999999999997.
            data["prior_alpha"] = round(rate * IMPORT_PRIOR_STRENGTH, 9)
            data["prior_beta"] = round((1.0 - rate) * IMPORT_PRIOR_STRENGTH, 9)
        return data

    @field_validator("commands")
    @classmethod
    def _known_placeholders(cls, commands: list[str]) -> list[str]:
        for cmd in commands:
            names = {f for _, f, _, _ in string.Formatter().parse(cmd) if f}
            if names - PLACEHOLDERS:
                raise ValueError(f"unknown placeholder(s) {sorted(names - PLACEHOLDERS)} in {cmd!r}")
        return commands

    @model_validator(mode="after")
    def _consistent(self) -> Capsule:
        if self.prior_alpha + self.prior_beta <= 0:
            raise ValueError("prior_alpha + prior_beta must be > 0")
        if self.successes + self.failures > self.uses:
            raise ValueError("successes + failures cannot exceed uses")
        if not self.id:
            # object.__setattr__ avoids re-running validation through validate_assignment.
            object.__setattr__(self, "id", capsule_id(self.skill, self.procedure))
        return self

    @property
    def posterior(self) -> BetaPosterior:
        return BetaPosterior.from_counts(self.successes, self.failures, self.prior_alpha, self.prior_beta)

    @property
    def baseline_posterior(self) -> BetaPosterior:
        """Same prior family, fed with the paired no-capsule runs (the control)."""
        return BetaPosterior.from_counts(self.baseline_successes, self.baseline_failures)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success_rate(self) -> float:
        """Posterior mean; exported so seed-format consumers keep reading ``success_rate``."""
        return self.posterior.mean

    @field_serializer("success_rate")
    def _rounded(self, rate: float) -> float:
        """Exported rounded (0.88, not 0.8800000000000001); the property stays exact."""
        return round(rate, 6)

    @property
    def tokens_delta_mean(self) -> float | None:
        """Mean of (tokens with − tokens without): negative means the capsule saves tokens."""
        return safe_mean(self.tokens_delta_sum, self.tokens_delta_n)

    @property
    def time_delta_mean(self) -> float | None:
        """Mean of (seconds with − seconds without): negative means it saves time."""
        return safe_mean(self.time_delta_sum, self.time_delta_n)

    def content_key(self) -> tuple[Any, ...]:
        """What a new version means: any change here on upsert bumps `version`."""
        return (self.skill, self.trigger, self.procedure, self.commands,
                [e.model_dump() for e in self.evidence],
                self.root_cause.model_dump() if self.root_cause else None, self.metadata)

    def render_commands(self, **values: str) -> list[str]:
        """Fill `{namespace}`/`{workload}`/`{service}`; raises ValueError naming what is missing."""
        out = []
        for cmd in self.commands:
            names = {f for _, f, _, _ in string.Formatter().parse(cmd) if f}
            missing = names - values.keys()
            if missing:
                raise ValueError(f"command {cmd!r} needs {sorted(missing)}")
            out.append(cmd.format(**values))
        return out

    def matching_evidence(self, output: str) -> list[EvidencePattern]:
        """Evidence patterns present in a command output (consolidation uses this to credit a capsule)."""
        return [e for e in self.evidence if e.search(output)]
