"""The final diagnosis turn: after each limit a FinalAnswerer student answers once, schema-constrained."""

from __future__ import annotations

import json
import re

import pytest
from agent_doubles import DIAGNOSIS, FakeEnvironment, bash

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.llm.tools import diagnosis_schema
from atlas_sre.agents.loop import LoopConfig, run_investigation
from atlas_sre.agents.parsing import ENTITY_NAME_PATTERN, final_diagnosis_schema
from atlas_sre.agents.trajectory import Trajectory
from atlas_sre.agents.types import Action, Briefing, FinalAnswerer, Incident, PlanResult
from atlas_sre.models import ScriptedModel
from atlas_sre.models.base import Message

INCIDENT = Incident.of("Checkout returns 503", [{"alertname": "HighRequestErrorRate", "namespace": "shop",
                                                 "service": "checkout"}])
RAW_DIAGNOSIS = DIAGNOSIS.removeprefix("```json\n").removesuffix("\n```")  # what a schema-constrained reply is
LIMITS = {
    "step_limit": ([bash(f"kubectl get pods -n ns{i}") for i in range(3)], LoopConfig(max_steps=3)),
    "token_limit": ([bash(f"kubectl get pods -n ns{i}") for i in range(10)], LoopConfig(max_tokens=300)),
    "repetition_limit": ([bash("kubectl get pods -n shop")] * 4, LoopConfig(max_repeats=2)),
    "format_errors": ([bash("kubectl get pods -n shop"), "hmm", "still thinking", "no idea"], LoopConfig()),
}


def run(outputs: list[str], config: LoopConfig) -> tuple[Trajectory, ScriptedModel]:
    model = ScriptedModel(outputs)
    student = LLMStudent(model, max_steps=config.max_steps)
    return run_investigation(student, FakeEnvironment(), Briefing(INCIDENT, "1. check pods"), config=config,
                             label="guided"), model


@pytest.mark.parametrize("limit", sorted(LIMITS))
def test_each_limit_gets_one_final_turn_and_its_diagnosis_counts(limit: str) -> None:
    outputs, config = LIMITS[limit]
    traj, model = run([*outputs[: _replies_until(limit, outputs, config)], RAW_DIAGNOSIS], config)
    assert traj.outcome == "submitted" and traj.limit == limit and traj.answered_after_limit
    assert traj.diagnosis is not None and traj.diagnosis["entities"][0]["name"] == "shop/DestinationRule/reviews"
    last_kind = {"repetition_limit": "repeated", "format_errors": "format_error"}.get(limit, "limit")
    assert [s.kind for s in traj.steps[-2:]] == [last_kind, "final"]
    final_call = model.calls[-1]
    assert final_call.json_schema == final_diagnosis_schema(diagnosis_schema())  # constrained to the schema
    assert "This is your last reply" in final_call.last_user and "No more commands will run" in final_call.last_user
    assert traj.detail.startswith("diagnosis given in the final turn after:")
    assert traj.steps[-1].completion_tokens > 0 and traj.usage.completion_tokens == sum(
        s.completion_tokens for s in traj.steps)


def _replies_until(limit: str, outputs: list[str], config: LoopConfig) -> int:
    """How many scripted replies the loop asks for before `limit` stops it (a dry run without the final turn)."""
    model = ScriptedModel(outputs)
    dry = run_investigation(LLMStudent(model), FakeEnvironment(), Briefing(INCIDENT, "1. check pods"),
                            config=config.model_copy(update={"final_turn": False}))
    assert dry.outcome == limit
    return len(model.calls)


def test_no_final_turn_without_evidence() -> None:
    traj, model = run(["hmm", "```json\n{broken\n```", "still thinking", RAW_DIAGNOSIS], LoopConfig())
    assert traj.outcome == "format_errors" and not traj.limit and len(model.calls) == 3
    assert traj.steps[-1].kind == "format_error"


def test_a_final_turn_without_a_diagnosis_leaves_the_limit() -> None:
    traj, _ = run([bash("kubectl get pods -n a"), bash("kubectl get pods -n b"), "I am not sure."],
                  LoopConfig(max_steps=2))
    assert traj.outcome == "step_limit" and traj.diagnosis is None and not traj.answered_after_limit
    assert "the final turn gave no diagnosis" in traj.detail


