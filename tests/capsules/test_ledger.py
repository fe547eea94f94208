"""`capsules.ledger`: what a batch of consolidation did, from two censuses and the pruning decisions."""

from __future__ import annotations

from collections.abc import Callable

from atlas_sre.capsules import Capsule, CapsuleStatus, CapsuleStore
from atlas_sre.capsules.ledger import batch_counts, census
from atlas_sre.capsules.pruning import PruningDecision


def _capsule(skill: str, episodes: int = 1, status: str = "provisional") -> Capsule:
    return Capsule(skill=skill, trigger=f"{skill} trigger", procedure=[f"look at {skill}"], status=status,
                   metadata={"episodes": episodes})


def test_learnt_merged_kept_and_retired_with_reasons(store_at: Callable[[str], str]) -> None:
    with CapsuleStore(store_at("s.sqlite")) as store:
        old, stale = store.upsert(_capsule("old")), store.upsert(_capsule("stale"))
        before = census(store)
        store.upsert(old.model_copy(update={"metadata": {"episodes": 2}}))  # reinforced
        new = store.upsert(_capsule("new"))
        store.set_status(stale.id, CapsuleStatus.DEPRECATED)
        store.set_status(old.id, CapsuleStatus.ACTIVE)
        decision = PruningDecision(capsule_id=stale.id, skill="stale", rule="too_specific",
                                   old_status=CapsuleStatus.PROVISIONAL, new_status=CapsuleStatus.DEPRECATED,
                                   reason="fired on 0 of 120 incidents", metrics={})
        counts = batch_counts(before, census(store), [decision])
    assert new.id not in before
    assert counts == {"learnt": 1, "merged": 1, "kept": 2, "learnt_kept": 1, "promoted": 1, "deprecated": 1,
                      "pruned": 0, "reasons": {"too_specific": 1}}
