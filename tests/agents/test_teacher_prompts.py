"""The LLM teacher's prompts: a probe answer in the `Score: N/5` form, corrections that name exact commands."""

from __future__ import annotations

import pytest

from atlas_sre.agents.llm.teacher import LLMTeacher, expert_checks
from atlas_sre.agents.parsing import parse_probe_score, teaching_text
from atlas_sre.agents.types import Incident
from atlas_sre.models import ScriptedModel

MESH = Incident.of("Users get HTTP 503 on the product page", [{"alertname": "HighRequestErrorRate",
                                                               "namespace": "shop", "service": "productpage"}])
NAIVE = "1. kubectl get pods -A\n2. describe the failing pod\n3. read its logs"
EXACT = ("`analyze -A`", "`kubectl logs POD -n shop -c istio-proxy --tail=50`",
         "`kubectl logs POD -n shop --previous --tail=50`", "`kubectl get endpoints -n shop`")


def test_the_probe_asks_for_the_score_format_the_parser_reads() -> None:
    model = ScriptedModel(["Score: 2/5 - missing: A, B, D"])
    probe = LLMTeacher(model).probe(MESH, NAIVE)
    prompt = model.calls[0].last_user
    assert "Score: N/5 - missing: LETTERS" in prompt and "Score = 1 + that count" in prompt
    assert all(command in prompt for command in EXACT)  # the checks it counts, with the incident's namespace
    assert (probe.score, probe.strategy) == (2, "Medium") and model.calls[0].max_tokens == 50


@pytest.mark.parametrize("answer, score", [
    ("Score: 0/5 - missing: ABCDEF", 1),  # a small model counting checks forgets the +1: lowest, not 5
    ("Score: 3/5 - missing: C, F", 3),
    ("Score: 5/5 - missing: none", 5),
])
def test_probe_answers_in_the_requested_format_parse(answer: str, score: int) -> None:
    assert parse_probe_score(answer) == score


@pytest.mark.parametrize("answer, strategy", [("Score: 1/5", "Heavy"), ("Score: 3/5", "Medium"),
                                              ("Score: 4/5", "Light")])
def test_every_correction_prompt_lists_the_exact_commands(answer: str, strategy: str) -> None:
    model = ScriptedModel([answer, "<teaching>1. Run the mesh analyzer: `analyze -A`</teaching>"])
    teacher = LLMTeacher(model)
    correction = teacher.correct(MESH, NAIVE, teacher.probe(MESH, NAIVE))
    prompt = model.calls[1].last_user
    assert correction.strategy == strategy and model.calls[1].max_tokens == 200
    assert all(command in prompt for command in EXACT)
    assert "exact command in backticks" in prompt and "Do not state or guess the root cause" in prompt
    assert correction.text == "1. Run the mesh analyzer: `analyze -A`"


def test_the_checks_pair_words_the_reference_student_knows_with_commands() -> None:
    checks = expert_checks(MESH)
    for phrase in ("mesh analyzer", "proxy access log", "previous logs", "destination rules", "endpoints",
                   "warning events"):
        assert phrase in checks
    assert "NAMESPACE" in expert_checks(Incident.of("Something is slow"))  # no namespace in the alerts


def test_guidance_survives_a_stray_teaching_tag() -> None:
    assert teaching_text("1. Run `analyze -A`.\n<teaching>") == "1. Run `analyze -A`."
    assert teaching_text("<teaching>1. Check.<teaching> 2. More.") == "1. Check. 2. More."
