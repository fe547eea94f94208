"""`ATLASInference.run_full_protocol`: seed keys, LLM roles through scripted backends, capsules, clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atlas_sre.agents.llm.student import LLMStudent
from atlas_sre.agents.reference.student import ReferenceStudent
from atlas_sre.capsules import Capsule, CapsuleStore
from atlas_sre.environments import ClusterUnavailable
from atlas_sre.models import ScriptedModel, TransformersChatModel
from atlas_sre.protocol.atlas import ATLASInference

SEED_KEYS = {"diagnostic", "learning", "baseline_response", "guided_response"}
CLUSTER_KEYS = {"baseline_diagnosis", "guided_diagnosis", "baseline_run", "guided_run", "commands", "tokens",
                "timings"}
SEED_CAPSULE = {"skill": "service_mesh_debug", "trigger": "503 errors in Kubernetes",
                "procedure": ["istioctl analyze", "check virtualservice configuration", "verify destination rules",
                              "validate mTLS policies", "read the istio-proxy access log response flags",
                              "check endpoints and selectors", "check network policies"],
                "success_rate": 0.88}
DIAGNOSIS = ('```json\n{"entities": [{"name": "shop/VirtualService/reviews"}], "category": "Misconfiguration", '
             '"summary": "subset v3 missing"}\n```')


def test_seed_keys_without_a_cluster() -> None:
    result = ATLASInference().run_full_protocol("Kubernetes service returning 503 errors")
    assert set(result) >= SEED_KEYS
    assert not (CLUSTER_KEYS - {"tokens", "timings"}) & set(result)
    diag, learning = result["diagnostic"], result["learning"]
    assert set(diag) == {"capability_score", "probe_response", "learning_strategy"}
    assert set(learning) == {"learning_guidance", "strategy", "capability_score"}
    assert 1 <= diag["capability_score"] <= 5 and diag["learning_strategy"] == learning["strategy"]
    assert learning["capability_score"] == diag["capability_score"]
    assert "kubectl get pods -A" in result["baseline_response"]  # the seed's naive plan
    assert "analyze" in result["guided_response"]  # the plan after teaching
    assert result["tokens"]["teacher"]["probe"]["completion_tokens"] <= 50
    assert result["tokens"]["teacher"]["correct"]["completion_tokens"] <= 200


def test_llm_roles_use_their_budgets_and_the_plans_are_the_responses() -> None:
    student = ScriptedModel(["1. get pods\n2. logs", "1. istioctl analyze\n2. proxy logs"], name="stu")
    teacher = ScriptedModel(["Score: 2/5 - surface-level", "<teaching>Check the mesh first.</teaching> " + "x " * 400],
                            name="tea")
    atlas = ATLASInference(student, teacher, probe_token_limit=20, correction_token_limit=60)
    result = atlas.run_full_protocol("checkout returns 503")
    assert [c.max_tokens for c in teacher.calls] == [20, 60]
    assert result["diagnostic"] == {"capability_score": 2, "probe_response": "Score: 2/5 - surface-level",
                                    "learning_strategy": "Medium"}
    assert result["learning"]["learning_guidance"] == "Check the mesh first."
    assert result["baseline_response"] == "1. get pods\n2. logs"
    assert result["guided_response"] == "1. istioctl analyze\n2. proxy logs"
    assert "Check the mesh first." in student.calls[1].last_user  # the guided plan sees the guidance
    assert result["tokens"]["teacher"]["correct"]["completion_tokens"] <= 60


def test_models_can_be_spec_strings_objects_or_a_transformers_pair() -> None:
    class FakeLM:
        def generate(self, *args: Any, **kwargs: Any) -> None: ...

    atlas = ATLASInference(student_model=FakeLM(), student_tokenizer=object(), teacher_model="reference:teacher")
    assert isinstance(atlas.student, LLMStudent) and isinstance(atlas.student.model, TransformersChatModel)
    assert isinstance(ATLASInference("reference:student").student, ReferenceStudent)
    with pytest.raises(Exception, match="valid schemes"):
        ATLASInference("nosuch:model")


def test_capsules_feed_the_plan_and_the_probe(tmp_path: Path) -> None:
    incident = "Checkout returns HTTP 503 errors"
    plain = ATLASInference().run_full_protocol(incident)
    store = CapsuleStore(tmp_path / "capsules.db")
    store.upsert(Capsule.model_validate(SEED_CAPSULE))
    for source in ([SEED_CAPSULE], store):
        result = ATLASInference().run_full_protocol(incident, capsules=source)
        assert [c["skill"] for c in result["capsules"]] == ["service_mesh_debug"]
        assert "service_mesh_debug" in result["guided_response"]
        assert result["diagnostic"]["capability_score"] > plain["diagnostic"]["capability_score"]
        assert result["learning"]["strategy"] == "Light"
        assert (result["tokens"]["teacher"]["correct"]["completion_tokens"]
                < plain["tokens"]["teacher"]["correct"]["completion_tokens"])
    store.close()


@pytest.mark.parametrize("score, certified", [("Score: 5/5. Expert plan.", True), ("Score: 4/5. Close.", False)])
def test_a_plan_rated_5_is_certified_without_a_correction_call(score: str, certified: bool) -> None:
    student = ScriptedModel(["1. istioctl analyze\n2. proxy logs", "1. revised plan"], name="stu")
    teacher = ScriptedModel([score, "<teaching>Also read the endpoints.</teaching>"], name="tea")
    result = ATLASInference(student, teacher).run_full_protocol("checkout returns 503")
    assert result["certified"] is certified
    assert len(teacher.calls) == (1 if certified else 2)  # certification skips the correction call
    assert len(student.calls) == (1 if certified else 2)  # ...and the re-plan: the plan stands as it is
    if certified:
        assert result["learning"]["learning_guidance"] == "Everything looks good. Proceed with your approach."
        assert result["guided_response"] == result["baseline_response"]
        teacher_tokens = result["tokens"]["teacher"]
        assert teacher_tokens["correct"]["total_tokens"] == 0
        assert result["tokens_by_role"]["teacher"]["total_tokens"] == teacher_tokens["probe"]["total_tokens"] > 0
    else:
        assert result["learning"]["learning_guidance"] == "Also read the endpoints."


def test_certification_can_be_turned_off() -> None:
    teacher = ScriptedModel(["Score: 5/5.", "<teaching>Everything looks good.</teaching>"], name="tea")
    result = ATLASInference("reference:student", teacher, certify_score=None).run_full_protocol("checkout 503")
    assert len(teacher.calls) == 2 and result["certified"] is False
    with pytest.raises(ValueError, match="certify_score"):
        ATLASInference(certify_score=7)


def test_at_most_capsule_top_k_capsules_are_applied_from_a_store(tmp_path: Path) -> None:
    store = CapsuleStore(tmp_path / "capsules.db")
    for n in range(5):
        store.upsert(Capsule.model_validate({**SEED_CAPSULE, "skill": f"mesh_debug_{n}", "id": f"cap-{n}"}))
    for n, words in enumerate(["disk pressure", "certificate expiry", "dns lookup", "quota exceeded", "oom kills",
                               "node cordoned", "image pull", "pvc pending", "hpa maxed", "job backoff"]):
        store.upsert(Capsule(skill=f"other_{n}", trigger=words, procedure=[f"check {words}"]))  # makes 503 rare
    incident = "Checkout returns HTTP 503 errors"
    assert len(ATLASInference().run_full_protocol(incident, capsules=store)["capsules"]) == 3
    assert len(ATLASInference(capsule_top_k=5).run_full_protocol(incident, capsules=store)["capsules"]) == 5
    listed = [{**SEED_CAPSULE, "skill": f"s{n}"} for n in range(4)]
    assert len(ATLASInference().run_full_protocol(incident, capsules=listed)["capsules"]) == 4  # a list is taken whole
    store.close()


def test_an_unreachable_cluster_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ClusterUnavailable, match="does not exist"):
        ATLASInference().run_full_protocol("x", kubeconfig=str(tmp_path / "missing"))
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
                      "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
                      "users: [{name: u, user: {}}]\n")
    with pytest.raises(ClusterUnavailable, match="cannot reach the cluster") as info:
        ATLASInference().run_full_protocol("x", kubeconfig=str(config))
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def mesh_llm_run() -> tuple[dict[str, Any], ATLASInference, ScriptedModel]:
    student = ScriptedModel(["1. kubectl get pods", "1. analyze\n2. proxy logs",
                             "```bash\nkubectl get pods -A\n```", "it is the pods",
                             "```bash\nkubectl delete pod x\n```",
                             DIAGNOSIS.replace("VirtualService", "DestinationRule"),
                             "```bash\nanalyze -A\n```", DIAGNOSIS], name="stu")
    teacher = ScriptedModel(["Score: 1/5", "<teaching>Run analyze first.</teaching>"], name="tea")
    atlas = ATLASInference(student, teacher)
    return atlas.run_full_protocol(scenario="mesh-subset-missing"), atlas, student


def test_full_protocol_on_a_served_scenario_with_llm_roles(mesh_llm_run: Any) -> None:
    result, atlas, student = mesh_llm_run
    assert SEED_KEYS | CLUSTER_KEYS | {"grades", "scenario"} <= set(result)
    assert result["commands"] == {"baseline": ["kubectl get pods -A"], "guided": ["analyze -A"]}
    base_steps = [s.kind for s in atlas.trajectories[0].steps]
    assert base_steps == ["command", "format_error", "refused", "submit"]
    assert result["grades"]["guided"]["correct"] and result["grades"]["baseline"]["correct"]
    assert result["guided_diagnosis"]["entities"][0]["name"] == "shop/VirtualService/reviews"
    tokens = result["tokens"]
    assert set(tokens["student"]) == {"plan", "plan_guided", "execute_baseline", "execute_guided"}
    assert set(tokens["teacher"]) == {"probe", "correct"}
    assert tokens["student"]["execute_guided"]["completion_tokens"] == sum(
        s.completion_tokens for s in atlas.trajectories[1].steps)
    assert result["tokens_by_role"]["teacher"]["completion_tokens"] == 2 + 3
    assert {"plan_s", "probe_s", "correct_s", "baseline_s", "guided_s", "total_s"} <= set(result["timings"])
    assert "Run analyze first." in student.calls[6].messages[1]["content"]  # the guided run is briefed
    records = atlas.trace_records()
    assert records[0]["type"] == "teaching" and records[0]["guidance"] == "Run analyze first."
    assert [r["label"] for r in records if r["type"] == "outcome"] == ["baseline", "guided"]


def test_no_teaching_runs_the_student_alone() -> None:
    result = ATLASInference().run_full_protocol(scenario="crashloop-missing-env", teach=False)
    assert result["diagnostic"]["capability_score"] is None and result["guided_response"] == ""
    assert result["guided_diagnosis"] is None and set(result["commands"]) == {"baseline"}
    assert result["grades"]["baseline"]["correct"]
    assert result["tokens"]["teacher"] == {}
