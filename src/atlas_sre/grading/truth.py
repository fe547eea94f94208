"""Ground truth: the one definition both the scenario file and grading use (DESIGN.md §4 `groundTruth`).

Two kinds of input reach it, and they are held to different rules:

- **The scenario file** (validated by `scenarios.loader`): strict. Unknown keys are errors, so an
  author's typo is reported with its line, and an unstated root-cause `category` means
  `Misconfiguration` (the generator drops that default when it writes a file).
- **Foreign truth** handed to `grade()` (`GroundTruth.coerce`: a dict from an ITBench-style file, or
  another room's pydantic model): forgiving. Unknown keys are dropped and an unstated `category` stays
  empty, so grading leaves that metric unscored instead of guessing.

snake_case (`root_causes`) and ITBench's `propagations` are accepted as spellings of the same fields;
the scenario loader validates by field name only, so a scenario file keeps its one spelling.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

FOREIGN = "foreign-truth"
"""Validation-context key: set (by `GroundTruth.coerce`) when the truth comes from outside a scenario file."""


class _Truth(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # What an unstated field means in foreign truth when it differs from the file's default.
    _foreign_defaults: ClassVar[dict[str, Any]] = {}

    @model_validator(mode="before")
    @classmethod
    def _forgive_foreign(cls, data: Any, info: ValidationInfo) -> Any:
        """Foreign truth: drop keys this model does not know, fill the foreign defaults."""
        if not isinstance(data, dict) or not (info.context or {}).get(FOREIGN):
            return data
        kept: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            spellings = [c for c in alias.choices if isinstance(c, str)] if isinstance(alias, AliasChoices) else []
            present = [k for k in [*spellings, name] if k in data]
            if present:  # the spelling validation would use; any other spelling of the field is dropped
                kept[present[0]] = data[present[0]]
        return {**cls._foreign_defaults, **kept}


class TruthRootCause(_Truth):
    """One irreducible cause: the entity, its fault category and what is wrong with it."""

    _foreign_defaults: ClassVar[dict[str, Any]] = {"category": ""}

    entity: str
    category: str = "Misconfiguration"
    condition: str = ""


class TruthPropagation(_Truth):
    """One directed hop of the true fault chain, from cause towards the alerting symptom."""

    source: str
    target: str
    condition: str = ""
    effect: str = ""


class GroundTruth(_Truth):
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
        """Accept this model, any pydantic model with the same fields, or a dict (foreign rules apply).

        Callers hand grading whatever truth object they hold; going through a plain dict keeps
        grading independent of where that object was defined.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, BaseModel):
            value = value.model_dump()
        return cls.model_validate(value, context={FOREIGN: True})
