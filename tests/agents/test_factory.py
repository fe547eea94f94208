"""Agent specs: `reference:student` / `reference:teacher` are resolved by the agents room, other specs
are chat models played by the LLM agents; misuse is a one-line error that says what is valid."""

from __future__ import annotations

import pytest

from atlas_sre.agents.factory import ReferenceSpec, make_student, make_teacher, parse_agent_spec
from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.reference.student import ReferenceStudent
from atlas_sre.agents.reference.teacher import ReferenceTeacher
from atlas_sre.models import ModelError, ScriptedModel

VALID = (
    "valid schemes are openai:, hf:, llamacpp:, reference: (e.g. openai:gpt-4o-mini, "
    "openai:MODEL@http://host:port/v1, llamacpp:/path/model.gguf, reference:student)"
)


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_reference_specs(role: str) -> None:
    spec = parse_agent_spec(f"reference:{role}")
    assert spec == ReferenceSpec(role) and spec.name == f"reference:{role}"  # type: ignore[arg-type]
    assert parse_agent_spec(" reference: student ") == ReferenceSpec("student")
    assert parse_agent_spec("openai:gpt-4o-mini") is None  # a chat model: valid, built by the models room


def test_reference_specs_make_the_rule_based_agents() -> None:
    student = make_student("reference:student", max_steps=7)
    assert isinstance(student, ReferenceStudent) and student.max_commands == 7
    teacher = make_teacher("reference:teacher", probe_token_limit=20, correction_token_limit=60)
    assert isinstance(teacher, ReferenceTeacher) and (teacher.probe_token_limit, teacher.correction_token_limit) == (
        20, 60)
    assert make_student(student) is student and make_teacher(teacher) is teacher
    assert isinstance(make_student(ScriptedModel(["x"])), LLMStudent)
    assert isinstance(make_teacher(ScriptedModel(["x"])), LLMTeacher)


def test_reference_role_errors() -> None:
    with pytest.raises(ModelError) as info:
        parse_agent_spec("reference:judge")
    assert str(info.value) == "unknown reference role in 'reference:judge': valid roles are student, teacher"
    with pytest.raises(ModelError) as info:
        parse_agent_spec("reference:")
    assert str(info.value) == "model spec 'reference:' names no model: e.g. reference:student"
    with pytest.raises(ValueError, match=r"^reference:teacher cannot play the student; use reference:student$"):
        make_student("reference:teacher")
    with pytest.raises(ValueError, match=r"^reference:student cannot play the teacher; use reference:teacher$"):
        make_teacher("reference:student")


@pytest.mark.parametrize("spec", ["foo:bar", "gpt-4o-mini", "", "Reference:student"])
def test_unknown_schemes_list_the_agent_schemes_too(spec: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_agent_spec(spec)
    assert str(info.value) == f"unknown model spec '{spec}': {VALID}"
    with pytest.raises(ModelError, match="valid schemes"):
        make_student(spec)
