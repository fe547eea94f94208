"""Consolidation: hand-built episodes → generalised capsules, merging, grading gates, outcome counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capsule_corpus import CAPSULES
from test_consolidate_episodes import bench_record, crash_record, mesh_record

from atlas_sre.capsules import Capsule, CapsuleRetriever, CapsuleStatus, CapsuleStore, RootCausePattern
from atlas_sre.capsules.consolidate import collect_names, consolidate, consolidate_all
from atlas_sre.capsules.episode import EpisodeRecord
from atlas_sre.capsules.generalise import POD_PLACEHOLDER, has_literal
from atlas_sre.capsules.outcomes import ConsolidationConfig, feedback, record_outcome


@pytest.fixture
def store(tmp_path: Path) -> CapsuleStore:
    with CapsuleStore(tmp_path / "capsules.sqlite") as s:
        yield s


def _text(c: Capsule) -> str:
    return json.dumps([c.trigger, c.commands, [e.pattern for e in c.evidence], c.procedure])


def test_mesh_nc_episode_becomes_a_generalised_teacher_capsule(store: CapsuleStore) -> None:
    c = consolidate(store, mesh_record())
    assert c is not None
    assert c.skill == "destinationrule_misconfiguration_debug"
    assert c.root_cause == RootCausePattern(kind="DestinationRule", category="Misconfiguration")
    assert c.source == "teacher_correction" and c.status is CapsuleStatus.PROVISIONAL and c.version == 1
    # decisive = the proxy log (its output holds the evidence); `get pods` was not asked for; the
    # DestinationRule read afterwards confirms the culprit; the VirtualService read does not.
    assert c.commands == [f"kubectl logs {POD_PLACEHOLDER} -n {{namespace}} -c istio-proxy --tail=100",
                          "kubectl get destinationrules -n {namespace} -o yaml"]
    assert [e.pattern for e in c.evidence] == ["503 NC cluster_not_found"]
    assert c.trigger == "HTTP 503; HighRequestErrorRate; error rate"
    assert c.procedure[0].startswith("Read the istio-proxy access log of the failing caller's pod")
    assert c.procedure[1].startswith("Compare the VirtualService routes with the DestinationRule subsets")
    assert "`503 NC cluster_not_found`" in c.procedure[-1] and "DestinationRule" in c.procedure[-1]
    text = _text(c)
    names = collect_names(EpisodeRecord.of(mesh_record()))
    assert not has_literal(text, names)
    for literal in ("shop", "checkout", "payment", "x2x4z", "7d9f8c6b5d"):
        assert literal not in text.lower()
    rendered = c.render_commands(namespace="orders", workload="frontend")
    assert rendered[0].startswith("kubectl logs frontend -n orders")


def test_crash_episode_without_guidance_is_a_trajectory_capsule(store: CapsuleStore) -> None:
    c = consolidate(store, crash_record())
    assert c is not None
    assert c.skill == "deployment_resource_saturation_debug" and c.source == "trajectory"
    # breadcrumb (the pod list that showed the crashing pod) + decisive describe; not the logs after it
    assert c.commands == ["kubectl get pods -n {namespace}",
                          f"kubectl describe pod {POD_PLACEHOLDER} -n {{namespace}}"]
    assert [e.pattern for e in c.evidence][0] == "OOMKilled"
    assert c.trigger.split("; ")[:2] == ["KubePodCrashLooping", "restarting"]
    assert c.procedure[1].startswith("Describe the pod and read its state and events")
    for literal in ("store", "cart", "kq2xz", "6f7d8c9b5b"):
        assert literal not in _text(c).lower()


def test_same_procedure_on_other_names_merges_into_one_capsule(store: CapsuleStore) -> None:
    first = consolidate(store, mesh_record())
    assert first is not None
    second = mesh_record(ns="payments-prod", caller="frontend", pod="frontend-5b7c9d8f6c-m4n5p",
                         dest="ledger", tail=200, applied_capsules=[first.id], tokens=900,
                         baseline_tokens=1500, wall_s=20.0, baseline_wall_s=35.0, baseline_correct=False)
    merged = consolidate(store, second)
    assert merged is not None and merged.id == first.id
    assert store.count() == 1
    assert merged.version == 2 and merged.metadata["episodes"] == 2
    assert (merged.uses, merged.successes, merged.failures) == (1, 1, 0)
    assert (merged.tokens_delta_sum, merged.time_delta_sum, merged.baseline_failures) == (-600.0, -15.0, 1)
    assert merged.commands == first.commands  # --tail differs: the same check, kept once
    assert not has_literal(_text(merged), collect_names(EpisodeRecord.of(second)))


@pytest.mark.parametrize("threshold, capsules", [(0.5, 1), (0.75, 2)])
def test_merge_threshold_on_partial_overlap(store: CapsuleStore, threshold: float, capsules: int) -> None:
    cfg = ConsolidationConfig(merge_threshold=threshold)
    consolidate(store, mesh_record(), cfg)  # commands: proxy log + DestinationRule read
    partial = mesh_record(ns="billing", pod="checkout-5b7c9d8f6c-m4n5p")
    partial["commands"] = partial["commands"][:2]  # proxy log only: Jaccard 1/2 with the first
    consolidate(store, partial, cfg)
    assert store.count() == capsules
    if capsules == 1:
        assert store.list()[0].version == 2


def test_different_procedure_of_the_same_skill_stays_separate(store: CapsuleStore) -> None:
    first = consolidate(store, mesh_record())
    other = mesh_record()
    other["commands"] = [{"line": "analyze -A", "exit_code": 79, "observation":
                          "Error [IST0101] (VirtualService shop/payment) Referenced host+subset in "
                          "destinationrule not found: \"payment+v2\""}]
    evidence = "IST0101 Referenced host+subset in destinationrule not found"
    other["diagnosis"]["entities"][0]["evidence"] = evidence
    second = consolidate(store, other)
    assert first is not None and second is not None and second.id != first.id
    assert store.count() == 2 and [e.pattern for e in second.evidence][0] == "IST0101"


def test_incorrect_and_ungraded_episodes_teach_nothing(store: CapsuleStore) -> None:
    assert consolidate(store, mesh_record(correct=False)) is None
    assert consolidate(store, mesh_record(correct=None)) is None
    assert store.count() == 0
    learnt = consolidate(store, mesh_record(correct=None), confirmed=True)  # the user said it was right
    assert learnt is not None and store.count() == 1


def test_episode_whose_evidence_no_command_printed_teaches_nothing(store: CapsuleStore) -> None:
    rec = mesh_record()
    rec["diagnosis"]["entities"][0] = {"name": "shop/Gateway/edge",
                                       "evidence": "TLS handshake error on port 443"}
    assert consolidate_all(store, rec) == [] and store.count() == 0


def _seeded(store: CapsuleStore) -> Capsule:
    return store.upsert(Capsule(skill="probe", trigger="HTTP 503", procedure=["read logs"],
                                status=CapsuleStatus.PROVISIONAL))


def test_record_outcome_counts_exactly(store: CapsuleStore, caplog: pytest.LogCaptureFixture) -> None:
    cap = _seeded(store)
    ids = [cap.id, "cap-ffffffffffffffff"]
    episodes = [
        {"correct": True, "tokens": 1000, "baseline_tokens": 1400, "wall_s": 10, "baseline_wall_s": 12.5,
         "baseline_correct": False},
        {"correct": False, "tokens": 1500, "baseline_tokens": 1400, "baseline_correct": True},
        {"correct": None},
        {"correct": True, "tokens": 700},  # no baseline: no delta
    ]
    for ep in episodes:
        assert record_outcome(store, {**ep, "applied_capsules": ids}) == [cap.id]
    c = store.get(cap.id)
    assert c is not None
    assert (c.uses, c.successes, c.failures) == (4, 2, 1)
    assert (c.baseline_successes, c.baseline_failures) == (1, 1)
    assert (c.tokens_delta_sum, c.tokens_delta_n) == (-300.0, 2)
    assert (c.time_delta_sum, c.time_delta_n) == (-2.5, 1)
    assert c.success_rate == pytest.approx((1 + 2) / (2 + 3))  # Beta(1+2, 1+1)
    assert c.status is CapsuleStatus.ACTIVE  # promote_after=2 successes, more than failures
    assert "not in this store" in caplog.text


def test_promotion_waits_for_promote_after(store: CapsuleStore) -> None:
    cap = _seeded(store)
    cfg = ConsolidationConfig(promote_after=3)
    for _ in range(2):
        record_outcome(store, {"correct": True, "applied_capsules": [cap.id]}, cfg)
    assert store.get(cap.id).status is CapsuleStatus.PROVISIONAL  # type: ignore[union-attr]
    record_outcome(store, {"correct": True, "applied_capsules": [cap.id]}, cfg)
    assert store.get(cap.id).status is CapsuleStatus.ACTIVE  # type: ignore[union-attr]


def test_feedback_resolves_a_pending_use_then_records_new_ones(store: CapsuleStore) -> None:
    cap = _seeded(store)
    record_outcome(store, {"correct": None, "applied_capsules": [cap.id]})
    c = feedback(store, cap.id, True)
    assert (c.uses, c.successes, c.failures) == (1, 1, 0)  # the pending use, settled, not a second use
    c = feedback(store, cap.id, False)
    assert (c.uses, c.successes, c.failures) == (2, 1, 1)  # nothing pending: a new use
    with pytest.raises(KeyError):
        feedback(store, "cap-doesnotexist00", True)


def test_bench_record_consolidates_and_counts_the_applied_capsule(store: CapsuleStore) -> None:
    store.upsert(Capsule(id="cap-00000000000000aa", skill="seeded", trigger="503", procedure=["x"]))
    c = consolidate(store, bench_record())
    assert c is not None and c.skill == "virtualservice_misconfiguration_debug"
    assert c.commands == ["analyze -A"] and [e.pattern for e in c.evidence][0] == "IST0101"
    used = store.get("cap-00000000000000aa")
    assert used is not None and (used.uses, used.successes, used.baseline_failures) == (1, 1, 1)
    assert used.tokens_delta_sum == 700 - 1000


@pytest.mark.parametrize("incident, expected", [
    ("Payment calls fail with 503s; the sidecar access log shows NC cluster_not_found responses",
     "destinationrule_misconfiguration_debug"),
    ("The basket pods are restarting again and again: OOMKilled", "deployment_resource_saturation_debug"),
])
def test_consolidated_capsule_ranks_first_for_a_paraphrase(store: CapsuleStore, incident: str,
                                                          expected: str) -> None:
    store.upsert_many(CAPSULES)
    consolidate(store, mesh_record())
    consolidate(store, crash_record())
    hits = CapsuleRetriever(store).retrieve(incident)
    assert hits and hits[0].capsule.skill == expected, [(h.capsule.skill, h.score) for h in hits]
