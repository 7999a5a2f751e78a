"""Site-level client mix (partial pooling) and leave-one-site-out cross-validation.

Each evaluated service (a *site*) gets its own client mix: the site scenario's evidence value
(or the pooled value) plus a between-site sd times a calibrated standard-normal deviation;
the behavioural parameters stay shared. A site the fit did not see is predicted with a fresh
deviation from the prior. ``validate --leave-one-site-out`` refits without each site and
predicts it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from pathways_sim.calibration.config import load_config
from pathways_sim.calibration.loso_io import read_loso
from pathways_sim.calibration.objective import CALIBRATED, Problem, apply_values
from pathways_sim.calibration.predict import _draws
from pathways_sim.calibration.priors import NORMAL, Prior
from pathways_sim.calibration.results import load_calibrated
from pathways_sim.calibration.sites import SiteParameter, Sites, fresh_deviations
from pathways_sim.cli import main
from pathways_sim.scenario import ScenarioError, load_scenario
from tests.small_calibration import (
    PRIORS_TABLE,
    TARGET_HEADER,
    write_small_calibration,
    write_small_scenario,
)

SITES = Sites({"rotherham": ("rotherham_mh_2015",), "eqolise": ("ips_trial", "ips_trial_control")},
              (SiteParameter("clients.aspiration_barrier", 0.1, "test"),
               SiteParameter("clients.share_working_age", 0.2, "test")))


def test_a_deviation_prior_is_a_truncated_standard_normal_in_the_unit_cube() -> None:
    p = Prior("clients.aspiration_barrier@rotherham", -3.0, 3.0, NORMAL, 0.0)
    assert p.from_unit(0.5) == pytest.approx(0.0, abs=1e-12)
    u = np.linspace(0.01, 0.99, 9)
    assert p.to_unit(p.from_unit(u)) == pytest.approx(u)
    # A uniform u is a draw from N(0, 1) truncated to [-3, 3].
    truncated = stats.truncnorm(-3, 3)
    assert p.from_unit(0.975) == pytest.approx(truncated.ppf(0.975))
    assert p.from_unit(0.0) == pytest.approx(-3.0) and p.from_unit(1.0) == pytest.approx(3.0)


def test_a_scenario_belongs_to_its_site_and_its_variants_too() -> None:
    assert SITES.site_of(load_scenario("rotherham_mh_2015")) == "rotherham"
    assert SITES.site_of(load_scenario("rotherham_mh_2016")) == "rotherham"  # built on 2015
    assert SITES.site_of(load_scenario("ips_trial_control")) == "eqolise"
    assert SITES.site_of(load_scenario("medium")) is None
    assert SITES.site_of("scenarios/ips_trial.yaml") == "eqolise"


def test_site_values_centre_on_the_evidence_or_the_pooled_value() -> None:
    sc = load_scenario("ips_trial")  # sets the aspiration barrier by trial design
    assert sc.set_by["clients.aspiration_barrier"] != "default"
    values = {"clients.aspiration_barrier": 0.9,
              "clients.aspiration_barrier@eqolise": 1.5,
              "clients.share_working_age@eqolise": -2.0}
    got = SITES.site_values(sc, values)
    # The trial's own value is the centre (the pooled 0.9 does not replace the evidence).
    expected = sc.values["clients.aspiration_barrier"] + 0.1 * 1.5
    assert got["clients.aspiration_barrier"] == pytest.approx(expected)
    # Clipped to the registry's range.
    assert got["clients.share_working_age"] == pytest.approx(
        max(0.0, sc.values["clients.share_working_age"] - 0.4))
    rot = load_scenario("rotherham_mh_2015")
    if rot.set_by["clients.aspiration_barrier"] == "default":
        # Not set by the site's file: the pooled (calibrated) value is the centre.
        got = SITES.site_values(rot, {"clients.aspiration_barrier": 0.7,
                                      "clients.aspiration_barrier@rotherham": -1.0})
        assert got["clients.aspiration_barrier"] == pytest.approx(0.6)
    # No deviation given: nothing for that parameter; no site: nothing at all.
    assert SITES.site_values(rot, {}) == {}
    assert SITES.site_values(load_scenario("medium"), values) == {}


def test_apply_values_gives_a_site_its_client_mix_and_others_the_pooled_values() -> None:
    values = {"clients.aspiration_barrier": 0.7, "clients.aspiration_barrier@eqolise": 1.0,
              "service.uptake_base": 0.2}
    trial = apply_values(load_scenario("ips_trial"), values, sites=SITES)
    base = load_scenario("ips_trial")
    assert trial.values["clients.aspiration_barrier"] == pytest.approx(
        base.values["clients.aspiration_barrier"] + 0.1)
    assert trial.set_by["clients.aspiration_barrier"] == CALIBRATED
    medium = apply_values(load_scenario("medium"), values, sites=SITES)
    assert medium.values["clients.aspiration_barrier"] == pytest.approx(0.7)
    assert medium.values["service.uptake_base"] == pytest.approx(0.2)
    # Without sites, a deviation is never applied as a parameter.
    plain = apply_values(load_scenario("ips_trial"), values)
    assert plain.values["clients.aspiration_barrier"] == base.values[
        "clients.aspiration_barrier"]


def test_the_shipped_problem_calibrates_deviations_of_the_fitted_sites_only() -> None:
    problem = Problem(load_config("default"))
    assert "tower_hamlets" not in problem.fitted_sites  # its only target is held out
    devs = [p for p in problem.priors if p.prior == NORMAL]
    assert len(devs) == len(problem.fitted_sites) * len(problem.sites.parameters)
    assert all("@" in p.parameter and p.low == -3.0 and p.high == 3.0 for p in devs)


def test_a_site_the_fit_did_not_see_gets_fresh_deviations_in_each_draw() -> None:
    cfg = load_config("default")
    held = [t for t in cfg.targets if t.scenario == "tower_hamlets"]
    problem = Problem(cfg, targets=held, replicates=1)
    assert problem.fitted_sites == ("tower_hamlets",)

    class Point:  # an Optuna-like calibration without the site's deviations
        method = "optuna"
        parameters = ["clients.aspiration_barrier"]
        point = {"clients.aspiration_barrier": 0.8}
        draws = [0]

    thetas = _draws(Point(), 200, 3, {}, problem)  # type: ignore[arg-type]
    z = np.array([t["clients.aspiration_barrier@tower_hamlets"] for t in thetas])
    assert abs(z.mean()) < 0.25 and 0.8 < z.std() < 1.2  # the prior, not a fixed value
    assert all(t["clients.aspiration_barrier"] == 0.8 for t in thetas)
    again = fresh_deviations(problem.sites, "tower_hamlets", 200, 3)
    assert [d["clients.aspiration_barrier@tower_hamlets"] for d in again] == list(z)


@pytest.mark.parametrize(("extra", "problem"), [
    ("sites: {a: [no_such_scenario]}\n", "unknown scenario"),
    ("sites: {a: [medium], b: [medium]}\n", "in site a already"),
    ("sites: {a: [medium]}\nsite_parameters: [{parameter: run.weeks, sd: 1}]\n",
     "not a float parameter"),
    ("sites: {a: [medium]}\nsite_parameters: [{parameter: clients.barrier_mean, sd: 0}]\n",
     "sd"),
    ("site_parameters: [{parameter: clients.barrier_mean, sd: 0.1, source: s}]\n", "no sites"),
])
def test_bad_sites_are_config_errors(tmp_path: Path, extra: str, problem: str) -> None:
    cfg = write_small_calibration(tmp_path)
    cfg.write_text(cfg.read_text() + extra, encoding="utf-8")
    with pytest.raises(ScenarioError, match=problem):
        load_config(cfg)


def _two_site_problem(folder: Path) -> Path:
    """Two sites, each one small scenario with one uptake target; one shared prior and one
    site-varying parameter."""
    rows = []
    for name, k in (("north", 300), ("south", 260)):
        scenario = write_small_scenario(folder / f"{name}.yaml")
        rows.append(f"{name}_uptake,{scenario},all,took_up_service,6,{k},500,,binomial,fit,test\n")
    (folder / "targets.csv").write_text(TARGET_HEADER + "".join(rows), encoding="utf-8")
    (folder / "priors.csv").write_text(PRIORS_TABLE, encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: sites
        targets: targets.csv
        priors: priors.csv
        replicates: 1
        seed: 5
        sites:
          north: [{folder / 'north.yaml'}]
          south: [{folder / 'south.yaml'}]
        site_parameters:
          - {{parameter: service.decline_at_contact, sd: 0.05, source: test}}
        abc: {{population: 6, generations: 2, budget: 200}}
        predictive: {{draws: 4, seed: 9}}
        """), encoding="utf-8")
    return config


