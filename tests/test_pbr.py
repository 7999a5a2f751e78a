"""Payment by results compared at equal budget (docs/odd.md §7.14, issue 10 mechanism 4).

The ``budget_neutral`` price rule scales a regime's prices so that the funder's expected
spend at baseline performance (a pilot run of the same scenario under its block grant, same
seed) equals the block budget; Link Workers respond to the expected payment per client
(price x the baseline chance of the paid outcome at the client's distance from work).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pathways_sim.model.funder import PAYS_FOR, baseline
from pathways_sim.model.link_worker import session_rate
from pathways_sim.model.model import PathwaysModel
from tests.helpers import (
    metrics,
    paired_interval,
    run_model,
    scenario,
    sessions_per_supported_week,
)

PBR = ("pbr_job_outcomes", "pbr_job_sustainment", "pbr_stepping_stones")
TWO_YEARS = {"run.weeks": 104}


def spend_on_link_work(m: PathwaysModel) -> float:
    """What the funder paid the Link Worker service over the run (guaranteed + results)."""
    return float(pd.DataFrame(m.funder.ledger)["income"].sum())


@pytest.mark.parametrize("name", PBR)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_budget_neutral_prices_spend_the_block_budget_at_baseline_performance(name, seed):
    # Baseline performance: Link Workers do not respond to the payments, so the PBR run
    # meets the block run's draws and outcomes exactly (same seed) and posts never move.
    m = run_model(name, {**TWO_YEARS, "incentives.response": 0.0}, seed=seed)
    f = m.funder
    budget = f.annual_budget * 104 / 52
    assert f.price_scale != pytest.approx(1.0, abs=0.05)  # the given prices were not neutral
    assert spend_on_link_work(m) == pytest.approx(budget, rel=1e-4)
    ledger = pd.DataFrame(f.ledger)
    assert (ledger["link_workers_after"] == f.initial_posts).all()
    assert (ledger["price_scale"] == f.price_scale).all()  # the ledger shows the prices used
    # The prices paid are the given prices x the scale, far premium and all.
    given = m.p.funding
    assert f.prices["job"] == pytest.approx(given.price_job * f.price_scale)
    assert f.prices["stepping_stone"] == pytest.approx(given.price_stepping_stone
                                                       * f.price_scale)


def test_explicit_prices_are_paid_as_given():
    m = run_model("pbr_job_outcomes", {**TWO_YEARS, "funding.price_rule": "explicit"}, seed=1)
    assert m.funder.price_scale == 1.0
    assert m.funder.prices["job"] == m.p.funding.price_job


def test_the_baseline_is_a_block_run_of_the_same_service_and_seed():
    sc = scenario("pbr_job_outcomes", TWO_YEARS)
    base = baseline(sc, 4)
    block = run_model("medium", TWO_YEARS, seed=4)
    # The block run's job starts, counted per period, are the baseline's.
    job = [row[0].sum() for row in base.periods]
    assert job == [row[0].sum() for row in block.funder.tally_periods]
    assert sum(job) > 0
    assert baseline(sc.with_changes({"funding.far_price_factor": 2.0}), 4) is base  # cached


def test_with_payments_at_stake_budget_neutral_spend_stays_near_the_budget():
    # With the Link Workers' response and posts following payments, spend moves only with
    # performance: over eight replicates the mean stays within 10% of the block budget
    # (seeds 1-8 of the job regime: 0.96-1.05 of it, mean 1.01).
    ratios = []
    for seed in range(1, 9):
        m = run_model("pbr_job_outcomes", TWO_YEARS, seed=seed)
        ratios.append(spend_on_link_work(m) / (m.funder.annual_budget * 2))
    assert abs(np.mean(ratios) - 1.0) < 0.10, ratios


def test_a_far_from_work_premium_lowers_the_creaming_index():
    # Far clients must have some chance of a job for a premium to be worth anything to a
    # Link Worker (price x chance): a lower aspiration barrier and a nearer 'far' line give
    # them one. Same seeds (paired); 90% interval of the difference below zero.
    common = {**TWO_YEARS, "funding.far_distance": 0.5, "clients.aspiration_barrier": 0.5}
    plain, premium = [], []
    for seed in range(1, 9):
        plain.append(metrics(run_model("pbr_job_outcomes", common, seed=seed))
                     ["support_ratio_near_far"])
        premium.append(metrics(run_model("pbr_job_outcomes",
                                          {**common, "funding.far_price_factor": 3.0},
                                          seed=seed))["support_ratio_near_far"])
    mean, lo, hi = paired_interval(plain, premium)
    assert hi < 0, (mean, lo, hi)


# Far clients need some chance of a job for a premium on it to be worth anything (as above).
FAR_CHANCE = {**TWO_YEARS, "funding.far_distance": 0.5, "clients.aspiration_barrier": 0.5}


def test_parking_follows_each_client_expected_payment():
    f = run_model("pbr_job_outcomes", FAR_CHANCE, seed=1, weeks=1).funder
    dist = np.array([0.1, 0.3, 0.5, 0.9])
    far = np.zeros(4, dtype=bool)
    supported = np.array([True, True, True, False])
    v = f.value(dist, far)
    park = f.parking(dist, far, supported)
    # The best-paying supported client is not parked; the others by how much less they are
    # worth; the top is taken over supported clients only (the fourth is worth nothing).
    assert park[0] == 0.0 and 0 < park[1] < park[2] <= f.p.incentives.parking * f.pull
    assert park == pytest.approx(f.p.incentives.parking * f.pull
                                 * np.clip(1 - v / v[:3].max(), 0, 1))
    # Under a block grant nothing is parked.
    block = run_model("medium", FAR_CHANCE, seed=1, weeks=1).funder
    assert not block.parking(dist, far, supported).any()


def test_a_premium_that_makes_a_far_client_worth_as_much_as_the_best_removes_its_parking():
    # A near client at 0.2 (the best-paying) and a client far from work at referral now at 0.4.
    dist, far, both = np.array([0.2, 0.4]), np.array([False, True]), np.ones(2, dtype=bool)
    plain = run_model("pbr_job_outcomes", FAR_CHANCE, seed=1, weeks=1).funder
    v = plain.value(dist, np.zeros(2, dtype=bool))
    factor = float(v[0] / v[1])  # the premium that makes the far client worth as much
    assert 1.0 < factor <= 10.0  # within the registry's range of funding.far_price_factor
    premium = run_model("pbr_job_outcomes", {**FAR_CHANCE, "funding.far_price_factor": factor},
                        seed=1, weeks=1).funder
    assert premium.pull == plain.pull > 0
    assert plain.parking(dist, far, both)[1] > 0.2  # parked without the premium
    park = premium.parking(dist, far, both)
    assert park == pytest.approx([0.0, 0.0], abs=1e-9)
    # Its session rate is the block grant's (parking 0 leaves the rate as it is).
    rate = 2.0 / (52 / 12)
    assert session_rate(rate, park[1]) == pytest.approx(rate, rel=1e-9)
    assert session_rate(rate, 0.0) == rate


def test_a_far_from_work_premium_lifts_the_sessions_of_far_clients():
    # Same seeds (paired), posts fixed so that only behaviour differs; sessions per week of
    # support of the clients far from work at referral; 90% interval of the rise above zero.
    common = {**FAR_CHANCE, "funding.capacity_responds": False}
    plain, premium = [], []
    for seed in range(1, 9):
        for side, changes in ((plain, common), (premium, {**common,
                                                          "funding.far_price_factor": 3.0})):
            m = run_model("pbr_job_outcomes", changes, seed=seed)
            far = np.flatnonzero(m.clients.far[: m.clients.n])
            side.append(sessions_per_supported_week(m, far))
    mean, lo, hi = paired_interval(plain, premium)
    assert lo > 0, (mean, lo, hi)


def test_link_workers_respond_to_the_expected_payment_not_to_the_regime_name():
    f = run_model("pbr_job_outcomes", TWO_YEARS, seed=1, weeks=1).funder
    # Job payments: a client near work is worth more than one far from it.
    near, far = f.value(np.array([0.1, 0.8]), np.array([False, True]))
    assert near > far >= 0
    # Nothing to earn: no pull, whatever the share at risk.
    free = run_model("pbr_job_outcomes", {**TWO_YEARS, "funding.price_job": 0.0,
                                          "funding.price_rule": "explicit"}, seed=1, weeks=1)
    everyone = np.ones(2, dtype=bool)
    assert not free.funder.parking(np.array([0.1, 0.8]), np.array([False, True]), everyone).any()
    assert not free.funder.value_table.any()


def test_fixed_capacity_keeps_posts_at_the_block_level_while_paying_by_results():
    common = {**TWO_YEARS, "funding.price_rule": "explicit"}  # Work Programme prices: posts fall
    full = run_model("pbr_job_outcomes", common, seed=1)
    fixed = run_model("pbr_job_outcomes", {**common, "funding.capacity_responds": False},
                      seed=1)
    posts = pd.DataFrame(fixed.funder.ledger)["link_workers_after"]
    assert (posts == fixed.funder.initial_posts).all()
    assert pd.DataFrame(full.funder.ledger)["link_workers_after"].min() < fixed.funder.initial_posts
    # Behaviour is the same in both (same prices, same pull): only the capacity differs.
    assert full.funder.pull == fixed.funder.pull > 0
    assert "job" in PAYS_FOR[fixed.funder.regime]


def test_the_run_manifest_and_ledger_record_the_prices_paid(tmp_path):
    from pathways_sim.cli import main

    out = tmp_path / "run"
    assert main(["run", "pbr_job_outcomes", "--replicates", "2", "--weeks", "60", "--seed", "3",
                 "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    prices = manifest["prices"]
    assert [p["seed"] for p in prices] == manifest["seeds"]
    ledger = pd.read_csv(out / "ledger.csv")
    for p in prices:
        assert p["rule"] == "budget_neutral" and p["regime"] == "pbr_job"
        assert p["prices"]["job"] == pytest.approx(1200 * p["price_scale"], abs=0.01)
        rows = ledger[ledger["seed"] == p["seed"]]
        assert rows["price_scale"].to_numpy() == pytest.approx(p["price_scale"])


CAPACITY_EXPERIMENT = """\
title: Capacity against behaviour (test)
description: Job-outcome PBR at explicit prices, posts following income or fixed; small.
base: medium
levers:
  funding.regime: [block, pbr_job]
  funding.share_at_risk: [0.5]
  funding.price_rule: [explicit]
  funding.capacity_responds: [true, false]
