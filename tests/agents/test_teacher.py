"""Teachers: probe and correction budgets (as the backend counts them), strategies, never the answer."""

from __future__ import annotations

import re

import pytest

from atlas_sre.agents.llm.teacher import LLMTeacher
from atlas_sre.agents.prompting import capsule_block
from atlas_sre.agents.reference.student import ReferenceStudent
from atlas_sre.agents.reference.teacher import ReferenceTeacher
from atlas_sre.agents.tokens import count_tokens
from atlas_sre.agents.types import CapsuleBrief, Incident, ProbeResult, strategy_for
from atlas_sre.capsules.model import Capsule
from atlas_sre.models import ScriptedModel
from atlas_sre.scenarios.catalog import builtin_paths
from atlas_sre.scenarios.loader import load_path

MESH = Incident.of("Users get HTTP 503 on the product page for about half of their requests",
                   [{"alertname": "HighRequestErrorRate", "severity": "critical", "namespace": "shop",
                     "service": "productpage", "summary": "High request error rate on service productpage"}])
CRASH = Incident.of("Checkout pods keep restarting", [{"alertname": "KubePodCrashLooping", "namespace": "shop",
                                                       "pod": "checkout-abc12-xyz45"}])
NAIVE = "1. kubectl get pods\n2. describe the failing pod\n3. read its logs"
LONG = " ".join(["word"] * 600)
CAPSULE = CapsuleBrief.of({"skill": "service_mesh_debug", "trigger": "503 errors in Kubernetes",
                           "procedure": ["istioctl analyze", "read the istio-proxy access log response flags",
                                         "check virtualservice configuration", "verify destination rules",
                                         "validate mTLS policies", "check endpoints and selectors",
                                         "check network policies", "describe pods and read logs"]})


@pytest.mark.parametrize("probe_limit, correction_limit", [(50, 200), (12, 40)])
def test_llm_teacher_budgets_hold_by_the_backends_count(probe_limit: int, correction_limit: int) -> None:
    model = ScriptedModel([LONG, LONG])
    teacher = LLMTeacher(model, probe_token_limit=probe_limit, correction_token_limit=correction_limit)
    probe = teacher.probe(MESH, NAIVE)
    correction = teacher.correct(MESH, NAIVE, probe)
    assert [c.max_tokens for c in model.calls] == [probe_limit, correction_limit]
    assert probe.usage.completion_tokens == probe_limit  # cut by the backend at the limit
    assert correction.usage.completion_tokens == correction_limit
    assert probe.score == 3 and probe.strategy == "Medium"  # unreadable → default 3


@pytest.mark.parametrize("answer, strategy, phrase", [
    ("Score: 5/5, excellent.", "Light", "minimal guidance"),
    ("Score: 3/5. Misses the mesh.", "Medium", "guided hints"),
    ("Score: 1/5. Will fail.", "Heavy", "step-by-step support"),
])
def test_llm_teacher_picks_the_correction_prompt_by_strategy(answer: str, strategy: str, phrase: str) -> None:
    model = ScriptedModel([answer, "<thinking>the DR is wrong</thinking><teaching>Check the routes first.</teaching>"])
    teacher = LLMTeacher(model)
    probe = teacher.probe(MESH, NAIVE, [CAPSULE])
    correction = teacher.correct(MESH, NAIVE, probe, [CAPSULE])
    assert probe.strategy == strategy == correction.strategy
    assert probe.response == answer
    prompt = model.calls[1].last_user
    assert phrase in prompt and "Do not state or guess the root cause" in prompt
    assert "service_mesh_debug" in model.calls[0].last_user  # the probe sees applied capsules
    assert correction.text == "Check the routes first."  # the private reasoning never reaches the student


def test_strategy_mapping() -> None:
    assert [strategy_for(s) for s in range(1, 6)] == ["Heavy", "Medium", "Medium", "Light", "Light"]


def test_reference_teacher_rates_the_naive_plan_low_and_teaches_the_mesh_checks() -> None:
    teacher = ReferenceTeacher()
    probe = teacher.probe(MESH, NAIVE)
    assert probe.score <= 2 and probe.strategy in ("Medium", "Heavy")
    assert probe.response.startswith(f"Score: {probe.score}/5.")
    correction = teacher.correct(MESH, NAIVE, probe)
    text = correction.text.lower()
    assert "analyze" in text and "istio-proxy" in text and "destinationrule" in text
    assert count_tokens(probe.response) <= 50 and count_tokens(correction.text) <= 200
    assert correction.usage.completion_tokens == count_tokens(correction.text)


def test_a_plan_covering_the_procedure_gets_light_teaching() -> None:
    teacher = ReferenceTeacher()
    plan = ReferenceStudent().plan(MESH, [CAPSULE]).text  # the student puts the capsule's steps in its plan
    probe = teacher.probe(MESH, plan, [CAPSULE])
    assert probe.score >= 4 and probe.strategy == "Light"
    correction = teacher.correct(MESH, plan, probe, [CAPSULE])
    assert correction.strategy == "Light"
    assert count_tokens(correction.text) < 40  # Light teaching is short: that is where capsules save tokens


