"""Tool modes of the LLM student with the scripted model: native calls and constrained JSON replies
become the text protocol's replies, so the one parser and the loop judge them as before."""

from __future__ import annotations

import json

import pytest
from agent_doubles import DIAGNOSIS, FakeEnvironment

from atlas_sre.agents.factory import make_student
from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.tools import (
    action_schema,
    call_text,
    constrained_text,
    diagnosis_schema,
    student_tools,
    wire_messages,
)
from atlas_sre.agents.loop import LoopConfig, run_investigation
from atlas_sre.agents.reference.student import ReferenceStudent
from atlas_sre.agents.types import Briefing, Incident
from atlas_sre.grading.diagnosis import parse_diagnosis
from atlas_sre.models import ScriptedModel
from atlas_sre.models.base import ToolCall, ToolsUnsupported
from atlas_sre.models.llamacpp_backend import LlamaCppChatModel, LlamaCppConfig

INCIDENT = Incident.of("Checkout returns 503", [{"alertname": "HighRequestErrorRate", "namespace": "shop"}])
DIAG_JSON = DIAGNOSIS.removeprefix("```json\n").removesuffix("\n```")


def run(student: LLMStudent, env: FakeEnvironment | None = None, steps: int = 5):  # noqa: ANN201 - a Trajectory
    return run_investigation(student, env or FakeEnvironment(), Briefing(INCIDENT, "1. get pods"),
                             config=LoopConfig(max_steps=steps, final_turn=False))


def test_constrained_replies_run_through_the_loop_unchanged() -> None:
    chat = ScriptedModel(['{"command": "kubectl get pods -n shop"}', json.dumps({"diagnosis": json.loads(DIAG_JSON)})])
    env = FakeEnvironment()
    traj = run(LLMStudent(chat, tool_mode="constrained"), env)
    assert traj.outcome == "submitted" and env.ran == ["kubectl get pods -n shop"]
    assert [s.kind for s in traj.steps] == ["command", "submit"]
    assert traj.messages[2]["content"] == "```bash\nkubectl get pods -n shop\n```"
    assert all(c.json_schema == action_schema() and c.tools is None for c in chat.calls)
    assert "Reply with one JSON object" in chat.calls[0].messages[0]["content"]
    assert "Reply with one JSON object" not in traj.messages[0]["content"]  # only what is sent changes


def test_a_constrained_reply_cut_off_is_a_format_error() -> None:
    cut = '{"diagnosis": {"entities": [{"name": "shop/Dep'
    chat = ScriptedModel([cut, '{"command": "kubectl get svc"}', DIAGNOSIS])
    traj = run(LLMStudent(chat, tool_mode="constrained"))
    assert [s.kind for s in traj.steps][:2] == ["format_error", "command"]


def test_the_command_layer_still_refuses_what_the_schema_cannot_forbid() -> None:
    chat = ScriptedModel(['{"command": "kubectl delete pod a -n shop"}', '{"command": "kubectl get pods"}', DIAGNOSIS])
    env = FakeEnvironment()
    traj = run(LLMStudent(chat, tool_mode="constrained"), env)
    assert traj.steps[0].kind == "refused" and env.ran == ["kubectl get pods"]


