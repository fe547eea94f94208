"""The investigation loop with a scripted model: every way a run can end is a recorded outcome."""

from __future__ import annotations

import json

from agent_doubles import DIAGNOSIS, FakeEnvironment, bash

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.loop import LoopConfig, run_investigation
from atlas_sre.agents.trajectory import TRAJECTORY_FORMAT, Trajectory
from atlas_sre.agents.types import Briefing, Incident
from atlas_sre.models import ScriptedModel

INCIDENT = Incident.of("Checkout returns 503", [{"alertname": "HighRequestErrorRate", "namespace": "shop",
                                                 "service": "checkout"}])


def run(outputs: list[str], config: LoopConfig | None = None, runner: FakeEnvironment | None = None) -> Trajectory:
    student = LLMStudent(ScriptedModel(outputs), max_steps=(config or LoopConfig()).max_steps)
    return run_investigation(student, runner or FakeEnvironment(), Briefing(INCIDENT, "1. check pods"),
                             config=config, label="guided")


def test_command_then_submit_records_every_step() -> None:
    runner = FakeEnvironment({"kubectl get pods -n shop": "NAME READY\na 1/1\nb 0/1\n"})
    traj = run([bash("kubectl get pods -n shop"), DIAGNOSIS], runner=runner)
    assert traj.outcome == "submitted"
    assert traj.diagnosis is not None and traj.diagnosis["entities"][0]["name"] == "shop/DestinationRule/reviews"
    assert runner.ran == ["kubectl get pods -n shop"]
    first = traj.steps[0]
    assert (first.kind, first.command) == ("command", "kubectl get pods -n shop")
    assert (first.exit_code, first.observation_lines) == (0, 3)
    assert first.observation_bytes == len("NAME READY\na 1/1\nb 0/1\n")
    assert first.completion_tokens == 7 and first.prompt_tokens > 0  # the scripted backend counts words
    assert traj.steps[-1].kind == "submit"
    assert "b 0/1" in traj.messages[-2]["content"]  # the observation reached the conversation
    assert [m["role"] for m in traj.messages[:2]] == ["system", "user"]
    assert traj.usage.completion_tokens == sum(s.completion_tokens for s in traj.steps)


def test_a_garbled_reply_gets_feedback_and_the_run_continues() -> None:
    traj = run(["I think it is the mesh", bash("kubectl get svc -n shop"), DIAGNOSIS])
    assert traj.outcome == "submitted"
    assert [s.kind for s in traj.steps] == ["format_error", "command", "submit"]
    assert traj.steps[0].messages[-1]["content"].startswith("Format error:")
    assert "```bash```" in traj.steps[0].messages[-1]["content"]


def test_repeated_garbage_ends_in_format_errors() -> None:
    traj = run(["hmm", "```json\n{broken\n```", "still thinking"])
    assert traj.outcome == "format_errors"
    assert traj.diagnosis is None
    assert len(traj.steps) == 3 and "3 unusable replies" in traj.detail


def test_a_diagnosis_needs_evidence_first() -> None:
    traj = run([DIAGNOSIS, bash("kubectl get pods -n shop"), DIAGNOSIS])
    assert [s.kind for s in traj.steps] == ["format_error", "command", "submit"]
    assert "No evidence yet" in traj.steps[0].messages[-1]["content"]
    assert run([DIAGNOSIS], LoopConfig(min_commands=0)).outcome == "submitted"


def test_a_forbidden_command_gets_the_refusal_as_observation() -> None:
    runner = FakeEnvironment()
    traj = run([bash("kubectl delete pod web-1 -n shop"), bash("kubectl get pods -n shop"), DIAGNOSIS], runner=runner)
    assert traj.outcome == "submitted"
    refused = traj.steps[0]
    assert refused.kind == "refused" and refused.exit_code == 3
    assert "Refused by the read-only command policy" in refused.messages[-1]["content"]
    assert runner.ran == ["kubectl get pods -n shop"]
    assert traj.commands == ["kubectl get pods -n shop"]


def test_repetition_is_answered_then_stopped() -> None:
    cmd = bash("kubectl get pods -n shop")
    traj = run([cmd] * 10, LoopConfig(max_repeats=2, max_steps=20))
    assert traj.outcome == "repetition_limit"
    kinds = [s.kind for s in traj.steps]
    assert kinds[:3] == ["command", "repeated", "repeated"] and kinds[3] == "repeated"
    assert "You already ran `kubectl get pods -n shop` at step 1" in traj.steps[1].messages[-1]["content"]
    assert traj.commands == ["kubectl get pods -n shop"]


