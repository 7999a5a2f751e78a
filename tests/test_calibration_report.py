"""The calibration report on synthetic results: shrinkage, correlations, patterns, coverage, misses.

Each test builds a :class:`CalibrationResult` whose posterior is known by
construction: one parameter pinned down by the data, one barely, one not at all,
two that trade off (correlation about -0.9), a site-level column, and a decoy
half of the draws with negligible weight (so an unweighted summary would be
wrong). Leave-one-site-out files are written through
:mod:`pathways_sim.calibration.loso_io`, as the leave-one-site-out command does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.calibration import report as rep
from pathways_sim.calibration.loso_io import Loso, loso_summary, read_loso, write_loso
from pathways_sim.calibration.priors import Prior
from pathways_sim.calibration.results import CalibrationResult
from pathways_sim.scenario import ScenarioError


@dataclass(frozen=True)
class SitePrior(Prior):
    """A site-level prior as the site-level priors name their draws' column."""

    site: str = ""

    @property
    def column(self) -> str:
        return f"{self.parameter}@{self.site}"


PRIORS = (
    Prior("service.uptake_base", 0.15, 0.6, "uniform", 0.35, "uptake, t_fit_miss"),
    Prior("clients.aspiration_barrier", 0.55, 0.95, "uniform", 0.8, "t_fit_miss"),
    Prior("clients.barrier_mean", 0.35, 0.65, "uniform", 0.5, "stepping-stone targets"),
    Prior("jobs.base_per_week", 0.002, 0.08, "log-uniform", 0.012, "job targets, t_fit_miss"),
    SitePrior("clients.share_employed_at_risk", 0.04, 0.3, "uniform", 0.12, "th_need",
              site="tower_hamlets"),
)
SITE_COLUMN = "clients.share_employed_at_risk@tower_hamlets"


