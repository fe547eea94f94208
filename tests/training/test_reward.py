"""The GRPO reward on real simulated investigations (reference student, real kubectl against the
simulator): a completion naming the checks that decide beats a garbled one; an over-long one pays
the length penalty; the formula's terms are the documented ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from atlas_sre.bench.metrics import teaching_reward
from atlas_sre.protocol.atlas import ATLASInference
from atlas_sre.training.dataset import Baseline, TrainError, prepare_baselines, prompt_rows
from atlas_sre.training.reward import (
    FORMAT_REWARD,
    LENGTH_BUDGET,
    TeachingReward,
    length_penalty,
    score_parseable,
    training_reward,
)

SCENARIOS = ["service-no-endpoints", "mesh-subset-missing"]
GOOD = """Score: 2/5 - missing: A, D, E
<teaching>1. Check the service endpoints (ready addresses behind each Service): `kubectl get endpoints -n shop`
2. Run the mesh analyzer: `analyze -A`
3. Check the routing objects: `kubectl get destinationrules,virtualservices -n shop -o yaml`</teaching>"""
GARBLED = "ox tieckub po Ch zz destin qq"
LONG = GOOD.replace("</teaching>", " Decide from what their output shows." * 40 + "</teaching>")

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baselines")
    atlas = ATLASInference("reference:student", "reference:teacher")
    prepare_baselines(atlas, "reference:student", SCENARIOS, out, split="0.5")
    return out


@pytest.fixture(scope="module")
def baselines(prepared: Path) -> list[Baseline]:
    atlas = ATLASInference("reference:student", "reference:teacher")
    return prepare_baselines(atlas, "reference:student", SCENARIOS, prepared, split="0.5")  # from the cache


@pytest.fixture(scope="module")
def reward(baselines: list[Baseline], tmp_path_factory: pytest.TempPathFactory) -> TeachingReward:
    atlas = ATLASInference("reference:student", "reference:teacher")
    log = tmp_path_factory.mktemp("log") / "completions.jsonl"
    return TeachingReward(atlas, {b.scenario: b for b in baselines}, log_path=log)


def test_split_is_by_scenario_and_prompts_hold_no_ground_truth(baselines: list[Baseline]) -> None:
    assert sorted(b.scenario for b in baselines) == sorted(SCENARIOS)
    assert sorted(b.split for b in baselines) == ["test", "train"]
    train = prompt_rows(baselines, "train")
    assert len(train) == 1 and train[0]["scenario"] in SCENARIOS
    assert set(train[0]) == {"prompt", "scenario"}  # correctness lives in Baseline, never in a row
    user = train[0]["prompt"][1]["content"]
    base = next(b for b in baselines if b.scenario == train[0]["scenario"])
    assert base.plan in user and "Score: N/5" in user
    # one reply holds both parts a completion is scored on: the score line, then the guidance
    assert "<teaching></teaching>" in user and "exactly one line" not in user
    assert "invalid-kubernetes-service-selector" not in user


def test_good_completion_beats_garbled_on_a_real_investigation(reward: TeachingReward) -> None:
    good = reward.score("service-no-endpoints", GOOD)
    garbled = reward.score("service-no-endpoints", GARBLED)
    # the baseline is wrong on this incident; the guidance that names the endpoints check turns it right
    assert not good.baseline_correct and good.guided_correct and good.outcome == "submitted"
    assert "kubectl get endpoints -n shop" in good.commands
    assert not garbled.guided_correct and "kubectl get endpoints -n shop" not in garbled.commands
    assert good.score == 2 and good.format == FORMAT_REWARD and garbled.format == 0.0
    assert good.teaching == pytest.approx(
        teaching_reward(False, True, good.baseline_tokens, good.guided_tokens), abs=1e-6)
    assert good.teaching > 1.0 and garbled.teaching == 0.0
    assert good.reward > garbled.reward
    assert good.reward == pytest.approx(good.teaching + FORMAT_REWARD - good.length_penalty, abs=1e-6)


def test_over_long_completion_pays_the_length_penalty(reward: TeachingReward) -> None:
    long = reward.score("service-no-endpoints", LONG)
    assert long.completion_tokens > LENGTH_BUDGET
    assert long.length_penalty > 0
    assert long.length_penalty == pytest.approx(length_penalty(long.completion_tokens), abs=1e-6)
    assert long.reward == pytest.approx(long.teaching + long.format - long.length_penalty, abs=1e-6)
    assert long.reward < reward.score("service-no-endpoints", GOOD).reward


def test_reward_function_speaks_trl(reward: TeachingReward) -> None:
    """TRL's call: conversational completions, the dataset's `scenario` column, completion ids."""
    completions = [[{"role": "assistant", "content": GOOD}], [{"role": "assistant", "content": GARBLED}]]
    metrics: dict[str, float] = {}
    values = reward(prompts=[[], []], completions=completions, completion_ids=[[0] * 30, [0] * 500],
                    scenario=["mesh-subset-missing"] * 2, log_metric=metrics.__setitem__)
    assert values[0] > values[1]
    assert metrics["atlas/length_penalty"] == pytest.approx(length_penalty(500) / 2)
    lines = reward.log_path.read_text(encoding="utf-8").splitlines() if reward.log_path else []
    assert lines and '"scenario": "mesh-subset-missing"' in lines[-1]
    with pytest.raises(KeyError, match="no baseline"):
        reward.score("oom-catalog", GOOD)


@pytest.mark.parametrize(("args", "expected"), [
    ((True, False, 1000, 900), -1.0),            # degraded
    ((False, False, 1000, 900), 0.0),            # both wrong
    ((True, True, 1000, 800), 0.2),              # kept, 20 % fewer student tokens
    ((False, True, 1000, 1200), 1.0),            # improved, no saving
])
def test_training_reward_terms(args: tuple[bool, bool, int, int], expected: float) -> None:
    assert training_reward(*args, completion_tokens=LENGTH_BUDGET, parseable=False) == pytest.approx(expected)
    assert training_reward(*args, completion_tokens=LENGTH_BUDGET, parseable=True) == pytest.approx(
        expected + FORMAT_REWARD)
    assert training_reward(*args, completion_tokens=LENGTH_BUDGET + 100, parseable=True) == pytest.approx(
        expected + FORMAT_REWARD - 0.5)
    assert training_reward(*args, completion_tokens=10_000, parseable=False) == pytest.approx(expected - 1.0)


def test_score_parseable() -> None:
    assert score_parseable("Score: 3/5 - missing: A\n<teaching>x</teaching>")
    assert score_parseable("\n  score : 0 / 5")
    assert not score_parseable("The plan is good, 4/5")  # the probe line must come first, as asked
    assert not score_parseable(GARBLED)


def test_baselines_cache_is_read_back_only_for_the_same_settings(prepared: Path, baselines: list[Baseline],
                                                                  tmp_path: Path) -> None:
    atlas = ATLASInference("reference:student", "reference:teacher")
    again = prepare_baselines(atlas, "reference:student", SCENARIOS, prepared, split="0.5")
    assert again == baselines
    with pytest.raises(TrainError, match=r"prepared with split '0.5', not '1:1': use the same settings"):
        prepare_baselines(atlas, "reference:student", SCENARIOS, prepared, split="1:1")
    with pytest.raises(TrainError, match="no such file or built-in scenario"):
        prepare_baselines(atlas, "reference:student", ["no-such-scenario"], tmp_path)
