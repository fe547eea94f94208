"""The Inspect task `atlas_sre/rca` end to end, with Inspect's mock model provider.

The mock model is scripted by what it reads (the incident in the user message, the tool results so
far), never by a shared sequence, so two samples running concurrently each get their own script:
run real kubectl through the `kubectl` tool against the sample's served scenario, then submit a
diagnosis (the right one for one scenario, a wrong one for the other). The log must show the
served cluster's output in the transcript and the project's grader's verdict on each sample.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.model import ChatMessage, ChatMessageTool, ChatMessageUser, ModelOutput, ModelUsage, get_model

from atlas_sre.inspect import rca

pytestmark = [pytest.mark.kubectl,
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")]

MESH, CRASH = "mesh-subset-missing", "crashloop-missing-env"
PLAN = "1. kubectl get pods\n2. kubectl describe the failing pods"
REVISED_PLAN = "1. analyze -A\n2. kubectl get destinationrules,virtualservices -o yaml"

# What the scripted agent runs on each scenario (recognised by its briefing), then what it blames.
SCRIPTS: dict[str, dict[str, Any]] = {
    "HTTP 503 on the product page": {  # mesh-subset-missing: the right answer
        "commands": ["kubectl get destinationrule reviews -o yaml | grep -A2 name:"],
        "blame": "shop/DestinationRule/reviews", "category": "Misconfiguration"},
    "checkout pods keep restarting": {  # crashloop-missing-env: a refused write, then a wrong answer
        "commands": ["kubectl get pods", "kubectl delete pod checkout"],
        "blame": "shop/Service/frontend", "category": "Network"},
}


def _script(messages: list[ChatMessage]) -> dict[str, Any]:
    text = next(m.text for m in messages if isinstance(m, ChatMessageUser))
    return next(s for key, s in SCRIPTS.items() if key in text)


def scripted_agent(messages: list[ChatMessage], tools: list[Any], tool_choice: Any, config: Any) -> ModelOutput:
    """The mock model's next reply, with its usage stated (else mockllm counts tokens with a tokenizer it
    would download)."""
    output = _reply(messages, tools)
    output.usage = ModelUsage(input_tokens=100, output_tokens=10, total_tokens=110)
    return output


def _reply(messages: list[ChatMessage], tools: list[Any]) -> ModelOutput:
    """A plan when asked for one (no tools offered), else the script's next step."""
    if not tools:  # the teaching step's plan, or its revision once the teacher's guidance is in the prompt
        revised = "Guidance from your teacher" in messages[-1].text
        return ModelOutput.from_content("mockllm/model", REVISED_PLAN if revised else PLAN)
    script = _script(messages)
    step = sum(isinstance(m, ChatMessageTool) for m in messages)
    if step < len(script["commands"]):
        return ModelOutput.for_tool_call("mockllm/model", "kubectl", {"command": script["commands"][step]})
    diagnosis = {"entities": [{"name": script["blame"], "contributing_factor": True, "reasoning": "scripted",
                               "evidence": script["commands"][0]}],
                 "propagations": [], "category": script["category"], "summary": "scripted diagnosis"}
    return ModelOutput.for_tool_call("mockllm/model", "submit_diagnosis", diagnosis)


def run(tmp_path: Path, **task_args: Any) -> EvalLog:
    model = get_model("mockllm/model", custom_outputs=scripted_agent)
    [log] = inspect_eval(rca(**task_args), model=model, log_dir=str(tmp_path / "logs"), display="none",
                         max_samples=2)
    assert log.status == "success", log.error
    assert log.samples is not None
    return log


def tool_outputs(sample: EvalSample, function: str) -> list[str]:
    return [m.text for m in sample.messages if isinstance(m, ChatMessageTool) and m.function == function]


