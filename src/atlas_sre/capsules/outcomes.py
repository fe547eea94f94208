"""Outcome tracking: every use of a capsule counts, graded or not, and users can grade later.

- `record_outcome(store, record)`: one `record_use` per capsule the episode applied, with the
  episode's grade (None without ground truth), the (with − without) token and time deltas against
  the paired baseline run, and the baseline's own outcome (pruning's control). A provisional
  capsule is promoted to active once it has `promote_after` successes and more successes than
  failures — quicker than pruning's statistical promotion, which still applies later.
- `feedback(store, capsule_id, success)`: the user's verdict on a use whose outcome was unknown
  (a real cluster). It *resolves* one pending use (uses > successes + failures) in one atomic
  UPDATE, so the use is not counted twice; with no pending use it records a new use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.capsules.episode import EpisodeRecord
from atlas_sre.capsules.model import Capsule, CapsuleStatus, utcnow
from atlas_sre.capsules.store import CapsuleStore

log = logging.getLogger(__name__)


class ConsolidationConfig(BaseModel):
    """Knobs of consolidation and promotion (defaults are what the benchmark uses)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    promote_after: int = Field(default=2, ge=1, description="successes before provisional → active")
    merge_threshold: float = Field(default=0.5, gt=0, le=1, description="Jaccard of command keys to merge")
    max_commands: int = Field(default=6, ge=1)
    max_steps: int = Field(default=8, ge=2)
    max_evidence: int = Field(default=6, ge=1)
    max_trigger_terms: int = Field(default=16, ge=1)


def _delta(value: float | None, baseline: float | None) -> float | None:
    return None if value is None or baseline is None else float(value) - float(baseline)


def maybe_promote(store: CapsuleStore, capsule_id: str, cfg: ConsolidationConfig | None = None) -> bool:
    """Provisional → active after `promote_after` successes (and more successes than failures)."""
    cfg = cfg or ConsolidationConfig()
    c = store.get(capsule_id)
    if c is None or c.status is not CapsuleStatus.PROVISIONAL:
        return False
    if c.successes >= cfg.promote_after and c.successes > c.failures:
        store.set_status(capsule_id, CapsuleStatus.ACTIVE)
        log.info("capsule %s (%s) promoted to active after %d successes", c.id, c.skill, c.successes)
        return True
    return False


def record_outcome(store: CapsuleStore, record: EpisodeRecord | Mapping[str, Any],
                   cfg: ConsolidationConfig | None = None) -> list[str]:
    """Count one use of every capsule the episode applied; returns the ids counted (unknown ids skipped)."""
    rec = EpisodeRecord.of(record)
    counted = []
    for cid in dict.fromkeys(rec.applied_capsules):
        try:
            store.record_use(cid, rec.correct, _delta(rec.tokens, rec.baseline_tokens),
                             _delta(rec.wall_s, rec.baseline_wall_s), baseline_success=rec.baseline_correct)
        except KeyError:
            log.warning("episode %s applied capsule %s, which is not in this store: not counted",
                        rec.episode_id or "?", cid)
            continue
        counted.append(cid)
        if rec.correct:
            maybe_promote(store, cid, cfg)
    return counted


def feedback(store: CapsuleStore, capsule_id: str, success: bool,
             cfg: ConsolidationConfig | None = None) -> Capsule:
    """Apply a user's verdict (module docstring); raises KeyError for an unknown id."""
    if store.get(capsule_id) is None:
        raise KeyError(capsule_id)
    # CapsuleStore has no "resolve a pending use" method; this is one guarded UPDATE inside the
    # store's own write transaction, so it keeps the store's concurrency contract.
    with store._write() as db:  # noqa: SLF001 - see comment above
        resolved = db.execute(
            "UPDATE capsules SET successes = successes + :s, failures = failures + :f, last_used_at = :now"
            " WHERE id = :id AND uses > successes + failures",
            {"id": capsule_id, "s": int(success), "f": int(not success), "now": utcnow().isoformat()},
        ).rowcount
    if not resolved:
        store.record_use(capsule_id, success)
    if success:
        maybe_promote(store, capsule_id, cfg)
    return store.get(capsule_id)  # type: ignore[return-value]
