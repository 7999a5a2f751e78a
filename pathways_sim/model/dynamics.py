"""Barriers, wellbeing and work interest (phase ``dynamics``).

Unsupported gains fade (relapse towards the barriers at referral); support and confidence
raise interest in work, more with a work-aware Link Worker; a work goal is stated once the
aspiration barrier falls below ``dynamics.goal_threshold`` and lapses when it rises well
above it; distance from the labour market is recomputed; distance travelled is recorded
(and paid for under the stepping-stones regime).
"""

from __future__ import annotations

import numpy as np

from pathways_sim.model.clients import DISTANCE_WEIGHTS, REJECTED, SUPPORTED, D
from pathways_sim.model.events import Ev
from pathways_sim.model.process import Process

_ASP, _MENTAL = D["aspiration"], D["mental"]


class Dynamics(Process):
    """Barrier relapse, work interest and goals, distance. No state of its own; no draws."""

    SECTIONS = ("dynamics",)

    def step(self, t: int) -> None:
        m, p = self.model, self.p
        s, log, W = m.clients, m.log, m.window
        status = s.status[W]
        engaged = (status == SUPPORTED) | (s.act[W] >= 0)
        # Relapse of idle clients, on window views (cheaper than gathering the idle rows).
        idle = ~engaged & (status != REJECTED)
        Bw = s.B[W]
        gap = s.B0[W] - Bw
        np.maximum(gap, 0.0, out=gap)
        gap *= (p.dynamics.relapse_rate * idle).astype(np.float32)[:, None]
        Bw += gap
        grow = m.followed(engaged & s.working_age[W] & ~s.in_work[W])
        if len(grow):
            # A supporting Link Worker's work awareness; dynamics.activity_awareness for
            # clients in an activity alone.
            aware = np.full(len(grow), p.dynamics.activity_awareness, dtype=np.float32)
            sup = s.status[grow] == SUPPORTED
            aware[sup] = m.link_work.awareness()[s.lw[grow[sup]]]
            fall = (p.dynamics.goal_growth * (1.0 - s.B[grow, _MENTAL])
                    * (p.dynamics.awareness_base + aware))
            s.B[grow, _ASP] = np.maximum(0.01, s.B[grow, _ASP] - fall)
        asp = s.B[W, _ASP]
        thr = p.dynamics.goal_threshold
        new_goal = m.followed(~s.goal[W] & s.working_age[W] & ~s.in_work[W]
                              & (status != REJECTED) & (asp < thr))
        s.goal[new_goal] = True
        log.add(Ev.WORK_GOAL, t, new_goal, s.B[new_goal, _ASP])
        lapsed = m.followed(s.goal[W] & (asp > thr + p.dynamics.goal_lapse_margin))
        s.goal[lapsed] = False
        log.add(Ev.GOAL_LAPSED, t, lapsed, s.B[lapsed, _ASP])
        dist = s.B[W] @ DISTANCE_WEIGHTS
        s.dist[W] = dist
        moved = m.followed(~s.travelled[W] & (s.dist0[W] - dist >= p.dynamics.travelled_distance)
                           & (status != REJECTED))
        s.travelled[moved] = True
        log.add(Ev.DISTANCE_TRAVELLED, t, moved, s.dist0[moved] - s.dist[moved])
        m.funder.pay("distance", moved, t)