def test_a_capsule_the_plan_ignores_earns_no_credit() -> None:
    teacher = ReferenceTeacher()
    assert teacher.probe(MESH, NAIVE, [CAPSULE]).score == teacher.probe(MESH, NAIVE).score <= 2


def test_the_teacher_reads_a_capsule_digest_not_its_procedure() -> None:
    used = CapsuleBrief.of(Capsule(skill="service_mesh_debug", trigger="503", procedure=list(CAPSULE.procedure),
                                   uses=12, successes=11, failures=1))
    assert used.digest() == "service_mesh_debug (success 86% over 12 uses)"  # Beta(1,1) posterior mean 12/14
    assert _record(0, 0, 3).digest() == "service_mesh_debug (learnt from 3 solved incidents; not used yet)"
    model = ScriptedModel(["Score: 4/5. Fine."])
    LLMTeacher(model).probe(MESH, NAIVE, [used])
    prompt = model.calls[0].last_user
    assert "service_mesh_debug" in prompt and "validate mTLS policies" not in prompt
    plain = ReferenceTeacher().probe(MESH, NAIVE)
    digest_cost = ReferenceTeacher().probe(MESH, NAIVE, [used]).usage.prompt_tokens - plain.usage.prompt_tokens
    assert 0 < digest_cost < count_tokens(used.text())


def test_reference_teacher_classifies_by_symptoms() -> None:
    teacher = ReferenceTeacher()
    assert teacher.classify(CRASH)[0].id == "crash"
    assert teacher.classify(MESH)[0].id in ("http-503", "http-5xx")
    assert teacher.classify(Incident.of("Something happened"))[0].id == "generic"


@pytest.mark.parametrize("limits", [(50, 200), (10, 30), (1, 1)])
def test_reference_teacher_budgets_hold_for_every_builtin(limits: tuple[int, int]) -> None:
    teacher = ReferenceTeacher(probe_token_limit=limits[0], correction_token_limit=limits[1])
    for path in builtin_paths():
        scenario = load_path(path)
        incident = Incident.of(scenario.spec.incident.summary, [a.model_dump() for a in scenario.spec.incident.alerts])
        for strategy_score in (1, 3, 5):
            probe = teacher.probe(incident, NAIVE)
            forced = ProbeResult(strategy_score, probe.response, strategy_for(strategy_score))
            correction = teacher.correct(incident, NAIVE, forced)
            assert count_tokens(probe.response) <= limits[0]
            assert count_tokens(correction.text) <= limits[1]


def test_reference_teacher_never_names_the_answer() -> None:
    teacher = ReferenceTeacher()
    for path in [p for p in builtin_paths() if p.parent.name == "builtin"]:
        scenario = load_path(path)
        incident = Incident.of(scenario.spec.incident.summary, [a.model_dump() for a in scenario.spec.incident.alerts])
        probe = teacher.probe(incident, NAIVE)
        text = (probe.response + " " + teacher.correct(incident, NAIVE, probe).text).lower()
        for root in scenario.spec.groundTruth.rootCauses:
            name = root.entity.split("/")[-1].lower()
            assert root.entity.lower() not in text
            if name not in incident.text().lower():
                assert not re.search(rf"\b{re.escape(name)}\b", text), (path.stem, name)


def _record(uses: int, successes: int, learnt_from: int = 0) -> CapsuleBrief:
    return CapsuleBrief.of(Capsule(skill="service_mesh_debug", trigger="503", procedure=["istioctl analyze"],
                                   uses=uses, successes=successes, failures=uses - successes,
                                   metadata={"episodes": learnt_from} if learnt_from else {}))


@pytest.mark.parametrize("uses, successes, learnt_from, bonus", [
    (12, 11, 0, 2),  # posterior 12/14 = 0.857 over 12 incidents: proven
    (5, 5, 0, 2),  # 6/7 = 0.857 over exactly 5: proven
    (4, 4, 0, 0),  # too few incidents
    (10, 9, 0, 0),  # 10/12 = 0.833: below 0.85
    (12, 6, 0, 0),  # 7/14 = 0.5: too weak
    (0, 0, 6, 2),  # learnt from 6 solved incidents, not applied yet: 7/8 = 0.875
    (2, 0, 6, 0),  # ...then failed twice: 7/10
])
def test_a_proven_capsule_the_plan_names_raises_the_score(uses: int, successes: int, learnt_from: int,
                                                          bonus: int) -> None:
    teacher = ReferenceTeacher()
    capsule = _record(uses, successes, learnt_from)
    plan = ReferenceStudent().plan(MESH, [capsule]).text
    assert "service_mesh_debug" in plan
    without_record = teacher.probe(MESH, plan).score
    probe = teacher.probe(MESH, plan, [capsule])
    assert probe.score == min(5, without_record + bonus)
    assert ("proven capsule: service_mesh_debug" in probe.response) is bool(bonus)


