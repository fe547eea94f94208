"""Native tool calls and JSON-schema replies over real HTTP (the stdlib fake OpenAI server).

What is asserted is what went over the socket: `tools`/`tool_choice`/`response_format` in the
request, a tool call read back, the tool result sent as a `tool` message with the call's id, the
fallback to the text protocol when a server refuses tools, and the teacher's budgets.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai_fake import FakeOpenAIServer, Reply, chat_body

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.llm.tools import action_schema, student_tools
from atlas_sre.agents.types import Incident
from atlas_sre.models import ModelError, OpenAIChatModel, OpenAIConfig
from atlas_sre.models.base import ToolCall, ToolsUnsupported
from atlas_sre.protocol.atlas import ATLASInference

ASK = [{"role": "user", "content": "hi"}]
DIAGNOSIS = {"entities": [{"name": "shop/Deployment/checkout", "contributing_factor": True,
                           "evidence": "logs: DATABASE_URL is not set"}],
             "propagations": [], "category": "Misconfiguration", "summary": "checkout lacks DATABASE_URL"}


def tool_reply(name: str, arguments: dict[str, Any] | str, call_id: str = "call_1",
               prompt: int = 40, completion: int = 9) -> Reply:
    """A chat completion whose message is one tool call, with the server's usage."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    message = {"role": "assistant", "content": None,
               "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}]}
    return Reply(200, {"id": "c", "model": "tiny", "choices": [{"index": 0, "message": message,
                                                               "finish_reason": "tool_calls"}],
                       "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})


def model(server: FakeOpenAIServer, **options: Any) -> OpenAIChatModel:
    return OpenAIChatModel(OpenAIConfig(model="tiny", base_url=server.base_url, backoff_s=0, **options))


def test_without_the_new_keywords_the_request_is_unchanged() -> None:
    with FakeOpenAIServer() as server:
        out = model(server).complete(ASK, max_tokens=5)
    body = server.chats()[0].body
    assert set(body) == {"model", "messages", "max_tokens", "temperature"}
    assert out.tool_calls == ()


def test_tools_and_tool_choice_go_on_the_wire_and_the_call_comes_back() -> None:
    with FakeOpenAIServer() as server:
        server.queue(tool_reply("kubectl", {"command": "kubectl get pods -A"}))
        out = model(server).complete(ASK, max_tokens=64, tools=student_tools(), tool_choice="auto")
    body = server.chats()[0].body
    assert [t["function"]["name"] for t in body["tools"]] == ["kubectl", "analyze", "submit_diagnosis"]
    assert body["tool_choice"] == "auto" and body["max_tokens"] == 64
    assert "entities" in body["tools"][2]["function"]["parameters"]["properties"]
    assert out.tool_calls == (ToolCall("call_1", "kubectl", '{"command": "kubectl get pods -A"}'),)
    assert (out.prompt_tokens, out.completion_tokens, out.finish_reason) == (40, 9, "tool_calls")


def test_a_server_that_refuses_tools_raises_tools_unsupported() -> None:
    refusal = Reply(400, {"error": {"message": "registry.ollama.ai/library/x does not support tools"}})
    with FakeOpenAIServer() as server:
        server.queue(refusal)
        with pytest.raises(ToolsUnsupported) as info:
            model(server).complete(ASK, max_tokens=5, tools=student_tools(), tool_choice="auto")
    assert "does not accept tool calls (HTTP 400)" in str(info.value) and "\n" not in str(info.value)


def test_a_400_that_is_not_about_tools_stays_the_usual_error() -> None:
    with FakeOpenAIServer() as server:
        server.queue(Reply(400, {"error": {"message": "maximum context length is 2048 tokens"}}))
        with pytest.raises(ModelError) as info:
            model(server).complete(ASK, max_tokens=5, tools=student_tools())
    assert not isinstance(info.value, ToolsUnsupported) and "too long" in str(info.value)


def test_json_schema_falls_back_to_llama_cpp_form_once_and_remembers() -> None:
    refusal = Reply(422, {"detail": [{"loc": ["body", "response_format", "type"],
                                      "msg": "Input should be 'text' or 'json_object'"}]})
    with FakeOpenAIServer() as server:
        server.queue(refusal, Reply(200, chat_body('{"command": "kubectl get pods"}')),
                     Reply(200, chat_body('{"command": "kubectl get svc"}')))
        chat = model(server)
        first = chat.complete(ASK, max_tokens=20, json_schema=action_schema())
        chat.complete(ASK, max_tokens=20, json_schema=action_schema())
    formats = [s.body["response_format"] for s in server.chats()]
    assert formats[0]["type"] == "json_schema" and formats[0]["json_schema"]["schema"] == action_schema()
    assert formats[1] == formats[2] == {"type": "json_object", "schema": action_schema()}
    assert first.text == '{"command": "kubectl get pods"}'


def test_native_student_investigates_a_served_scenario_through_tool_calls() -> None:
    """Plan (text), a kubectl tool call run by the real command layer, its result sent back as a
    `tool` message with the call id, then submit_diagnosis ends the run."""
    with FakeOpenAIServer() as server:
        server.queue(Reply(200, chat_body("1. get pods\n2. read logs")),
                     tool_reply("kubectl", {"command": "get pods -A"}, "call_a"),
                     tool_reply("submit_diagnosis", DIAGNOSIS, "call_b", prompt=300, completion=60))
        student = LLMStudent(model(server), max_steps=4, tool_mode="auto")
        atlas = ATLASInference(student, "reference:teacher", max_steps=4)
        result = atlas.run_full_protocol(scenario="crashloop-missing-env", teach=False)
    plan, first, second = (s.body for s in server.chats())
    assert "tools" not in plan  # planning is plain text
    assert first["tools"] == second["tools"] and first["tool_choice"] == "auto"
    assert "tool calls" in first["messages"][0]["content"]  # the system prompt says tools exist
    sent_call, tool_result = second["messages"][-2:]
    assert sent_call["role"] == "assistant" and sent_call["tool_calls"][0]["id"] == "call_a"
    assert sent_call["tool_calls"][0]["function"]["name"] == "kubectl"
    assert tool_result["role"] == "tool" and tool_result["tool_call_id"] == "call_a"
    assert "checkout" in tool_result["content"] and "Exit code: 0" in tool_result["content"]
    traj = atlas.trajectories[-1]
    assert traj.outcome == "submitted" and [s.kind for s in traj.steps] == ["command", "submit"]
    assert traj.steps[0].command == "kubectl get pods -A"
    assert traj.messages[2]["content"] == "```bash\nkubectl get pods -A\n```"  # the loop saw the text protocol
    assert (traj.steps[1].prompt_tokens, traj.steps[1].completion_tokens) == (300, 60)  # as the server said
    assert traj.diagnosis is not None and traj.diagnosis["entities"][0]["name"] == "shop/Deployment/checkout"
    assert result["baseline_run"] is not None


def test_auto_falls_back_to_text_when_the_server_refuses_tools_and_remembers() -> None:
    refusal = Reply(400, {"error": {"message": '"auto" tool choice requires --enable-auto-tool-choice'}})
    with FakeOpenAIServer() as server:
        server.queue(refusal, Reply(200, chat_body("```bash\nkubectl get pods -A\n```")),
                     Reply(200, chat_body("```bash\nkubectl get svc -A\n```")))
        student = LLMStudent(model(server), tool_mode="auto")
        first = student.act([{"role": "system", "content": "rules"}, {"role": "user", "content": "task"}])
        second = student.act([{"role": "system", "content": "rules"}, {"role": "user", "content": "task"},
                              {"role": "assistant", "content": first.text}, {"role": "user", "content": "out"}])
    sent = [s.body for s in server.chats()]
    assert "tools" in sent[0] and "tools" not in sent[1] and "tools" not in sent[2]
    assert student.tools_refused and student.reply_mode == "text"
    assert first.text.startswith("```bash") and second.text.endswith("```")


def test_native_mode_does_not_fall_back() -> None:
    with FakeOpenAIServer() as server:
        server.queue(Reply(400, {"error": {"message": "tools are not supported"}}))
        student = LLMStudent(model(server), tool_mode="native")
        with pytest.raises(ToolsUnsupported):
            student.act([{"role": "user", "content": "task"}])


def test_teacher_budgets_hold_on_the_wire() -> None:
    """The probe asks for ≤ 50 tokens and the correction for ≤ 200, in the request itself."""
    with FakeOpenAIServer() as server:
        server.queue(Reply(200, chat_body("Score: 2/5", prompt=80, completion=5)),
                     Reply(200, chat_body("<teaching>run kubectl logs</teaching>", prompt=90, completion=7)))
        teacher = LLMTeacher(model(server))
        incident = Incident.of("checkout crashes", [{"alertname": "KubePodCrashLooping", "namespace": "shop"}])
        probe = teacher.probe(incident, "get pods")
        correction = teacher.correct(incident, "get pods", probe)
    budgets = [s.body["max_tokens"] for s in server.chats()]
    assert budgets[0] <= 50 and budgets[1] <= 200 and budgets == [50, 200]
    assert all("tools" not in s.body for s in server.chats())
    assert (probe.usage.prompt_tokens, probe.usage.completion_tokens) == (80, 5)
    assert (correction.usage.prompt_tokens, correction.usage.completion_tokens) == (90, 7)
