"""Demote capsules that do not help, as ATLAS prunes playbook entries, but on Beta posteriors.

Rules, first match wins (each decision carries the numbers that triggered it):
1. harmful → pruned: after `min_observations` uses, the success rate *with* the capsule is below the
   rate *without* it by at least `harmful_margin`, and the gap is at least `min_z` standard errors
   (normal approximation of the two Beta posteriors), so one unlucky streak does not kill a capsule.
2. neutral → deprecated: after `min_observations` uses, |rate with − rate without| < `neutral_margin`
   *and* it saves neither tokens (`min_token_saving`) nor time (`min_time_saving`). ATLAS's neutral
   rule looks at reward only; a capsule that reaches the same answer cheaper is still worth keeping.
3. too_specific → deprecated: it fired on fewer than `min_fire_rate` of the incidents seen since it
   was created (once `min_incidents` have been seen); stores that do not count incidents fall back
   to age: fewer than `min_uses_per_30_days` once `min_age_days` old.
4. promote → active: a provisional capsule that, after `min_observations`, beats its baseline by
   more than `neutral_margin` or saves tokens/time (the gate consolidation relies on).

"Without" is the paired no-capsule run of the same incidents (`baseline_successes/failures`, at
least `min_baseline_observations`), else a global `baseline_rate` given by the caller, else unknown
(rules 1, 2 and 4 then do not fire). Pruned is terminal; deprecated capsules can still be pruned.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.capsules.model import Capsule, CapsuleStatus, utcnow
from atlas_sre.capsules.stats import BetaPosterior, difference_z
from atlas_sre.capsules.store import CapsuleStore

log = logging.getLogger(__name__)

Rule = Literal["harmful", "neutral", "too_specific", "promote"]


class PruningConfig(BaseModel):
    """Thresholds; defaults follow ATLAS's pruning_config where one exists (min_sessions=10)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_observations: int = Field(default=10, ge=1)
    min_baseline_observations: int = Field(default=5, ge=1)
    harmful_margin: float = Field(default=0.05, ge=0)
    min_z: float = Field(default=1.0, ge=0)
    neutral_margin: float = Field(default=0.02, ge=0)
    min_token_saving: float = Field(default=100.0, ge=0, description="tokens per use")
    min_time_saving: float = Field(default=10.0, ge=0, description="seconds per use")
    min_incidents: int = Field(default=100, ge=1)
    min_fire_rate: float = Field(default=0.02, ge=0, le=1)
    min_age_days: float = Field(default=60.0, ge=0)
    min_uses_per_30_days: float = Field(default=1.0, ge=0)


class PruningDecision(BaseModel):
    capsule_id: str
    skill: str
    rule: Rule
    old_status: CapsuleStatus
    new_status: CapsuleStatus
    reason: str
    metrics: dict[str, float]


def _baseline(c: Capsule, cfg: PruningConfig, baseline_rate: float | None) -> BetaPosterior | float | None:
    if c.baseline_successes + c.baseline_failures >= cfg.min_baseline_observations:
        return c.baseline_posterior
    return baseline_rate


def _saves(c: Capsule, cfg: PruningConfig) -> bool:
    tokens, seconds = c.tokens_delta_mean, c.time_delta_mean
    return (tokens is not None and tokens <= -cfg.min_token_saving) or (
        seconds is not None and seconds <= -cfg.min_time_saving
    )


