"""The one cost account: client costs add up to the funder's ledger, and the ledger to the
registry's prices (docs/odd.md, "Costs")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pathways_sim.cli import main
from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import client_costs, compute_metrics, cost_rates, default_cohort, members
from pathways_sim.scenario import load_scenario
from pathways_sim.scenario.registry import REGISTRY

PENNY = 0.01
"""Reconciliation tolerance: the ledger is in floats; allocation must lose less than 1p."""


def _run(name: str, seed: int = 3, changes: dict | None = None
         ) -> tuple[PathwaysModel, pd.DataFrame]:
    sc = load_scenario(name)
    if changes:
        sc = sc.with_changes(changes, name=sc.name)
    m = PathwaysModel(sc, seed=seed)
    m.run()
    return m, pd.DataFrame(m.funder.ledger)


@pytest.fixture(scope="module")
def pbr() -> tuple[PathwaysModel, pd.DataFrame]:
    """Job-outcome PBR: results payments, and posts that change from period to period."""
    return _run("pbr_job_outcomes")


@pytest.fixture(scope="module")
def block() -> tuple[PathwaysModel, pd.DataFrame]:
    return _run("medium")


def _metrics(m: PathwaysModel, ledger: pd.DataFrame) -> dict[str, float]:
    r = m.p.run
    return compute_metrics(m.log.frame(), m.client_attributes(), run_weeks=r.weeks,
                           follow_up_weeks=r.follow_up_weeks, cohort_weeks=r.cohort_weeks,
                           ledger=ledger)


@pytest.mark.parametrize("case", ["block", "pbr"])
def test_client_costs_add_up_to_the_ledger(case, request) -> None:
    m, ledger = request.getfixturevalue(case)
    log, r = m.log.frame(), m.p.run
    assert ledger["period_end_week"].iloc[-1] == r.weeks  # the ledger covers the whole run
    costs = client_costs(log, ledger, r.weeks, r.follow_up_weeks)
    rates = cost_rates(log, ledger, r.weeks, r.follow_up_weeks)
    assert rates.unallocated == 0  # every period had sessions and place-weeks
    assert abs(costs["cost"].sum() - ledger["spend"].sum()) < PENNY
    # ... line by line: the guaranteed contract, the results payments, the VCS places.
    assert abs(costs["link_work_cost"].sum() - ledger["guaranteed"].sum()) < PENNY
    assert abs(costs["results_payments"].sum() - ledger["results_payments"].sum()) < PENNY
    assert abs(costs["vcs_cost"].sum() - ledger["vcs_cost"].sum()) < PENNY
    # Every session and every payment of the log is someone's.
    ev = log["event"].to_numpy()
    assert costs["sessions"].sum() == int((ev == int(Ev.SESSION)).sum())
    if case == "pbr":
        assert ledger["results_payments"].sum() > 0
        assert ledger["link_worker_posts"].nunique() > 1  # capacity responded


@pytest.mark.parametrize("case", ["block", "pbr"])
def test_the_cohort_cost_is_its_members_share(case, request) -> None:
    """With a 24-month follow-up the window is each member's whole stay, so the cohort's
    cost is exactly the sum of its members' shares of the ledger."""
    m, ledger = request.getfixturevalue(case)
    log, r = m.log.frame(), m.p.run
    assert r.follow_up_weeks == 104
    res = _metrics(m, ledger)
    ids = members(log, default_cohort(r.weeks, r.cohort_weeks, r.follow_up_weeks))
    costs = client_costs(log, ledger, r.weeks, r.follow_up_weeks).set_index("client")
    mine = costs.loc[ids]
    assert res["cost_total_24m"] == pytest.approx(mine["cost"].sum(), rel=1e-9)
    assert res["cost_link_work_24m"] == pytest.approx(mine["link_work_cost"].sum(), rel=1e-9)
    assert res["cost_vcs_24m"] == pytest.approx(mine["vcs_cost"].sum(), rel=1e-9)
    assert res["pbr_payments_total"] == pytest.approx(mine["results_payments"].sum())
    assert 0 < res["cost_total_24m"] < ledger["spend"].sum() == res["service_spend_total"]

    # The Link Worker part by hand: each cohort session at its period's guaranteed
    # payment over all the sessions of that period.
    sess = log[log["event"] == int(Ev.SESSION)]
    ends = ledger["period_end_week"].to_numpy()
    period = np.searchsorted(ends, sess["week"].to_numpy(), side="right")
    per_period = np.bincount(period, minlength=len(ledger))
    rate = ledger["guaranteed"].to_numpy() / per_period
    cohort = np.isin(sess["client"].to_numpy(), ids)
    assert res["cost_link_work_24m"] == pytest.approx(rate[period[cohort]].sum(), rel=1e-9)


def test_block_grant_pays_exactly_the_posts(block) -> None:
    _, ledger = block
    assert (ledger["guaranteed"] == ledger["link_worker_cost"]).all()
    assert (ledger["provider_balance"] == 0).all()
    assert (ledger["spend"] == ledger["link_worker_cost"] + ledger["vcs_cost"]).all()


