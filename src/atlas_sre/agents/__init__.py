"""agents room: the student and teacher roles, their prompts, output parsing and the investigation loop.

- `loop`: `InvestigationLoop` / `run_investigation` — one read-only command per step in an
  `Environment` (`execute(command)`), budgets, repetition guard; the message list is the trajectory.
- `llm/`: roles played by any `ChatModel` (prompts in `agents/prompts/*.md`).
- `reference/`: the built-in rule-based roles (no LLM, deterministic); their knowledge is data
  (`reference/knowledge/*.yaml`): phrasebook, evidence rules, curriculum.
- `factory`: `make_student(spec)` / `make_teacher(spec)` pick the implementation: `reference:student` /
  `reference:teacher` are resolved here (`parse_agent_spec`), anything else is a chat model.

Agents are told an `Incident` (summary + alerts) and read command output; nothing else reaches them.
"""

from atlas_sre.agents.exceptions import FormatError, InterruptAgentFlow, LimitsExceeded, Refused, Submitted
from atlas_sre.agents.factory import ReferenceSpec, make_student, make_teacher, parse_agent_spec, resolve_model
from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.loop import InvestigationLoop, LoopConfig, command_key, run_investigation
from atlas_sre.agents.parsing import parse_action, parse_probe_score, teaching_text
from atlas_sre.agents.reference.data import ReferenceData
from atlas_sre.agents.reference.student import ReferenceStudent, phrase_commands
from atlas_sre.agents.reference.teacher import Assessment, ReferenceTeacher
from atlas_sre.agents.tokens import clip_tokens, count_tokens
from atlas_sre.agents.trajectory import TRAJECTORY_FORMAT, Step, Trajectory
from atlas_sre.agents.types import (
    Action,
    Briefing,
    CapsuleBrief,
    Correction,
    Incident,
    PlanResult,
    ProbeResult,
    Strategy,
    Student,
    Teacher,
    Usage,
    strategy_for,
)

__all__ = [
    "TRAJECTORY_FORMAT",
    "Action",
    "Assessment",
    "Briefing",
    "CapsuleBrief",
    "Correction",
    "FormatError",
    "Incident",
    "InterruptAgentFlow",
    "InvestigationLoop",
    "LLMStudent",
    "LLMTeacher",
    "LimitsExceeded",
    "LoopConfig",
    "PlanResult",
    "ProbeResult",
    "ReferenceData",
    "ReferenceSpec",
    "ReferenceStudent",
    "ReferenceTeacher",
    "Refused",
    "Step",
    "Strategy",
    "Student",
    "Submitted",
    "Teacher",
    "Trajectory",
    "Usage",
    "clip_tokens",
    "command_key",
    "count_tokens",
    "make_student",
    "make_teacher",
    "parse_action",
    "parse_agent_spec",
    "parse_probe_score",
    "phrase_commands",
    "resolve_model",
    "run_investigation",
    "strategy_for",
    "teaching_text",
]
