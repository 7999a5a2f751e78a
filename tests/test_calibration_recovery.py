"""Parameter recovery: calibrating to targets simulated from known parameters finds them.

Three parameters, each pinned by its own observable in a small fast service
(4,000 referrals a year, a three-month cohort followed for six months; without the upward
spiral and supported volunteering, which tie job starts to activity uptake, so that one
synthetic data set of 6-month job starts pins the job-entry rate apart from uptake):
``service.uptake_base`` (took up a VCS activity), ``jobs.base_per_week``
(found work) and ``clients.aspiration_barrier`` (employment need at referral).
The synthetic "reported" counts are one simulation at the true values with a
seed the calibration never uses, so the fit sees the same kind of noise real
data has. This is the test that shows the calibration code is right: a
mix-up of parameters, targets, seeds, likelihoods or weights moves the
estimates away from the truth.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from pathways_sim.calibration.config import load_config
from pathways_sim.calibration.objective import Problem, apply_values
from pathways_sim.calibration.optuna_fit import run_optuna
from pathways_sim.calibration.pyabc_fit import run_pyabc
from pathways_sim.calibration.results import weighted_quantile
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import default_cohort
from pathways_sim.outcomes.observables import observe_many
from pathways_sim.scenario import load_scenario
from pathways_sim.sweep.executors import make_executor

TRUE = {"service.uptake_base": 0.12, "jobs.base_per_week": 0.03,
        "clients.aspiration_barrier": 0.65}
SPECS = {"uptake": ("took_up_service", "all", 6), "work": ("found_work", "all", 6),
         # Among clients not in work, an employment-related need is wanting work: aspiration.
         "need": ("employment_need_at_referral", "not_in_work", "")}
DATA_SEED = 777  # not a calibration seed: the synthetic data has its own noise


def write_problem(folder: Path, replicates: int = 1) -> Path:
    """Scenario, synthetic targets, priors and config of the recovery problem; the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "recovery.yaml"
    scenario.write_text(textwrap.dedent("""\
        description: A small fast service for the calibration recovery test.
        base: medium
        params:
          run: {weeks: 39, cohort_weeks: 13, follow_up_weeks: 26}
          referrals: {per_year: 4000}
          dynamics: {stepping_stone_awareness: 0.0}
          provision: {supported_volunteering: 0.0}
        """), encoding="utf-8")
    sc = apply_values(load_scenario(scenario), TRUE)
    m = PathwaysModel(sc, seed=DATA_SEED)
    m.run()
    r = m.p.run
    counts = observe_many([(o, c, w or None) for o, c, w in SPECS.values()], m.log.frame(),
                          m.client_attributes(),
                          referred=default_cohort(r.weeks, r.cohort_weeks, r.follow_up_weeks))
    rows = ["id,scenario,cohort,observable,window_months,k,n,n_max,likelihood,role,source"]
    for (tid, (obs, cohort, window)), (k, n) in zip(SPECS.items(), counts, strict=True):
        rows.append(f"{tid},{scenario},{cohort},{obs},{window},{k},{n},,binomial,fit,synthetic")
    (folder / "targets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "priors.csv").write_text(textwrap.dedent("""\
        parameter,low,high,prior,default,informed_by,source
        service.uptake_base,0.05,0.6,uniform,0.35,uptake,test
        jobs.base_per_week,0.003,0.1,log-uniform,0.012,work,test
        clients.aspiration_barrier,0.5,0.95,uniform,0.8,need,test
        """), encoding="utf-8")
    config = folder / "recovery_config.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: recovery
        targets: targets.csv
        priors: priors.csv
        seed: 11
        replicates: {replicates}
        optuna: {{budget: 64, batch: 4, startup_trials: 16}}
        abc: {{population: 60, generations: 7, quantile: 0.5, budget: 2000}}
        predictive: {{draws: 8, seed: 5}}
        """), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> Problem:
    return Problem(load_config(write_problem(tmp_path_factory.mktemp("recovery"))))


def _unit(problem: Problem, values: dict[str, float]) -> np.ndarray:
    return np.array([p.to_unit(values[p.parameter]) for p in problem.priors])


def test_optuna_recovers_known_parameters(problem: Problem, tmp_path: Path) -> None:
    with make_executor(workers=2) as ex:
        fit = run_optuna(problem, ex, tmp_path, log=lambda _: None)
    err = np.abs(_unit(problem, fit.best_values) - _unit(problem, TRUE))
    # Tolerance: 0.15 of each prior's (log) range. One synthetic data set and 64 trials of a
    # noisy objective pin each parameter to a few hundredths; a mix-up is off by 0.3 or more.
    assert err.max() < 0.15, dict(zip(problem.parameters, err.round(3), strict=True))
    assert fit.best_nll < fit.trials["nll"].iloc[0]  # better than the registry defaults


def test_pyabc_posterior_covers_known_parameters(problem: Problem, tmp_path: Path) -> None:
    with make_executor(workers=2) as ex:
        fit = run_pyabc(problem, ex, tmp_path, log=lambda _: None)
    w = fit.draws["weight"].to_numpy()
    gens = fit.diagnostics["generations"]
    assert len(gens) >= 3
    assert gens[-1]["epsilon"] < gens[0]["epsilon"]  # the tolerance shrinks
    for p in problem.priors:
        x = fit.draws[p.parameter].to_numpy()
        lo, med, hi = weighted_quantile(x, [0.025, 0.5, 0.975], w)
        assert lo <= TRUE[p.parameter] <= hi, (p.parameter, lo, hi)
        # ... centred near the truth (a mix-up of parameters, targets or weights is off by 0.3
        # or more of the prior's range) ...
        assert abs(p.to_unit(med) - p.to_unit(TRUE[p.parameter])) < 0.2, (p.parameter, med)
        # ... and the posterior has learnt something: its 90% interval narrower than the prior.
        # Not asked of uptake: took_up_service saturates (the offer is capped at 0.95 after the
        # follow-up factor), so every high uptake fits the data about as well and a correct
        # posterior keeps a long right tail (90% widths of 0.32-0.82 of the prior's range in
        # five runs with proposals that explore it). Its learning is shown by the median check
        # above: the truth is 0.37 of the range below the prior's median.
        if p.parameter != "service.uptake_base":
            lo90, hi90 = weighted_quantile(x, [0.05, 0.95], w)
            assert p.to_unit(hi90) - p.to_unit(lo90) < 0.8, (p.parameter, lo90, hi90)