def test_a_proven_capsule_the_plan_does_not_name_earns_nothing() -> None:
    teacher = ReferenceTeacher()
    assert teacher.probe(MESH, NAIVE, [_record(12, 11)]).score == teacher.probe(MESH, NAIVE).score


def test_the_plan_follows_the_best_capsule_and_states_every_proof_once() -> None:
    a = CapsuleBrief.of({"skill": "dr_debug", "trigger": "503", "evidence": [{"pattern": "IST0173"}],
                         "procedure": ["Run the analyzer.", "The cause is proved when the output shows `IST0173`."]})
    b = CapsuleBrief.of({"skill": "vs_debug", "trigger": "503", "evidence": [{"pattern": "IST0101"}],
                         "procedure": ["Run the analyzer.", "Check the routes.",
                                       "The cause is proved when the output shows `IST0101`."]})
    result = ReferenceStudent().plan(MESH, [a, b])
    plan = result.text
    assert plan.count("Run the analyzer") == 1 and "Check the routes" not in plan  # the steps of `a` only
    assert plan.count("IST0173") == 1 and plan.count("IST0101") == 1  # each proof once, in the proof line
    assert "dr_debug" in plan and "vs_debug" in plan
    # It read `a` in full and `b` by its proof: fewer tokens than both procedures.
    assert result.usage.prompt_tokens < ReferenceStudent().plan(MESH, [a]).usage.prompt_tokens + count_tokens(b.text())


def test_the_capsule_block_gives_the_followed_capsule_in_full_and_the_others_by_commands_and_proofs() -> None:
    a = CapsuleBrief.of({"skill": "dr_debug", "trigger": "503", "evidence": [{"pattern": "IST0173"}],
                         "procedure": ["Run the analyzer.", "Read the DestinationRule."]})
    b = CapsuleBrief.of({"skill": "vs_debug", "trigger": "503", "evidence": [{"pattern": "IST0101"}],
                         "procedure": ["Run the analyzer.", "Check the routes."],
                         "commands": ["kubectl get virtualservices -n {namespace} -o yaml"]})
    block = capsule_block([a, b])
    assert "Read the DestinationRule" in block and "Check the routes" not in block
    assert "vs_debug (when: 503); run: `kubectl get virtualservices -n {namespace} -o yaml`; proof: `IST0101`" in block
    assert capsule_block([]) == ""


def _guidance_for_a_model(incident: Incident, strategy_score: int, plan: str = NAIVE) -> str:
    teacher = ReferenceTeacher()
    teacher.name_commands = True
    probe = teacher.probe(incident, plan)
    forced = ProbeResult(strategy_score, probe.response, strategy_for(strategy_score))
    return teacher.correct(incident, plan, forced).text


def test_guidance_for_a_model_names_each_check_with_its_exact_command() -> None:
    plain = ReferenceTeacher().correct(MESH, NAIVE, ReferenceTeacher().probe(MESH, NAIVE)).text
    text = _guidance_for_a_model(MESH, 1)
    assert "`" not in plain  # the reference student translates the words itself
    commands = re.findall(r"`([^`]+)`", text)
    assert "analyze -A" in commands
    assert "kubectl get virtualservices,gateways,destinationrules -A -o yaml" in commands  # one get, three kinds
    assert "kubectl logs POD -n shop -c istio-proxy --tail=100" in commands  # the incident's namespace filled in
    assert not any("{" in c for c in commands) and len(commands) == len(set(commands))
    assert count_tokens(text) <= 200


def test_guidance_for_a_model_says_what_pod_stands_for_and_fits_the_budget() -> None:
    text = _guidance_for_a_model(CRASH, 3)
    assert "`kubectl logs POD -n shop --previous --tail=50`" in text
    assert text.endswith("(POD: a real pod name from `kubectl get pods -n shop`.)")
    light = _guidance_for_a_model(CRASH, 5)
    assert light.startswith("Good plan. Also:") and "`" in light
    tight = ReferenceTeacher(correction_token_limit=40)
    tight.name_commands = True
    probe = tight.probe(MESH, NAIVE)
    assert count_tokens(tight.correct(MESH, NAIVE, probe).text) <= 40


def test_the_protocol_asks_for_commands_only_for_a_model_student() -> None:
    from atlas_sre.protocol.atlas import ATLASInference

    assert ATLASInference("reference:student", "reference:teacher").teacher.name_commands is False
    model = ATLASInference(ScriptedModel(["1. kubectl get pods -A"]), "reference:teacher")
    assert model.teacher.name_commands is True
