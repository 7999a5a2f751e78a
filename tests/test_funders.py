"""Funders that shape what is measured and targeted (issue 10 mechanism 5; docs/odd.md §7.14).

Who funds a service (``funding.funder``) decides, through the funder's profile, whether work
outcomes are recorded - and with it Link Workers' attention to work - and, for lottery and
charitable grants, whether VCS capacity rests on short-term grants that may not be renewed.
Pattern 13 itself (a funder that records work outcomes raises work goals, paired CRN
replicates, 90% interval) is in tests/test_patterns.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pathways_sim.model.model import PathwaysModel
from pathways_sim.scenario.registry import FUNDERS
from tests.helpers import paired_interval, run_model, scenario

SEEDS = tuple(range(101, 121))  # 20 paired replicates: a grant's failures are rare events


def test_each_funder_has_a_profile_and_the_default_records_no_work():
    for funder in FUNDERS:
        m = PathwaysModel(scenario("medium", {"funding.funder": funder}), seed=1)
        prof = m.funder.profile
        assert prof.funder == funder
        assert prof.records_work == getattr(m.p.funding, f"records_work_{funder}")
        assert m.funder.work_attention == (m.p.funding.work_attention
                                           if prof.records_work else 1.0)
        assert prof.grant == (funder == "lottery")
    # The shipped default (a health commissioner; docs/evidence.md §E2.12: most do not ask
    # for employment data) leaves Link Workers' awareness as the scenario sets it.
    m = PathwaysModel(scenario("medium"), seed=1)
    assert m.p.funding.funder == "health_commissioner"
    assert m.funder.work_attention == 1.0
    assert np.array_equal(m.link_work.attended_awareness(), m.link_work.work_awareness)


def test_a_funder_that_records_work_raises_link_workers_attention_to_work():
    m = PathwaysModel(scenario("funder_records_work"), seed=1)
    lw = m.link_work
    att = m.p.funding.work_attention
    assert att > 1.0 and m.funder.profile.records_work
    assert lw.attended_awareness() == pytest.approx(
        np.minimum(lw.work_awareness * att, 1.0))
    # Capped at 1: a trained team cannot attend to work more than fully.
    lw.train(0.9, 4)
    assert lw.attended_awareness().max() == 1.0


def test_what_the_funder_records_moves_only_through_link_workers_attention():
    # With no extra attention (funding.work_attention 1), a funder that records work runs
    # exactly as the default funder: the label alone changes nothing.
    a = run_model("medium", seed=3, weeks=60)
    b = run_model("funder_records_work", {"funding.work_attention": 1.0}, seed=3, weeks=60)
    assert a.log.frame().equals(b.log.frame())


@pytest.fixture(scope="module")
def grant_runs():
    """Paired runs (same seeds) of the grant-funded service and medium."""
    out = []
    for seed in SEEDS:
        g, m = run_model("grant_funded", seed=seed), run_model("medium", seed=seed)
        out.append((g, m))
    return out


def test_a_failed_grant_renewal_cuts_vcs_places_at_the_renewal_date(grant_runs):
    cut_some = 0
    for g, m in grant_runs:
        f, p = g.funder, g.p.funding
        assert [w for w, _ in f.renewals] == list(range(p.grant_weeks, g.p.run.weeks + 1,
                                                        p.grant_weeks))
        ledger = pd.DataFrame(f.ledger).set_index("period_end_week")["vcs_places"]
        full = int(pd.DataFrame(m.funder.ledger)["vcs_places"].iloc[0])
        assert ledger.iloc[0] == full  # nothing is cut before the first renewal date
        expected = full
        for week, renewed in f.renewals:
            if week >= g.p.run.weeks:
                continue  # a renewal on the run's last day cuts nothing the ledger funded
            if not renewed:
                expected = int(sum(round(x * (1 - p.grant_cut_share)) for x in
                                   _places_before(g, week)))
            after = ledger[ledger.index > week]
            assert after.iloc[0] == expected, (week, renewed)
        cut_some += any(not r for w, r in f.renewals if w < g.p.run.weeks)
        # A block-funded service never loses places.
        assert pd.DataFrame(m.funder.ledger)["vcs_places"].nunique() == 1
        assert m.funder.renewals == []
    # Renewal is a risk, not a certainty: some replicates lose places, some do not.
    assert 0 < cut_some < len(grant_runs)


def _places_before(g: PathwaysModel, week: int) -> list[int]:
    """Each provider's places before the renewal at ``week`` (replaying the cuts)."""
    p = g.p.funding
    places = [int(round(getattr(g.p.provision, f"{a.activity}_places") * g.p.run.scale))
              for a in g.providers]
    for w, renewed in g.funder.renewals:
        if w >= week:
            break
        if not renewed:
            places = [round(x * (1 - p.grant_cut_share)) for x in places]
    return places


