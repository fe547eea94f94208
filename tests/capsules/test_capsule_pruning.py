"""Pruning rules: harmful -> pruned, neutral / too specific -> deprecated, provisional -> promoted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from atlas_sre.capsules import (
    Capsule,
    CapsuleStatus,
    CapsuleStore,
    PruningConfig,
    plan_pruning,
    prune,
    review_capsule,
)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def cap(uses=0, successes=0, failures=0, b_s=0, b_f=0, status=CapsuleStatus.ACTIVE, **kw) -> Capsule:
    return Capsule(skill=kw.pop("skill", "s"), trigger="t", procedure=[kw.pop("step", "p")], uses=uses,
                   successes=successes, failures=failures, baseline_successes=b_s, baseline_failures=b_f,
                   status=status, created_at=kw.pop("created_at", NOW), **kw)


def test_harmful_is_pruned_with_reason_and_numbers():
    # with: Beta(1+3, 1+9) mean 4/14 = .286; without: Beta(1+8, 1+2) mean 9/12 = .75
    d = review_capsule(cap(12, 3, 9, b_s=8, b_f=2), now=NOW)
    assert (d.rule, d.new_status) == ("harmful", CapsuleStatus.PRUNED)
    assert d.metrics["rate_with"] == pytest.approx(4 / 14, abs=1e-4)
    assert d.metrics["rate_without"] == pytest.approx(0.75, abs=1e-4)
    assert d.metrics["z"] < -1 and "0.286" in d.reason and "0.750" in d.reason


def test_small_noisy_gap_is_not_harmful():
    # with 7/12 -> 8/14 = .571, without 5/8 -> 6/10 = .6: delta -.029: not harmful (margin .05),
    # not neutral (margin .02) either: no action until the evidence says more.
    assert review_capsule(cap(12, 7, 5, b_s=5, b_f=3), now=NOW) is None
    # large gap (5/12 vs 5/7) on little evidence: z = -1.42 is harmful at min_z 1, not at min_z 3
    assert review_capsule(cap(10, 4, 6, b_s=4, b_f=1), now=NOW).rule == "harmful"
    assert review_capsule(cap(10, 4, 6, b_s=4, b_f=1), PruningConfig(min_z=3.0), now=NOW) is None


def test_neutral_is_deprecated_unless_it_saves_tokens_or_time():
    same = cap(20, 15, 5, b_s=15, b_f=5)
    d = review_capsule(same, now=NOW)
    assert (d.rule, d.new_status) == ("neutral", CapsuleStatus.DEPRECATED)
    cheaper = same.model_copy(update={"tokens_delta_sum": -3000.0, "tokens_delta_n": 20})
    assert review_capsule(cheaper, now=NOW) is None
    faster = same.model_copy(update={"time_delta_sum": -400.0, "time_delta_n": 20})
    assert review_capsule(faster, now=NOW) is None


def test_no_decision_before_min_observations_or_without_baseline():
    assert review_capsule(cap(9, 0, 9, b_s=9, b_f=0), now=NOW) is None  # 9 < min_observations
    assert review_capsule(cap(12, 0, 12), now=NOW) is None  # no paired baseline, no global rate
    d = review_capsule(cap(12, 0, 12), baseline_rate=0.7, now=NOW)  # global baseline given
    assert d.rule == "harmful" and d.metrics["rate_without"] == 0.7


def test_too_specific_by_incidents_and_by_age():
    rare = cap(1, 1, 0, born_at_incident=50)
    assert review_capsule(rare, incidents_seen=149, now=NOW) is None  # only 99 incidents since birth
    d = review_capsule(rare, incidents_seen=150, now=NOW)  # 1 use in 100 incidents < 2%
    assert (d.rule, d.new_status, d.metrics["fire_rate"]) == ("too_specific", CapsuleStatus.DEPRECATED, 0.01)
    assert review_capsule(cap(2, 2, 0, born_at_incident=50), incidents_seen=150, now=NOW) is None
    old = cap(1, 1, 0, created_at=NOW - timedelta(days=90))
    d = review_capsule(old, now=NOW)  # no incident counter: 1 use in 90 days < 1 per 30 days
    assert d.rule == "too_specific" and d.metrics["age_days"] == 90.0
    assert review_capsule(cap(3, 3, 0, created_at=NOW - timedelta(days=90)), now=NOW) is None


def test_provisional_is_promoted_when_it_proves_itself():
    d = review_capsule(cap(12, 11, 1, b_s=3, b_f=7, status=CapsuleStatus.PROVISIONAL), now=NOW)
    assert (d.rule, d.old_status, d.new_status) == ("promote", CapsuleStatus.PROVISIONAL, CapsuleStatus.ACTIVE)
    assert review_capsule(cap(12, 11, 1, b_s=3, b_f=7), now=NOW) is None  # already active


def test_deprecated_can_still_be_pruned_but_pruned_is_final():
    harmful = dict(uses=12, successes=3, failures=9, b_s=8, b_f=2)
    assert review_capsule(cap(**harmful, status=CapsuleStatus.DEPRECATED), now=NOW).rule == "harmful"
    assert review_capsule(cap(**harmful, status=CapsuleStatus.PRUNED), now=NOW) is None
    assert review_capsule(cap(20, 15, 5, b_s=15, b_f=5, status=CapsuleStatus.DEPRECATED), now=NOW) is None


def test_prune_applies_logs_and_supports_dry_run(tmp_path, caplog):
    with CapsuleStore(tmp_path / "c.sqlite") as store:
        bad = store.add(cap(skill="bad", step="x"))
        good = store.add(cap(skill="good", step="y"))
        for i in range(12):
            store.record_use(bad.id, success=i < 3, baseline_success=i < 10)
            store.record_use(good.id, success=True, baseline_success=i < 6)
        caplog.set_level(logging.INFO, logger="atlas_sre.capsules.pruning")
        planned = prune(store, dry_run=True, now=NOW)
        assert [(d.capsule_id, d.rule) for d in planned] == [(bad.id, "harmful")]
        assert store.get(bad.id).status is CapsuleStatus.ACTIVE and "dry run" in caplog.text
        applied = prune(store, now=NOW)
        assert applied == planned and store.get(bad.id).status is CapsuleStatus.PRUNED
        assert store.get(good.id).status is CapsuleStatus.ACTIVE
        assert "harmful" in caplog.text and bad.id in caplog.text
        assert prune(store, now=NOW) == []  # idempotent


def test_plan_pruning_is_pure():
    caps = [cap(12, 3, 9, b_s=8, b_f=2, skill="a"), cap(12, 9, 3, b_s=8, b_f=4, skill="b")]
    before = [c.model_dump() for c in caps]
    assert [d.skill for d in plan_pruning(caps, now=NOW)] == ["a"]
    assert [c.model_dump() for c in caps] == before
    with pytest.raises(ValueError):
        PruningConfig(unknown_option=1)
