"""Small, dependency-free statistics for capsule outcomes.

Why a Beta posterior: a capsule's success is a Bernoulli outcome per use. Its conjugate prior is a
Beta(α0, β0); after `s` successes and `f` failures the posterior is Beta(α0 + s, β0 + f). The mean of
that posterior is a success rate that is defined from the first use, does not jump to 0 or 1 after
one observation, and converges to the empirical rate as evidence accumulates. The default prior
α0 = β0 = 1 (uniform) says "no idea yet" and makes a brand-new capsule read 0.5.

Everything here is closed-form so pruning can run without numpy/scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_PRIOR_ALPHA = 1.0
DEFAULT_PRIOR_BETA = 1.0


@dataclass(frozen=True)
class BetaPosterior:
    """Beta(alpha, beta) with the moments pruning needs.

    `alpha`/`beta` may be pseudo-counts of an imported prior (see `Capsule` docs), so only
    `alpha + beta > 0` is required, not each > 0.
    """

    alpha: float
    beta: float

    def __post_init__(self) -> None:
        if self.alpha < 0 or self.beta < 0 or self.alpha + self.beta <= 0:
            raise ValueError(f"invalid Beta parameters alpha={self.alpha} beta={self.beta}")

    @classmethod
    def from_counts(
        cls,
        successes: int,
        failures: int,
        prior_alpha: float = DEFAULT_PRIOR_ALPHA,
        prior_beta: float = DEFAULT_PRIOR_BETA,
    ) -> BetaPosterior:
        """Conjugate update: Beta(α0 + successes, β0 + failures)."""
        return cls(prior_alpha + successes, prior_beta + failures)

    @property
    def mean(self) -> float:
        """Posterior mean α / (α + β): the capsule's success rate."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def variance(self) -> float:
        """αβ / ((α+β)²(α+β+1)); shrinks like 1/n, which is what makes a difference 'meaningful'."""
        n = self.alpha + self.beta
        return self.alpha * self.beta / (n * n * (n + 1.0))

    def lower_bound(self, z: float = 1.0) -> float:
        """Normal-approximation lower bound mean − z·sd, clamped to [0, 1] (conservative ranking)."""
        return max(0.0, self.mean - z * math.sqrt(self.variance))


def difference_z(with_: BetaPosterior, without: BetaPosterior) -> float:
    """z-score of mean(with) − mean(without) under a normal approximation of both posteriors.

    Used by pruning to tell a real difference from noise without a Beta CDF.
    """
    sd = math.sqrt(with_.variance + without.variance)
    delta = with_.mean - without.mean
    if sd == 0.0:
        return math.copysign(math.inf, delta) if delta else 0.0
    return delta / sd


def safe_mean(total: float, count: int) -> float | None:
    """Running mean stored as (sum, count) so concurrent SQL increments stay exact; None if empty."""
    return total / count if count else None
