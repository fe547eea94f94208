"""Roles from models: a `reference:*` marker gives the rule-based agent, any other ChatModel the LLM agent.

The protocol and the CLI take models (objects, spec strings, transformers pairs); this is the one
place that decides which agent class plays the role.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.agents.llm_student import LLMStudent
from atlas_sre.agents.llm_teacher import LLMTeacher
from atlas_sre.agents.reference_student import ReferenceStudent
from atlas_sre.agents.reference_teacher import ReferenceTeacher
from atlas_sre.agents.types import Student, Teacher
from atlas_sre.models.base import ChatModel
from atlas_sre.models.reference import is_reference
from atlas_sre.models.spec import load_model


def resolve_model(spec: Any, tokenizer: Any = None) -> ChatModel:
    """A ChatModel from a spec string, a ChatModel, a (model, tokenizer) pair or a loaded transformers model."""
    return load_model(spec, tokenizer=tokenizer) if tokenizer is not None else load_model(spec)


def make_student(model: Any, *, max_steps: int = 20, **options: Any) -> Student:
    """The student for `model`: an existing Student is returned as is."""
    if isinstance(model, (ReferenceStudent, LLMStudent)):
        return model
    chat = resolve_model(model)
    if is_reference(chat):
        if is_reference(chat, "teacher"):
            raise ValueError("reference:teacher cannot play the student; use reference:student")
        return ReferenceStudent(max_commands=min(12, max_steps), **options)
    return LLMStudent(chat, max_steps=max_steps, **options)


def make_teacher(model: Any, *, probe_token_limit: int = 50, correction_token_limit: int = 200) -> Teacher:
    """The teacher for `model` with the given budgets (an existing Teacher keeps its own)."""
    if isinstance(model, (ReferenceTeacher, LLMTeacher)):
        return model
    chat = resolve_model(model)
    if is_reference(chat):
        if is_reference(chat, "student"):
            raise ValueError("reference:student cannot play the teacher; use reference:teacher")
        return ReferenceTeacher(probe_token_limit=probe_token_limit, correction_token_limit=correction_token_limit)
    return LLMTeacher(chat, probe_token_limit=probe_token_limit, correction_token_limit=correction_token_limit)
