"""Calibration observables on a hand-written log, and the per-domain barrier readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pathways_sim.model.clients import DOMAINS, REJECTED
from pathways_sim.model.events import ACTIVITY_CODES, BARRIER_EVENTS, EVENT_VALUE, Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import Cohort, compute_metrics, default_cohort
from pathways_sim.outcomes.observables import (
    COHORTS,
    OBSERVABLES,
    UNITS,
    Panel,
    observe,
    observe_many,
)
from pathways_sim.scenario import load_scenario
from tests.helpers import make_log

HEALTH, SOCIAL, VOL, TRAIN, EMP = (ACTIVITY_CODES[a] for a in (
    "health_wellbeing", "social_group", "volunteering", "training", "employment_advice"))
ADVISER = 1

Row = tuple[int, int, Ev, float]


def barriers(week: int, client: int, **levels: float) -> list[Row]:
    """A reading: READING plus one BARRIER_* row per domain (0.5 unless given)."""
    rows: list[Row] = [(week, client, Ev.READING, 0.5)]
    for domain, ev in zip(DOMAINS, BARRIER_EVENTS, strict=True):
        rows.append((week, client, ev, levels.get(domain, 0.5)))
    return rows


# Client: (referral week, working age, reason at referral, employment status at referral).
# Client 3 is rejected; client 1 is in work at risk (a job-retention need).
CLIENTS = {0: (0, True, "employment", "unemployed"),
           1: (10, True, "mental_health", "employed_at_risk"),
           2: (20, False, "isolation", "retired"), 3: (5, True, "employment", "unemployed"),
           4: (60, True, "employment", "unemployed"), 5: (2, True, "employment", "inactive")}


@pytest.fixture
def attrs() -> pd.DataFrame:
    ids = sorted(CLIENTS)
    return pd.DataFrame({
        "client": np.array(ids, dtype=np.int32),
        "referral_week": [CLIENTS[c][0] for c in ids],
        "working_age": [CLIENTS[c][1] for c in ids],
        "reason": pd.Categorical([CLIENTS[c][2] for c in ids]),
        "employment_status": pd.Categorical([CLIENTS[c][3] for c in ids]),
    })


@pytest.fixture
def log() -> pd.DataFrame:
    rows: list[Row] = [(CLIENTS[c][0], c, Ev.REFERRED, 0) for c in CLIENTS]
    rows += [(5, 3, Ev.REJECTED, 0), (5, 3, Ev.READING, 0.5)]  # no barrier readings
    rows += [
        # Client 0 (ref 0): work goal at referral; employment-advice and volunteering
        # referrals; volunteers from 6; adviser at 10; job at 30, 13 weeks at 43, 26 at 56.
        (0, 0, Ev.WORK_GOAL, 0.4), (1, 0, Ev.ASSIGNED, 0),
        (3, 0, Ev.ACTIVITY_REFERRAL, EMP), (5, 0, Ev.ACTIVITY_REFERRAL, VOL),
        (6, 0, Ev.ACTIVITY_START, VOL), (10, 0, Ev.DIRECT_START, ADVISER),
        (30, 0, Ev.JOB_START, 0.3), (43, 0, Ev.SUSTAINED, 13), (56, 0, Ev.SUSTAINED, 26),
        *barriers(0, 0, mental=0.6),
        *barriers(26, 0, mental=0.4, skills=0.7),           # mental fell, skills rose
        *barriers(52, 0, mental=0.4, physical=0.45, skills=0.7),  # physical fell (rel 52)
        *barriers(78, 0, mental=0.4, physical=0.45, skills=0.7, isolation=0.3),
        # Client 1 (ref 10): in work at referral; training referral and start;
        # a work goal only at rel 60; one reading.
        (10, 1, Ev.EMPLOYED_AT_REFERRAL, 0), (12, 1, Ev.ASSIGNED, 0),
        (14, 1, Ev.ACTIVITY_REFERRAL, TRAIN), (20, 1, Ev.ACTIVITY_START, TRAIN),
        (70, 1, Ev.WORK_GOAL, 0.4), *barriers(10, 1),
        # Client 2 (ref 20, retired): never assigned; health programme; physical fell.
        (22, 2, Ev.ACTIVITY_REFERRAL, HEALTH), (23, 2, Ev.ACTIVITY_START, HEALTH),
        (25, 2, Ev.DISENGAGED, 0), *barriers(20, 2), *barriers(46, 2, physical=0.3),
        # Client 4 (ref 60): work goal at referral, job a week later.
        (60, 4, Ev.WORK_GOAL, 0.4), (61, 4, Ev.JOB_START, 0.2), *barriers(60, 4),
        # Client 5 (ref 2): two volunteering referrals; a wish to work at rel 10; adviser
        # at rel 60; job at rel 78; re-referred (not a new member); aspiration fell by rel 28.
        (4, 5, Ev.ACTIVITY_REFERRAL, VOL), (12, 5, Ev.WORK_GOAL, 0.3),
        (40, 5, Ev.ACTIVITY_REFERRAL, VOL),
        (62, 5, Ev.DIRECT_START, ADVISER), (70, 5, Ev.RE_REFERRED, 0),
        (80, 5, Ev.JOB_START, 0.4), *barriers(2, 5, aspiration=0.8),
        *barriers(30, 5, aspiration=0.6),
    ]
    return make_log(rows)


# (observable, window months) -> (k, n) for the cohort 'all' = clients {0, 1, 2, 4, 5}.
EXPECTED_ALL = {
    ("found_work", 12): (2, 5), ("found_work", 18): (2, 5), ("found_work", 24): (3, 5),
    ("found_work", None): (3, 5),
    ("training_or_education", 12): (1, 5),
    ("volunteering", 12): (1, 5), ("volunteering", 1): (0, 5),
    ("stepping_stone", 12): (2, 5),
    ("took_up_service", 12): (3, 5),
    ("engaged", 12): (2, 5),
    ("work_goal", 12): (3, 5), ("work_goal", 24): (4, 5),
    ("direct_support", 12): (1, 5), ("direct_support", 24): (2, 5),
    ("in_work_13w", 6): (0, 5), ("in_work_13w", 12): (1, 5),
    ("worked_any", 6): (2, 5), ("worked_any", 12): (3, 5), ("worked_any", 24): (4, 5),
    # Employment reason (c0, c4, c5) or in work at risk (c1).
    ("employment_need_at_referral", 0): (4, 5), ("employment_need_at_referral", None): (4, 5),
    # Goals in 12 months: the plans' referrals emp, vol (c0), train (c1), health (c2), vol,
    # vol (c5) = 6 goals, 1 about work, 3 volunteering; WORK_GOAL wishes are not goals.
    ("work_goals_share", 12): (1, 6), ("work_goals_share", None): (1, 6),
    ("volunteering_goals_share", 12): (3, 6),
    ("volunteering_vs_work_goals", 12): (3, 4),
    # Onward referrals in 12 months: 6 activity referrals + c0's DIRECT_START.
    ("employment_referral_share", 12): (2, 7), ("employment_referral_share", None): (3, 8),
    # Needs: 5 members (4 with an employment-related need) + 3 WORK_GOAL in 12 months
    # (c0's and c4's at referral, c5's at rel 10; c1's comes at rel 60).
    ("work_issue_share", 12): (7, 8), ("work_issue_share", None): (8, 9),
    ("wellbeing_domain_improvement.physical", 6): (1, 5),
    ("wellbeing_domain_improvement.physical", 12): (2, 5),
    ("wellbeing_domain_improvement.mental", 12): (1, 5),
    ("wellbeing_domain_improvement.isolation", 12): (0, 5),
    ("wellbeing_domain_improvement.isolation", 24): (1, 5),
    ("wellbeing_domain_improvement.skills", 12): (0, 5),
    ("wellbeing_domain_improvement.aspiration", 6): (0, 5),  # c5's reading: rel 28 > 26
    ("wellbeing_domain_improvement.aspiration", 12): (1, 5),
    ("wellbeing_domain_improvement.substance", None): (0, 5),
    ("any_domain_progress", 6): (2, 5), ("any_domain_progress", 12): (3, 5),
    ("any_domain_progress", None): (3, 5),
    # Pattern terms. Stepping stones (c0 vol at rel 6, c1 training at rel 10) and job starts
    # (c4 at rel 1, c0 at rel 30; c5's at rel 78 only within 24 months): S / (S + W).
    ("stepping_vs_work", 12): (2, 4), ("stepping_vs_work", 24): (2, 5),
    ("stepping_vs_work", 1): (0, 1),  # 4 weeks: only c4's job
    # Wishes to work by 6 months (c0, c4 at referral, c5 at rel 10) over those plus the ones
    # at referral (c0, c4); the window is ignored.
    ("work_interest_rise_6m", 6): (3, 5), ("work_interest_rise_6m", None): (3, 5),
    # Job starts within 6 months (c4) of those within 12 (c4, c0); the window is ignored.
    ("jobs_6m_of_12m", 12): (1, 2), ("jobs_6m_of_12m", None): (1, 2),
    # Summed falls in points (x 100): aspiration 0.2 (c5, by rel 28) against the most-improved
    # other domain within 12 months, physical 0.05 (c0) + 0.2 (c2); skills rose (c0) and counts
    # as 0, not as a negative. Within 6 months no aspiration reading has fallen yet, against
    # mental 0.2 (c0) or physical 0.2 (c2).
    ("work_interest_vs_other_domains", 12): (20, 45),
    ("work_interest_vs_other_domains", 6): (0, 20),
}


@pytest.mark.parametrize(("name", "months"), list(EXPECTED_ALL))
def test_observable_on_a_hand_log(log, attrs, name, months) -> None:
    assert observe(name, log, attrs, "all", months) == EXPECTED_ALL[(name, months)]


def test_every_observable_is_tested_and_described() -> None:
    assert {name for name, _ in EXPECTED_ALL} | {
        f"wellbeing_domain_improvement.{d}" for d in DOMAINS} == set(OBSERVABLES)
    for name, obs in OBSERVABLES.items():
        assert obs.name == name and obs.unit in UNITS and len(obs.description) > 20
    assert {f"wellbeing_domain_improvement.{d}" for d in DOMAINS} <= set(OBSERVABLES)
    for name in ("work_goals_share", "volunteering_goals_share", "employment_referral_share",
                 "work_issue_share", "volunteering_vs_work_goals"):
        assert OBSERVABLES[name].unit == "goals"


def test_cohorts(log, attrs) -> None:
    assert COHORTS == ("all", "working_age", "not_in_work")
    # working_age: {0, 1, 4, 5}; not_in_work: {0, 2, 4, 5}.
    assert observe("found_work", log, attrs, "working_age", 12) == (2, 4)
    assert observe("employment_need_at_referral", log, attrs, "working_age", 0) == (4, 4)
    assert observe("worked_any", log, attrs, "not_in_work", 12) == (2, 4)
    assert observe("took_up_service", log, attrs, "not_in_work", 12) == (2, 4)
    # Explicit ids: the rejected client 3 is dropped.
    assert observe("found_work", log, attrs, np.array([0, 3, 4]), 12) == (2, 2)
    assert observe("found_work", log, attrs, [5], 24) == (1, 1)


def test_referral_window(log, attrs) -> None:
    first_year = Cohort("y1", "referred in weeks 0-51", 0, 52, 104)
    # Members {0, 1, 2, 5}: client 4 (referred at 60) is out.
    assert observe("found_work", log, attrs, "all", 12, referred=first_year) == (1, 4)
    assert observe("employment_need_at_referral", log, attrs, "all", 0,
                   referred=first_year) == (3, 4)  # c0, c5 (employment), c1 (at risk)
    assert observe("worked_any", log, attrs, "working_age", 12, referred=first_year) == (2, 3)


def test_observe_many_matches_observe(log, attrs) -> None:
    specs = [(name, cohort, months) for (name, months) in EXPECTED_ALL
             for cohort in ("all", "not_in_work")]
    got = observe_many(specs, log, attrs)
    assert got == [observe(n, log, attrs, c, m) for n, c, m in specs]
    panel = Panel(log, attrs, "all")
    assert OBSERVABLES["found_work"].count(panel, 52) == (2, 5)
    assert OBSERVABLES["found_work"](log, attrs, "all", 52) == (2, 5)


def test_errors(log, attrs) -> None:
    with pytest.raises(KeyError, match="unknown observable"):
        observe("found_job", log, attrs)
    with pytest.raises(ValueError, match="unknown cohort"):
        observe("found_work", log, attrs, "adults")
    with pytest.raises(ValueError, match="working_age"):
        observe("found_work", log, None, "working_age", 12)
    with pytest.raises(ValueError, match="reason"):
        observe("employment_need_at_referral", log, None)
    with pytest.raises(ValueError, match="missing column"):
        observe("found_work", log.drop(columns="value"), attrs)
    # Observables that need no attributes work without them.
    assert observe("found_work", log, None, "all", 12) == (2, 5)
    assert observe("worked_any", log, None, "not_in_work", 12) == (2, 4)


def test_empty_cohort(log, attrs) -> None:
    assert observe("found_work", log, attrs, [], 12) == (0, 0)
    assert observe("work_goals_share", log, attrs, [3], None) == (0, 0)
    assert observe("any_domain_progress", log, attrs, [], 12) == (0, 0)


# ------------------------------------------------------------------ against a real run
@pytest.fixture(scope="module")
def small_run() -> PathwaysModel:
    """A small medium service whose 30-week follow-up ends inside the run."""
    sc = load_scenario("medium").with_changes({
        "run.scale": 0.1, "run.weeks": 64, "run.follow_up_weeks": 30, "run.cohort_weeks": 30,
        "eligibility.max_distance": 0.6})  # some rejected referrals
    m = PathwaysModel(sc, seed=3)
    m.readings_seen = []  # (week, B at the start of the week, B0, n before the week)
    while m.running and m.week < sc.ns.run.weeks:
        n0 = m.clients.n
        before = m.clients.B[:n0].copy()
        start = len(m.log)
        t = m.week
        m.step()
        m.readings_seen.append((t, before, n0, start, len(m.log)))
    return m


def test_barrier_events_are_documented() -> None:
    assert len(BARRIER_EVENTS) == len(DOMAINS)
    for ev, domain in zip(BARRIER_EVENTS, DOMAINS, strict=True):
        assert ev.name == f"BARRIER_{domain.upper()}"
        assert ev in EVENT_VALUE
    assert list(Ev) == sorted(Ev)  # codes stay contiguous for label_log
    assert [int(e) for e in Ev] == list(range(len(Ev)))


def test_barrier_readings_match_the_model(small_run) -> None:
    m = small_run
    s = m.clients
    log = m.log.frame()
    week, client, ev = (log[c].to_numpy() for c in ("week", "client", "event"))
    value = log["value"].to_numpy()
    barrier_codes = np.array([int(e) for e in BARRIER_EVENTS])
    checked = {"referral": 0, "26w": 0, "end": 0}
    for t, before, n0, lo, hi in m.readings_seen:
        rows = slice(lo, hi)
        w_client, w_ev, w_val = client[rows], ev[rows], value[rows]
        assert (week[rows] == t).all()
        read = w_client[w_ev == int(Ev.READING)]
        rejected = s.status[read] == REJECTED
        # Every reading of an accepted client has one row per domain, none for rejected.
        for j, code in enumerate(barrier_codes):
            got = w_client[w_ev == code]
            np.testing.assert_array_equal(np.sort(got), np.sort(read[~rejected]))
            vals = w_val[w_ev == code]
            new = got >= n0
            # New referrals: their barriers at referral; others: the barriers the week
            # started with (readings come before the week's dynamics).
            np.testing.assert_allclose(vals[new], s.B0[got[new], j], rtol=0, atol=0)
            np.testing.assert_allclose(vals[~new], before[got[~new], j], rtol=0, atol=0)
        # The distance READING is the weighted barrier index of the same barriers.
        ok = read[~rejected]
        if len(ok):
            levels = np.stack([w_val[w_ev == code][np.argsort(w_client[w_ev == code])]
                               for code in barrier_codes], axis=1)
            dist = w_val[w_ev == int(Ev.READING)][~rejected][np.argsort(ok)]
            np.testing.assert_allclose(levels @ m.referral.distance_weights, dist, atol=1e-5)
        rel = t - s.ref_week[ok]
        checked["referral"] += int((rel == 0).sum())
        checked["26w"] += int((rel == 26).sum())
        checked["end"] += int((rel == 30).sum())
    assert min(checked.values()) > 50, checked
    assert (s.status[: s.n] == REJECTED).any()


def _run_metrics(m) -> tuple:
    """A run's log, client attributes, metrics, outcome cohort and cohort size."""
    p = m.p.run
    log, attrs = m.log.frame(), m.client_attributes()
    metrics = compute_metrics(log, attrs, run_weeks=p.weeks, follow_up_weeks=p.follow_up_weeks,
                              cohort_weeks=p.cohort_weeks)
    return (log, attrs, metrics, default_cohort(p.weeks, p.cohort_weeks, p.follow_up_weeks),
            int(metrics["cohort_size"]))