def test_pbr_spend_is_the_contract_plus_places(pbr) -> None:
    _, ledger = pbr
    assert np.allclose(ledger["income"], ledger["guaranteed"] + ledger["results_payments"])
    assert np.allclose(ledger["spend"], ledger["income"] + ledger["vcs_cost"])
    assert np.allclose(ledger["provider_balance"], ledger["income"] - ledger["link_worker_cost"])


@pytest.mark.parametrize("case", ["block", "pbr"])
def test_a_post_costs_the_registry_salary_and_a_place_week_its_price(case, request) -> None:
    m, ledger = request.getfixturevalue(case)
    post_years = (ledger["link_worker_posts"] * ledger["weeks"]).sum() / 52.0
    assert ledger["link_worker_cost"].sum() / post_years == pytest.approx(
        REGISTRY["funding.cost_per_link_worker"].default)
    place_weeks = (ledger["vcs_places"] * ledger["weeks"]).sum()
    assert ledger["vcs_cost"].sum() / place_weeks == pytest.approx(
        REGISTRY["funding.cost_per_place_week"].default)
    # The cost of a session is derived from the posts: their cost over the sessions.
    res = _metrics(m, ledger)
    sessions = int((m.log.frame()["event"] == int(Ev.SESSION)).sum())
    assert res["cost_per_session"] == pytest.approx(ledger["link_worker_cost"].sum() / sessions)


def test_holistic_costs_twenty_posts_for_three_years() -> None:
    """The issue's example: 20 posts x £35k x 3 years is the Link Worker cost, and the
    cohort's share of it is part of it, not twice it."""
    m, ledger = _run("holistic", seed=1)
    assert ledger["link_worker_cost"].sum() == pytest.approx(20 * 35_000 * 3)
    res = _metrics(m, ledger)
    assert res["cost_link_work_24m"] < 20 * 35_000 * 3
    assert res["cost_total_24m"] < res["service_spend_total"]
    assert res["link_worker_posts_start"] == res["link_worker_posts_end"] == 20


def test_pbr_staffing_metrics_follow_the_ledger(pbr) -> None:
    m, ledger = pbr
    res = _metrics(m, ledger)
    posts = ledger["link_worker_posts"]
    assert res["link_worker_posts_start"] == 10 == posts.iloc[0]
    assert res["link_worker_posts_min"] == posts.min() < 10
    assert res["link_worker_posts_end"] == posts.iloc[-1]
    assert res["link_worker_posts_mean"] == pytest.approx(
        (posts * ledger["weeks"]).sum() / ledger["weeks"].sum())


def test_no_service_costs_nothing() -> None:
    m, ledger = _run("no_service", changes={"run.weeks": 60})
    res = _metrics(m, ledger)
    assert ledger["spend"].sum() == 0
    assert res["cost_total_24m"] == 0 and res["service_spend_total"] == 0
    assert np.isnan(res["cost_per_session"])  # no sessions: no cost per session


def test_cost_with_no_use_is_reported_unallocated() -> None:
    """A period with posts but no session (or places but no place-week) has nothing to
    share its cost over: it stays in the ledger and is reported unallocated."""
    log = pd.DataFrame({"week": np.array([0, 0, 20, 21], dtype=np.int16),
                        "client": np.array([0, 0, 0, 0], dtype=np.int32),
                        "event": np.array([int(Ev.REFERRED), int(Ev.SESSION),
                                           int(Ev.ACTIVITY_START), int(Ev.ACTIVITY_END)],
                                          dtype=np.int8),
                        "value": np.zeros(4, dtype=np.float32)})
    row = {"weeks": 13, "guaranteed": 100.0, "results_payments": 0.0, "income": 100.0,
           "link_worker_posts": 1, "link_worker_cost": 100.0, "vcs_places": 1,
           "vcs_cost": 260.0, "adviser_cost": 0.0, "spend": 360.0}
    ledger = pd.DataFrame([{"period_end_week": 13, **row}, {"period_end_week": 26, **row}])
    rates = cost_rates(log, ledger, 26, 104)
    # Period 1: a session but no place-week; period 2: a place-week but no session.
    assert rates.unallocated == pytest.approx(260.0 + 100.0)
    costs = client_costs(log, ledger, 26, 104)
    assert costs["cost"].sum() + rates.unallocated == pytest.approx(ledger["spend"].sum())


def test_an_old_ledger_is_refused_with_a_reason() -> None:
    log = pd.DataFrame({"week": np.array([0], dtype=np.int16),
                        "client": np.array([0], dtype=np.int32),
                        "event": np.array([int(Ev.REFERRED)], dtype=np.int8),
                        "value": np.zeros(1, dtype=np.float32)})
    old = pd.DataFrame([{"period_end_week": 13, "weeks": 13, "guaranteed": 1.0,
                         "results_payments": 0.0, "income": 1.0, "spend": 1.0}])
    with pytest.raises(ValueError, match="no column link_worker_posts"):
        cost_rates(log, old, 13, 104)


def test_no_scenario_or_registry_entry_prices_a_session() -> None:
    assert "funding.cost_per_session" not in REGISTRY
    with pytest.raises(Exception, match="cost_per_session"):
        load_scenario("medium").with_changes({"funding.cost_per_session": 45})


