"""The record of one investigation: the message list (the trajectory itself) plus per-step numbers.

Traces are JSONL so a report, the benchmark and teacher training can stream them: one `run` header
line (`trajectory_format: "atlas-sre-1"`), one `step` line per loop step carrying the messages that
step added, and one `outcome` line. `Trajectory.from_records` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from atlas_sre.agents.types import Usage
from atlas_sre.models.base import Message

TRAJECTORY_FORMAT = "atlas-sre-1"


@dataclass
class Step:
    """One loop step: what the student replied, what ran, what came back, what it cost."""

    n: int
    kind: str  # command | refused | repeated | format_error | submit | limit | model_error | final
    command: str | None = None
    exit_code: int | None = None
    observation_bytes: int = 0
    observation_lines: int = 0
    duration_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_latency_s: float = 0.0
    truncated: bool = False
    messages: list[Message] = field(default_factory=list)

    def to_record(self, label: str) -> dict[str, Any]:
        return {"type": "step", "label": label, **asdict(self)}


@dataclass
class Trajectory:
    """Everything one run produced; `messages` is the full conversation in order."""

    label: str
    student: str
    incident: str
    messages: list[Message] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    outcome: str = "running"
    diagnosis: dict[str, Any] | None = None
    detail: str = ""
    duration_s: float = 0.0
    limit: str = ""  # the limit that stopped the commands when the diagnosis came from the final turn

    @property
    def answered_after_limit(self) -> bool:
        """Submitted, but in the final turn after `limit` stopped the commands (see `LoopConfig.final_turn`)."""
        return self.outcome == "submitted" and bool(self.limit)

    @property
    def commands(self) -> list[str]:
        """Command lines that were actually executed (not refused, not repeats), in order."""
        return [s.command for s in self.steps if s.kind == "command" and s.command]

    @property
    def usage(self) -> Usage:
        total = Usage()
        for s in self.steps:
            total = total + Usage(s.prompt_tokens, s.completion_tokens, s.model_latency_s)
        return total

    def summary(self) -> dict[str, Any]:
        """Compact numbers for reports and `run_full_protocol`."""
        return {
            "label": self.label, "student": self.student, "outcome": self.outcome, "detail": self.detail,
            "steps": len(self.steps), "commands": self.commands, "tokens": self.usage.to_dict(),
            "command_time_s": round(sum(s.duration_s for s in self.steps), 4),
            "duration_s": round(self.duration_s, 4), "diagnosis": self.diagnosis, "limit": self.limit,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """JSONL records: header, steps (with the messages each added), outcome."""
        opening = self.messages[: len(self.messages) - sum(len(s.messages) for s in self.steps)]
        header = {"type": "run", "trajectory_format": TRAJECTORY_FORMAT, "label": self.label,
                  "student": self.student, "incident": self.incident, "messages": opening}
        end = {"type": "outcome", "label": self.label, "outcome": self.outcome, "detail": self.detail,
               "diagnosis": self.diagnosis, "tokens": self.usage.to_dict(), "duration_s": round(self.duration_s, 4),
               "commands": self.commands, "limit": self.limit}
        return [header, *[s.to_record(self.label) for s in self.steps], end]

    def to_jsonl(self) -> str:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.to_records())

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> Trajectory:
        """Rebuild a trajectory from its JSONL records (the inverse of `to_records`)."""
        head = next(r for r in records if r.get("type") == "run")
        if head.get("trajectory_format") != TRAJECTORY_FORMAT:
            raise ValueError(f"unknown trajectory_format {head.get('trajectory_format')!r}")
        traj = cls(label=head["label"], student=head["student"], incident=head["incident"],
                   messages=list(head.get("messages", [])))
        for r in records:
            if r.get("type") == "step" and r.get("label", head["label"]) == head["label"]:
                fields = {k: v for k, v in r.items() if k not in ("type", "label")}
                step = Step(**fields)
                traj.steps.append(step)
                traj.messages.extend(step.messages)
            elif r.get("type") == "outcome" and r.get("label") == head["label"]:
                traj.outcome, traj.detail = r["outcome"], r.get("detail", "")
                traj.diagnosis, traj.duration_s = r.get("diagnosis"), r.get("duration_s", 0.0)
                traj.limit = r.get("limit", "")
        return traj
