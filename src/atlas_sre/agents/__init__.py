"""agents room: the student and teacher roles, their prompts, output parsing and the investigation loop.

- `loop`: `InvestigationLoop` / `run_investigation` — one read-only command per step through the
  cluster room's `CommandRunner`, budgets, repetition guard; the message list is the trajectory.
- `llm_student` / `llm_teacher`: roles played by any `ChatModel` (prompts in `agents/prompts/*.md`).
- `reference_student` / `reference_teacher`: the built-in rule-based roles (no LLM, deterministic);
  their knowledge is data (`agents/data/*.yaml`): phrasebook, evidence rules, curriculum.
- `factory`: `make_student(model)` / `make_teacher(model)` pick the implementation for a model.

Agents are told an `Incident` (summary + alerts) and read command output; nothing else reaches them.
"""

from atlas_sre.agents.exceptions import FormatError, InterruptAgentFlow, LimitsExceeded, Refused, Submitted
from atlas_sre.agents.factory import make_student, make_teacher, resolve_model
from atlas_sre.agents.llm_student import LLMStudent
from atlas_sre.agents.llm_teacher import LLMTeacher
from atlas_sre.agents.loop import InvestigationLoop, LoopConfig, command_key, run_investigation
from atlas_sre.agents.parsing import parse_action, parse_probe_score, teaching_text
from atlas_sre.agents.reference_data import ReferenceData
from atlas_sre.agents.reference_student import ReferenceStudent, phrase_commands
from atlas_sre.agents.reference_teacher import Assessment, ReferenceTeacher
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
    "parse_probe_score",
    "phrase_commands",
    "resolve_model",
    "run_investigation",
    "strategy_for",
    "teaching_text",
]