def test_observables_agree_with_metrics(small_run) -> None:
    log, attrs, metrics, cohort, n = _run_metrics(small_run)
    assert n > 50
    pairs = {("found_work", 6): "found_work_6m", ("volunteering", 6): "volunteering_6m",
             ("training_or_education", 6): "training_6m",
             ("stepping_stone", 6): "stepping_stone_6m",
             ("took_up_service", None): "took_up_service", ("engaged", None): "engaged"}
    for (name, months), metric in pairs.items():
        k, nn = observe(name, log, attrs, "all", months, referred=cohort)
        assert nn == n
        assert k == round(metrics[metric] * n), name


def test_pattern_terms_are_the_patterns_metrics_as_counts(small_run) -> None:
    """The calibration's pattern terms count what the patterns experiment compares."""
    log, attrs, metrics, cohort, n = _run_metrics(small_run)

    def count(metric: str) -> int:
        return round(metrics[metric] * n)

    # Check 9: work_goal_6m against 3 x work_goal_at_referral.
    k, nn = observe("work_interest_rise_6m", log, attrs, "all", 6, referred=cohort)
    assert (k, nn) == (count("work_goal_6m"),
                       count("work_goal_6m") + count("work_goal_at_referral"))
    assert count("work_goal_6m") > count("work_goal_at_referral") > 0  # both sides exercised
    # Check 2 (here within 6 months): stepping stones against 4 x job starts.
    k, nn = observe("stepping_vs_work", log, attrs, "all", 6, referred=cohort)
    assert (k, nn) == (count("stepping_stone_6m"),
                       count("stepping_stone_6m") + count("found_work_6m"))
    # Check 3: the numerator is found_work_6m (this run follows clients only 30 weeks).
    k, nn = observe("jobs_6m_of_12m", log, attrs, "all", 12, referred=cohort)
    assert k == count("found_work_6m") and nn >= k
    # "More than any other area": mean progress in interest in work against the most-improved
    # other area, in points summed over the members (the metrics times the members x 100).
    k, nn = observe("work_interest_vs_other_domains", log, attrs, "all", 6, referred=cohort)
    assert k == pytest.approx(100 * n * metrics["work_interest_progress_6m"], abs=1)
    assert nn - k == pytest.approx(100 * n * metrics["other_domain_progress_6m"], abs=1)
    assert k > 0 and nn - k > 0  # both sides exercised
