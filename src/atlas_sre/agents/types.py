"""What agents exchange: the incident (all they are told), plans, teaching, actions, and the roles.

The `Incident` (defined in `grading.incident`, re-exported here) is the architectural guard of the
reference agents' honesty: it holds the summary and the alerts, nothing else. No scenario name, no
ground truth, no image registry can reach an agent, because no agent entry point accepts anything
but an `Incident`, text it produced itself, teacher text and command observations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from atlas_sre.grading.incident import GROUP_MIN, Incident
from atlas_sre.models.base import Message

__all__ = ["CERTIFIED_GUIDANCE", "GROUP_MIN", "Action", "Briefing", "CapsuleBrief", "Correction", "FinalAnswerer",
           "Incident", "PlanResult", "ProbeResult", "Strategy", "Student", "Teacher", "Usage", "strategy_for"]

Strategy = Literal["Light", "Medium", "Heavy"]


def _root_kind(pattern: Any) -> str:
    """`{"kind": "DestinationRule", "category": ...}` (or a plain string) → `DestinationRule`."""
    if isinstance(pattern, Mapping):
        return str(pattern.get("kind") or "")
    return str(pattern or "")


CERTIFIED_GUIDANCE = "Everything looks good. Proceed with your approach."
"""The whole correction for a certified plan (the Light prompt asks a model for exactly this too)."""


def strategy_for(score: int) -> Strategy:
    """The ATLAS mapping: 4–5 Light, 2–3 Medium, 1 Heavy."""
    return "Light" if score >= 4 else "Medium" if score >= 2 else "Heavy"


@dataclass(frozen=True)
class Usage:
    """Tokens and time of one model (or reference-agent) call, as its backend counted them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     self.latency_s + other.latency_s)

    def to_dict(self) -> dict[str, Any]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total, "latency_s": round(self.latency_s, 4)}


@dataclass(frozen=True)
class CapsuleBrief:
    """What an agent sees of a Skill Capsule: the procedure, its commands and evidence, and why it matched.

    Agents get this view, never the store, so capsules feed plans and probes without the agents
    room depending on storage or statistics (issue 6, item 5).
    """

    id: str
    skill: str
    trigger: str
    procedure: tuple[str, ...]
    commands: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    score: float = 0.0
    why: str = ""
    success_rate: float | None = None
    uses: int = 0
    root_cause: str = ""  # the kind it blames, e.g. "DestinationRule" (never a name)
    learnt_from: int = 0  # correctly solved incidents it was consolidated from (`metadata.episodes`)
    successes: int = 0

    @classmethod
    def of(cls, obj: Any) -> CapsuleBrief:
        """From a `CapsuleBrief`, a `RetrievalHit`, a `Capsule` or a seed-style dict."""
        if isinstance(obj, CapsuleBrief):
            return obj
        score, why = 0.0, ""
        if hasattr(obj, "capsule") and hasattr(obj, "score"):
            score, why, obj = float(obj.score), str(getattr(obj, "why", "")), obj.capsule
        data = obj if isinstance(obj, Mapping) else obj.model_dump(mode="json")
        evidence = tuple(e["pattern"] if isinstance(e, Mapping) else str(e) for e in data.get("evidence") or ())
        rate = data.get("success_rate")
        return cls(id=str(data.get("id") or data.get("skill", "capsule")), skill=str(data.get("skill", "")),
                   trigger=str(data.get("trigger", "")), procedure=tuple(str(s) for s in data.get("procedure", ())),
                   commands=tuple(str(c) for c in data.get("commands") or ()), evidence=evidence,
                   score=score, why=why, success_rate=float(rate) if rate is not None else None,
                   uses=int(data.get("uses") or 0), root_cause=_root_kind(data.get("root_cause")),
                   learnt_from=int((data.get("metadata") or {}).get("episodes") or 0),
                   successes=int(data.get("successes") or 0))

    def text(self) -> str:
        """For prompts: `service_mesh_debug (when: 503 errors): istioctl analyze; check ...`."""
        return f"{self.skill} (when: {self.trigger}): " + "; ".join(self.procedure)

    def proof_line(self) -> str:
        """For prompts, a capsule not followed: `skill (when: trigger); run: `cmd`; proof: `A`/`B` → the Kind`.

        Capsules retrieved for one symptom share their prose steps and differ in the commands and the proof
        that decide between causes, so the followed capsule is given in full and the others by those only.
        """
        proof = "/".join(f"`{e}`" for e in self.evidence[:2]) + (f" → the {self.root_cause}" if self.root_cause else "")
        runs = "; ".join(f"`{c}`" for c in self.commands)
        return (f"{self.skill} (when: {self.trigger})" + (f"; run: {runs}" if runs else "")
                + (f"; proof: {proof}" if proof.strip() else ""))

    def digest(self) -> str:
        """One line for the teacher: `service_mesh_debug (success 92% over 12 uses)`.

        The teacher judges the plan, which already spells out the procedure the student took from
        the capsule; re-reading every procedure would double what the teacher pays to read.
        """
        parts = [f"learnt from {self.learnt_from} solved incident{'s' if self.learnt_from != 1 else ''}"
                 ] if self.learnt_from else []
        if self.uses and self.success_rate is not None:
            parts.append(f"success {self.success_rate:.0%} over {self.uses} use{'s' if self.uses != 1 else ''}")
        else:
            parts.append("not used yet")
        return f"{self.skill} ({'; '.join(parts)})"

    @property
    def record(self) -> tuple[int, float]:
        """(incidents observed, Beta(1, 1) posterior success) over everything known of the procedure.

        The incidents it was learnt from were each solved by following it (consolidation learns only
        from correct runs), so they count as successes beside its applied uses: a capsule learnt
        from five solved incidents is proven before its first retrieval, and loses that standing
        by its own failures.
        """
        n = self.learnt_from + self.uses
        return n, (self.learnt_from + self.successes + 1) / (n + 2)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "skill": self.skill, "trigger": self.trigger, "procedure": list(self.procedure),
                "commands": list(self.commands), "score": round(self.score, 4), "why": self.why,
                "success_rate": self.success_rate, "uses": self.uses, "root_cause": self.root_cause,
                "learnt_from": self.learnt_from, "successes": self.successes}


