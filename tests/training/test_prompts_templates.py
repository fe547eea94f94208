"""Teacher prompt overrides: checked, escaped, written and read back, and really used by the LLM teacher."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_sre.agents.factory import make_teacher
from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.llm.teacher_prompts import (
    as_template,
    check_template,
    load_teacher_prompts,
    packaged_prompts,
    placeholders,
    write_teacher_prompts,
)
from atlas_sre.agents.types import Incident
from atlas_sre.models.scripted import ScriptedModel

INCIDENT = Incident.of("checkout returns 503", alerts=[{"labels": {"namespace": "shop"}}])


def test_placeholders_and_escaping() -> None:
    assert placeholders("a $incident ${plan} $$x $incident") == ["incident", "plan"]
    text = as_template("teacher_probe", "Plan: $plan costs $5 at $HOME, keep $$ and ${checks}")
    assert text == "Plan: $plan costs $$5 at $$HOME, keep $$ and ${checks}"
    check_template("teacher_probe", text)


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ("Score the plan $answer", "uses $answer, which the teacher does not supply"),
    ("costs $5", "Invalid placeholder"),
])
def test_check_template_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("$", r"\$")):
        check_template("teacher_probe", text)


def test_write_and_load_round_trip(tmp_path: Path) -> None:
    prompts = {**packaged_prompts(("teacher_system", "teacher_probe")), "teacher_system": "Be terse.\n"}
    write_teacher_prompts(tmp_path, prompts)
    (tmp_path / "notes.txt").write_text("ignored")
    assert load_teacher_prompts(tmp_path) == prompts


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such folder"):
        load_teacher_prompts(tmp_path / "missing")
    with pytest.raises(ValueError, match="no teacher prompt files"):
        load_teacher_prompts(tmp_path)
    (tmp_path / "teacher_probe.md").write_text("Rate $plan against $truth")
    with pytest.raises(ValueError, match=r"teacher_probe uses \$truth"):
        load_teacher_prompts(tmp_path)


def test_the_teacher_sends_the_overrides() -> None:
    model = ScriptedModel(["Score: 2/5 - missing: A", "<teaching>Run `analyze -A`.</teaching>"])
    teacher = make_teacher(model, prompts={"teacher_system": "SYSTEM OVERRIDE",
                                           "teacher_checks": "Z. Look at the mesh in $namespace",
                                           "teacher_probe": "Rate: $plan\n$checks"})
    assert isinstance(teacher, LLMTeacher)
    probe = teacher.probe(INCIDENT, "list pods")
    teacher.correct(INCIDENT, "list pods", probe)
    first, second = model.calls
    assert first.messages[0]["content"] == "SYSTEM OVERRIDE\n"
    assert first.last_user.startswith("Rate: list pods\nZ. Look at the mesh in")
    assert "Z. Look at the mesh" in second.last_user and "Give guided hints" in second.last_user  # packaged medium


def test_reference_teacher_refuses_prompts() -> None:
    with pytest.raises(ValueError, match="apply to a model teacher"):
        make_teacher("reference:teacher", prompts={"teacher_system": "x"})
