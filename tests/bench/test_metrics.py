"""Metrics on hand-computed records: reward cases, stderr, pairing, non-degradation, TTR."""

from __future__ import annotations

import math

import pytest

from atlas_sre.bench.config import BaselineFields, EpisodeResult, GradeFields, TokenUse
from atlas_sre.bench.metrics import (
    aggregate,
    comparisons_for,
    efficiency,
    group_by,
    mean_stderr,
    stderr,
    teaching_reward,
)
from atlas_sre.bench.ttr import TTRModel, size_of


def rec(scenario: str, mode: str, correct: bool, student_tokens: int = 1000, repeat: int = 0,
        iteration: int = 0, teacher_tokens: int = 0, baseline: BaselineFields | None = None,
        faults: list[str] | None = None, outcome: str = "submitted") -> EpisodeResult:
    tokens = {"student.execute": TokenUse(prompt=student_tokens - 100, completion=100)}
    if teacher_tokens:
        tokens["teacher.correct"] = TokenUse(prompt=teacher_tokens - 50, completion=50)
    grade = None if outcome == "error" else GradeFields(
        precision=float(correct), recall=float(correct), f1=float(correct), strict=float(correct) * 0.5,
        correct=correct, propagation_f1=0.5)
    return EpisodeResult(key=f"eval/{mode}/{scenario}/i{iteration}/r{repeat}", scenario=scenario, mode=mode,
                         repeat=repeat, iteration=iteration, grade=grade, tokens=tokens, baseline=baseline,
                         faults=faults or ["f-" + scenario], outcome=outcome, commands=4)


@pytest.mark.parametrize(
    ("base_ok", "ok", "base_tokens", "tokens", "expected"),
    [
        (True, False, 1000, 500, -1.0),      # degraded: penalised whatever the tokens
        (False, False, 1000, 500, 0.0),      # both wrong: nothing
        (True, True, 1000, 600, 0.4),        # kept correct, 40% fewer student tokens
        (True, True, 1000, 1200, 0.0),       # kept correct but longer: no bonus
        (False, True, 1000, 750, 1.25),      # improved + 25% efficiency
        (False, True, 1000, 1500, 1.0),      # improved, no efficiency
        (False, True, 0, 10, 1.0),           # no baseline tokens: no bonus (no division by zero)
    ],
)
def test_teaching_reward_cases(base_ok: bool, ok: bool, base_tokens: int, tokens: int, expected: float) -> None:
    assert teaching_reward(base_ok, ok, base_tokens, tokens) == pytest.approx(expected)


def test_efficiency_is_a_share_of_the_baseline() -> None:
    assert efficiency(800, 200) == pytest.approx(0.75)
    assert efficiency(800, 800) == 0.0


def test_stderr_by_hand() -> None:
    # mean 0.5, squared deviations 4 × 0.25 = 1, sample var 1/3, sd 0.57735, / √4
    assert stderr([1, 0, 1, 0]) == pytest.approx(math.sqrt(1 / 3) / 2)
    assert stderr([0.7]) == 0.0
    assert mean_stderr([2.0, 4.0]) == {"mean": 3.0, "stderr": 1.0}


def test_pairing_improvements_degradations_and_non_degradation() -> None:
    records = [rec(f"s{i}", "student", ok, student_tokens=1000) for i, ok in enumerate([True, True, False, False])]
    records += [rec("s0", "atlas", True, student_tokens=600, teacher_tokens=200),   # kept, eff 0.4
                rec("s1", "atlas", False, student_tokens=600, teacher_tokens=200),  # degraded
                rec("s2", "atlas", True, student_tokens=750, teacher_tokens=200),   # improved, eff 0.25
                rec("s3", "atlas", False, student_tokens=900, teacher_tokens=200)]  # both wrong
    comps = comparisons_for(records)
    assert comps["eval/student/s0/i0/r0"] is None
    assert comps["eval/atlas/s1/i0/r0"]["degraded"] is True
    assert comps["eval/atlas/s2/i0/r0"]["improved"] is True
    stats = aggregate([r for r in records if r.mode == "atlas"], comps)
    assert stats["compared"] == 4
    assert (stats["improvements"], stats["degradations"]) == (1, 1)
    assert stats["non_degradation_rate"] == pytest.approx(0.75)
    assert stats["reward"]["mean"] == pytest.approx((0.4 - 1.0 + 1.25 + 0.0) / 4)
    assert stats["accuracy"]["mean"] == pytest.approx(0.5)
    assert stats["teacher_tokens"]["mean"] == pytest.approx(200)
    assert stats["tokens_per_phase"]["teacher.correct"]["mean"] == pytest.approx(200)
    assert stats["strict"]["mean"] == pytest.approx(0.25)


