"""Likelihoods: how probable a reported count is given the model's simulated share.

The simulated share of a target is the count pooled over its replicates,
``p = (k_sim + 1/2) / (n_sim + 1)``: the half-count keeps ``p`` off 0 and 1
(a share never simulated is improbable, not impossible), and it vanishes as
the simulated cohort grows. Each target names one of five likelihoods
(``calibration/README.md``):

* ``binomial``: ``k ~ Binomial(n, p)``.
* ``beta_binomial``: goal-level counts (several goals per client are not
  independent): ``k ~ BetaBinomial(n, p, rho)`` with mean ``p`` and
  intra-class correlation ``rho = (D - 1) / (n - 1)``, so the variance is
  ``D`` times the binomial's. The design effect ``D`` is **fixed** (not
  calibrated): by default 3, the model's mean goals per client, i.e. an
  effective ``n`` of ``n / 3`` (``likelihood.design_effect`` in the config).
* ``binomial_uncertain_n``: ``n`` known only to lie in ``[n, n_max]``
  (Gloucestershire's "over 2,000"): the binomial likelihood averaged over a
  uniform integer ``n`` in that range.
* ``lower_bound``: a one-sided pattern, ``p >= k / n``, as a constraint:
  0 when it holds, else :data:`CONSTRAINT_PENALTY` plus the binomial
  log-likelihood ratio of ``p`` against the bound (both as log-likelihoods:
  minus half their deviance), so a violation always costs the penalty, and
  more the further ``p`` falls below the bound.
* ``upper_bound``: its mirror, ``p <= k / n``: 0 when it holds, else the
  penalty plus the binomial log-likelihood ratio of ``p`` against the bound.

The two bounds carry the report's qualitative patterns into the fit
(pattern-oriented modelling, ``calibration/README.md``, "Pattern terms"). A
posterior that contradicts a pattern is not a fit, so a violated pattern is
rejected, not traded against the counts: the penalty (a deviance of 1,000) is
larger than the tolerance a finished ABC fit reaches, so no particle accepted
after the tolerance falls below it violates a pattern in its simulation (a fit
stopped earlier says so in its report), and Optuna's point avoids it. ABC then conditions
on the pattern itself (its 0/1 statistic, matched exactly) as well as on the
counts. Beyond the penalty, ``n`` sets how fast the cost grows with the
violation (about ``n`` times the Kullback-Leibler divergence of the bound from
``p``), so it is the size of the reported count the pattern comes from.

Every function returns a log-likelihood (natural log). :func:`saturated`
gives the best log-likelihood any share could reach, so
``2 * (saturated - loglik)`` is a target's deviance (0 for a perfect fit),
the distance ABC uses and the unit of the fit tables.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

from pathways_sim.calibration.targets import Target

__all__ = [
    "DEFAULT_DESIGN_EFFECT",
    "beta_binomial",
    "binomial",
    "binomial_uncertain_n",
    "deviance",
    "BOUNDS",
    "CONSTRAINT_PENALTY",
    "bound_met",
    "lower_bound",
    "predictive_counts",
    "saturated",
    "simulated_share",
    "target_loglik",
    "upper_bound",
]

BOUNDS = ("lower_bound", "upper_bound")
"""The one-sided likelihoods: constraints on the simulated share, not sampling models."""

CONSTRAINT_PENALTY = 1000.0
"""Deviance added when a pattern term (a bound) is violated: above a finished fit's tolerance."""

DEFAULT_DESIGN_EFFECT = 3.0
"""Variance inflation of goal-level counts (mean goals per client in the model)."""

SMOOTHING = 0.5
"""Half-count added to simulated successes (and failures) before taking the share."""


def simulated_share(k_sim: float, n_sim: float, smoothing: float = SMOOTHING) -> float:
    """The simulated probability from pooled simulated counts, kept off 0 and 1.

    Args:
        k_sim: Simulated successes, summed over replicates.
        n_sim: Simulated trials, summed over replicates.
        smoothing: Added to successes and to failures.

    Returns:
        ``(k_sim + smoothing) / (n_sim + 2 * smoothing)`` (0.5 with no trials).
    """
    return (k_sim + smoothing) / (n_sim + 2 * smoothing)


def binomial(k: int, n: int, p: float) -> float:
    """``log P(k | Binomial(n, p))``."""
    return float(stats.binom.logpmf(k, n, p))


def _ab(n: int, p: float, design_effect: float) -> tuple[float, float]:
    rho = (design_effect - 1.0) / max(n - 1, 1)
    total = (1.0 - rho) / rho
    return p * total, (1.0 - p) * total


def beta_binomial(k: int, n: int, p: float,
                  design_effect: float = DEFAULT_DESIGN_EFFECT) -> float:
    """``log P(k)`` under a beta-binomial with mean ``p`` and ``D``-fold binomial variance.

    Args:
        k: Count.
        n: Trials (goals).
        p: Mean share.
        design_effect: ``D >= 1``; 1 is the binomial.

    Returns:
        The log-likelihood.
    """
    if design_effect <= 1.0 + 1e-12:
        return binomial(k, n, p)
    a, b = _ab(n, p, design_effect)
    return float(stats.betabinom.logpmf(k, n, a, b))


@lru_cache(maxsize=64)
def _n_grid(n: int, n_max: int) -> np.ndarray:
    return np.arange(n, n_max + 1)


