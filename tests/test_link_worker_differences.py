"""Link Workers differ in skill, leave and are replaced (docs/odd.md §7.5; issue 10, 8).

Situation tests (small runs, the same seed with and without the lever, so common random
numbers pair them) and a paired comparison over replicates of full runs with a 90% interval,
as in tests/test_patterns.py (whose cached runs and seeds it shares).
"""

from __future__ import annotations

import numpy as np
import pytest

from pathways_sim.model.clients import SUPPORTED, D
from pathways_sim.model.events import Ev
from tests.helpers import events, paired_interval, run_model
from tests.test_patterns import report, values

SMALL = {"run.scale": 0.5, "service.decline_at_contact": 0.0}
OFF = {"link_workers.skill_spread": 0.0, "link_workers.turnover_per_year": 0.0}


def log_arrays(m) -> dict[str, np.ndarray]:
    f = m.log.frame()
    return {c: f[c].to_numpy() for c in f.columns}


@pytest.mark.parametrize("name", ["medium", "pbr_job_outcomes"])
def test_no_spread_and_no_turnover_leave_the_model_as_it_was(name):
    """Every Link Worker equally skilled (skill exactly 1) and nobody leaving: no hand-over,
    and the hand-over cost is inert, byte for byte. (That these defaults reproduce the model
    before these mechanisms bit for bit was checked with ``benchmarks/fingerprint.py
    --compare`` against the previous commit; tests/test_regression.py keeps the metrics.)"""
    a = run_model(name, {**SMALL, **OFF}, seed=7, weeks=60)
    assert (a.link_work.skill == 1.0).all() and not a.link_work.left.any()
    b = run_model(name, {**SMALL, **OFF, "link_workers.handover_setback": 0.9}, seed=7,
                  weeks=60)
    for col, x in log_arrays(a).items():
        assert np.array_equal(x, log_arrays(b)[col]), col
    assert not (a.log.frame()["event"] == Ev.HANDED_OVER).any()


def test_with_a_spread_skills_differ_around_one():
    m = run_model("medium", {**SMALL, "link_workers.count": 200,
                             "link_workers.skill_spread": 0.4}, seed=3, weeks=1)
    skill = m.link_work.skill
    assert len(np.unique(skill)) == len(skill)  # every Link Worker its own draw
    assert skill.min() >= 0.6 and skill.max() <= 1.4
    assert skill.mean() == pytest.approx(1.0, abs=0.04)  # uniform: sd 0.4/sqrt(3)/sqrt(100)
    # The draw is keyed by the Link Worker's index: a smaller team has the same first skills.
    few = run_model("medium", {**SMALL, "link_workers.count": 20,
                               "link_workers.skill_spread": 0.4}, seed=3, weeks=1)
    assert np.array_equal(few.link_work.skill, skill[:len(few.link_work.skill)])


def test_clients_of_more_skilled_link_workers_gain_more_confidence_per_session():
    """One week of sessions from a fixed state: each client's fall in the confidence barrier
    is the session gain times its Link Worker's skill."""
    m = run_model("medium", {**SMALL, "link_workers.skill_spread": 0.5}, seed=5, weeks=20)
    s, team = m.clients, m.link_work
    lo, n = m.follow_up.lo, s.n
    before = s.B[:n, D["mental"]].copy()
    sessions_before = s.sessions[:n].copy()
    team.sessions(m.week)
    had = np.flatnonzero((s.sessions[:n] > sessions_before) & (before > 0.2))
    had = had[had >= lo]
    assert len(had) > 50
    fall = before[had] - s.B[had, D["mental"]]
    lwp = m.p.link_workers
    w = lwp.session_coproduction_weight
    gain = lwp.session_effect * ((1 - w) + w * lwp.coproduction)
    np.testing.assert_allclose(fall, gain * team.skill[s.lw[had]], rtol=1e-4)
    skilled = team.skill[s.lw[had]] > 1.0
    assert fall[skilled].mean() > 1.3 * fall[~skilled].mean()


def test_leavers_are_replaced_and_their_clients_handed_over_with_a_setback():
    changes = {**SMALL, "link_workers.turnover_per_year": 0.9,
               "link_workers.skill_spread": 0.3, "link_workers.training_week": 10}
    m = run_model("medium", changes, seed=11, weeks=40)
    team = m.link_work
    assert team.left.sum() >= 3  # 5 posts at 0.9 a year over 40 weeks: about 8 leave
    assert team.active_posts == m.link_work.initial_posts  # posts unchanged
    assert not (team.active & team.left).any()
    hires = np.arange(team.initial_posts, len(team.left))  # one new row per leaver
    assert len(hires) == team.left.sum()
    # New hires are trained as the team is, with their own knowledge and skill draws.
    assert (team.work_awareness[hires] >= m.p.link_workers.trained_awareness).all()
    assert len(np.unique(team.skill)) == len(team.skill)
    # No supported client stays with a leaver; the hand-over is logged with the new hire.
    s = m.clients
    sup = np.flatnonzero(s.status[: s.n] == SUPPORTED)
    assert not team.left[s.lw[sup]].any()
    handed = events(m, Ev.HANDED_OVER)
    assert len(handed) > 0
    assert set(handed["value"].astype(int)) <= set(hires)


def test_a_handed_over_client_has_the_confidence_barrier_set_back():
    changes = {**SMALL, "link_workers.turnover_per_year": 0.9,
               "link_workers.handover_setback": 0.2}
    m = run_model("medium", changes, seed=11, weeks=30)
    team, s = m.link_work, m.clients
    t = m.week
    # Force one Link Worker with clients to leave now, and watch its clients.
    j = int(np.flatnonzero(team.active)[0])
    mine = np.flatnonzero((s.status[: s.n] == SUPPORTED) & (s.lw[: s.n] == j))
    mine = mine[mine >= m.follow_up.lo]
    assert len(mine) > 5
    before = s.B[mine, D["mental"]].copy()
    posts = team.active_posts
    new = team.replace(t, j)
    assert team.active_posts == posts and team.left[j]
    assert (s.lw[mine] == new.index).all()
    np.testing.assert_allclose(s.B[mine, D["mental"]], np.minimum(before + 0.2, 1.0),
                               rtol=1e-6)
    rows = events(m, Ev.HANDED_OVER)
    rows = rows[rows["week"] == t]
    assert set(rows["client"]) >= set(mine)


def test_turnover_draws_are_common_random_numbers():
    """The same seed gives the same leavers in the same weeks: a lever elsewhere that leaves
    the team's size alone does not reshuffle who leaves."""
    changes = {**SMALL, "link_workers.turnover_per_year": 0.5}
    a = run_model("medium", changes, seed=2, weeks=40)
    b = run_model("medium", {**changes, "link_workers.handover_setback": 0.3}, seed=2, weeks=40)
    assert np.array_equal(a.link_work.left, b.link_work.left)


# ----------------------------------------------------------------- paired, full runs
HIGH_TURNOVER = (("link_workers.turnover_per_year", 0.6), ("link_workers.handover_setback", 0.2))


@pytest.mark.slow
def test_higher_turnover_lowers_work_outcomes():
    """High turnover with a large hand-over cost against the defaults (0.15 a year, setback
    0.05), over the patterns' paired seeds."""
    mean, lo, hi = paired_interval(values("medium", "found_work_24m"),
                                   values("medium", "found_work_24m", HIGH_TURNOVER))
    assert hi < 0, report(f"medium with {dict(HIGH_TURNOVER)} - medium, found_work_24m",
                          mean, lo, hi)
