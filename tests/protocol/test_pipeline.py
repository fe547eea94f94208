"""The Episode pipeline: typed steps that can be left out or swapped; `ATLASInference` is its adapter."""

from __future__ import annotations

from pathlib import Path

from atlas_sre.agents.reference.student import ReferenceStudent
from atlas_sre.agents.reference.teacher import ReferenceTeacher
from atlas_sre.agents.types import Incident
from atlas_sre.capsules import Capsule, CapsuleStore
from atlas_sre.protocol import (
    ATLASInference,
    Consolidate,
    Correct,
    Episode,
    Plan,
    Probe,
    Retrieve,
    grade,
    protocol_result,
    run_steps,
)

INCIDENT = Incident.of("Checkout returns HTTP 503 errors")
CAPSULE = {"skill": "service_mesh_debug", "trigger": "503 errors in Kubernetes",
           "procedure": ["istioctl analyze", "check virtualservice configuration"], "success_rate": 0.88}


def test_teaching_steps_fill_the_episode() -> None:
    student, teacher = ReferenceStudent(), ReferenceTeacher()
    episode = run_steps(Episode(INCIDENT), [Retrieve([CAPSULE]), Plan(student), Probe(teacher),
                                            Correct(teacher, student)])
    assert [c.skill for c in episode.capsules] == ["service_mesh_debug"]
    assert episode.plan is not None and episode.baseline_plan is not None and episode.plan is not episode.baseline_plan
    assert episode.probe is not None and episode.correction is not None and episode.guided_plan is not None
    assert list(episode.usage["student"]) == ["plan", "plan_guided"]
    assert list(episode.usage["teacher"]) == ["probe", "correct"]
    assert list(episode.timings) == ["plan_s", "probe_s", "correct_s", "guided_plan_s", "total_s"]
    assert episode.trajectories == [] and episode.grades is None  # no environment: nothing investigated


def test_steps_can_be_left_out() -> None:
    episode = run_steps(Episode(INCIDENT), [Plan(ReferenceStudent())])
    result = protocol_result(episode)
    assert result["diagnostic"]["capability_score"] is None and result["guided_response"] == ""
    assert result["tokens"]["teacher"] == {} and result["certified"] is False


def test_the_adapter_returns_the_view_of_its_episode() -> None:
    atlas = ATLASInference()
    result = atlas.run_full_protocol("Checkout returns HTTP 503 errors")
    assert atlas.episode is not None and result == {**protocol_result(atlas.episode), "timings": result["timings"]}
    assert [type(s).__name__ for s in atlas.steps()] == ["Retrieve", "Plan", "Probe", "Correct", "Investigate",
                                                         "function"]
    assert [type(s).__name__ for s in atlas.steps(teach=False, grading=False)] == ["Retrieve", "Plan", "Investigate"]


def test_a_custom_pipeline_grades_and_consolidates_into_a_store(tmp_path: Path) -> None:
    store = CapsuleStore(tmp_path / "capsules.db")
    store.upsert(Capsule.model_validate(CAPSULE))
    atlas = ATLASInference()
    steps = [*atlas.steps(store), Consolidate(store)]
    assert steps[-2] is grade
    episode = atlas.run_episode(scenario="mesh-subset-missing", steps=steps)
    assert episode.scenario == "mesh-subset-missing" and episode.grades is not None
    assert [t.label for t in episode.trajectories] == ["baseline", "guided"]
    used = store.get(episode.capsules[0].id)
    assert used is not None and used.uses == 1  # the applied capsule's outcome was recorded
    store.close()