def test_renewal_draws_are_common_random_numbers():
    # The renewal draw is keyed by the seed and the renewal date only: a lever that changes
    # the clients' journeys does not change which grants are renewed.
    a = run_model("grant_funded", seed=7)
    b = run_model("grant_funded", {"link_workers.work_awareness": 0.8,
                                   "referrals.per_year": 1500}, seed=7)
    assert a.funder.renewals == b.funder.renewals
    # The manifest's record of the run says who funded it and which grants were renewed.
    record = a.funder.price_record()
    assert record["funder"] == "lottery" and record["records_work"] is False
    assert record["grant_renewals"] == [[w, r] for w, r in a.funder.renewals]


def test_fragile_grant_funding_means_fewer_stepping_stones_on_average(grant_runs):
    # docs/evidence.md §E4.4: VCS capacity is fragile. Clients who start a first stepping stone
    # (volunteering or training) over the run: fewer when grants may not be renewed (paired
    # 90% interval below 0). A single cut can leave volunteering places to spare (and
    # Link Workers then offer stepping stones in place of crowded health programmes); two
    # cuts make them scarce.
    stepped = [(int(g.clients.stepped[: g.clients.n].sum()),
                int(m.clients.stepped[: m.clients.n].sum())) for g, m in grant_runs]
    mean, lo, hi = paired_interval([b for _, b in stepped], [a for a, _ in stepped])
    assert hi < 0, (mean, lo, hi)


SIB = {"run.weeks": 104}  # two years: four readings of the first referrals


def test_social_impact_bond_pays_for_wellbeing_improvement_and_health_gains():
    # docs/evidence.md §E2.15: Ways to Wellness' outcome payments follow Wellbeing Star
    # improvement and secondary-care cost reduction. Each client is paid once per outcome,
    # at the settlement after the reading that evidenced it, and the ledger's results
    # payments are those payments.
    from pathways_sim.model.clients import wellbeing
    from pathways_sim.model.events import Ev

    m = run_model("ways_to_wellness", SIB, seed=2)
    f, s = m.funder, m.clients
    assert f.pays == ("wellbeing", "health_cost")
    log = m.log.frame()
    paid = log[log["event"] == Ev.PAYMENT]
    assert len(paid) > 0
    ledger = pd.DataFrame(f.ledger)
    assert ledger["results_payments"].sum() == pytest.approx(float(paid["value"].sum()),
                                                             rel=1e-5)
    # Every client with a wellbeing reading at least funding.wellbeing_gain above referral
    # (read before the last settlement) is paid the wellbeing price once.
    reads = log[(log["event"] == Ev.WELLBEING)
                & (log["week"] < ledger["period_end_week"].iloc[-1])]
    gain = reads["value"].to_numpy() - wellbeing(s.B0[reads["client"].to_numpy()])
    improved = set(reads["client"][gain >= m.p.funding.wellbeing_gain - 1e-4])
    price = f.prices["wellbeing"]
    at_price = paid[np.isclose(paid["value"], price, rtol=1e-5)]
    assert at_price["client"].is_unique
    assert set(at_price["client"]) == improved
    # About 70% of the payments are on the cost outcome (as Ways to Wellness', §E2.15).
    cost_share = 1.0 - float(at_price["value"].sum()) / float(paid["value"].sum())
    assert 0.6 < cost_share < 0.8, cost_share


def test_sib_payments_rise_with_wellbeing_improvement():
    # The payments follow the outcome: without the confidence Link Worker sessions build
    # (session effect 0) fewer clients improve, and the bond pays less (explicit prices, so
    # the price is the same in both); with no part of the contract at risk it pays nothing.
    explicit = {**SIB, "funding.price_rule": "explicit"}
    high = run_model("ways_to_wellness", explicit, seed=3)
    low = run_model("ways_to_wellness", {**explicit, "link_workers.session_effect": 0.0},
                    seed=3)
    pay = [pd.DataFrame(m.funder.ledger)["results_payments"].sum() for m in (low, high)]
    assert pay[1] > 1.1 * pay[0], pay
    none = run_model("ways_to_wellness", {**SIB, "funding.share_at_risk": 0.0}, seed=3)
    assert none.funder.pays == ()
    assert pd.DataFrame(none.funder.ledger)["results_payments"].sum() == 0.0


def test_the_workshop_funder_lever_changes_what_link_workers_attend_to():
    from pathways_sim.viz import levers as lv

    lever = lv.LEVERS_BY_KEY["funder"]
    assert set(lever.options) == set(FUNDERS)
    medium = scenario("medium")
    assert lever.read(medium) == "health_commissioner"
    dwp = lever.apply("dwp", medium)
    assert dwp["funding.funder"] == "dwp"
    assert PathwaysModel(dwp, seed=1).funder.work_attention == medium["funding.work_attention"]
    assert PathwaysModel(medium, seed=1).funder.work_attention == 1.0