def test_run_writes_staffing_and_prints_posts(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["run", "pbr_job_outcomes", "--replicates", "2", "--weeks", "40",
                 "--workers", "1", "--quiet", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("Link Worker posts funded"))
    assert "10 at the start" in line
    staffing = pd.read_csv(out / "staffing.csv")
    # Funding periods of 13 weeks, the last one partial: weeks 0-13, 13-26, 26-39, 39-40.
    assert staffing["end_week"].tolist() == [13, 26, 39, 40]
    assert staffing["weeks"].tolist() == [13, 13, 13, 1]
    assert staffing["posts_median"].iloc[0] == 10
    ledger = pd.read_csv(out / "ledger.csv")
    by_period = ledger.groupby("period_end_week")["link_worker_posts"]
    assert staffing["posts_min"].tolist() == by_period.min().tolist()
    assert staffing["posts_max"].tolist() == by_period.max().tolist()


STAFFING_EXPERIMENT = """\
title: Staffing test
description: Job-outcome PBR against a block grant, small and short.
base: medium
levers:
  scenario: [medium, pbr_job_outcomes]
  funding.price_rule: [explicit]   # Work Programme prices, not budget-neutral: posts fall
outcomes:
  found_work_12m: maximize
  cost_per_job_24m: minimize
design: {type: full_factorial}
replicates: 2
seed: 5
weeks: 40
baseline: {scenario: medium}
calibration: none  # about how PBR moves posts in the registry model
"""


def test_the_sweep_brief_shows_staffing_per_option(tmp_path) -> None:
    from pathways_sim.report.brief import write_report
    from pathways_sim.sweep import InProcessExecutor, load_experiment, run_sweep

    (tmp_path / "staffing.yaml").write_text(STAFFING_EXPERIMENT, encoding="utf-8")
    out = tmp_path / "sweep"
    run_sweep(load_experiment(tmp_path / "staffing.yaml"), out, InProcessExecutor(),
              progress=False)
    _, md_path = write_report(out)
    md = md_path.read_text(encoding="utf-8")
    assert "## Staffing" in md and "![Link Worker posts funded]" in md
    lines = md.splitlines()
    brief = next(x for x in lines if x.startswith("- **Staffing**"))
    assert "pbr_job_outcomes" in brief and "baseline's 10.0" in brief
    lines = lines[lines.index("## Staffing"):]
    pbr_row = next(x for x in lines if x.startswith("| pbr_job_outcomes |"))
    cells = [c.strip() for c in pbr_row.strip("|").split("|")]
    start, fewest = float(cells[1]), float(cells[2])
    assert start == 10 and fewest < 10  # PBR cut posts after the first quarter
    block_row = next(x for x in lines if x.startswith("| medium |"))
    assert [c.strip() for c in block_row.strip("|").split("|")][1:5] == ["10.0"] * 4


def test_pooled_funding_costs_the_same_as_its_baseline() -> None:
    """Its comparison with medium is about pooling, not about more staff (issue: equal cost)."""
    _, pooled = _run("pooled_funding")
    _, medium = _run("medium")
    for column in ("spend", "link_worker_posts", "link_worker_cost", "vcs_cost", "adviser_cost"):
        assert pooled[column].sum() == pytest.approx(medium[column].sum()), column


def test_an_employment_adviser_the_funder_pays_for_is_in_the_account() -> None:
    """A funder (pooled health and work money, say) can pay for the co-located adviser:
    then it is part of the funder's spend and falls on the clients the adviser supports;
    otherwise (the default) the adviser is paid for elsewhere and costs this account
    nothing."""
    m, ledger = _run("colocated_employment_adviser",
                     changes={"funding.pays_employment_adviser": True})
    r, log = m.p.run, m.log.frame()
    assert ledger["adviser_cost"].sum() == pytest.approx(
        REGISTRY["funding.employment_adviser_cost"].default * r.weeks / 52)
    costs = client_costs(log, ledger, r.weeks, r.follow_up_weeks)
    assert cost_rates(log, ledger, r.weeks, r.follow_up_weeks).unallocated == 0
    assert abs(costs["cost"].sum() - ledger["spend"].sum()) < PENNY
    assert abs(costs["adviser_cost"].sum() - ledger["adviser_cost"].sum()) < PENNY
    assert (costs.loc[costs["adviser_weeks"] == 0, "adviser_cost"] == 0).all()
    assert (costs.loc[costs["adviser_weeks"] > 0, "adviser_cost"] > 0).all()
    res = _metrics(m, ledger)
    assert 0 < res["cost_adviser_24m"] < ledger["adviser_cost"].sum()

    m0, ledger0 = _run("pooled_funding")  # the adviser exists, paid for by someone else
    assert ledger0["adviser_cost"].sum() == 0
    assert _metrics(m0, ledger0)["cost_adviser_24m"] == 0
    # Same clients, same draws: the adviser's cost is the only difference in spend.
    assert ledger["spend"].sum() - ledger0["spend"].sum() == pytest.approx(
        ledger["adviser_cost"].sum())