def test_an_echoed_command_does_not_spend_the_step_budget() -> None:
    """A model that echoes each command once still gets its full budget of real commands."""
    cmds = [bash(f"kubectl get pods -n shop -l app=a{i}") for i in range(4)]
    traj = run([c for c in cmds for _ in (0, 1)][:7], LoopConfig(max_steps=4, max_repeats=5, final_turn=False))
    assert traj.commands == [f"kubectl get pods -n shop -l app=a{i}" for i in range(4)]
    assert [s.kind for s in traj.steps].count("repeated") == 3 and traj.outcome == "step_limit"


def test_a_model_that_echoes_once_is_not_stopped_and_is_reminded_of_what_it_ran() -> None:
    """Echo-once is not being stuck: the repetition limit counts repeats in a row. Each request after the
    first command carries a trailing reminder of the commands run; the trajectory does not keep it."""
    cmds = [bash(f"kubectl get pods -n shop -l app=a{i}") for i in range(3)]
    model = ScriptedModel([*(c for c in cmds for _ in (0, 1)), DIAGNOSIS])
    student = LLMStudent(model, max_steps=10)
    traj = run_investigation(student, FakeEnvironment(), Briefing(INCIDENT, "1. check pods"),
                             config=LoopConfig(max_steps=10, max_repeats=1), label="guided")
    assert traj.outcome == "submitted" and len(traj.commands) == 3
    assert [s.kind for s in traj.steps].count("repeated") == 3
    first, last = model.calls[0].messages, model.calls[-1].messages
    assert "already ran" not in first[-1]["content"]
    assert last[-1]["role"] == "user" and last[-1]["content"].startswith("Commands you already ran")
    assert all(f"`kubectl get pods -n shop -l app=a{i}`" in last[-1]["content"] for i in range(3))
    assert not any("Commands you already ran" in m["content"] for m in traj.messages)


def test_step_limit_ends_the_run() -> None:
    outputs = [bash(f"kubectl get pods -n ns{i}") for i in range(10)]
    traj = run(outputs, LoopConfig(max_steps=4))
    assert traj.outcome == "step_limit"
    # the LLM student gets one final turn after the limit (it answered with a command: the limit stands)
    assert len(traj.commands) == 4 and [s.kind for s in traj.steps[-2:]] == ["limit", "final"]
    assert "step limit of 4" in traj.messages[-2]["content"]
    assert "final turn gave a command" in traj.detail and traj.limit == "" and traj.diagnosis is None
    off = run(outputs, LoopConfig(max_steps=4, final_turn=False))
    assert off.outcome == "step_limit" and off.steps[-1].kind == "limit"
    assert "step limit of 4" in off.messages[-1]["content"]


def test_token_limit_ends_the_run() -> None:
    outputs = [bash(f"kubectl get pods -n ns{i}") for i in range(10)]
    traj = run(outputs, LoopConfig(max_tokens=300))
    assert traj.outcome == "token_limit"
    assert traj.usage.total >= 300
    assert len(traj.commands) < 10


def test_a_model_failure_is_an_outcome_not_a_crash() -> None:
    traj = run([bash("kubectl get pods -n shop")])  # the script runs out on the second call
    assert traj.outcome == "model_error"
    assert "ran out of outputs" in traj.detail
    assert traj.steps[-1].kind == "model_error"


def test_the_student_is_told_the_limits_and_the_format() -> None:
    model = ScriptedModel([DIAGNOSIS])
    run_investigation(LLMStudent(model, max_steps=7), FakeEnvironment(), Briefing(INCIDENT, "my plan", "Check the DR."))
    system, task = model.calls[0].messages[0]["content"], model.calls[0].messages[1]["content"]
    assert "At most 7 steps" in system and "```json" in system and "contributing_factor" in system
    assert "Checkout returns 503" in task and "my plan" in task and "Check the DR." in task
    assert "HighRequestErrorRate" in task and "default namespace is shop" in task
    assert model.calls[0].max_tokens == 768


def test_trajectory_jsonl_round_trip() -> None:
    traj = run([bash("kubectl get pods -n shop"), "garbage", DIAGNOSIS])
    lines = traj.to_jsonl().splitlines()
    records = [json.loads(x) for x in lines]
    assert records[0]["type"] == "run" and records[0]["trajectory_format"] == TRAJECTORY_FORMAT
    assert [r["type"] for r in records[1:-1]] == ["step"] * 3 and records[-1]["type"] == "outcome"
    back = Trajectory.from_records(records)
    assert back.messages == traj.messages and back.outcome == "submitted"
    assert [s.kind for s in back.steps] == ["command", "format_error", "submit"]