@dataclass(frozen=True)
class PlanResult:
    """A student's investigation plan and its cost."""

    text: str
    usage: Usage = field(default_factory=Usage)

    @property
    def tokens(self) -> int:
        return self.usage.total


@dataclass(frozen=True)
class ProbeResult:
    """The teacher's capability probe: score 1–5, its raw words, and the strategy the score selects."""

    score: int
    response: str
    strategy: Strategy
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class Correction:
    """The teacher's guidance for the student (never the answer), sized by the strategy."""

    text: str
    strategy: Strategy
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class Briefing:
    """What the student starts the investigation loop with."""

    incident: Incident
    plan: str = ""
    guidance: str | None = None
    capsules: tuple[CapsuleBrief, ...] = ()
    namespace: str | None = None  # the operator's default namespace (`-n`), when the alerts name none

    @property
    def default_namespace(self) -> str | None:
        return self.incident.namespace or self.namespace


@dataclass(frozen=True)
class Action:
    """One assistant reply in the loop: its text (a ```bash``` command or a ```json``` diagnosis) and cost.

    The loop parses the text with `parsing.parse_action`, the same parser for every student, so an LLM
    and a reference agent are held to one output format.
    """

    text: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"


@runtime_checkable
class Student(Protocol):
    """The agent being taught: plans, then investigates one command per step."""

    name: str

    def plan(self, incident: Incident, capsules: Sequence[CapsuleBrief] = (),
             guidance: str | None = None) -> PlanResult: ...

    def start(self, briefing: Briefing) -> list[Message]: ...

    def act(self, messages: list[Message]) -> Action: ...


@runtime_checkable
class FinalAnswerer(Protocol):
    """Optional student capability: one last reply that is the diagnosis only, after a limit.

    A run that a budget, repetition or format limit stops often has the evidence in hand (a small
    model found the panic, then repeated the command); asking once for the diagnosis, constrained
    to its schema where the backend can, turns that evidence into an answer. Students without it
    (the reference student) end at the limit as before.
    """

    def final_answer(self, messages: list[Message]) -> Action: ...


@runtime_checkable
class Teacher(Protocol):
    """Reads incident + plan: rates the student (probe), then writes guidance (correction)."""

    name: str
    probe_token_limit: int
    correction_token_limit: int

    def probe(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> ProbeResult: ...

    def correct(self, incident: Incident, plan: str, probe: ProbeResult,
                capsules: Sequence[CapsuleBrief] = ()) -> Correction: ...
