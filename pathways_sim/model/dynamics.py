"""Barriers, wellbeing and work interest (phase ``dynamics``).

Unsupported gains fade (relapse towards the barriers at referral); while engaged, interest in
work follows the confidence and connection a client has regained (up to the point of a work
goal), and support and confidence raise it further, more with a work-aware Link Worker and more
again in volunteering or training (the upward spiral); a work goal is stated once the
aspiration barrier falls below ``dynamics.goal_threshold`` and lapses when it rises well
above it; distance from the labour market is recomputed; distance travelled is recorded
(and paid for under the stepping-stones regime).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pathways_sim.model.clients import REJECTED, SUPPORTED, D
from pathways_sim.model.events import Ev
from pathways_sim.model.kernels import emit
from pathways_sim.model.process import Process

_ASP, _MENTAL, _ISO = D["aspiration"], D["mental"], D["isolation"]


class Dynamics(Process):
    """Barrier relapse, work interest and goals, distance. No state of its own; no draws."""

    SECTIONS = ("dynamics",)

    def step(self, t: int) -> None:
        """The weekly work is :func:`dynamics_kernel`; the funder then pays for distance
        travelled where its regime does."""
        m, p = self.model, self.p
        s, log = m.clients, m.log
        lo, n = m.follow_up.lo, s.n
        d = p.dynamics
        rows, start = log.reserve(2 * (n - lo))
        end, moved = dynamics_kernel(
            t, lo, n, s.status, s.act, s.lw, s.working_age, s.in_work, s.goal, s.travelled,
            s.B, s.B0, s.dist, s.dist0, m.link_work.awareness(), m.referral.distance_weights,
            m.provision.stepping, d.relapse_rate, d.activity_awareness,
            d.stepping_stone_awareness, d.goal_growth, d.awareness_base, d.confidence_spillover,
            d.goal_threshold, d.goal_threshold + d.goal_lapse_margin, d.travelled_distance,
            rows, start)
        log.advance(end)
        if len(moved):
            m.funder.pay("distance", moved, t)


_EV_GOAL, _EV_LAPSED, _EV_TRAVELLED = int(Ev.WORK_GOAL), int(Ev.GOAL_LAPSED), int(
    Ev.DISTANCE_TRAVELLED)


@njit(cache=True)
def dynamics_kernel(t, lo, n, status, act, lw, working_age, in_work, goal, travelled, B, B0,
                    dist, dist0, awareness, weights, stepping, relapse, activity_awareness,
                    stepping_awareness, growth, awareness_base, spillover, threshold, lapse_at,
                    travelled_distance, log, row):
    """The phase ``dynamics`` for clients ``lo .. n-1`` in week ``t``.

    For each client not rejected: with no support and no activity, each barrier relapses
    by ``relapse`` of its gain since referral; supported or in an activity (of working
    age, out of work), the aspiration barrier falls with confidence (1 - the mental-health
    barrier) and the work awareness of the supporting Link Worker (or
    ``activity_awareness`` in an activity alone), plus ``stepping_awareness`` in a
    stepping stone (volunteering or training); it also falls by ``spillover`` times the
    client's gain since referral in the mental-health and isolation barriers, but not by
    that below ``lapse_at`` (regained confidence and connection open interest in work; a
    goal still needs the first term): the upward spiral, which builds up as the gains do.
    A work goal is stated
    when aspiration falls below ``threshold`` (working age, out of work) and lapses above
    ``lapse_at``. Distance is the weighted barrier index; a first fall of
    ``travelled_distance`` since referral is logged.

    Returns the log's new row count and the clients whose distance travelled was logged.
    """
    moved = np.empty(n - lo, dtype=np.int64)
    nmoved = 0
    nd = B.shape[1]
    for i in range(lo, n):
        st = status[i]
        if st == REJECTED:
            continue
        engaged = st == SUPPORTED or act[i] >= 0
        if not engaged:
            for d in range(nd):
                gap = B0[i, d] - B[i, d]
                if gap > 0:
                    B[i, d] += gap * relapse
        elif working_age[i] and not in_work[i]:
            aware = awareness[lw[i]] if st == SUPPORTED else activity_awareness
            if act[i] >= 0 and stepping[act[i]]:
                aware += stepping_awareness
            fall = growth * (1.0 - B[i, _MENTAL]) * (awareness_base + aware)
            if B[i, _ASP] > lapse_at:
                gained = (max(B0[i, _MENTAL] - B[i, _MENTAL], 0.0)
                          + max(B0[i, _ISO] - B[i, _ISO], 0.0))
                fall += min(spillover * gained, B[i, _ASP] - lapse_at)
            B[i, _ASP] = max(0.01, B[i, _ASP] - fall)
        asp = B[i, _ASP]
        if not goal[i]:
            if working_age[i] and not in_work[i] and asp < threshold:
                goal[i] = True
                row = emit(log, row, t, i, _EV_GOAL, asp)
        elif asp > lapse_at:
            goal[i] = False
            row = emit(log, row, t, i, _EV_LAPSED, asp)
        x = 0.0
        for d in range(nd):
            x += B[i, d] * weights[d]
        dist[i] = x
        if not travelled[i] and dist0[i] - dist[i] >= travelled_distance:
            travelled[i] = True
            row = emit(log, row, t, i, _EV_TRAVELLED, dist0[i] - dist[i])
            moved[nmoved] = i
            nmoved += 1
    return row, moved[:nmoved]