outcomes:
  found_work_12m: maximize
  support_ratio_near_far: minimize
design: {type: full_factorial}
replicates: 3
seed: 5
weeks: 40
baseline: {funding.regime: block, funding.capacity_responds: true}
calibration: none  # about the registry model's mechanisms, not a calibration
"""


def test_the_brief_splits_the_pbr_effect_into_capacity_and_behaviour(tmp_path):
    from pathways_sim.report.brief import write_report
    from pathways_sim.sweep import InProcessExecutor, load_experiment, load_sweep, run_sweep
    from pathways_sim.sweep.analysis import capacity_behaviour

    (tmp_path / "cap.yaml").write_text(CAPACITY_EXPERIMENT, encoding="utf-8")
    out = tmp_path / "sweep"
    run_sweep(load_experiment(tmp_path / "cap.yaml"), out, InProcessExecutor(), progress=False)
    sweep = load_sweep(out)
    joined = sweep.joined()
    split = capacity_behaviour(joined, sweep.points, ["link_worker_posts_mean",
                                                      "support_ratio_near_far"])
    parts = split.pivot_table(index="metric", columns="part", values="diff")
    # The parts add up to the total, replicate by replicate and so on average.
    assert (parts["behaviour"] + parts["capacity"]).to_numpy() == pytest.approx(
        parts["total"].to_numpy())
    # At explicit prices posts fall (capacity); with posts fixed they do not (behaviour).
    assert parts.loc["link_worker_posts_mean", "behaviour"] == 0
    assert parts.loc["link_worker_posts_mean", "capacity"] < 0
    # Creaming is behaviour: it shows with the posts fixed.
    assert parts.loc["support_ratio_near_far", "behaviour"] > 0
    _, md_path = write_report(out)
    md = md_path.read_text(encoding="utf-8")
    assert "## Capacity and behaviour" in md and "Behaviour (posts fixed)" in md


def test_the_workshop_has_levers_for_equal_budget_prices_and_a_far_premium():
    from pathways_sim.viz import levers as lv

    sc = lv.LEVERS_BY_KEY["regime"].apply("pbr_job", scenario("medium", TWO_YEARS))
    sc = lv.LEVERS_BY_KEY["price_rule"].apply("budget_neutral", sc)
    sc = lv.LEVERS_BY_KEY["far_premium"].apply(2.0, sc)
    assert sc["funding.price_rule"] == "budget_neutral"
    assert sc["funding.far_price_factor"] == 2.0
    f = PathwaysModel(sc, seed=1).funder
    assert f.price_scale > 1.0 and f.far_price_factor == 2.0