def review_capsule(
    c: Capsule,
    cfg: PruningConfig | None = None,
    *,
    incidents_seen: int = 0,
    baseline_rate: float | None = None,
    now: datetime | None = None,
) -> PruningDecision | None:
    """The decision for one capsule, or None to leave it as it is."""
    cfg = cfg or PruningConfig()
    if c.status is CapsuleStatus.PRUNED:
        return None

    def decide(rule: Rule, new: CapsuleStatus, reason: str, **metrics: float) -> PruningDecision | None:
        if new is c.status:
            return None
        return PruningDecision(capsule_id=c.id, skill=c.skill, rule=rule, old_status=c.status,
                               new_status=new, reason=reason, metrics=metrics)

    with_ = c.posterior
    base = _baseline(c, cfg, baseline_rate)
    if c.uses >= cfg.min_observations and base is not None:
        if isinstance(base, BetaPosterior):
            base_mean, z = base.mean, difference_z(with_, base)
        else:
            base_mean, sd = base, math.sqrt(with_.variance)
            z = (with_.mean - base) / sd if sd else math.copysign(math.inf, with_.mean - base)
        delta = with_.mean - base_mean
        m = {"uses": c.uses, "rate_with": round(with_.mean, 4), "rate_without": round(base_mean, 4),
             "delta": round(delta, 4), "z": round(z, 3)}
        if delta <= -cfg.harmful_margin and z <= -cfg.min_z:
            return decide("harmful", CapsuleStatus.PRUNED,
                          f"success rate with it {with_.mean:.3f} < without {base_mean:.3f} "
                          f"(delta {delta:+.3f}, z {z:.2f}) after {c.uses} uses", **m)
        if c.status is CapsuleStatus.DEPRECATED:
            return None
        if abs(delta) < cfg.neutral_margin and not _saves(c, cfg):
            return decide("neutral", CapsuleStatus.DEPRECATED,
                          f"no meaningful difference (delta {delta:+.3f}) and no token/time saving "
                          f"after {c.uses} uses", **m)
        if c.status is CapsuleStatus.PROVISIONAL and (delta > cfg.neutral_margin or _saves(c, cfg)):
            return decide("promote", CapsuleStatus.ACTIVE,
                          f"proved itself: delta {delta:+.3f}, tokens {c.tokens_delta_mean}, "
                          f"time {c.time_delta_mean} after {c.uses} uses", **m)
    if c.status is CapsuleStatus.DEPRECATED:
        return None
    since = incidents_seen - c.born_at_incident
    if incidents_seen and since >= cfg.min_incidents:
        rate = c.uses / since
        if rate < cfg.min_fire_rate:
            return decide("too_specific", CapsuleStatus.DEPRECATED,
                          f"fired on {c.uses} of {since} incidents ({rate:.3%} < {cfg.min_fire_rate:.2%})",
                          uses=c.uses, incidents=since, fire_rate=round(rate, 5))
    elif not incidents_seen:
        age_days = ((now or utcnow()) - c.created_at).total_seconds() / 86400
        per_30 = c.uses * 30 / age_days if age_days > 0 else math.inf
        if age_days >= cfg.min_age_days and per_30 < cfg.min_uses_per_30_days:
            return decide("too_specific", CapsuleStatus.DEPRECATED,
                          f"{c.uses} uses in {age_days:.0f} days ({per_30:.2f}/30 days)",
                          uses=c.uses, age_days=round(age_days, 1), uses_per_30_days=round(per_30, 3))
    return None


def plan_pruning(
    capsules: Iterable[Capsule],
    cfg: PruningConfig | None = None,
    *,
    incidents_seen: int = 0,
    baseline_rate: float | None = None,
    now: datetime | None = None,
) -> list[PruningDecision]:
    """Decisions for many capsules (pure: nothing is written)."""
    decisions = [
        review_capsule(c, cfg, incidents_seen=incidents_seen, baseline_rate=baseline_rate, now=now)
        for c in capsules
    ]
    return [d for d in decisions if d is not None]


def prune(
    store: CapsuleStore,
    cfg: PruningConfig | None = None,
    *,
    baseline_rate: float | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[PruningDecision]:
    """Plan over the whole store, log every decision, and apply it unless `dry_run`."""
    live = store.list([CapsuleStatus.ACTIVE, CapsuleStatus.PROVISIONAL, CapsuleStatus.DEPRECATED])
    incidents = store.counters().get("incidents_seen", 0)
    decisions = plan_pruning(live, cfg, incidents_seen=incidents, baseline_rate=baseline_rate, now=now)
    for d in decisions:
        log.info("capsule %s (%s): %s -> %s [%s] %s%s", d.capsule_id, d.skill, d.old_status.value,
                 d.new_status.value, d.rule, d.reason, " (dry run)" if dry_run else "")
        if not dry_run:
            store.set_status(d.capsule_id, d.new_status)
    return decisions
