"""Posterior predictive distributions: of the targets, and of any observable in any scenario.

Each posterior draw is a parameter set resampled from the calibrated
posterior (for an Optuna fit, the point estimate every time) run with its
own seed (not the fit's common seeds: fresh simulation noise), so the
spread of the draws combines parameter uncertainty and simulation noise.

For the targets, each draw's simulated share is also passed through the
target's observation model (binomial with the reported ``n``, a uniform
``n`` when uncertain, beta-binomial for goal counts;
:func:`~pathways_sim.calibration.likelihood.predictive_counts`), giving a
replicated *observed* share: the 90% posterior predictive interval (PPI) of
the reported count, which should contain it about 9 times in 10.

Typical use::

    from pathways_sim.calibration.predict import predict_observable

    out = predict_observable(load_scenario("medium"), "found_work", 12, "all", cal, executor,
                             draws=40)
    out["median"], out["lo90"], out["hi90"], out["draws"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.calibration.likelihood import (
    BOUNDS,
    bound_met,
    deviance,
    predictive_counts,
    simulated_share,
)
from pathways_sim.calibration.objective import ObserveTask, Problem, apply_values
from pathways_sim.calibration.results import CalibrationResult
from pathways_sim.calibration.sites import fresh_deviations
from pathways_sim.defaults import DEFAULT_SEED
from pathways_sim.outcomes.observables import COHORTS, OBSERVABLES
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import Scenario, ScenarioError
from pathways_sim.sweep.executors import Executor, Job, run_many

__all__ = ["LEVEL", "interval", "predict_observable", "target_predictive"]

LEVEL = 0.90
"""Level of the predictive intervals."""


def interval(x: Sequence[float] | np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """``(median, lo, hi)``: the median and central ``level`` interval of the draws."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    tail = (1 - level) / 2
    med, lo, hi = np.quantile(v, [0.5, tail, 1 - tail])
    return float(med), float(lo), float(hi)


def _draws(result: CalibrationResult | None, k: int, seed: int,
           defaults: dict[str, float], problem: Problem | None = None
           ) -> list[dict[str, float]]:
    """``k`` parameter sets: resampled posterior draws (the point for Optuna; the defaults
    without a calibration). A site of ``problem`` that the fit did not see (left out, or
    never evaluated) gets fresh deviations from its prior in each draw, so its
    prediction carries the between-site spread of the client mix."""
    if result is None:
        out = [dict(defaults) for _ in range(k)]
    elif result.method == "optuna" or len(result.draws) == 1:
        out = [dict(result.point) for _ in range(k)]
    else:
        out = result.sample(k, seed)
    if result is not None and problem is not None:
        known = set(result.parameters)
        for site in problem.fitted_sites:
            if set(problem.sites.deviations([site])) <= known:
                continue
            for values, fresh in zip(out, fresh_deviations(problem.sites, site, k, seed),
                                     strict=True):
                values.update(fresh)
    return out


