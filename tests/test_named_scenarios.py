"""Named-service scenarios load, run and keep key assumptions; targets and priors are sound."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes.metrics import months_to_weeks
from pathways_sim.outcomes.observables import COHORTS, OBSERVABLES
from pathways_sim.scenario import load_scenario
from pathways_sim.scenario.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "calibration"
SHARED_TARGETS = ROOT.parent / "shared" / "evidence" / "targets.csv"

NAMED = (
    "rotherham_mh_2015", "rotherham_mh_2015_open_learning", "rotherham_mh_2016",
    "rotherham_mh_2018", "rotherham_ltc",
    "gloucestershire", "bristol", "tower_hamlets", "ways_to_wellness", "herts_help",
    "bromley_by_bow", "raising_aspirations", "raising_aspirations_mainstreamed",
    "ips_trial", "ips_trial_control",
)
LIKELIHOODS = ("binomial", "beta_binomial", "binomial_uncertain_n", "lower_bound", "upper_bound")
BOUNDS = ("lower_bound", "upper_bound")
CITED = re.compile(r"docs/evidence\.md §E|^assumption: \S")  # in full: tests/test_evidence.py


def short(name: str, weeks: int = 26):
    """Scenario ``name`` cut to ``weeks`` weeks (cohort and follow-up within the run)."""
    sc = load_scenario(name)
    return sc.with_changes({"run.weeks": weeks, "run.cohort_weeks": min(weeks, 52)})


@pytest.mark.parametrize("name", NAMED)
def test_named_scenario_loads_runs_and_cites_sources(name: str) -> None:
    sc = load_scenario(name)
    assert sc.name == name and sc.title and len(sc.description) > 100
    own = [path for path, setter in sc.set_by.items() if setter == name]
    assert own, f"{name} changes nothing"
    for path in own:
        assert CITED.search(sc.sources[path] or ""), f"{name}: {path} has no source"
    m = PathwaysModel(short(name), seed=5)
    m.run()
    assert m.week == 26
    log = m.log.frame()
    referred = int((log["event"] == int(Ev.REFERRED)).sum())
    accepted = referred - int((log["event"] == int(Ev.REJECTED)).sum())
    assert accepted > 10
    assert (log["event"] == int(Ev.ASSIGNED)).any()


def _referrals_a_year(name: str, seeds=(1, 2)) -> tuple[float, float, np.ndarray]:
    """Accepted referrals a year, working-age share and mean distance at referral (26 weeks)."""
    acc, wa, dist = [], [], []
    for seed in seeds:
        m = PathwaysModel(short(name), seed=seed)
        m.run()
        a = m.client_attributes()
        log = m.log.frame()
        ok = ~a["client"].isin(log.loc[log["event"] == int(Ev.REJECTED), "client"])
        acc.append(ok.sum() * 2.0)
        wa.append(a.loc[ok, "working_age"].mean())
        dist.append(a.loc[ok, "distance_at_referral"].to_numpy())
    return float(np.mean(acc)), float(np.mean(wa)), np.concatenate(dist)


def test_key_client_mix_assumptions() -> None:
    wtw, wtw_wa, _ = _referrals_a_year("ways_to_wellness")
    assert 1250 < wtw < 1650  # about 1,450 accepted a year (docs/evidence.md §E1.5)
    assert 0.55 < wtw_wa < 0.75
    r15, r15_wa, d15 = _referrals_a_year("rotherham_mh_2015")
    assert 110 < r15 < 200 and r15_wa > 0.85
    _, _, d18 = _referrals_a_year("rotherham_mh_2018")
    assert d18.mean() > d15.mean() + 0.03  # drug-and-alcohol referrals: further from work
    _, herts_wa, _ = _referrals_a_year("herts_help")
    assert herts_wa < 0.3
    _, ips_wa, _ = _referrals_a_year("ips_trial")
    assert ips_wa == 1.0


def test_service_models_and_levers() -> None:
    sc = {n: load_scenario(n) for n in NAMED}
    assert sc["bromley_by_bow"]["service.model"] == "holistic"
    assert sc["ways_to_wellness"]["service.model"] == "holistic"
    # The four services the report studied sit towards the holistic end (docs/evidence.md §E3.8).
    assert sc["herts_help"]["service.model"] == "holistic"
    assert sc["herts_help"]["link_workers.max_support_weeks"] >= 26  # several months
    for name in ("rotherham_mh_2015", "rotherham_ltc"):
        assert sc[name]["link_workers.knowledge_of_provision"] >= 0.9  # strong VCS partnership
        assert sc[name]["provision.commission_new"]
    # The Learning Community is a change since 2016 (§E3.2): not in the 2015/16 cohort.
    assert not sc["rotherham_mh_2015"]["provision.open_learning"]
    assert sc["rotherham_mh_2015_open_learning"]["provision.open_learning"]
    assert sc["rotherham_mh_2018"]["provision.open_learning"]
    assert sc["rotherham_mh_2016"]["referrals.per_year"] == 160  # about 160 in 2016/17 (§E3.3)
    assert sc["ways_to_wellness"]["funding.funder"] == "social_impact_bond"
    assert sc["ways_to_wellness"]["link_workers.max_support_weeks"] == 78
    ra, ram = sc["raising_aspirations"], sc["raising_aspirations_mainstreamed"]
    assert ra["jcp.partnership"] and ra["link_workers.iag_level"] == 4
    assert ra["funding.regime"] == "block" and ram["funding.regime"] == "pbr_job"
    assert ra["link_workers.colocated"] and not ram["link_workers.colocated"]
    assert ram["jcp.referrals_per_year"] < ra["jcp.referrals_per_year"]
    ips, ctrl = sc["ips_trial"], sc["ips_trial_control"]
    assert ips["direct.ips"] and not ips["direct.employment_adviser"]
    assert not ctrl["direct.ips"] and ctrl["direct.employment_adviser"]
    differ = {p for p in ips.values if ips[p] != ctrl[p]}
    assert differ <= {"direct.ips", "direct.employment_adviser", "direct.adviser_caseload",
                      "provision.training_places"}


def test_pooled_funding_costs_the_same_as_its_baseline() -> None:
    """Only the funder differs: the same posts, places and budget, so the contrast is pooling."""
    medium, pooled = load_scenario("medium"), load_scenario("pooled_funding")
    assert {p for p in medium.values if medium[p] != pooled[p]} == {"funding.funder"}
    assert pooled["funding.funder"] == "pooled"


def test_ips_arm_refers_almost_everyone_to_ips() -> None:
    m = PathwaysModel(short("ips_trial"), seed=2)
    m.run()
    log = m.log.frame()
    accepted = np.setdiff1d(log.loc[log["event"] == int(Ev.REFERRED), "client"],
                            log.loc[log["event"] == int(Ev.REJECTED), "client"])
    ips = log[(log["event"] == int(Ev.DIRECT_START)) & (log["value"] == 2)]["client"].unique()
    assert len(ips) >= 0.8 * len(accepted)


# ------------------------------------------------------------------ targets and priors
@pytest.fixture(scope="module")
def targets() -> pd.DataFrame:
    return pd.read_csv(CALIBRATION / "targets.csv")


def test_every_target_refers_to_a_scenario_and_an_observable(targets) -> None:
    assert list(targets.columns) == ["id", "scenario", "cohort", "observable", "window_months",
                                     "k", "n", "n_max", "likelihood", "role", "source"]
    assert targets["id"].is_unique
    for t in targets.itertuples():
        # A named service, or (for a pattern term) the typical service the patterns
        # experiment reads it at.
        assert t.scenario in NAMED or (t.likelihood in BOUNDS and t.scenario == "medium"), t.id
        sc = load_scenario(t.scenario)
        assert t.observable in OBSERVABLES, t.id
        assert t.cohort in COHORTS, t.id
        assert t.likelihood in LIKELIHOODS, t.id
        assert t.role in ("fit", "validate"), t.id
        assert 0 <= t.k <= t.n, t.id
        assert isinstance(t.source, str) and t.source, t.id
        if t.likelihood == "binomial_uncertain_n":
            assert t.n_max > t.n, t.id
        else:
            assert math.isnan(t.n_max), t.id
        if OBSERVABLES[t.observable].unit == "goals":
            assert t.likelihood in ("beta_binomial", *BOUNDS), t.id
        # The scenario simulates the whole window for every cohort member.
        run = sc.ns.run
        if not math.isnan(t.window_months):
            w = months_to_weeks(t.window_months)
            assert run.follow_up_weeks >= w, t.id
            assert run.weeks >= run.cohort_weeks + w, t.id


def test_targets_cover_the_evidence_and_hold_some_out(targets) -> None:
    validate = targets[targets["role"] == "validate"]
    assert len(validate) >= 2
    assert len(targets[targets["role"] == "fit"]) >= 8
    if SHARED_TARGETS.exists():
        shared = pd.read_csv(SHARED_TARGETS)
        assert set(shared["id"]) <= set(targets["id"])
        both = targets.merge(shared, on="id", suffixes=("", "_shared"))
        assert (both["k"] == both["k_shared"]).all() and (both["n"] == both["n_shared"]).all()


# Pattern terms (calibration/README.md, "Pattern terms"): id -> (observable, likelihood, bound,
# the months the observable reads, the evidence section).
PATTERN_TERMS = {
    "rotherham_mh_1516_stepping_vs_work": ("stepping_vs_work", "lower_bound", 0.8, 12, "E4.1"),
    "wtw_volunteering_vs_work_goals": ("volunteering_vs_work_goals", "lower_bound", 0.75, None,
                                       "E1.4"),
    "var_work_interest_rise_6m": ("work_interest_rise_6m", "lower_bound", 0.75, 6, "E3.9"),
    "var_work_interest_vs_other_domains": ("work_interest_vs_other_domains", "lower_bound",
                                           0.5, 6, "E3.9"),
    "wtw_jobs_6m_of_12m": ("jobs_6m_of_12m", "upper_bound", 0.6, 12, "E4.8"),
    # The central findings read at a typical service too (the patterns experiment's checks).
    "medium_stepping_vs_work": ("stepping_vs_work", "lower_bound", 0.8, 12, "E4.1"),
    "medium_work_interest_rise_6m": ("work_interest_rise_6m", "lower_bound", 0.75, 6, "E3.9"),
}


def test_the_patterns_are_fitted_as_one_sided_terms(targets) -> None:
    rows = targets.set_index("id")
    assert set(rows.index[rows["likelihood"].isin(BOUNDS)]) == set(PATTERN_TERMS)
    for tid, (observable, kind, bound, months, section) in PATTERN_TERMS.items():
        t = rows.loc[tid]
        assert t["role"] == "fit", tid  # the fit is pushed to honour every pattern
        assert (t["observable"], t["likelihood"]) == (observable, kind), tid
        assert t["k"] / t["n"] == pytest.approx(bound), tid
        assert t["n"] >= 10, tid  # the size of the reported count: how fast a violation costs more
        window = None if math.isnan(t["window_months"]) else t["window_months"]
        assert window == months, tid  # fixed-window observables: the months they read
        assert f"docs/evidence.md §{section}" in t["source"], tid
    # The pattern observables mirror the patterns experiment's checks.
    checks = {c["name"][:2].strip() for c in _patterns()["checks"]}
    assert {"2", "3", "9"} <= checks
    # Held out: the two volunteering counts and a site the fit never sees (the patterns
    # are fitted).
    assert set(rows.index[rows["role"] == "validate"]) == {
        "rotherham_mh_1516_volunteering", "glos_6m_volunteering", "tower_hamlets_emp_need"}


def _patterns() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "experiments" / "patterns.yaml").read_text(encoding="utf-8"))


def test_priors_are_calibrated_parameters_within_their_ranges() -> None:
    priors = pd.read_csv(CALIBRATION / "priors.csv")
    assert list(priors.columns) == ["parameter", "low", "high", "prior", "default",
                                    "informed_by", "source"]
    assert 8 <= len(priors) <= 17 and priors["parameter"].is_unique
    for p in priors.itertuples():
        param = REGISTRY[p.parameter]
        assert param.calibrate, p.parameter
        assert param.low <= p.low < p.high <= param.high, p.parameter
        assert p.low <= param.default <= p.high and p.default == param.default, p.parameter
        assert p.prior in ("uniform", "log-uniform"), p.parameter
        if p.prior == "log-uniform":
            assert p.low > 0, p.parameter
        assert isinstance(p.source, str) and p.source, p.parameter