def test_rca_task_runs_real_kubectl_and_grades_each_sample(tmp_path: Path) -> None:
    log = run(tmp_path, scenarios=f"{MESH},{CRASH}")
    samples = {s.id: s for s in log.samples or []}
    assert set(samples) == {MESH, CRASH}

    mesh, crash = samples[MESH], samples[CRASH]
    for sample in (mesh, crash):
        assert MESH not in sample.input and CRASH not in sample.input  # the briefing, never the answer key
        assert "Firing alerts:" in str(sample.input)
        assert "The default namespace is shop." in sample.messages[1].text

    # The kubectl tool reached each sample's own served scenario through the command layer.
    [dr] = tool_outputs(mesh, "kubectl")
    assert "Exit code: 0" in dr and "name: v1" in dr
    listing, refused = tool_outputs(crash, "kubectl")
    assert "CrashLoopBackOff" in listing and "checkout-" in listing and "reviews-v1" not in listing
    assert "Refused by the read-only command policy" in refused and "kubectl delete" in refused

    # The project's grader scored each sample: the right blame correct, the wrong one not.
    right, wrong = mesh.scores["rca_grader"], crash.scores["rca_grader"]
    assert right.value["correct"] == 1.0 and right.value["strict"] == 1.0
    assert right.answer == "shop/DestinationRule/reviews"
    assert wrong.value["correct"] == 0.0 and wrong.value["strict"] == 0.0
    assert "shop/Deployment/checkout" in wrong.metadata["grade"]["missed"]

    assert log.results is not None
    metrics = {s.name: {k: m.value for k, m in s.metrics.items()} for s in log.results.scores}
    assert metrics["correct"]["accuracy"] == 0.5 and metrics["strict"]["mean"] == 0.5


def test_teaching_step_puts_the_teachers_guidance_in_the_briefing(tmp_path: Path) -> None:
    log = run(tmp_path, scenarios=MESH, teach=True)
    [sample] = log.samples or []
    teaching = sample.store["atlas_sre:teaching"]
    assert teaching["plan"] == PLAN
    # The reference teacher finds a pods-only plan weak for a 503 incident and sends the student to the mesh.
    assert teaching["capability_score"] < 4 and not teaching["certified"]
    assert "analyze" in teaching["guidance"] and teaching["guided_plan"] == REVISED_PLAN
    briefing = sample.messages[1].text
    assert f"Your investigation plan:\n{REVISED_PLAN}" in briefing
    assert f"Guidance from your teacher:\n{teaching['guidance']}" in briefing
    assert MESH not in teaching["guidance"] and "reviews" not in teaching["guidance"]  # what to check, not the answer
    assert sample.scores["rca_grader"].value["correct"] == 1.0


def never_submits(messages: list[ChatMessage], tools: list[Any], tool_choice: Any, config: Any) -> ModelOutput:
    """A model that keeps listing pods and never answers."""
    output = ModelOutput.for_tool_call("mockllm/model", "kubectl", {"command": "get pods"})
    output.usage = ModelUsage(input_tokens=100, output_tokens=10, total_tokens=110)
    return output


def test_a_sample_without_a_submitted_diagnosis_is_never_correct(tmp_path: Path) -> None:
    model = get_model("mockllm/model", custom_outputs=never_submits)
    [log] = inspect_eval(rca(scenarios=MESH, max_steps=2), model=model, log_dir=str(tmp_path / "logs"),
                         display="none")
    [sample] = log.samples or []
    ran, stopped = tool_outputs(sample, "kubectl")[:2], tool_outputs(sample, "kubectl")[2:]
    assert all("productpage-v1-" in o for o in ran)  # `get pods` ran as `kubectl get pods`, twice (max_steps)
    # the call past the budget and the one in the submit slot are answered "submit now", then the message limit
    assert len(stopped) == 2 and all("step limit (2 commands)" in o and "submit_diagnosis" in o for o in stopped)
    assert sample.limit is not None and sample.limit.type == "message"
    score = sample.scores["rca_grader"]
    assert score.value["correct"] == 0.0 and score.metadata["grade"]["problem"] == "no diagnosis submitted"
