"""What one batch of consolidation did to a store: learnt / merged / kept / retired, with reasons.

Why compare two censuses instead of trusting a consolidator's return value: the benchmark accepts
any consolidator (`(store, record) -> anything`), and a store may also be changed by outcome
counting and promotion. A census before and after the batch (id → version, episodes learnt from,
status) says what changed whatever did it, and the pruning decisions say why a capsule was
retired. The report shows these counts per stage (`bench/report.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from atlas_sre.capsules.model import RETRIEVABLE
from atlas_sre.capsules.pruning import PruningDecision
from atlas_sre.capsules.store import CapsuleStore


@dataclass(frozen=True)
class Entry:
    """One capsule in a census."""

    version: int
    episodes: int
    status: str


Census = dict[str, Entry]


def census(store: CapsuleStore) -> Census:
    """Every capsule's version, the number of episodes it was learnt from, and its status."""
    return {c.id: Entry(c.version, int(c.metadata.get("episodes", 1) or 1), c.status.value) for c in store.list()}


def batch_counts(before: Census, after: Census, decisions: Sequence[PruningDecision] = ()) -> dict[str, Any]:
    """Counts of one batch (docs/benchmark.md, "Consolidation per stage").

    - learnt: capsules that did not exist before the batch;
    - merged: existing capsules reinforced by a new episode (their episode count grew);
    - kept: retrievable (active or provisional) capsules after the batch's pruning;
    - learnt_kept: of those learnt in this batch, how many are still retrievable;
    - promoted: capsules that became active (after successes, or by pruning's promote rule);
    - deprecated / pruned: pruning decisions of the batch; `reasons` counts them by rule.
    """
    retrievable = {s.value for s in RETRIEVABLE}
    learnt = [cid for cid in after if cid not in before]
    merged = [cid for cid, e in after.items() if cid in before and e.episodes > before[cid].episodes]
    to = Counter(d.new_status.value for d in decisions)
    return {
        "learnt": len(learnt),
        "merged": len(merged),
        "kept": sum(e.status in retrievable for e in after.values()),
        "learnt_kept": sum(after[cid].status in retrievable for cid in learnt),
        "deprecated": to.get("deprecated", 0),
        "pruned": to.get("pruned", 0),
        "promoted": sum(e.status == "active" and (cid not in before or before[cid].status == "provisional")
                        for cid, e in after.items()),
        "reasons": dict(sorted(Counter(d.rule for d in decisions if d.rule != "promote").items())),
    }
