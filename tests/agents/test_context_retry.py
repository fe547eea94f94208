"""A request the backend says does not fit its context window is sent once more, shorter.

The student compacts older command output by a characters-per-token estimate; YAML and JSON pack
fewer characters into a token, so a backend can still refuse (seen: 12,462 tokens for an 8,192-token
llama.cpp context after `kubectl get virtualservices,gateways,destinationrules -A -o yaml`). The model
here is a test double that refuses any request over a character limit, as a backend refuses one over
its token window (the real backends' `ContextExceeded` are tested in tests/models)."""

from __future__ import annotations

import pytest

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.loop import observation_message
from atlas_sre.agents.types import Briefing, Incident
from atlas_sre.models import ContextExceeded, ScriptedModel
from atlas_sre.models.base import Message

YAML = "\n".join(f"  - name: route-{i}\n    destination: {{host: reviews, subset: v{i}}}" for i in range(400))


def window(limit: int, answer: str, sent: list[int]):  # noqa: ANN201 - a ScriptedModel responder
    def respond(messages: list[Message]) -> str:
        size = sum(len(m["content"]) for m in messages)
        sent.append(size)
        if size > limit:
            raise ContextExceeded(f"Requested tokens ({size}) exceed context window of {limit}")
        return answer
    return respond


def messages_with_big_output(student: LLMStudent) -> list[Message]:
    incident = Incident.of("Users get HTTP 503", [{"alertname": "HighRequestErrorRate", "namespace": "shop"}])
    messages = student.start(Briefing(incident, "1. kubectl get pods -A", None, (), "shop"))
    messages += [{"role": "assistant", "content": "```bash\nkubectl get virtualservices -A -o yaml\n```"},
                 {"role": "user", "content": observation_message(YAML, 0, 800, False)}]
    return messages


@pytest.mark.parametrize("mode", ["text", "constrained"])
def test_a_reply_that_does_not_fit_is_asked_again_with_less(mode: str) -> None:
    sent: list[int] = []
    answer = '{"command": "analyze -A"}' if mode == "constrained" else "```bash\nanalyze -A\n```"
    probe = LLMStudent(ScriptedModel(lambda m: "x"), tool_mode=mode)
    full = sum(len(m["content"]) for m in messages_with_big_output(probe))
    student = LLMStudent(ScriptedModel(window(full * 2 // 3, answer, sent), cycle=True), tool_mode=mode)
    action = student.act(messages_with_big_output(student))
    assert "analyze -A" in action.text
    assert len(sent) == 2 and sent[0] > full * 2 // 3 >= sent[1]  # refused once, then half as long


def test_the_final_turn_retries_too_and_a_second_refusal_is_the_error() -> None:
    sent: list[int] = []
    diagnosis = '{"entities": [], "propagations": [], "category": "No fault", "summary": "nothing found"}'
    probe = LLMStudent(ScriptedModel(lambda m: "x"), tool_mode="constrained")
    full = sum(len(m["content"]) for m in messages_with_big_output(probe))
    student = LLMStudent(ScriptedModel(window(full * 2 // 3, diagnosis, sent), cycle=True), tool_mode="constrained")
    assert student.final_answer(messages_with_big_output(student)).text == diagnosis and len(sent) == 2
    tiny = LLMStudent(ScriptedModel(window(100, diagnosis, []), cycle=True), tool_mode="constrained")
    with pytest.raises(ContextExceeded):  # still too long after the retry: the loop's model error, as before
        tiny.act(messages_with_big_output(tiny))
