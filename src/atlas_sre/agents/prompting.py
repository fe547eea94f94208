"""Prompt templates: Markdown files in `agents/prompts/`, filled with `string.Template`.

Templates are files so prompts can be read, diffed and tuned without touching code, and
`string.Template` (`$name`) leaves the JSON braces in the prompts alone. `render` uses strict
substitution: a template asking for a value the code does not supply is a bug, caught by tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from string import Template

from atlas_sre.agents.types import Briefing, CapsuleBrief
from atlas_sre.models.base import Message

PROMPT_NAMES = (
    "student_system", "student_task", "student_plan", "student_plan_system", "format_error", "observation",
    "repeated_command", "refused_command", "limit_reached", "final_turn", "teacher_system", "teacher_checks",
    "teacher_probe", "teacher_probe_correct",
    "teacher_correct_light", "teacher_correct_medium", "teacher_correct_heavy",
    "student_tools", "student_constrained", "student_ran",
)


@cache
def template(name: str) -> Template:
    """The template `prompts/<name>.md` (cached)."""
    if name not in PROMPT_NAMES:
        raise KeyError(f"unknown prompt {name!r}; known: {', '.join(PROMPT_NAMES)}")
    text = resources.files("atlas_sre.agents").joinpath("prompts", f"{name}.md").read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: object) -> str:
    """Fill `prompts/<name>.md`; every `$placeholder` must be supplied."""
    return template(name).substitute({k: str(v) for k, v in values.items()}).strip() + "\n"


CAPSULE_HEADING = "Procedures that worked on similar incidents"
OTHERS_HEADING = "Other matches (their commands and proofs)"
APPLIED_HEADING = ("Skill Capsules the plan applies (their steps are in the plan; a strong record on similar "
                   "incidents is evidence that the plan works)")


def _listed(heading: str, lines: Sequence[str]) -> str:
    """`\\n<heading>:\\n- line\\n...` or empty when there are no lines."""
    return f"\n{heading}:\n" + "\n".join(f"- {line}" for line in lines) + "\n" if lines else ""


def capsule_block(capsules: Sequence[CapsuleBrief], heading: str = CAPSULE_HEADING) -> str:
    """The capsule the student follows in full (the best match, first), then the others by commands and proofs.

    `\\n<heading>:\\n- skill (when: trigger): step; step\\n` plus, when more matched,
    `Other matches (their commands and proofs):\\n- skill (when: …); run: …; proof: …\\n`; empty when there are none.
    Why not every procedure: matches for one symptom repeat each other's steps, so the full texts cost
    the student (and the teacher reading its plan) tokens for nothing; commands and proofs are what differ.
    """
    if not capsules:
        return ""
    return _listed(heading, [capsules[0].text()]) + _listed(OTHERS_HEADING, [c.proof_line() for c in capsules[1:]])


def capsule_digest_block(capsules: Sequence[CapsuleBrief], heading: str = APPLIED_HEADING) -> str:
    """`\\n<heading>:\\n- skill (success 92% over 12 uses)\\n`: what a teacher reads of applied capsules."""
    return _listed(heading, [c.digest() for c in capsules])


def guidance_block(guidance: str | None) -> str:
    """The teacher's guidance as the student reads it, or empty."""
    if not guidance or not guidance.strip():
        return ""
    return f"\nGuidance from your teacher:\n{guidance.strip()}\n"


def plan_block(plan: str | None) -> str:
    """The student's own plan as a reminder in the task message, or empty."""
    if not plan or not plan.strip():
        return ""
    return f"Your investigation plan:\n{plan.strip()}\n"


def opening_messages(briefing: Briefing, max_steps: int) -> list[Message]:
    """Every student's first two messages: the system rules, then the task (incident, own plan,
    teacher guidance, applied capsules, default namespace), so an LLM and a reference student are
    briefed with the same words."""
    task = render("student_task", incident=briefing.incident.text(), plan_block=plan_block(briefing.plan),
                  guidance_block=guidance_block(briefing.guidance), capsule_block=capsule_block(briefing.capsules),
                  namespace=briefing.default_namespace or "default")
    return [{"role": "system", "content": render("student_system", max_steps=max_steps)},
            {"role": "user", "content": task}]
