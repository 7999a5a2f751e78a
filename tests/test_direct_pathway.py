"""The direct pathway and scaling up as processes (docs/odd.md §3.6, §3.2; issue 10, 6-7).

Situation tests (small runs that isolate one mechanism, same seed with and without the lever,
so common random numbers pair them) and paired comparisons over replicates of full runs with
90% intervals, as in tests/test_patterns.py (whose cached runs and seeds they share).
"""

from __future__ import annotations

import numpy as np
import pytest

from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from tests.helpers import ADVISER, IPS, JCP, count, events, run_model, scenario
from tests.test_patterns import assert_lowers, assert_raises

SMALL = {"run.scale": 0.5, "service.decline_at_contact": 0.0,
         "disengagement.rereferral_per_week": 0.0}
# Clients with work goals and many referrals to work-focused support.
KEEN = {**SMALL, "clients.aspiration_barrier": 0.3, "direct.referral_per_session": 0.5}


def starts(m: PathwaysModel) -> np.ndarray:
    """Work-support code of every start of work-focused support."""
    return events(m.log.frame(), Ev.DIRECT_START)["value"].to_numpy().astype(int)


# ----------------------------------------------------------------- placement order
def test_with_ips_and_an_adviser_both_available_clients_go_to_ips_first():
    m = run_model("medium", {**KEEN, "direct.ips": True, "direct.employment_adviser": True,
                             "direct.ips_caseload": 5000}, weeks=40)
    codes = starts(m)
    assert len(codes) > 50
    # IPS has room for everyone and takes anyone (zero exclusion): no one goes elsewhere.
    assert (codes == IPS).all(), np.bincount(codes, minlength=3)


def test_placement_goes_to_the_most_effective_option_unless_the_scenario_fixes_the_order():
    stronger_jcp = {**KEEN, "direct.employment_adviser": True, "direct.jcp_effect": 2.0,
                    "direct.adviser_effect": 1.2}
    by_effect = starts(run_model("medium", stronger_jcp, weeks=30))
    fixed = starts(run_model("medium", {**stronger_jcp,
                                        "direct.placement_order": "ips_adviser_jcp"}, weeks=30))
    # Work coaches (no caseload limit) beat the adviser here: the adviser gets no one...
    assert len(by_effect) > 50 and (by_effect == JCP).all()
    # ... unless the scenario keeps the fixed order, where the adviser fills first.
    assert (fixed == ADVISER).sum() > 20


def test_the_placement_order_follows_the_providers_effects():
    m = PathwaysModel(scenario("medium", {"direct.ips": True, "direct.employment_adviser": True,
                                          "direct.adviser_effect": 3.0}), seed=1)
    # Effects: adviser 3.0 > IPS 2.5 > JCP 0.5.
    assert m.work_support.placement_order() == [ADVISER, IPS, JCP]
    d = PathwaysModel(scenario("medium", {"direct.ips": True}), seed=1)
    assert d.work_support.placement_order() == [IPS, JCP]  # only the providers available


# ----------------------------------------------------------------- referral and trust
def test_colocation_and_an_adviser_on_site_raise_referrals_to_work_support():
    # Everyone ready for work support, so every referral is a start.
    base = {**KEEN, "direct.referral_per_session": 0.1, "direct.readiness_distance": 1.0}
    n = {}
    for name, ch in (("apart", {}), ("colocated", {"link_workers.colocated": True}),
                     ("adviser", {"direct.employment_adviser": True})):
        n[name] = len(starts(run_model("medium", {**base, **ch}, weeks=30)))
    # x1.5 referral rate each (colocation_referral_effect, adviser_referral_boost); with the
    # same draws ask for x1.2. Co-location also keeps more clients engaged, which adds.
    assert n["apart"] > 100, n
    assert n["colocated"] > 1.2 * n["apart"] and n["adviser"] > 1.2 * n["apart"], n


def test_a_jcp_partnership_where_work_feels_mandatory_lowers_uptake_and_engagement():
    common = {**SMALL, "provision.self_directed_per_week": 0.0}
    trusting = run_model("jcp_partnership", {**common, "jcp.mandatory_uptake_cut": 0.0,
                                             "jcp.mandatory_disengagement": 0.0}, weeks=30)
    wary = run_model("jcp_partnership", {**common, "jcp.mandatory_uptake_cut": 0.4,
                                         "jcp.mandatory_disengagement": 1.0}, weeks=30)
    # Uptake x0.6 at every offer with the same draws: fewer activity referrals (later
    # offers let some catch up; ask for x0.85).
    assert count(wary, Ev.ACTIVITY_REFERRAL) < 0.85 * count(trusting, Ev.ACTIVITY_REFERRAL)
    # Disengagement x2 for every supported client, not only those with a work coach.
    assert count(wary, Ev.DISENGAGED, 1) > 1.5 * count(trusting, Ev.DISENGAGED, 1)


def test_mandatory_feel_needs_a_jcp_partnership():
    common = {**SMALL, "jcp.mandatory_uptake_cut": 0.9, "jcp.mandatory_disengagement": 5.0}
    a = run_model("medium", common, weeks=20)
    b = run_model("medium", SMALL, weeks=20)
    assert a.log.frame().equals(b.log.frame())


# ----------------------------------------------------------------- scaling up
def test_knowledge_and_accompaniment_fall_with_caseload_above_the_reference():
    def team(caseload):
        return PathwaysModel(scenario("medium", {
            "link_workers.count": 200, "link_workers.knowledge_of_provision": 1.0,
            "link_workers.accompaniment": 0.6, "link_workers.reference_caseload": 60,
            "link_workers.caseload": caseload}), seed=3).link_work

    at, above = team(60), team(90)  # 1.5 x the reference: x (1 - 1.0 x 0.5) = x0.5
    assert at.knows.all() and at.accompaniment == pytest.approx(0.6)
    assert above.accompaniment == pytest.approx(0.3)
    assert above.knows.mean() == pytest.approx(0.5, abs=0.03)  # 200 x 5 draws
    assert team(40).knows.all()  # below the reference: nothing lost


# ----------------------------------------------------------------- paired, full runs
@pytest.mark.slow
@pytest.mark.parametrize("metric", ["direct_support_12m", "found_work_24m"])
def test_adding_a_colocated_employment_adviser_raises_direct_support_and_jobs(metric):
    assert_raises("colocated_employment_adviser", "medium", metric)


@pytest.mark.slow
def test_losing_colocation_lowers_referral_to_work_focused_support():
    assert_lowers("scaled_up_no_colocation_colocation_only", "holistic", "direct_support_12m")
