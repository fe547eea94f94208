"""The reference agents' expertise as data: phrasebook, evidence rules, curriculum (YAML in `knowledge/`).

Keeping what the rule-based agents *know* in files (validated here with pydantic, regexes compiled
once) keeps their code generic: nothing in it is keyed by a scenario, a fault or an entity name,
and teaching a new symptom class is an edit to a data file. Pass your own `ReferenceData` to an
agent to experiment with other knowledge.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrase(_Data):
    """Words that call for commands (`{placeholders}` filled from observations)."""

    id: str
    phrases: list[str] = Field(min_length=1)
    commands: list[str] = Field(min_length=1)
    tool: str | None = None  # the commands need this tool besides kubectl (skipped where it is absent)

    @field_validator("phrases")
    @classmethod
    def _lower(cls, phrases: list[str]) -> list[str]:
        return [p.lower() for p in phrases]


class Phrasebook(_Data):
    entries: list[Phrase]


class EvidenceRule(_Data):
    """A regex over one kind of command output → a candidate root cause and follow-ups."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    id: str
    sources: list[str] = Field(min_length=1)
    pattern: str
    entity: str = "none"
    category: str = "Misconfiguration"
    confidence: float = Field(0.5, ge=0, le=1)
    evidence: str = "{match}"
    followups: list[str] = Field(default_factory=list)
    sets: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.MULTILINE)


class AnalyzerCode(_Data):
    confidence: float | None = None
    category: str | None = None
    focus_exempt: bool = False  # the finding names a cause outside the incident's namespaces on purpose


class AnalyzerRules(_Data):
    pattern: str
    levels: dict[str, float]
    default_category: str = "Misconfiguration"
    codes: dict[str, AnalyzerCode] = Field(default_factory=dict)
    # A finding whose message says the state is over (e.g. `past, not current`) describes history:
    # its confidence is multiplied by `history_factor`, so it never outranks, or stands in for, a cause.
    history: str | None = None
    history_factor: float = Field(1.0, ge=0.0, le=1.0)


class EnvoyFlag(_Data):
    hypothesis: str | None = None
    confidence: float = 0.0
    followups: list[str] = Field(default_factory=list)


class RbacPolicy(_Data):
    pattern: str
    entity: str
    confidence: float


class EnvoyRules(_Data):
    flags: dict[str, EnvoyFlag]
    rbac_policy: RbacPolicy
    rbac_none_followups: list[str] = Field(default_factory=list)
    chain_codes: str


class EvidenceRules(_Data):
    analyzer: AnalyzerRules
    low_relevance_kinds: list[str] = Field(default_factory=list)
    low_relevance_factor: float = Field(0.3, ge=0, le=1)
    rules: list[EvidenceRule]
    envoy: EnvoyRules


class Step(_Data):
    name: str
    text: str
    keys: list[str] = Field(min_length=1)
    tool: str | None = None  # the check needs this tool (an expert does not ask for one that is absent)


class SymptomClass(_Data):
    id: str
    label: str
    signals: list[str] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)


class TrackRecord(_Data):
    """When an applied Skill Capsule counts as proven (its posterior success rate over enough uses)."""

    min_uses: int = Field(5, ge=1)
    min_success: float = Field(0.85, ge=0, le=1)
    bonus: int = Field(2, ge=0, le=4)


class Curriculum(_Data):
    classes: list[SymptomClass] = Field(min_length=1)
    templates: dict[str, str]
    track_record: TrackRecord = Field(default_factory=TrackRecord)

    @field_validator("templates")
    @classmethod
    def _all_templates(cls, templates: dict[str, str]) -> dict[str, str]:
        missing = {"light_ok", "light_hint", "medium", "heavy", "probe", "pod_note"} - templates.keys()
        if missing:
            raise ValueError(f"curriculum templates missing: {sorted(missing)}")
        return templates


class ReferenceData(_Data):
    """Everything the reference student and teacher know."""

    phrasebook: Phrasebook
    evidence: EvidenceRules
    curriculum: Curriculum

    @classmethod
    def load(cls, folder: str | Path | None = None) -> ReferenceData:
        """From `folder` (phrasebook.yaml, evidence_rules.yaml, curriculum.yaml), default the packaged data."""
        return _load(str(folder) if folder else None)


def _read(folder: str | None, name: str) -> Any:
    if folder is None:
        text = resources.files("atlas_sre.agents.reference").joinpath("knowledge", name).read_text(encoding="utf-8")
    else:
        text = (Path(folder) / name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=8)
def _load(folder: str | None) -> ReferenceData:
    data = ReferenceData(phrasebook=Phrasebook.model_validate(_read(folder, "phrasebook.yaml")),
                         evidence=EvidenceRules.model_validate(_read(folder, "evidence_rules.yaml")),
                         curriculum=Curriculum.model_validate(_read(folder, "curriculum.yaml")))
    for rule in data.evidence.rules:
        rule.regex  # compile now: a bad regex is a load error, not a mid-investigation surprise  # noqa: B018
    return data
