"""Ground truth as grading reads it (DESIGN.md §4 `groundTruth`).

Field names are the scenario file's (`rootCauses`, `aliases`, `propagation`) so a scenario's
`groundTruth` block validates as-is; snake_case spellings (and ITBench's `propagations`) are
accepted too because ground truth also arrives from Python code and ITBench-style files.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class TruthRootCause(_Model):
    """One irreducible cause: the entity, its fault category and what is wrong with it."""

    entity: str
    category: str = ""
    condition: str = ""


class TruthPropagation(_Model):
    """One directed hop of the true fault chain, from cause towards the alerting symptom."""

    source: str
    target: str
    condition: str = ""
    effect: str = ""


class GroundTruth(_Model):
    """What a diagnosis is graded against. An empty `rootCauses` list marks a no-fault control."""

    rootCauses: list[TruthRootCause] = Field(
        default_factory=list, validation_alias=AliasChoices("rootCauses", "root_causes")
    )
    aliases: list[list[str]] = Field(default_factory=list)
    propagation: list[TruthPropagation] = Field(
        default_factory=list, validation_alias=AliasChoices("propagation", "propagations")
    )

    @property
    def is_no_fault(self) -> bool:
        """True for a no-fault control: the right answer there is "nothing is wrong"."""
        return not self.rootCauses

    @classmethod
    def coerce(cls, value: Any) -> GroundTruth:
        """Accept this model, any pydantic model with the same fields (the scenario room's), or a dict.

        Grading must not import `scenarios/` (data flows one way), yet callers hand it whatever
        truth object they hold; going through a plain dict keeps both rooms independent.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, BaseModel):
            value = value.model_dump()
        return cls.model_validate(value)