def test_leave_one_site_out_refits_without_each_site_and_predicts_it(tmp_path: Path,
                                                                     capsys) -> None:
    config = _two_site_problem(tmp_path)
    fit = tmp_path / "fit"
    assert main(["calibrate", "--config", str(config), "--out", str(fit), "--workers", "2",
                 "--quiet"]) == 0
    cal = load_calibrated(fit)
    assert {"service.decline_at_contact@north", "service.decline_at_contact@south"} <= set(
        cal.draws.columns)
    capsys.readouterr()
    js = tmp_path / "loso.json"
    assert main(["validate", "--calibration", str(fit), "--config", str(config),
                 "--leave-one-site-out", "--population", "4", "--workers", "2", "--quiet",
                 "--json", str(js)]) == 0
    loso = read_loso(fit)
    assert loso is not None
    assert set(loso.targets["site"]) == {"north", "south"}
    assert loso.summary["targets"] == 2 and set(loso.summary["sites"]) == {"north", "south"}
    # Each refit is kept (resumable) and never saw its site: no deviation of it.
    north = load_calibrated(fit / "loso" / "north")
    assert "service.decline_at_contact@north" not in north.draws.columns
    assert "service.decline_at_contact@south" in north.draws.columns
    doc = json.loads(js.read_text())
    assert doc["summary"]["targets"] == 2
    # The calibration's manifest records the step and checksums the loso files.
    manifest = json.loads((fit / "manifest.json").read_text())
    assert "loso/loso_targets.csv" in manifest["files"]
    assert any("--leave-one-site-out" in s["command"] for s in manifest["steps"])


def test_the_final_generation_samples_more_particles_at_the_last_tolerance(
        tmp_path: Path) -> None:
    """The posterior sample: a last generation with more particles at the tolerance the
    shrinking generations reached (so its effective sample size is large at little cost)."""
    config = _two_site_problem(tmp_path)
    config.write_text(config.read_text().replace(
        "abc: {population: 6, generations: 2, budget: 200}",
        "abc: {population: 6, generations: 3, budget: 400, final_population: 12}"),
        encoding="utf-8")
    fit = tmp_path / "fit"
    assert main(["calibrate", "--config", str(config), "--out", str(fit), "--workers", "2",
                 "--quiet"]) == 0
    cal = load_calibrated(fit)
    gens = cal.diagnostics["generations"]
    assert [g["accepted"] for g in gens] == [6, 6, 12]
    assert gens[2]["epsilon"] == pytest.approx(gens[1]["epsilon"])
    assert len(cal.draws) == 12 and cal.diagnostics["final_ess"] == pytest.approx(
        gens[2]["ess"])