def target_predictive(problem: Problem, result: CalibrationResult | None, executor: Executor,
                      draws: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The posterior predictive of every target of a problem.

    Args:
        problem: The problem (its targets and scaled scenarios).
        result: The calibration (None: the registry defaults, for comparison).
        executor: An open executor.
        draws: Posterior draws, one run of each target scenario each.
        seed: Root seed of the draws' seeds and of the resampling.

    Returns:
        ``(fit, long)``. ``fit`` has one row per target: id, role, likelihood,
        observed, obs_lo90/obs_hi90 (exact Clopper-Pearson), sim_median,
        sim_lo90/sim_hi90 (simulated share), ppi_median, ppi_lo90/ppi_hi90
        (replicated observed share), inside (observed within the PPI; for a
        lower bound, the simulated median at or above it; for an upper bound,
        at or below it) and deviance at the
        median simulated share. ``long`` has draw, target, share, replicated.
    """
    defaults = {p.parameter: p.default for p in problem.priors}
    thetas = _draws(result, draws, seed, defaults, problem)
    seeds = replicate_seeds(seed, draws)
    evs = problem.evaluate(thetas, executor, seeds=[[s] for s in seeds])
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    shares = np.array([ev.share for ev in evs])  # draws x targets
    rows, long = [], []
    for j, t in enumerate(problem.targets):
        sim = shares[:, j]
        rep = predictive_counts(t, np.nan_to_num(sim, nan=0.5), rng, problem.config.design_effect)
        s_med, s_lo, s_hi = interval(sim)
        r_med, r_lo, r_hi = interval(rep)
        o_lo, o_hi = t.interval(LEVEL)
        if t.likelihood in BOUNDS:
            inside = bound_met(t.likelihood, s_med, t.share)
        else:
            inside = bool(r_lo <= t.share <= r_hi)
        if t.likelihood in BOUNDS:  # judged on the median share, as ``inside`` is
            at = float(np.clip(s_med, 1e-12, 1 - 1e-12)) if np.isfinite(s_med) else 0.5
        else:
            at = simulated_share(np.nanmedian([ev.k_sim[j].sum() for ev in evs]),
                                 np.nanmedian([ev.n_sim[j].sum() for ev in evs]))
        rows.append({
            "target": t.id, "role": t.role, "scenario": t.scenario, "observable": t.observable,
            "likelihood": t.likelihood, "k": t.k, "n": t.n, "observed": t.share,
            "obs_lo90": o_lo, "obs_hi90": o_hi, "sim_median": s_med, "sim_lo90": s_lo,
            "sim_hi90": s_hi, "ppi_median": r_med, "ppi_lo90": r_lo, "ppi_hi90": r_hi,
            "inside": inside,
            "deviance": deviance(t, at, problem.config.design_effect),
        })
        long.extend({"draw": i, "target": t.id, "share": float(s), "replicated": float(r)}
                    for i, (s, r) in enumerate(zip(sim, rep, strict=True)))
    return pd.DataFrame(rows), pd.DataFrame(long)


def predict_observable(scenario: Scenario, observable: str, window_months: float | None,
                       cohort: str, result: CalibrationResult | None, executor: Executor,
                       draws: int = 40, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Posterior predictive distribution of an observable's share in a scenario.

    Args:
        scenario: The scenario (calibrated values are applied where it did not
            set the parameter).
        observable: A key of :data:`~pathways_sim.outcomes.observables.OBSERVABLES`.
        window_months: Months from referral (None: the whole follow-up).
        cohort: ``all``, ``working_age`` or ``not_in_work``.
        result: The calibration (None: the scenario as it is, draws differ by seed only).
        executor: An open executor.
        draws: Posterior draws (one run each, each with its own seed).
        seed: Root seed of the draws.

    Returns:
        ``{"scenario", "observable", "window_months", "cohort", "calibration",
        "median", "lo90", "hi90", "draws": [k/n per draw], "k": [...], "n": [...]}``.

    Raises:
        ScenarioError: Unknown observable or cohort, or a window longer than
            the scenario's follow-up.
    """
    if observable not in OBSERVABLES:
        raise ScenarioError("command line", "--observable", f"unknown observable {observable!r}",
                            "one of " + ", ".join(sorted(OBSERVABLES)))
    if cohort not in COHORTS:
        raise ScenarioError("command line", "--cohort", f"unknown cohort {cohort!r}",
                            "one of " + ", ".join(COHORTS))
    if draws < 1:
        raise ScenarioError("command line", "--draws", f"{draws} draws", "at least 1")
    from pathways_sim.outcomes.metrics import months_to_weeks

    follow = int(scenario.values["run.follow_up_weeks"])
    if window_months is not None and months_to_weeks(window_months) > follow:
        raise ScenarioError("command line", "--window-months",
                            f"{window_months} months is longer than the scenario's follow-up "
                            f"({follow} weeks)", "a window within run.follow_up_weeks")
    thetas = _draws(result, draws, seed, {})
    sites = None if result is None else result.sites
    site = None if sites is None else sites.site_of(scenario)
    if site is not None and not set(sites.deviations([site])) <= set(result.parameters):
        # A site the fit did not see: a fresh client-mix deviation in each draw.
        for th, fresh in zip(thetas, fresh_deviations(sites, site, draws, seed), strict=True):
            th.update(fresh)
    seeds = replicate_seeds(seed, draws)
    task = ObserveTask((("predict", ((observable, cohort, window_months),)),))
    jobs = (Job((i, "predict", 0), apply_values(scenario, th, sites=sites) if th else scenario,
                int(s))
            for i, (th, s) in enumerate(zip(thetas, seeds, strict=True)))
    k = np.zeros(draws, dtype=np.int64)
    n = np.zeros(draws, dtype=np.int64)
    for res in run_many(jobs, executor, task=task):
        if not res.ok:
            raise RuntimeError(f"a predictive run failed: {res.error}\n{res.traceback}")
        k[res.key[0]], n[res.key[0]] = res.value[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    med, lo, hi = interval(shares)
    return {
        "scenario": scenario.name, "observable": observable, "window_months": window_months,
        "cohort": cohort, "calibration": None if result is None else result.version,
        "method": None if result is None else result.method,
        "calibration_path": None if result is None or result.path is None else str(result.path),
        "draws_requested": draws,
        "median": med, "lo90": lo, "hi90": hi,
        "draws": [None if np.isnan(s) else float(s) for s in shares],
        "k": k.tolist(), "n": n.tolist(),
    }