def test_a_model_failure_in_the_final_turn_leaves_the_limit() -> None:
    traj, _ = run([bash("kubectl get pods -n a")], LoopConfig(max_steps=1))  # the script ends: ModelError
    assert traj.outcome == "step_limit" and "the final turn failed" in traj.detail
    assert traj.steps[-1].kind == "final" and traj.steps[-1].messages == []


class _PlainStudent:
    """A student without `final_answer` (as the reference student): the limit ends the run as before."""

    name = "plain"

    def plan(self, incident: Incident, capsules: object = (), guidance: str | None = None) -> PlanResult:
        return PlanResult("")

    def start(self, briefing: Briefing) -> list[Message]:
        return [{"role": "user", "content": "go"}]

    def act(self, messages: list[Message]) -> Action:
        return Action(bash(f"kubectl get pods -n ns{len(messages)}"))


def test_students_without_the_capability_end_at_the_limit() -> None:
    assert not isinstance(_PlainStudent(), FinalAnswerer) and isinstance(LLMStudent(ScriptedModel([])), FinalAnswerer)
    traj = run_investigation(_PlainStudent(), FakeEnvironment(), Briefing(INCIDENT), config=LoopConfig(max_steps=2))
    assert traj.outcome == "step_limit" and traj.steps[-1].kind == "limit"
    assert traj.messages[-1]["content"].startswith("The investigation was stopped: step limit of 2")


def test_the_final_turn_round_trips_through_jsonl() -> None:
    traj, _ = run([bash("kubectl get pods -n a"), RAW_DIAGNOSIS], LoopConfig(max_steps=1))
    records = [json.loads(line) for line in traj.to_jsonl().splitlines()]
    assert records[-1]["limit"] == "step_limit" and records[-1]["outcome"] == "submitted"
    back = Trajectory.from_records(records)
    assert back.limit == "step_limit" and back.answered_after_limit and back.messages == traj.messages
    assert [s.kind for s in back.steps] == ["command", "limit", "final"]
    assert traj.summary()["limit"] == "step_limit"


def test_the_final_schema_asks_for_the_forms_the_grader_reads() -> None:
    schema = final_diagnosis_schema(diagnosis_schema())
    entity = schema["properties"]["entities"]
    assert entity["minItems"] == 1 and entity["items"]["properties"]["name"]["pattern"] == ENTITY_NAME_PATTERN
    assert "evidence" in entity["items"]["required"]
    assert schema["properties"]["category"]["enum"][0] == "Misconfiguration"
    assert diagnosis_schema()["properties"]["entities"].get("minItems") is None  # the shared schema is untouched
    pattern = re.compile(ENTITY_NAME_PATTERN)
    for good in ("shop/Deployment/checkout", "Node/worker-1", "istio-system/AuthorizationPolicy/deny-all"):
        assert pattern.match(good), good
    for bad in ("shop/checkout", "checkout", "shop/deployment/checkout"):
        assert not pattern.match(bad), bad


def test_a_constrained_final_turn_starts_exactly_as_the_replies_before_it() -> None:
    """A local backend reuses its cached prompt prefix only if the final request begins like the last reply's."""
    constrained = [json.dumps({"command": f"kubectl get pods -n ns{i}"}) for i in range(2)]
    model = ScriptedModel([*constrained, RAW_DIAGNOSIS])
    student = LLMStudent(model, max_steps=2, tool_mode="constrained")
    traj = run_investigation(student, FakeEnvironment(), Briefing(INCIDENT, "1. check pods"),
                             config=LoopConfig(max_steps=2))
    assert traj.limit == "step_limit" and traj.diagnosis is not None
    last_reply, final = model.calls[-2].messages, model.calls[-1].messages
    # Everything but the last reply's trailing reminder of the commands run (only that is read anew).
    assert last_reply[-1]["content"].startswith("Commands you already ran")
    kept = last_reply[:-1]
    assert final[: len(kept)] == kept and len(final) > len(kept)
    assert final[0]["content"] == last_reply[0]["content"] and "JSON" in final[0]["content"]
