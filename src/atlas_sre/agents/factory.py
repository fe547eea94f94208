"""Roles from specs: `reference:student` / `reference:teacher` are the built-in rule-based agents,
anything else is a chat model (a spec string, a `ChatModel`, a transformers model) played by an LLM agent.

The protocol and the CLI take agent specs; this is the one place that decides which agent class
plays a role. The `reference:` scheme is resolved here, not in the models room: a reference agent
is code, not a language model, so there is nothing to load and nothing to chat with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.reference.student import ReferenceStudent
from atlas_sre.agents.reference.teacher import ReferenceTeacher
from atlas_sre.agents.types import Student, Teacher
from atlas_sre.models.base import ChatModel
from atlas_sre.models.spec import BACKENDS, load_model, parse_spec, valid_schemes
from atlas_sre.models.text import model_error

Role = Literal["student", "teacher"]
ROLES: tuple[Role, ...] = ("student", "teacher")
REFERENCE = "reference"
_EXTRA_SCHEMES = {REFERENCE: "reference:student"}


@dataclass(frozen=True)
class ReferenceSpec:
    """`reference:ROLE`: the built-in rule-based agent for that role."""

    role: Role

    @property
    def name(self) -> str:
        return f"{REFERENCE}:{self.role}"


def parse_agent_spec(spec: str) -> ReferenceSpec | None:
    """Validate an agent spec string (for CLI flags), building nothing: a `ReferenceSpec`, or None for a
    chat-model spec (checked by the models room). Errors are one-line `ModelError`s listing what is valid."""
    scheme, sep, rest = spec.strip().partition(":")
    if scheme == REFERENCE and sep:
        role = rest.strip()
        if not role:
            raise model_error(f"model spec '{spec}' names no model: e.g. {_EXTRA_SCHEMES[REFERENCE]}")
        if role not in ROLES:
            raise model_error(f"unknown reference role in 'reference:{role}': valid roles are {', '.join(ROLES)}")
        return ReferenceSpec(role)  # type: ignore[arg-type]
    if not sep or scheme not in BACKENDS:
        raise model_error(f"unknown model spec '{spec}': {valid_schemes(_EXTRA_SCHEMES)}")
    parse_spec(spec)
    return None


def resolve_model(spec: Any, tokenizer: Any = None) -> ChatModel:
    """A ChatModel from a spec string, a ChatModel, a (model, tokenizer) pair or a loaded transformers model."""
    return load_model(spec, tokenizer=tokenizer) if tokenizer is not None else load_model(spec)


def _reference_or_model(model: Any, role: Role) -> ReferenceSpec | ChatModel:
    """The reference spec a string names (wrong role: an error), else the chat model for `model`."""
    found = parse_agent_spec(model) if isinstance(model, str) else model
    if not isinstance(found, ReferenceSpec):
        return resolve_model(model)
    if found.role != role:
        raise ValueError(f"{found.name} cannot play the {role}; use reference:{role}")
    return found


def _make(model: Any, role: Role, agents: tuple[type, ...], reference: Callable[[], Any],
          llm: Callable[[ChatModel], Any]) -> Any:
    if isinstance(model, agents):
        return model
    found = _reference_or_model(model, role)
    return reference() if isinstance(found, ReferenceSpec) else llm(found)


def make_student(model: Any, *, max_steps: int = 20, tool_mode: str = "auto", **options: Any) -> Student:
    """The student for `model`: an existing Student is returned as is.

    `tool_mode` (`agents.llm.tools.TOOL_MODES`) applies to chat models only: a reference student
    writes its replies itself, so there is nothing to constrain or call.
    """
    return _make(model, "student", (ReferenceStudent, LLMStudent),  # type: ignore[no-any-return]
                 lambda: ReferenceStudent(max_commands=min(12, max_steps), **options),
                 lambda chat: LLMStudent(chat, max_steps=max_steps, tool_mode=tool_mode, **options))


def make_teacher(model: Any, *, probe_token_limit: int = 50, correction_token_limit: int = 200,
                 prompts: Mapping[str, str] | None = None) -> Teacher:
    """The teacher for `model` with the given budgets (an existing Teacher keeps its own).

    `prompts` overrides an LLM teacher's templates by name (`agents/llm/teacher_prompts.py`); the
    reference teacher writes from its curriculum, not from prompts, so it refuses them.
    """
    def reference() -> ReferenceTeacher:
        if prompts:
            raise ValueError("teacher prompts apply to a model teacher, not to reference:teacher")
        return ReferenceTeacher(probe_token_limit=probe_token_limit, correction_token_limit=correction_token_limit)

    return _make(model, "teacher", (ReferenceTeacher, LLMTeacher),  # type: ignore[no-any-return]
                 reference,
                 lambda chat: LLMTeacher(chat, probe_token_limit=probe_token_limit,
                                         correction_token_limit=correction_token_limit, prompts=prompts))
