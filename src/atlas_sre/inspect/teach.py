"""The ATLAS teaching step as an Inspect solver: plan → probe → correct → revised plan, before the agent.

The evaluated model is the student: it writes its investigation plan from the project's own plan
prompts (`student_plan_system`, `student_plan`). The project's teacher (default the built-in
reference teacher, `reference:teacher`; any teacher spec `make_teacher` takes) rates the plan and
writes guidance through the protocol's own functions (`Teacher.probe`, `protocol.steps.correct_plan`,
with the protocol's certification: a plan probed at `certify_score` stands as it is, with no
correction call and no re-plan). Otherwise the student revises its plan to follow the guidance,
as in the protocol's `Correct` step. The revised plan and the guidance go into the user message,
worded as every student of the project reads them (`plan_block`, `guidance_block`); the teacher
reads the incident and the plan only, never the cluster or the scenario.

What happened is kept in the sample's store (`atlas_sre:teaching`) and so in the log.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver

from atlas_sre.agents.factory import make_teacher
from atlas_sre.agents.prompting import guidance_block, plan_block, render
from atlas_sre.agents.types import Incident
from atlas_sre.environments import default_tools
from atlas_sre.protocol.steps import correct_plan, is_certified

PLAN_TOKENS = 300
"""The student's plan budget (the project's LLM student's `plan_token_limit`)."""


async def student_plan(incident: Incident, guidance: str | None = None) -> str:
    """The evaluated model's plan for the incident (revised to follow `guidance` when given)."""
    messages = [ChatMessageSystem(content=render("student_plan_system")),
                ChatMessageUser(content=render("student_plan", incident=incident.text(), capsule_block="",
                                               guidance_block=guidance_block(guidance)))]
    output = await get_model().generate(messages, config=GenerateConfig(max_tokens=PLAN_TOKENS))
    return output.completion.strip()


def teacher_for(spec: str, probe_token_limit: int, correction_token_limit: int, analyzer: bool) -> Any:
    """The teacher, told which tools the student has (what exists, never what is true)."""
    teacher = make_teacher(spec, probe_token_limit=probe_token_limit, correction_token_limit=correction_token_limit)
    if hasattr(teacher, "available_tools"):
        teacher.available_tools = frozenset(default_tools(analyzer=analyzer))
    if hasattr(teacher, "name_commands"):  # the evaluated student is a model: it copies exact commands
        teacher.name_commands = True
    return teacher


@solver
def teach(teacher: str = "reference:teacher", probe_token_limit: int = 50, correction_token_limit: int = 200,
          certify_score: int | None = 5, analyzer: bool = True) -> Solver:
    """Plan, probe, correct, revise; put the plan and the teacher's guidance in the user message."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        brief = state.metadata["incident"]
        incident = Incident.of(brief["summary"], brief["alerts"])
        coach = teacher_for(teacher, probe_token_limit, correction_token_limit, analyzer)
        plan = await student_plan(incident)
        probe = await anyio.to_thread.run_sync(partial(coach.probe, incident, plan, ()))
        certified = is_certified(probe, certify_score)
        correction = await anyio.to_thread.run_sync(
            partial(correct_plan, coach, incident, plan, probe, (), certified))
        guided = plan if certified else await student_plan(incident, correction.text)
        teaching = (plan_block(guided) + guidance_block(correction.text)).strip()
        state.user_prompt.text = state.user_prompt.text.rstrip() + "\n\n" + teaching
        state.store.set("atlas_sre:teaching", {
            "plan": plan, "capability_score": probe.score, "probe_response": probe.response,
            "strategy": probe.strategy, "certified": certified, "guidance": correction.text, "guided_plan": guided})
        return state

    return solve