def _draws(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """Weighted posterior draws with known shrinkage and one strong trade-off."""
    rng = np.random.default_rng(seed)
    uptake = rng.normal(0.4, 0.01, n)  # 90% width 0.033 of the prior's 0.405: informed
    good = pd.DataFrame({
        "service.uptake_base": uptake,
        # Trades off with uptake (r about -0.9 on the priors' scales), narrow: informed.
        "clients.aspiration_barrier": 0.75 - 2.0 * (uptake - 0.4) + rng.normal(0, 0.009, n),
        # Uniform over the lower 60% of its range: shrinkage 1 - 0.6 = 0.4, weakly informed.
        "clients.barrier_mean": rng.uniform(0.35, 0.35 + 0.6 * 0.3, n),
        # The prior itself (log-uniform): shrinkage about 0, not informed.
        "jobs.base_per_week": np.exp(rng.uniform(np.log(0.002), np.log(0.08), n)),
        SITE_COLUMN: rng.uniform(0.04, 0.3, n),
        "weight": 1.0,
    })
    # A decoy half spread over the priors with negligible weight: wrong if weights are ignored.
    decoy = pd.DataFrame({p.column if isinstance(p, SitePrior) else p.parameter:
                          rng.uniform(p.low, p.high, n) for p in PRIORS})
    decoy["weight"] = 1e-9
    out = pd.concat([good, decoy], ignore_index=True)
    out.insert(0, "draw", np.arange(len(out)))
    out["distance"] = 1.0
    return out


def _fit_row(target: str, role: str, likelihood: str, observed: float, sim: float,
             inside: bool, observable: str = "found_work", deviance: float = 2.0) -> dict:
    return {"target": target, "role": role, "scenario": "no_such_scenario",
            "observable": observable, "likelihood": likelihood, "k": int(observed * 1000),
            "n": 1000, "observed": observed, "obs_lo90": observed * 0.9,
            "obs_hi90": min(1.0, observed * 1.1), "sim_median": sim, "sim_lo90": sim * 0.8,
            "sim_hi90": min(1.0, sim * 1.2), "ppi_median": sim, "ppi_lo90": sim * 0.7,
            "ppi_hi90": min(1.0, sim * 1.3), "inside": inside, "deviance": deviance}


FIT = pd.DataFrame([
    _fit_row("uptake", "fit", "binomial", 0.8, 0.79, True, "took_up_service"),
    _fit_row("t_fit_miss", "fit", "binomial", 0.005, 0.02, False, deviance=30.0),
    _fit_row("th_need", "fit", "binomial", 0.13, 0.13, True, "employment_need_at_referral"),
    _fit_row("t_val_miss", "validate", "binomial", 0.09, 0.01, False, "volunteering"),
    _fit_row("t_val_in", "validate", "binomial", 0.02, 0.02, True, "volunteering"),
    _fit_row("pattern_lo", "validate", "lower_bound", 0.75, 0.8, True,
             "volunteering_vs_work_goals", 0.0),
    # A violated pattern term: the constraint's penalty (1,000) plus its log-likelihood ratio.
    _fit_row("pattern_hi", "fit", "upper_bound", 0.1, 0.12, False, "found_work", 1002.0),
])


def _predictive() -> pd.DataFrame:
    """100 draws per target; 70 of pattern_lo at or above 0.75, 40 of pattern_hi at or below 0.1."""
    rows = []
    for t in FIT["target"]:
        shares = np.full(100, 0.5)
        if t == "pattern_lo":
            shares = np.r_[np.full(70, 0.8), np.full(30, 0.6)]
        elif t == "pattern_hi":
            shares = np.r_[np.full(40, 0.05), np.full(60, 0.2)]
        rows += [{"draw": i, "target": t, "share": s, "replicated": s}
                 for i, s in enumerate(shares)]
    return pd.DataFrame(rows)


def make_result(method: str = "abc", path: Path | None = None) -> CalibrationResult:
    draws = _draws()
    if method == "optuna":
        draws = draws.iloc[:1].assign(weight=1.0)
    point = {c: float(draws[c].iloc[0]) for c in draws.columns
             if c not in ("draw", "weight", "distance")}
    point["clients.aspiration_barrier"] = 0.949  # at the upper edge of its prior range
    gens = [{"generation": g, "epsilon": 100.0 / (g + 1), "accepted": 50, "proposed": 100,
             "acceptance_rate": 0.5, "ess": 40.0 - g, "min_distance": 5.0, "seconds": 3.0}
            for g in range(3)]
    return CalibrationResult(
        name="synthetic", method=method, priors=PRIORS, point=point, draws=draws,
        history=draws.assign(generation=2), diagnostics={"generations": gens} if method != "optuna"
        else {"trials": 1}, config={"notes": {"t_val_miss": "a known gap."},
                                    "predictive": {"draws": 100}},
        fingerprint="f" * 64, fit=FIT.copy(), predictive=_predictive(), path=path)


LOSO = pd.DataFrame([
    {"site": "rotherham", "target": "t_fit_miss", "scenario": "s", "observed": 0.005,
     "median": 0.03, "lo90": 0.02, "hi90": 0.04, "inside": False},
    {"site": "rotherham", "target": "uptake", "scenario": "s", "observed": 0.8,
     "median": 0.78, "lo90": 0.7, "hi90": 0.85, "inside": True},
    {"site": "tower_hamlets", "target": "th_need", "scenario": "s", "observed": 0.13,
     "median": 0.02, "lo90": 0.01, "hi90": 0.04, "inside": False},
    {"site": "ways_to_wellness", "target": "t_val_in", "scenario": "s", "observed": 0.02,
     "median": 0.021, "lo90": 0.01, "hi90": 0.03, "inside": True},
])


# --------------------------------------------------------------------------- the numbers


def test_parameters_are_the_draws_columns_including_site_level_ones() -> None:
    pars = rep.parameter_columns(make_result())
    assert [p.column for p in pars] == ["service.uptake_base", "clients.aspiration_barrier",
                                        "clients.barrier_mean", "jobs.base_per_week",
                                        SITE_COLUMN]
    site = pars[-1]
    assert site.site == "tower_hamlets" and site.name == "clients.share_employed_at_risk"


def test_a_site_column_without_its_own_prior_uses_the_parameters_prior() -> None:
    res = make_result()
    res.priors = PRIORS[:4]
    res.draws = res.draws.rename(columns={SITE_COLUMN: "clients.barrier_mean@glos"})
    pars = {p.column: p for p in rep.parameter_columns(res)}
    assert pars["clients.barrier_mean@glos"].prior is PRIORS[2]
    assert pars["clients.barrier_mean@glos"].site == "glos"


def test_shrinkage_classes_follow_the_weighted_posterior() -> None:
    table = rep.shrinkage_table(make_result()).set_index("parameter")
    # Widths by construction: 0.033/0.405 -> 0.92; 0.6 of the range -> 0.4; the prior -> 0.
    assert table.loc["service.uptake_base", "shrinkage"] == pytest.approx(0.92, abs=0.02)
    assert table.loc["clients.barrier_mean", "shrinkage"] == pytest.approx(0.4, abs=0.03)
    assert table.loc["jobs.base_per_week", "shrinkage"] == pytest.approx(0.0, abs=0.05)
    assert table["informed"].to_dict() == {
        "service.uptake_base": "informed", "clients.aspiration_barrier": "informed",
        "clients.barrier_mean": "weakly informed", "jobs.base_per_week": "not informed",
        SITE_COLUMN: "not informed"}
    assert table.loc["service.uptake_base", "median"] == pytest.approx(0.4, abs=0.002)


def test_classes_use_the_named_thresholds() -> None:
    assert [rep.classify(s) for s in (0.5, 0.49, 0.2, 0.19, -0.3)] == [
        "informed", "weakly informed", "weakly informed", "not informed", "not informed"]
    assert rep.classify(float("nan")) == "no posterior"


def test_the_strongest_pairs_are_the_built_in_trade_off_only() -> None:
    res = make_result()
    corr = rep.weighted_correlation(res)
    assert corr.loc["service.uptake_base", "clients.aspiration_barrier"] < -0.85
    pairs = rep.strong_pairs(corr)
    assert len(pairs) == 1
    p = pairs.iloc[0]
    assert {p["a"], p["b"]} == {"service.uptake_base", "clients.aspiration_barrier"}
    assert "higher service.uptake_base with a lower clients.aspiration_barrier" in p["reading"]
    # Ignoring the weights, the decoy half would halve the correlation.
    unweighted = res.draws.assign(weight=1.0)
    res.draws = unweighted
    assert abs(rep.weighted_correlation(res).loc["service.uptake_base",
                                                  "clients.aspiration_barrier"]) < 0.6


def test_pattern_terms_of_both_kinds_with_the_share_of_draws_meeting_them() -> None:
    pats = rep.pattern_table(make_result()).set_index("target")
    assert list(pats.index) == ["pattern_lo", "pattern_hi"]
    assert pats.loc["pattern_lo", "side"] == ">=" and pats.loc["pattern_hi", "side"] == "<="
    assert pats.loc["pattern_lo", "share_met"] == pytest.approx(0.7)
    assert pats.loc["pattern_hi", "share_met"] == pytest.approx(0.4)
    assert bool(pats.loc["pattern_lo", "met"]) and not bool(pats.loc["pattern_hi", "met"])


def test_coverage_counts_fit_held_out_and_each_left_out_site() -> None:
    res = make_result()
    loso = Loso(LOSO, loso_summary(LOSO, 3.0), Path("."))
    cov = rep.coverage_table(res, None, loso).set_index("group")
    assert cov.loc["fit targets", ["covered", "targets"]].tolist() == [2, 4]
    assert cov.loc["held-out targets", ["covered", "targets"]].tolist() == [2, 3]
    assert cov.loc["leave-one-site-out: rotherham", ["covered", "targets"]].tolist() == [1, 2]
    assert cov.loc["leave-one-site-out: tower_hamlets", ["covered", "targets"]].tolist() == [0, 1]
    assert cov.loc["leave-one-site-out: all sites", ["covered", "targets"]].tolist() == [2, 4]


def test_every_miss_is_explained_fit_held_out_and_left_out() -> None:
    res = make_result()
    loso = Loso(LOSO, loso_summary(LOSO), Path("."))
    misses = rep.all_misses(res, None, loso)
    expected = {("fit", "t_fit_miss"), ("fit", "pattern_hi"), ("held-out", "t_val_miss"),
                ("leave-one-site-out", "t_fit_miss"), ("leave-one-site-out", "th_need")}
    assert set(zip(misses["kind"], misses["target"], strict=True)) == expected
    assert misses["why"].str.len().min() > 40
    why = {(k, t): w for k, t, w in zip(misses["kind"], misses["target"], misses["why"],
                                        strict=True)}
    fit = why["fit", "t_fit_miss"]
    assert "over-predicts it" in fit and "a factor 4" in fit
    # Its share of the counts' deviance (30 of 34): a violated pattern's penalty is not misfit.
    assert "88% of the fit's deviance" in fit
    assert "clients.aspiration_barrier at its upper bound" in fit
    assert "jobs.base_per_week (not informed)" in fit
    assert "above the bound 0.100" in why["fit", "pattern_hi"]
    assert "a constraint of the fit" in why["fit", "pattern_hi"]
    assert "trades it off" not in why["fit", "pattern_hi"]
    held = why["held-out", "t_val_miss"]
    assert "under-predicts" in held and "Note: a known gap" in held
    left = why["leave-one-site-out", "th_need"]
    assert "the fit without tower_hamlets under-predicts" in left and "a factor 6.5" in left
    assert f"{SITE_COLUMN} (not informed)" in left
    assert "at its upper bound" not in why["leave-one-site-out", "t_fit_miss"]
    assert rep.explain_misses(res).keys() == {"t_fit_miss", "pattern_hi", "t_val_miss"}


# --------------------------------------------------------------------------- files


def test_loso_files_round_trip_and_refuse_damage(tmp_path: Path) -> None:
    assert read_loso(tmp_path) is None
    files = write_loso(tmp_path, LOSO, {"minutes": 42.5, "calibration": "x"})
    assert [f.name for f in files] == ["loso_targets.csv", "loso_summary.json"]
    loso = read_loso(tmp_path)
    assert loso is not None
    assert loso.summary["sites"]["rotherham"] == {"covered": 1, "targets": 2}
    assert (loso.summary["covered"], loso.summary["targets"]) == (2, 4)
    assert loso.summary["minutes"] == 42.5 and loso.summary["calibration"] == "x"
    pd.testing.assert_frame_equal(loso.targets, LOSO, check_dtype=False)
    with pytest.raises(ScenarioError, match="covered"):
        write_loso(tmp_path, LOSO, {"covered": 3})
    with pytest.raises(ScenarioError, match="missing column"):
        write_loso(tmp_path, LOSO.drop(columns="hi90"))
    with pytest.raises(ScenarioError, match="not a share"):
        write_loso(tmp_path, LOSO.assign(median=2.0))
    with pytest.raises(ScenarioError, match="minutes"):
        write_loso(tmp_path, LOSO, {"minutes": "soon"})
    summary = tmp_path / "loso" / "loso_summary.json"
    doc = json.loads(summary.read_text())
    doc["covered"] = 4
    summary.write_text(json.dumps(doc))
    with pytest.raises(ScenarioError, match="disagrees"):
        read_loso(tmp_path)
    (tmp_path / "loso" / "loso_targets.csv").write_text(
        LOSO.assign(inside="maybe").to_csv(index=False))
    with pytest.raises(ScenarioError, match="not true or false"):
        read_loso(tmp_path)


def test_the_report_has_every_section_figure_and_the_loso_coverage(tmp_path: Path) -> None:
    res = make_result(path=tmp_path)
    write_loso(tmp_path, LOSO, {"minutes": 12.0})
    files = rep.write_report(res, tmp_path)
    md = (tmp_path / "report.md").read_text()
    for section in ("Summary", "Observed against simulated", "Prior against posterior",
                    "Which parameters the data inform", "Pairwise correlations",
                    "Pattern terms", "Coverage and every miss", "Convergence"):
        assert f"\n## {section}\n" in md
    assert {f.name for f in files} >= {"parameters.png", "correlations.png", "fit.png",
                                       "convergence.png"}
    assert "ABC-SMC (the package's own sampler)" in md and "effective sample size" in md
    assert "The data say little about `jobs.base_per_week` and " in md
    assert "| leave-one-site-out: all sites | 2 | 4 | 50% |" in md
    assert "predicts 2 of 4 (50%) of the left-out sites' targets (12 minutes)" in md
    assert "| leave-one-site-out: tower_hamlets | th_need |" in md
    assert md.count("| leave-one-site-out: ") == 4 + 2  # coverage rows, then the two misses
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4


def test_an_optuna_point_says_it_has_no_posterior_and_pyabc_is_named(tmp_path: Path) -> None:
    res = make_result("optuna")
    table = rep.shrinkage_table(res)
    assert table["shrinkage"].isna().all() and (table["informed"] == "no posterior").all()
    rep.write_report(res, tmp_path / "opt")
    md = (tmp_path / "opt" / "report.md").read_text()
    assert "no posterior sample (one point)" in md and "Not known from a point estimate" in md
    assert not (tmp_path / "opt" / "figures" / "correlations.png").exists()
    rep.write_report(make_result("pyabc"), tmp_path / "py")
    md = (tmp_path / "py" / "report.md").read_text()
    assert "ABC-SMC (pyabc)" in md and "Warning" not in md
    # A fit stopped while its tolerance was above a violated pattern's penalty says so.
    early = make_result("pyabc")
    early.diagnostics["final_epsilon"] = 1500.0
    rep.write_report(early, tmp_path / "early")
    md = (tmp_path / "early" / "report.md").read_text()
    assert "**Warning**: the last tolerance (1,500) is not below the penalty" in md


def test_validation_of_another_calibration_is_not_used(tmp_path: Path) -> None:
    res = make_result(path=tmp_path)
    held = FIT[FIT["role"] == "validate"].assign(inside=True)
    held.to_csv(tmp_path / "validation_targets.csv", index=False)
    rep.write_report(res, tmp_path)
    assert "has no `validation.json` saying which calibration" in (
        tmp_path / "report.md").read_text()
    (tmp_path / "validation.json").write_text(json.dumps({"summary": {"calibration": "old"}}))
    rep.write_report(res, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "is of calibration `old`" in md and "2 of 3 (67%) held-out targets" in md
    (tmp_path / "validation.json").write_text(
        json.dumps({"summary": {"calibration": res.version}}))
    rep.write_report(res, tmp_path)
    assert "3 of 3 (100%) held-out targets (from `pathways-sim validate`)" in (
        tmp_path / "report.md").read_text()


def test_rendering_a_results_folder_elsewhere(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    res = make_result()
    res.priors = PRIORS[:4]  # a saved folder's priors are plain priors
    res.draws = res.draws.drop(columns=SITE_COLUMN)
    res.point.pop(SITE_COLUMN)
    res.save(tmp_path / "res")
    assert rep.main([str(tmp_path / "res"), "--out", str(tmp_path / "res")]) == 2
    assert "results folder itself" in capsys.readouterr().err
    assert rep.main([str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert rep.main([str(tmp_path / "res"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "report.html").is_file()
    assert not (tmp_path / "res" / "report.md").exists()


# --------------------------------------------------------------------------- pattern checks

_CHECK = {"name": "8 volume alone lowers job starts", "diff": -0.009, "lo": -0.014,
          "hi": -0.005, "result": "PASS", "reason": "the 90% interval excludes 0 as expected"}


@pytest.mark.parametrize("columns", ["old", "draws", "power"])
def test_the_pattern_section_reads_every_validation_generation(columns: str) -> None:
    """The report renders a validation_patterns.csv of any generation: without draws
    (before draws were run), with draws, and with the follow-up at more replicates."""
    row = dict(_CHECK)
    if columns != "old":
        row.update(draws=60, draws_passed=40, draws_share_lo90=0.55, draws_share_hi90=0.77,
                   draws_explanation="fails in 20 of 60 draws: in each the interval includes 0.")
    if columns == "power":
        row.update(power_replicates=40, power_draws_passed=56, power_share_lo90=0.85,
                   power_share_hi90=0.98)
    blocks = rep._pattern_blocks(make_result(), pd.DataFrame([row, {**row, "name": "other"}]))
    tables = [b for b in blocks if isinstance(b, rep.Table)]
    header, body = tables[-1].header, tables[-1].rows
    assert len(body[0]) == len(header)
    text = " ".join(b.text for b in blocks if isinstance(b, rep.Paragraph))
    if columns == "old":
        assert "draws passed" not in header and "posterior draws" not in text
    else:
        assert "40/60 (55-77%)" in body[0] and "0 of 2 checks pass in at least 90%" in text
    if columns == "power":
        assert header[5] == "at 40 replicates" and body[0][5] == "56/60 (85-98%)"
        assert "2 of 2 checks pass in at least 90% of the draws" in text
    else:
        assert not any("replicates" in h for h in header)


def test_the_summary_says_how_many_runs_each_parameter_set_had() -> None:
    """pyabc runs each target scenario once per particle with its own seeds; Optuna uses the
    config's common-random-number replicates. The summary says which, not the config's
    replicates for both."""
    import dataclasses

    abc = make_result()
    abc = dataclasses.replace(abc, diagnostics={**abc.diagnostics,
                                                "settings": {"replicates": 1}},
                              config={**abc.config, "replicates": 3})

    def text(result: CalibrationResult) -> str:
        return " ".join(b.text for b in rep._document(result).blocks
                        if isinstance(b, rep.Paragraph))

    assert "1 run of each target scenario per parameter set, each set with its own seeds" in (
        text(abc))
    assert "3 replicates per target scenario" not in text(abc)
    point = dataclasses.replace(make_result("optuna"), config={**abc.config, "replicates": 3})
    assert "3 replicates per target scenario and parameter set, common random numbers" in (
        text(point))
