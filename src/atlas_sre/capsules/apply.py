"""Application: the capsules an incident retrieves, and the text block a student's plan prompt gets.

Two small functions for the agents room:

    applied = capsules_for_incident(retriever, incident_text, k=3)
    prompt += render_for_plan(applied, namespace="shop")
    ...
    record["applied_capsules"] = applied_ids(applied)   # so outcomes are counted (record_outcome)

Commands are rendered with what the incident already tells (its namespace, and a workload/service
when the caller knows one); a parameter not known yet is shown as `<workload>`, a slot the student
fills from what it observes (`{…}` could be copied literally into a command).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from atlas_sre.capsules.model import Capsule
from atlas_sre.capsules.retrieval import CapsuleRetriever, IncidentQuery

_PARAM = re.compile(r"\{(namespace|workload|service|pod)\}")


@dataclass(frozen=True)
class AppliedCapsule:
    """A retrieved capsule, its retrieval score and the one-line reason it matched."""

    capsule: Capsule
    score: float
    why: str

    @property
    def id(self) -> str:
        return self.capsule.id


def capsules_for_incident(retriever: CapsuleRetriever, incident: str | IncidentQuery, k: int = 3,
                          min_score: float | None = None) -> list[AppliedCapsule]:
    """The top-`k` retrievable capsules for the incident (summary + alerts + symptoms seen so far)."""
    hits = retriever.retrieve(incident, top_k=k, min_score=min_score)
    return [AppliedCapsule(h.capsule, h.score, h.why) for h in hits]


def applied_ids(applied: Sequence[AppliedCapsule]) -> list[str]:
    """Ids to put in the episode record's `applied_capsules`."""
    return [a.id for a in applied]


def render_command(command: str, **values: str | None) -> str:
    """Fill the known parameters; unknown ones become `<name>` (a slot for the student to fill)."""
    return _PARAM.sub(lambda m: values.get(m.group(1)) or f"<{m.group(1)}>", command)


def render_for_plan(applied: Sequence[AppliedCapsule], namespace: str | None = None,
                    workload: str | None = None, service: str | None = None, max_steps: int = 8) -> str:
    """The block a plan prompt receives; empty when nothing was retrieved.

    Per capsule: skill, success rate and uses, when to use it (trigger and why it matched), the
    procedure steps, the commands rendered for this incident, and the output that proves the cause.
    """
    if not applied:
        return ""
    lines = ["Skill Capsules (procedures that solved similar incidents; follow them when they fit):"]
    for n, a in enumerate(applied, 1):
        c = a.capsule
        rate = (f"success {c.success_rate:.0%} over {c.uses} use{'s' if c.uses != 1 else ''}" if c.uses
                else "not used yet")
        lines.append(f"{n}. {c.skill} ({rate}, {c.status.value})")
        lines.append(f"   When: {c.trigger}" + (f" [matched {a.why}]" if a.why else ""))
        lines.append("   Steps:")
        lines += [f"   - {s}" for s in c.procedure[:max_steps]]
        if c.commands:
            lines.append("   Commands:")
            values = {"namespace": namespace, "workload": workload, "service": service, "pod": workload}
            lines += [f"   - {render_command(cmd, **values)}" for cmd in c.commands]
        if c.evidence:
            lines.append("   Proof: " + "; ".join(e.pattern for e in c.evidence))
    return "\n".join(lines) + "\n"