def test_in_episode_baseline_is_the_fallback_control() -> None:
    taught = rec("s0", "atlas", True, student_tokens=500,
                 baseline=BaselineFields(correct=False, student_tokens=1000))
    comps = comparisons_for([taught])
    assert comps[taught.key]["improved"] is True
    assert comps[taught.key]["reward"] == pytest.approx(1.5)


def test_student_run_of_the_same_repeat_is_preferred_over_the_in_episode_baseline() -> None:
    student = [rec("s0", "student", True, repeat=0), rec("s0", "student", False, repeat=1)]
    taught = rec("s0", "atlas", True, repeat=1, baseline=BaselineFields(correct=True, student_tokens=1000))
    comps = comparisons_for([*student, taught])
    assert comps[taught.key]["baseline_correct"] is False  # paired with repeat 1's student run


def test_stderr_is_over_repeats_when_there_are_several() -> None:
    records = [rec("a", "student", True, repeat=0), rec("b", "student", True, repeat=0),
               rec("a", "student", True, repeat=1), rec("b", "student", False, repeat=1)]
    acc = aggregate(records, comparisons_for(records))["accuracy"]
    assert acc["mean"] == pytest.approx(0.75)
    assert acc["stderr"] == pytest.approx(0.25)  # per-repeat means 1.0 and 0.5


def test_errors_count_as_wrong_with_zero_scores() -> None:
    records = [rec("a", "student", True), rec("b", "student", True, outcome="error")]
    stats = aggregate(records, comparisons_for(records))
    assert stats["accuracy"]["mean"] == pytest.approx(0.5)
    assert stats["f1"]["mean"] == pytest.approx(0.5)
    assert stats["outcomes"] == {"submitted": 1, "limits": 0, "error": 1}


def test_group_by_files_an_episode_under_each_of_its_faults() -> None:
    r = rec("a", "student", True, faults=["x", "y"])
    groups = group_by([r, rec("b", "student", False, faults=["y"])], lambda e: e.faults)
    assert {k: len(v) for k, v in groups.items()} == {"x": 1, "y": 2}


def test_ttr_model_by_hand() -> None:
    model = TTRModel()
    # 4 commands × (2 + 1) s + 10 lines × 0.2 s + 400/40 + 2000/2000 (8B) = 12 + 2 + 11
    assert model.seconds(4, 10, {"student": (2000, 400)}, {"student": "8B"}) == pytest.approx(25.0)
    # the same trajectory on a 0.5B CPU model: 400/28 + 2000/125
    assert model.seconds(4, 10, {"student": (2000, 400)}, {"student": "0.5B"}) == pytest.approx(
        14 + 400 / 28 + 2000 / 125, abs=1e-3)


@pytest.mark.parametrize(
    ("spec", "size"),
    [("reference:student", "8B"), ("llamacpp:qwen2.5-coder-0.5b", "0.5B"), ("llamacpp:qwen2.5-coder-1.5b", "1.5B"),
     ("hf:Qwen/Qwen3-8B", "8B"), ("openai:gpt-4o-mini", "api"), ("openai:llama-3.1-70b@http://h:1/v1", "70B"),
     ("hf:some-3b-model", "1.5B"), ("70B", "70B")],
)
def test_size_of_model_specs(spec: str, size: str) -> None:
    assert size_of(spec) == size


def test_with_one_repeat_iterations_of_an_incident_are_not_independent_samples() -> None:
    records = [rec(s, "student", ok, iteration=i) for s, ok in (("a", True), ("b", False)) for i in range(3)]
    acc = aggregate(records, comparisons_for(records))["accuracy"]
    assert acc["mean"] == pytest.approx(0.5)
    assert acc["stderr"] == pytest.approx(0.5)  # two incidents (1.0 and 0.0), not six episodes
