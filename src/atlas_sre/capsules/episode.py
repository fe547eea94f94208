"""What consolidation reads about one investigation: `EpisodeRecord`, and adapters that build it.

Why a record of its own: consolidation runs after the benchmark (a `results.jsonl` line plus its
protocol trace), after `ATLASInference.run_full_protocol` (a result dict plus `trace_records()`) and
by hand (tests, a user on a real cluster). One small model with the facts learning needs, and one
adapter per producer, keeps the learning code independent of how the facts were recorded.

Tokens and seconds compare the *student's* spend on the reported run with the student's spend on
the paired baseline run (the protocol's control, made without teaching and without capsules), so
`tokens - baseline_tokens` is the capsule's (and teaching's) effect on the investigating agent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atlas_sre.agents.fences import fenced_body

_ALERT_LINE = re.compile(r"^\s*-\s*([A-Z][A-Za-z0-9]+)\s+\((\w+)\)\s*(.*)$")
_LABEL = re.compile(r"(?<!\S)([a-z_][a-z0-9_]*)=([A-Za-z0-9][A-Za-z0-9._/-]*)")


class CommandRecord(BaseModel):
    """One executed command and what it printed (possibly truncated)."""

    model_config = ConfigDict(extra="ignore")

    line: str = Field(min_length=1)
    exit_code: int | None = None
    observation: str = ""
    truncated: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"line": data}
        if isinstance(data, Mapping) and "line" not in data and "command" in data:
            return {**data, "line": data["command"]}
        return data


class EntityRecord(BaseModel):
    """A diagnosis entity (`ns/Kind/name` or `Kind/name`) and the evidence the agent cited."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    evidence: str = ""
    reasoning: str = ""
    contributing_factor: bool = True

    @field_validator("evidence", "reasoning", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        """Agents write `"evidence": null` when they cite nothing: the same as no evidence."""
        return "" if value is None else value

    @property
    def kind(self) -> str:
        parts = self.name.split("/")
        return parts[-2] if len(parts) >= 2 else "Unknown"


class DiagnosisRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entities: list[EntityRecord] = Field(default_factory=list)
    category: str = ""

    @property
    def root_causes(self) -> list[EntityRecord]:
        return [e for e in self.entities if e.contributing_factor]


class EpisodeRecord(BaseModel):
    """One graded (or ungraded) investigation, as consolidation and outcome tracking need it."""

    model_config = ConfigDict(extra="ignore")

    incident: str = ""
    alerts: list[dict[str, Any]] = Field(default_factory=list)
    guidance: str = ""
    strategy: str | None = None
    commands: list[CommandRecord] = Field(default_factory=list)
    diagnosis: DiagnosisRecord | None = None
    correct: bool | None = Field(default=None, description="None: no ground truth (a real cluster)")
    namespaces: list[str] = Field(default_factory=list)
    workloads: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    tokens: float | None = Field(default=None, description="student tokens of this run")
    wall_s: float | None = None
    baseline_tokens: float | None = None
    baseline_wall_s: float | None = None
    baseline_correct: bool | None = None
    applied_capsules: list[str] = Field(default_factory=list)
    episode_id: str | None = None

    @classmethod
    def of(cls, data: EpisodeRecord | Mapping[str, Any]) -> EpisodeRecord:
        """From an `EpisodeRecord`, its dict, a benchmark consolidation record (`EpisodeResult` +
        `trace`), a trace file's dict (`{"result", "records"}`) or a `run_full_protocol` result."""
        if isinstance(data, EpisodeRecord):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an EpisodeRecord or a dict, got {type(data).__name__}")
        if "key" in data and "mode" in data and "scenario" in data:
            return from_bench_record(data)
        if isinstance(data.get("result"), Mapping):
            return from_protocol_result(data["result"], data.get("records") or [])
        if "learning" in data and "diagnostic" in data:
            return from_protocol_result(data, data.get("records") or [])
        return cls.model_validate(dict(data))


def parse_alert_lines(text: str) -> list[dict[str, Any]]:
    """`- HighRequestErrorRate (critical) namespace=shop service=x: summary` lines → alert dicts."""
    alerts = []
    in_block = False
    for line in text.splitlines():
        if line.strip().lower().startswith("firing alerts"):
            in_block = True
            continue
        m = _ALERT_LINE.match(line) if in_block else None
        if m:
            head, _, summary = m.group(3).partition(": ")
            alert: dict[str, Any] = {"alertname": m.group(1), "severity": m.group(2),
                                     **dict(_LABEL.findall(head))}
            if summary:
                alert["summary"] = summary
            alerts.append(alert)
    return alerts


def observation_of(content: str) -> str:
    """The command output inside the loop's observation message (`Exit code: …` + fenced block).

    Read with the loop's own fence rule (a run of backticks longer than any inside the output), so
    output that itself contains ``` is not cut short."""
    body = fenced_body(content)
    if body is None:
        return content
    return body[:-1] if body.endswith("\n") else body


def commands_from_records(records: list[Mapping[str, Any]], label: str) -> list[CommandRecord]:
    """Executed commands of one run (`label`) with their observations, from trace records."""
    out = []
    for r in records:
        wanted = (r.get("type"), r.get("label"), r.get("kind")) == ("step", label, "command")
        if not wanted or not r.get("command"):
            continue
        replies = [m.get("content", "") for m in r.get("messages") or [] if m.get("role") == "user"]
        out.append(CommandRecord(line=r["command"], exit_code=r.get("exit_code"),
                                 observation=observation_of(replies[-1]) if replies else "",
                                 truncated=bool(r.get("truncated"))))
    return out


def _incident_text(records: list[Mapping[str, Any]], label: str, fallback: str) -> str:
    for r in records:
        if r.get("type") == "run" and r.get("label") == label and r.get("incident"):
            return str(r["incident"])
    for r in records:
        if r.get("type") == "teaching" and r.get("incident"):
            return str(r["incident"])
    return fallback


def _tokens(usage: Mapping[str, Any] | None) -> int:
    usage = usage or {}
    if "total_tokens" in usage:
        return int(usage["total_tokens"])
    return int(usage.get("prompt_tokens", usage.get("prompt", 0))) + int(
        usage.get("completion_tokens", usage.get("completion", 0)))


def _label_of(result: Mapping[str, Any], taught: bool | None = None) -> str:
    if taught is None:
        taught = bool(result.get("guided_run"))
    return "guided" if taught and result.get("guided_run") else "baseline"


def from_protocol_result(result: Mapping[str, Any], records: list[Mapping[str, Any]] | None = None,
                         *, taught: bool | None = None) -> EpisodeRecord:
    """From `run_full_protocol`'s dict (plus `trace_records()` for the observations)."""
    records = list(records or [])
    label = _label_of(result, taught)
    student = (result.get("tokens") or {}).get("student") or {}
    phases = ("plan", "plan_guided", "execute_guided") if label == "guided" else ("plan", "execute_baseline")
    grade = ((result.get("grades") or {}).get(label)) or None
    base_grade = (result.get("grades") or {}).get("baseline") if label == "guided" else None
    commands = commands_from_records(records, label) or [
        CommandRecord(line=c) for c in ((result.get("commands") or {}).get(label) or [])]
    incident = _incident_text(records, label, str(result.get("problem") or ""))
    learning = result.get("learning") or {}
    run, base_run = result.get(f"{label}_run") or {}, result.get("baseline_run") or {}
    return EpisodeRecord(
        incident=incident, alerts=parse_alert_lines(incident),
        guidance=str(learning.get("learning_guidance") or "") if label == "guided" else "",
        strategy=learning.get("strategy") if label == "guided" else None,
        commands=commands, diagnosis=result.get(f"{label}_diagnosis"),
        correct=None if grade is None else bool(grade.get("correct")),
        namespaces=[result["namespace"]] if result.get("namespace") else [],
        tokens=sum(_tokens(student.get(p)) for p in phases) if student else None,
        wall_s=run.get("duration_s"),
        baseline_tokens=(_tokens(student.get("plan")) + _tokens(student.get("execute_baseline"))
                         if label == "guided" and "execute_baseline" in student else None),
        baseline_wall_s=base_run.get("duration_s") if label == "guided" else None,
        baseline_correct=None if base_grade is None else bool(base_grade.get("correct")),
        applied_capsules=[str(c["id"]) for c in result.get("capsules") or []
                          if isinstance(c, Mapping) and c.get("id")],
    )


def from_bench_record(record: Mapping[str, Any]) -> EpisodeRecord:
    """From the runner's consolidation record: an `EpisodeResult` dump plus its loaded `trace`."""
    trace = record.get("trace") if isinstance(record.get("trace"), Mapping) else {}
    result = trace.get("result") if isinstance(trace.get("result"), Mapping) else {}
    teaching = record.get("teaching") or {}
    taught = bool(teaching)
    base = (from_protocol_result(result, trace.get("records") or [], taught=taught) if result
            else EpisodeRecord())
    grade, baseline = record.get("grade"), record.get("baseline")
    tokens = record.get("tokens") or {}
    student = (sum(_tokens(t) for k, t in tokens.items() if k.split(".", 1)[0] == "student")
               if tokens else None)
    diagnosis = DiagnosisRecord.model_validate(record["diagnosis"]) if record.get("diagnosis") else None
    return base.model_copy(update={
        "guidance": str(teaching.get("guidance") or base.guidance or ""),
        "strategy": teaching.get("strategy") or base.strategy,
        "diagnosis": diagnosis or base.diagnosis,
        "correct": None if grade is None else bool(grade.get("correct")) and record.get("outcome") != "error",
        "tokens": student if student is not None else base.tokens,
        "wall_s": base.wall_s if base.wall_s is not None else record.get("wall_s"),
        "baseline_tokens": baseline.get("student_tokens") if baseline else None,
        "baseline_correct": bool(baseline.get("correct")) if baseline else None,
        "baseline_wall_s": base.baseline_wall_s if baseline else None,
        "applied_capsules": list(record.get("capsules_used") or base.applied_capsules),
        "episode_id": str(record.get("key")),
    })
