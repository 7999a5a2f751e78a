"""Calibration building blocks: targets, priors, likelihoods, the objective's rules."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from pathways_sim.calibration import likelihood as lk
from pathways_sim.calibration.config import load_config
from pathways_sim.calibration.objective import CALIBRATED, Problem, apply_values
from pathways_sim.calibration.priors import Prior, from_unit, load_priors, to_unit
from pathways_sim.calibration.targets import Target, clopper_pearson, load_targets
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import default_cohort
from pathways_sim.outcomes.observables import observe
from pathways_sim.scenario import ScenarioError, load_scenario
from pathways_sim.sweep.executors import InProcessExecutor, Job

ROOT = Path(__file__).resolve().parents[1]


def target(likelihood: str = "binomial", k: int = 10, n: int = 200,
           n_max: int | None = None) -> Target:
    return Target("t", "medium", "all", "found_work", 12.0, k, n, n_max, likelihood, "fit")


# --------------------------------------------------------------------------- targets, priors


def test_shipped_targets_priors_and_default_config_load() -> None:
    targets = load_targets(ROOT / "calibration" / "targets.csv")
    assert {t.role for t in targets} == {"fit", "validate"}
    glos = next(t for t in targets if t.id == "glos_6m_work")
    assert glos.n_max == 2500 and glos.likelihood == "binomial_uncertain_n"
    assert next(t for t in targets if t.id == "wtw_work_goals").window_months is None
    priors = load_priors(ROOT / "calibration" / "priors.csv")
    assert len(priors) == 17
    cfg = load_config("default")
    assert [p.parameter for p in cfg.priors][-1] == "service.decline_at_contact"
    assert len(cfg.fit_targets) == 16 and len(cfg.validate_targets) == 3  # patterns fitted
    # Five sites, each with its client mix; Tower Hamlets' only target is held out.
    assert cfg.sites.names == ["rotherham", "gloucestershire", "tower_hamlets",
                               "ways_to_wellness", "eqolise"]
    # The patterns at a typical service: the medium preset belongs to no site (the pooled
    # client mix, no deviation of its own) and runs at half scale.
    typical = [t for t in cfg.fit_targets if t.scenario == "medium"]
    assert {t.observable for t in typical} == {"stepping_vs_work", "work_interest_rise_6m"}
    assert cfg.sites.site_of("medium") is None and cfg.scale["medium"] == 0.5


@pytest.mark.parametrize(("row", "problem"), [
    ("x,medium,all,nope,12,1,10,,binomial,fit,s", "unknown observable"),
    ("x,medium,all,found_work,12,11,10,,binomial,fit,s", "k=11 out of n=10"),
    ("x,medium,all,found_work,12,1,10,,poisson,fit,s", "unknown likelihood"),
    ("x,medium,all,found_work,12,1,10,,binomial_uncertain_n,fit,s", "n_max is given"),
    ("x,medium,everyone,found_work,12,1,10,,binomial,fit,s", "unknown cohort"),
])
def test_bad_target_rows_are_reported_with_file_row_and_column(tmp_path: Path, row: str,
                                                               problem: str) -> None:
    f = tmp_path / "t.csv"
    f.write_text("id,scenario,cohort,observable,window_months,k,n,n_max,likelihood,role,source\n"
                 + row + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=problem) as err:
        load_targets(f)
    assert "line 2 (x), column " in str(err.value)


def test_priors_map_the_unit_cube_to_their_ranges_and_back() -> None:
    lin = Prior("clients.barrier_mean", 0.35, 0.65, "uniform", 0.5)
    log = Prior("jobs.base_per_week", 0.002, 0.08, "log-uniform", 0.012)
    assert lin.from_unit(0.5) == pytest.approx(0.5)
    assert log.from_unit(0.5) == pytest.approx(math.sqrt(0.002 * 0.08))  # geometric middle
    u = np.array([0.1, 0.7])
    assert to_unit([lin, log], from_unit([lin, log], u)) == pytest.approx(u)


def test_bad_priors_fail_loudly(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("parameter,low,high,prior,default\njobs.base_per_week,0.0,0.1,log-uniform,"
                 "0.01\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="log-uniform prior needs low > 0"):
        load_priors(f)
    f.write_text("parameter,low,high,prior,default\nclients.barrier_mean,0.5,1.5,uniform,0.5\n",
                 encoding="utf-8")
    with pytest.raises(ScenarioError, match="registry's allowed range"):
        load_priors(f)


def test_clopper_pearson_is_exact() -> None:
    lo, hi = clopper_pearson(0, 10, 0.90)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.05 ** (1 / 10))  # (1-hi)^10 = 0.05
    lo, hi = clopper_pearson(3, 156)
    assert stats.binom.sf(2, 156, lo) == pytest.approx(0.05)  # P(K >= 3 | lo) = 5%
    assert stats.binom.cdf(3, 156, hi) == pytest.approx(0.05)


# --------------------------------------------------------------------------- likelihoods


def test_binomial_and_smoothing() -> None:
    assert lk.binomial(3, 156, 0.02) == pytest.approx(stats.binom.logpmf(3, 156, 0.02))
    assert lk.simulated_share(0, 1000) == pytest.approx(0.5 / 1001)  # never simulated: not 0
    assert lk.simulated_share(50, 100) == 0.5


def test_beta_binomial_inflates_the_binomial_variance_by_the_design_effect() -> None:
    n, p, d = 600, 0.1, 3.0
    ks = np.arange(n + 1)
    pmf = np.exp([lk.beta_binomial(int(k), n, p, d) for k in ks])
    mean = (ks * pmf).sum()
    var = ((ks - mean) ** 2 * pmf).sum()
    assert pmf.sum() == pytest.approx(1.0)
    assert mean == pytest.approx(n * p, rel=1e-6)
    assert var == pytest.approx(d * n * p * (1 - p), rel=1e-6)
    assert lk.beta_binomial(5, 100, 0.05, 1.0) == pytest.approx(lk.binomial(5, 100, 0.05))


def test_uncertain_n_averages_the_binomial_over_n() -> None:
    direct = np.log(np.mean([stats.binom.pmf(10, m, 0.004) for m in range(2000, 2501)]))
    assert lk.binomial_uncertain_n(10, 2000, 2500, 0.004) == pytest.approx(direct)
    t = target("binomial_uncertain_n", 10, 2000, 2500)
    best = lk.saturated(t)
    for p in (0.003, 0.0045, 0.005, 0.01):
        assert lk.target_loglik(t, p) <= best + 1e-9
    assert lk.deviance(t, 10 / 2250) < 0.1  # the middle of the range fits almost perfectly


def test_lower_bound_is_a_one_sided_constraint() -> None:
    t = target("lower_bound", 225, 300)
    assert lk.target_loglik(t, 0.8) == 0.0 and lk.target_loglik(t, 0.75) == 0.0
    # A violation always costs the penalty (above any ABC tolerance: a rejection) ...
    assert lk.deviance(t, 0.7499) >= lk.CONSTRAINT_PENALTY
    assert lk.target_loglik(t, 0.7) < -lk.CONSTRAINT_PENALTY / 2
    assert lk.target_loglik(t, 0.5) < lk.target_loglik(t, 0.7)  # ... and more further below


def test_upper_bound_mirrors_the_lower_bound() -> None:
    t = target("upper_bound", 60, 100)
    assert lk.target_loglik(t, 0.4) == 0.0 and lk.target_loglik(t, 0.6) == 0.0
    assert lk.target_loglik(t, 0.7) < -lk.CONSTRAINT_PENALTY / 2
    assert lk.target_loglik(t, 0.9) < lk.target_loglik(t, 0.7)  # further above, costs more
    # The mirror image: p above a bound b costs what 1 - p below 1 - b costs.
    low = target("lower_bound", 40, 100)
    for p in (0.65, 0.8, 0.95):
        assert lk.target_loglik(t, p) == pytest.approx(lk.target_loglik(low, 1 - p))
    # Beyond the penalty, n sets the growth: ten times the n, ten times the cost.
    big = target("upper_bound", 600, 1000)
    excess = lk.CONSTRAINT_PENALTY / 2
    assert lk.target_loglik(big, 0.7) + excess == pytest.approx(
        10 * (lk.target_loglik(t, 0.7) + excess), rel=0.02)
    for kind in lk.BOUNDS:
        b = target(kind, 60, 100)
        assert lk.saturated(b) == 0.0
        assert lk.deviance(b, 0.6) == 0.0
        rep = lk.predictive_counts(b, np.array([0.3, 0.9]), np.random.default_rng(1))
        np.testing.assert_array_equal(rep, [0.3, 0.9])  # no sampling model
    assert lk.deviance(t, 0.7) == pytest.approx(-2 * lk.target_loglik(t, 0.7))
    assert lk.deviance(t, 0.7) > lk.CONSTRAINT_PENALTY
    assert lk.bound_met("upper_bound", 0.6, 0.6) and not lk.bound_met("upper_bound", 0.61, 0.6)
    assert lk.bound_met("lower_bound", 0.6, 0.6) and not lk.bound_met("lower_bound", 0.59, 0.6)
    with pytest.raises(ValueError, match="not a bound"):
        lk.bound_met("binomial", 0.5, 0.5)


def test_deviance_is_zero_at_the_observed_share_and_grows_away() -> None:
    for kind in ("binomial", "beta_binomial"):
        t = target(kind, 20, 400)
        assert lk.deviance(t, 0.05) == pytest.approx(0.0, abs=1e-9)
        assert 0 < lk.deviance(t, 0.06) < lk.deviance(t, 0.08)


def test_predictive_counts_follow_the_observation_model() -> None:
    rng = np.random.default_rng(1)
    p = np.full(20000, 0.1)
    rep = lk.predictive_counts(target("binomial", 0, 400), p, rng)
    assert rep.mean() == pytest.approx(0.1, abs=0.002)
    assert rep.var() == pytest.approx(0.1 * 0.9 / 400, rel=0.05)
    rep = lk.predictive_counts(target("beta_binomial", 0, 400), p, rng, design_effect=3.0)
    assert rep.var() == pytest.approx(3 * 0.1 * 0.9 / 400, rel=0.08)


# --------------------------------------------------------------------------- objective rules


def test_calibrated_values_apply_only_where_no_scenario_set_the_parameter() -> None:
    values = {"clients.aspiration_barrier": 0.7, "jobs.base_per_week": 0.02,
              "direct.referral_per_session": 0.3}
    ips = apply_values(load_scenario("ips_trial"), values)
    assert ips["clients.aspiration_barrier"] == 0.05  # trial design wins
    assert ips["direct.referral_per_session"] == 1.0
    assert ips["jobs.base_per_week"] == 0.02 and ips.set_by["jobs.base_per_week"] == CALIBRATED
    assert ips.name == "ips_trial"
    medium = apply_values(load_scenario("medium"), values)
    assert medium["clients.aspiration_barrier"] == 0.7


def _small_config(tmp_path: Path) -> Path:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(textwrap.dedent("""\
        description: A small fast service for calibration tests.
        base: medium
        params:
          run: {weeks: 39, cohort_weeks: 13, follow_up_weeks: 26}
          referrals: {per_year: 2000}
        """), encoding="utf-8")
    (tmp_path / "targets.csv").write_text(
        "id,scenario,cohort,observable,window_months,k,n,n_max,likelihood,role,source\n"
        f"uptake,{scenario},all,took_up_service,6,300,500,,binomial,fit,test\n"
        f"need,{scenario},working_age,employment_need_at_referral,,40,500,,binomial,fit,test\n",
        encoding="utf-8")
    (tmp_path / "priors.csv").write_text(
        "parameter,low,high,prior,default\nservice.uptake_base,0.05,0.6,uniform,0.35\n",
        encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: small\ntargets: targets.csv\npriors: priors.csv\nreplicates: 2\n"
                   "seed: 3\n", encoding="utf-8")
    return cfg


def test_objective_uses_common_seeds_and_pools_replicates(tmp_path: Path) -> None:
    problem = Problem(load_config(_small_config(tmp_path)))
    jobs = list(problem.jobs([{"service.uptake_base": 0.2}, {"service.uptake_base": 0.5}]))
    assert len(jobs) == 4
    assert [j.seed for j in jobs[:2]] == [j.seed for j in jobs[2:]] == list(problem.seeds)
    ex = InProcessExecutor()
    with ex:
        low, high = problem.evaluate([{"service.uptake_base": 0.1},
                                      {"service.uptake_base": 0.6}], ex)
    assert low.share[0] < high.share[0]  # more uptake, more clients take up an activity
    assert low.share[1] == high.share[1]  # need at referral does not depend on uptake (CRN)
    # The pooled count is the sum of direct observations of each replicate.
    sc = apply_values(problem.groups[0].scenario, {"service.uptake_base": 0.1})
    direct = []
    for seed in problem.seeds:
        m = PathwaysModel(sc, seed=seed)
        m.run()
        r = m.p.run
        direct.append(observe("took_up_service", m.log.frame(), m.client_attributes(), "all",
                              6, referred=default_cohort(r.weeks, r.cohort_weeks,
                                                         r.follow_up_weeks)))
    assert low.k_sim[0].sum() == sum(k for k, _ in direct)
    assert low.n_sim[0].sum() == sum(n for _, n in direct)
    assert low.nll == pytest.approx(-low.loglik.sum())
    task_out = problem.task(Job((0, problem.groups[0].name, 0), sc, problem.seeds[0]))
    assert task_out[0] == direct[0]


def test_coordinate_polish_walks_one_parameter_at_a_time_and_refines_its_step() -> None:
    from types import SimpleNamespace

    from pathways_sim.calibration.optuna_fit import CoordinatePolish

    priors = (Prior("clients.barrier_mean", 0.0, 1.0, "uniform", 0.5),
              Prior("jobs.base_per_week", 0.001, 0.1, "log-uniform", 0.01))
    polish = CoordinatePolish(SimpleNamespace(priors=priors), step=0.2, min_step=0.04)
    best = {"clients.barrier_mean": 0.5, "jobs.base_per_week": 0.01}
    first = polish.propose(best, 10.0, 4)
    assert [c["clients.barrier_mean"] for c in first] == pytest.approx([0.7, 0.3, 0.5, 0.5])
    assert first[2]["jobs.base_per_week"] == pytest.approx(0.01 * 10 ** (2 * 0.2))  # log range
    assert polish.step == 0.2
    polish.propose(best, 10.0, 4)  # a cycle without improvement: the step halves
    assert polish.step == pytest.approx(0.1)
    polish.propose(best, 10.0, 4)
    polish.propose(best, 10.0, 4)
    assert not polish.active and polish.propose(best, 10.0, 4) == []


def test_effective_sample_size_of_weights() -> None:
    from pathways_sim.calibration.pyabc_fit import ess

    assert ess(np.ones(10)) == pytest.approx(10) and ess(np.array([1.0, 0, 0])) == 1.0
    assert ess(np.array([3.0, 1.0])) == pytest.approx(16 / 10)


def test_a_particle_seed_depends_on_its_coordinates_and_the_root_only() -> None:
    from pathways_sim.calibration.pyabc_fit import particle_seed

    u = np.array([0.1, 0.7])
    assert particle_seed(5, u) == particle_seed(5, u.copy())
    assert len({particle_seed(5, u), particle_seed(6, u), particle_seed(5, u + 1e-9)}) == 3


def test_an_unknown_abc_distance_is_a_config_error(tmp_path: Path) -> None:
    cfg = _small_config(tmp_path)
    cfg.write_text(cfg.read_text() + "abc: {distance: euclid}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "abc.distance" in text and "euclid" in text and "deviance or adaptive" in text


@pytest.mark.parametrize("value", ["1", "ten", "1000", "2.5"])
def test_a_bad_pattern_replicates_is_a_config_error_that_says_none_is_allowed(
        tmp_path: Path, value: str) -> None:
    """predictive.pattern_replicates takes 2 to 100 or null (the experiment's own): the
    message names the key, the problem and both."""
    cfg = _small_config(tmp_path)
    cfg.write_text(cfg.read_text() + f"predictive: {{pattern_replicates: {value}}}\n",
                   encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "predictive.pattern_replicates" in text and str(cfg) in text
    assert "an integer from 2 to 100, or null for none" in text
    cfg.write_text(cfg.read_text().replace(f"pattern_replicates: {value}",
                                           "pattern_replicates: null"), encoding="utf-8")
    assert load_config(cfg).predictive.pattern_replicates is None


def test_a_nullable_number_says_null_is_allowed(tmp_path: Path) -> None:
    cfg = _small_config(tmp_path)
    cfg.write_text(cfg.read_text() + "abc: {min_epsilon: -1}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_config(cfg)
    assert "abc.min_epsilon" in str(err.value) and "or null for none" in str(err.value)


def test_the_pattern_replicates_flag_has_the_config_keys_limit() -> None:
    from pathways_sim.calibration.cli import MAX_PATTERN_REPLICATES
    from pathways_sim.calibration.config import MAX_REPLICATES

    assert MAX_PATTERN_REPLICATES == MAX_REPLICATES


def test_the_adaptive_distance_is_refused_when_patterns_are_fitted(tmp_path: Path) -> None:
    """pyabc's adaptive distance drops a term with no spread (a pattern most particles meet),
    so the patterns, which are constraints, could not constrain the fit."""
    cfg = _small_config(tmp_path)
    cfg.write_text(cfg.read_text() + "abc: {distance: adaptive}\n", encoding="utf-8")
    assert load_config(cfg).abc.distance == "adaptive"  # counts only: allowed
    targets = tmp_path / "targets.csv"
    scenario = tmp_path / "small.yaml"
    targets.write_text(targets.read_text() + f"rise,{scenario},all,work_interest_rise_6m,6,"
                       "3,4,,lower_bound,fit,test\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "abc.distance" in text and "pattern terms" in text and "deviance" in text


def test_the_pyabc_proposal_is_a_normal_per_parameter_fitted_to_the_weighted_population() -> None:
    """Independent normals (not a KDE); at scaling 1 exactly the weighted population's where
    it is narrower than the prior, and the prior (N(0, 1) on the probit scale) where it is not."""
    import pandas as pd

    from pathways_sim.calibration.pyabc_fit import gaussian_transition

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x00": rng.normal(1.0, 0.5, 400), "x01": rng.normal(-2.0, 0.6, 400)})
    w = np.ones(400)
    w[:200] = 3.0  # weighted mean and spread, not the plain ones
    t = gaussian_transition(1.0)
    t.fit(X, w / w.sum())
    wn = w / w.sum()
    mean = wn @ X.to_numpy()
    assert t.mean == pytest.approx(mean)
    assert t.sd == pytest.approx(np.sqrt(wn @ (X.to_numpy() - mean) ** 2))
    np.random.seed(0)  # noqa: NPY002 - pyabc's workers sample from the global state
    draws = pd.DataFrame([dict(t.rvs_single()) for _ in range(2000)])
    assert draws.mean().to_numpy() == pytest.approx(mean, abs=0.15)
    point = {"x00": 1.0, "x01": -2.0}
    expected = stats.norm.pdf(1.0, t.mean[0], t.sd[0]) * stats.norm.pdf(-2.0, t.mean[1], t.sd[1])
    assert t.pdf(pd.Series(point)) == pytest.approx(expected)
    assert t.pdf(pd.DataFrame([point, point])) == pytest.approx([expected, expected])
    # Wider than the prior (chance, where the data inform nothing), or no spread at all:
    # the prior, never a proposal wider than it.
    wide = pd.DataFrame({"x00": rng.normal(0.3, 1.5, 400), "x01": np.full(400, 0.7)})
    t.fit(wide, np.full(400, 1 / 400))
    assert t.mean == pytest.approx([0.0, 0.0]) and t.sd == pytest.approx([1.0, 1.0])


def test_the_default_proposal_keeps_the_importance_weights_even() -> None:
    """Prior x sqrt(likelihood) (scaling 2) against the population itself (scaling 1).

    One informed parameter (acceptance chance 0.3 exp(-(x - 1)^2 / 0.08) on the probit scale,
    where the prior is a standard normal) and 20 uninformed ones. The population is the
    posterior; proposals are accepted by chance, and the accepted particles weigh prior /
    proposal, as in pyabc. Scaling 2 proposes the prior for the uninformed parameters and
    about twice the posterior's variance for the informed one, and keeps most of the sample;
    the population itself as proposal loses much of it to a few heavy weights (in one
    informed parameter; their losses multiply over several).
    """
    import pandas as pd

    from pathways_sim.calibration.pyabc_fit import ess, gaussian_transition

    rng = np.random.default_rng(5)
    dims = [f"x{j:02d}" for j in range(21)]
    post_var = 1.0 / (1.0 + 1.0 / 0.04)  # prior N(0, 1) x a likelihood of variance 0.04
    post_mean = post_var * 1.0 / 0.04
    pop = rng.normal(0.0, 1.0, (4000, 21))
    pop[:, 0] = rng.normal(post_mean, np.sqrt(post_var), 4000)
    X = pd.DataFrame(pop, columns=dims)
    share = {}
    for scaling in (1.0, 2.0):
        t = gaussian_transition(scaling)
        t.fit(X, np.full(4000, 1 / 4000))
        if scaling == 2.0:
            assert t.sd[1:] == pytest.approx(1.0, abs=0.06)  # the prior where uninformed
            assert t.sd[0] ** 2 == pytest.approx(2 * post_var, rel=0.15)
        x = rng.normal(t.mean, t.sd, (40000, 21))
        accepted = rng.random(40000) < 0.3 * np.exp(-((x[:, 0] - 1.0) ** 2) / 0.08)
        x = x[accepted]
        logw = (stats.norm.logpdf(x).sum(axis=1)
                - stats.norm.logpdf(x, t.mean, t.sd).sum(axis=1))
        share[scaling] = ess(np.exp(logw - logw.max())) / len(x)
    assert share[2.0] > 0.6, share
    assert share[2.0] > share[1.0] + 0.2, share  # here 0.89 against 0.52


def test_a_pyabc_fit_is_the_same_from_the_same_seed_on_any_executor(tmp_path) -> None:
    """pyabc's own sampler reseeds each task from the operating system; ours seeds each task
    from (config seed, generation, task), so one worker and two give the same particles."""
    import pandas as pd

    from pathways_sim.calibration.objective import Problem
    from pathways_sim.calibration.pyabc_fit import run_pyabc
    from pathways_sim.sweep.executors import make_executor
    from tests.small_calibration import write_small_calibration

    problem = Problem(load_config(write_small_calibration(tmp_path)))
    draws = []
    for workers in (1, 2):
        with make_executor(workers=workers) as ex:
            fit = run_pyabc(problem, ex, tmp_path / f"w{workers}", log=lambda _: None)
        draws.append(fit.draws.reset_index(drop=True))
        assert len(fit.diagnostics["generations"]) == 2
    pd.testing.assert_frame_equal(draws[0], draws[1])