def test_native_calls_become_blocks_and_results_go_back_as_tool_messages() -> None:
    chat = ScriptedModel([ToolCall("c1", "kubectl", '{"command": "get pods -n shop"}'),
                          ToolCall("c2", "analyze", '{"args": "-A"}'),
                          ToolCall("c3", "submit_diagnosis", DIAG_JSON)])
    env = FakeEnvironment()
    traj = run(LLMStudent(chat, tool_mode="native"), env)
    assert traj.outcome == "submitted" and env.ran == ["kubectl get pods -n shop", "analyze -A"]
    last = chat.calls[-1]
    assert last.tools == student_tools() and last.tool_choice == "auto"
    roles = [m["role"] for m in last.messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert [m.get("tool_call_id") for m in last.messages if m["role"] == "tool"] == ["c1", "c2"]
    assert last.messages[2]["tool_calls"][0]["function"]["name"] == "kubectl"
    assert last.messages[3]["content"] == traj.messages[3]["content"]  # the observation, as the loop wrote it


def test_native_mode_text_answers_still_count() -> None:
    chat = ScriptedModel(["```bash\nkubectl get pods -n shop\n```", DIAGNOSIS])
    traj = run(LLMStudent(chat, tool_mode="native"))
    assert traj.outcome == "submitted"
    assert [m["role"] for m in chat.calls[-1].messages] == ["system", "user", "assistant", "user"]


def test_two_calls_in_one_reply_are_refused_like_two_blocks() -> None:
    text = call_text(ToolCall("a", "kubectl", '{"command": "kubectl get pods"}'))
    assert text == "```bash\nkubectl get pods\n```"
    chat = ScriptedModel([ToolCall("a", "nope", "{}"), ToolCall("b", "kubectl", "not json"),
                          ToolCall("c", "kubectl", '{"command": "kubectl get svc"}'), DIAGNOSIS])
    traj = run(LLMStudent(chat, tool_mode="native"))
    assert [s.kind for s in traj.steps] == ["format_error", "format_error", "command", "submit"]


def test_submit_diagnosis_parameters_are_the_diagnosis_schema() -> None:
    schema = diagnosis_schema()
    assert set(schema["properties"]) == {"entities", "propagations", "category", "summary"}
    assert "$defs" not in json.dumps(schema) and "$ref" not in json.dumps(schema)
    submit = student_tools()[2]["function"]
    assert submit["name"] == "submit_diagnosis" and submit["parameters"] == schema
    assert parse_diagnosis(constrained_text(json.dumps({"diagnosis": json.loads(DIAG_JSON)}))).root_causes == [
        "shop/DestinationRule/reviews"]


def test_wire_messages_leave_plain_turns_alone() -> None:
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
            {"role": "assistant", "content": "x"}, {"role": "user", "content": "o"}]
    assert wire_messages(msgs, {}) == msgs
    changed = {2: ("something else", (ToolCall("a", "kubectl", "{}"),))}
    assert wire_messages(msgs, changed) == msgs  # a log entry that no longer matches is ignored


def test_auto_is_text_for_local_models_and_modes_are_validated() -> None:
    assert LLMStudent(ScriptedModel(["x"]), tool_mode="auto").reply_mode == "text"
    assert LLMStudent(ScriptedModel(["x"], name="openai:m"), tool_mode="auto").reply_mode == "native"
    with pytest.raises(ValueError, match="unknown tool mode"):
        LLMStudent(ScriptedModel(["x"]), tool_mode="grammar")
    assert isinstance(make_student("reference:student", tool_mode="constrained"), ReferenceStudent)


def test_backends_without_tools_say_so_in_one_line() -> None:
    model = LlamaCppChatModel(LlamaCppConfig(path="/nonexistent.gguf"))
    with pytest.raises(ToolsUnsupported, match="does not offer native tool calls") as info:
        model.complete([{"role": "user", "content": "hi"}], max_tokens=5, tools=student_tools())
    assert "\n" not in str(info.value)
    student = LLMStudent(model, tool_mode="native")
    with pytest.raises(ToolsUnsupported):
        student.act([{"role": "user", "content": "hi"}])


def test_hermes_calls_written_as_text_count_as_tool_calls() -> None:
    """Qwen's template asks for `<tool_call>` JSON; a server that does not parse it returns text."""
    hermes = '<tool_call>\n{"name": "kubectl", "arguments": {"command": "kubectl get pods -n shop"}}\n</tool_call>'
    chat = ScriptedModel([hermes, DIAGNOSIS])
    env = FakeEnvironment()
    traj = run(LLMStudent(chat, tool_mode="native"), env)
    assert traj.outcome == "submitted" and env.ran == ["kubectl get pods -n shop"]
    sent = chat.calls[-1].messages
    assert sent[2]["tool_calls"][0]["function"]["arguments"] == '{"command": "kubectl get pods -n shop"}'
    assert sent[3] == {"role": "tool", "tool_call_id": "call_text_0", "content": traj.messages[3]["content"]}


def test_the_action_schema_admits_only_graded_diagnoses() -> None:
    """An in-loop answer must name `namespace/Kind/name` with one of the categories, as the final turn must."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = action_schema()
    good = {"diagnosis": {"entities": [{"name": "shop/DestinationRule/reviews", "contributing_factor": True,
                                        "evidence": "IST0101"}], "propagations": [],
                          "category": "Misconfiguration", "summary": "subset v3 missing"}}
    jsonschema.validate(good, schema)
    jsonschema.validate({"command": "kubectl get pods -A"}, schema)
    for bad_name in ("shop/reviews", "reviews"):
        bad = {"diagnosis": {**good["diagnosis"], "entities": [{**good["diagnosis"]["entities"][0], "name": bad_name}]}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