def binomial_uncertain_n(k: int, n: int, n_max: int, p: float) -> float:
    """``log`` of the binomial likelihood averaged over a uniform integer ``N`` in [n, n_max]."""
    grid = _n_grid(n, n_max)
    return float(special.logsumexp(stats.binom.logpmf(k, grid, p)) - math.log(len(grid)))


def lower_bound(k: int, n: int, p: float) -> float:
    """One-sided constraint ``p >= k / n``: 0 when met, else
    ``log L(p) - log L(k/n) - CONSTRAINT_PENALTY / 2``."""
    bound = k / n
    if p >= bound:
        return 0.0
    return binomial(k, n, p) - binomial(k, n, bound) - CONSTRAINT_PENALTY / 2


def upper_bound(k: int, n: int, p: float) -> float:
    """One-sided constraint ``p <= k / n``: 0 when met, else
    ``log L(p) - log L(k/n) - CONSTRAINT_PENALTY / 2``."""
    bound = k / n
    if p <= bound:
        return 0.0
    return binomial(k, n, p) - binomial(k, n, bound) - CONSTRAINT_PENALTY / 2


def bound_met(kind: str, share: float, bound: float) -> bool:
    """Whether a share honours a one-sided target: ``>=`` a lower, ``<=`` an upper bound.

    Args:
        kind: ``lower_bound`` or ``upper_bound``.
        share: The simulated share.
        bound: The bound ``k / n``.

    Raises:
        ValueError: For a likelihood that is not a bound.
    """
    if kind == "lower_bound":
        return bool(share >= bound)
    if kind == "upper_bound":
        return bool(share <= bound)
    raise ValueError(f"{kind!r} is not a bound; bounds are {list(BOUNDS)}")


def target_loglik(target: Target, p: float,
                  design_effect: float = DEFAULT_DESIGN_EFFECT) -> float:
    """The log-likelihood of a target's observed count at simulated share ``p``.

    Args:
        target: The target (its ``likelihood`` picks the function).
        p: The simulated share (strictly between 0 and 1).
        design_effect: For ``beta_binomial`` targets.

    Returns:
        The log-likelihood.
    """
    kind = target.likelihood
    if kind == "binomial":
        return binomial(target.k, target.n, p)
    if kind == "beta_binomial":
        return beta_binomial(target.k, target.n, p, design_effect)
    if kind == "binomial_uncertain_n":
        assert target.n_max is not None
        return binomial_uncertain_n(target.k, target.n, target.n_max, p)
    if kind == "lower_bound":
        return lower_bound(target.k, target.n, p)
    if kind == "upper_bound":
        return upper_bound(target.k, target.n, p)
    raise ValueError(f"unknown likelihood {kind!r}")


def saturated(target: Target, design_effect: float = DEFAULT_DESIGN_EFFECT) -> float:
    """The highest log-likelihood any share reaches for this target.

    ``k / n`` for binomial and beta-binomial targets (0 for a bound, met);
    for an uncertain ``n`` the maximum is found numerically.
    """
    if target.likelihood in BOUNDS:
        return 0.0
    edge = 1e-12
    if target.likelihood == "binomial_uncertain_n":
        assert target.n_max is not None
        lo = max(target.k / target.n_max * 0.5, edge)
        hi = min(max(target.k / target.n * 1.5, 2 * lo), 1 - edge)
        res = optimize.minimize_scalar(lambda q: -target_loglik(target, q), bounds=(lo, hi),
                                       method="bounded", options={"xatol": 1e-10})
        return float(-res.fun)
    p = min(max(target.k / target.n, edge), 1 - edge)
    return target_loglik(target, p, design_effect)


def deviance(target: Target, p: float, design_effect: float = DEFAULT_DESIGN_EFFECT,
             best: float | None = None) -> float:
    """``2 * (saturated - loglik)``: 0 at the best share, larger the worse the fit."""
    top = saturated(target, design_effect) if best is None else best
    return max(0.0, 2.0 * (top - target_loglik(target, p, design_effect)))


def predictive_counts(target: Target, p: np.ndarray, rng: np.random.Generator,
                      design_effect: float = DEFAULT_DESIGN_EFFECT) -> np.ndarray:
    """Replicated observed shares: one draw of the reported count per simulated share.

    The observation model of the target's likelihood: a binomial (a uniform
    ``N`` in [n, n_max] for an uncertain denominator), a beta-binomial for
    goal counts, or the share itself for a bound (it has no sampling model).

    Args:
        target: The target.
        p: Simulated shares (one per posterior draw).
        rng: Random generator.
        design_effect: For ``beta_binomial`` targets.

    Returns:
        Replicated ``k / n`` for each share.
    """
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    kind = target.likelihood
    if kind in BOUNDS:
        return p.copy()
    if kind == "binomial_uncertain_n":
        assert target.n_max is not None
        n = rng.integers(target.n, target.n_max + 1, size=len(p))
        return rng.binomial(n, p) / n
    if kind == "beta_binomial" and design_effect > 1.0 + 1e-12:
        a, b = _ab(target.n, 0.5, design_effect)
        total = a + b
        q = rng.beta(p * total, (1 - p) * total)
        return rng.binomial(target.n, q) / target.n
    return rng.binomial(target.n, p) / target.n
