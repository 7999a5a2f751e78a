"""Exits and re-referral (phase ``exits``).

Work-focused support ends when its time is up (each provider's clients are recounted);
Link Worker support ends at ``link_workers.max_support_weeks`` or when the plan is
complete (close enough to work, nothing in progress, at least four weeks); supported
clients may disengage (less with more contact and co-location, more when work-focused
support feels mandatory, and for every client under a JCP partnership); clients out of
everything may be re-referred, sometimes through an employment programme.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pathways_sim.model.clients import OUT, SUPPORTED, WAITING
from pathways_sim.model.events import Ev
from pathways_sim.model.kernels import draw, emit
from pathways_sim.model.link_worker import _WEEKS_PER_MONTH, session_rate
from pathways_sim.model.process import Process


class Exits(Process):
    """Discharge, disengagement and re-referral. No state of its own beyond the client rows."""

    SECTIONS = ("link_workers", "service", "disengagement", "jcp")
    STREAMS = ("disengage", "rereferral", "rereferral.route")

    def mistrust_factor(self) -> float:
        """Relative disengagement of every supported client under a JCP partnership, where
        work can come to feel mandatory (``jcp.mandatory_disengagement``; the rise while
        with a work coach, ``disengagement.mandatory_factor``, comes on top)."""
        j = self.p.jcp
        return 1.0 + j.mandatory_disengagement if j.partnership else 1.0

    def step(self, t: int) -> None:
        """The weekly work is :func:`exits_kernel`; clients re-referred through an
        employment programme then start work-focused support."""
        m, p = self.model, self.p
        s, log, ws = m.clients, m.log, m.work_support
        lo, n = m.follow_up.lo, s.n
        lwp, d, svc = p.link_workers, p.disengagement, p.service
        rows, start = log.reserve(4 * (n - lo))
        end, emp, ws.counts = exits_kernel(
            t, lo, n, *self.keys("disengage", "rereferral", "rereferral.route"), s.status,
            s.support_start, s.wait_since, s.dist, s.act, s.queue, s.in_work, s.direct,
            s.direct_end, s.working_age, ws.mandatory, len(ws.counts), lwp.max_support_weeks,
            svc.discharge_distance, svc.min_weeks_before_discharge,
            lwp.sessions_per_month / _WEEKS_PER_MONTH, m.funder.parking_now(lo, n),
            d.base_per_week * m.link_work.colocation_factor(-1.0) * self.mistrust_factor(),
            d.contact_protection,
            d.mandatory_factor, d.rereferral_per_week, d.rereferral_via_employment,
            rows, start)
        log.advance(end)
        if len(emp):
            ws.start(t, emp, np.ones(len(emp), dtype=bool))


_EV_DISCHARGED, _EV_DISENGAGED = int(Ev.DISCHARGED), int(Ev.DISENGAGED)
_EV_DROPOUT, _EV_REREFERRED = int(Ev.ACTIVITY_DROPOUT), int(Ev.RE_REFERRED)
_EV_DIRECT_END = int(Ev.DIRECT_END)


@njit(cache=True)
def exits_kernel(t, lo, n, k_disengage, k_rereferral, k_route, status, support_start,
                 wait_since, dist, act, queue, in_work, direct, direct_end, working_age,
                 mandatory, providers, max_weeks, discharge_distance, min_weeks, rate, park,
                 disengage_base, contact_protection, mandatory_factor, rereferral,
                 via_employment, log, row):
    """The phase ``exits`` for clients ``lo .. n-1`` in week ``t``.

    First, work-focused support whose time is up ends (every such client, before the
    rest), and each provider's clients are counted. Then, client by client:
    A supported client is discharged after ``max_weeks``, or when the plan is complete
    (closer than ``discharge_distance``, no activity or waiting list, at least
    ``min_weeks``); otherwise may disengage at ``disengage_base x exp(-contact_protection
    x session rate)`` (``rate`` less the client's parking ``park[i - lo]``), higher under
    mandatory work support (leaving any waiting list).
    A client out of everything may be re-referred: back to the waiting list, or (of
    working age, with probability ``via_employment``) through an employment programme.

    Returns the log's new row count, the clients re-referred through an employment
    programme (the caller starts their work-focused support) and the clients each
    work-support provider (by code) supports after the spells that ended.
    """
    counts = np.zeros(providers, dtype=np.int64)
    for i in range(lo, n):
        c = direct[i]
        if c >= 0:
            if direct_end[i] <= t:
                row = emit(log, row, t, i, _EV_DIRECT_END, c)
                direct[i] = -1
            else:
                counts[c] += 1
    emp = np.empty(n - lo, dtype=np.int64)
    nemp = 0
    for i in range(lo, n):
        if status[i] == SUPPORTED:
            weeks = t - support_start[i]
            if weeks >= max_weeks or (dist[i] < discharge_distance and act[i] < 0
                                      and queue[i] < 0 and weeks >= min_weeks):
                status[i] = OUT
                row = emit(log, row, t, i, _EV_DISCHARGED, weeks)
            else:
                c = direct[i]
                h = (disengage_base * np.exp(-contact_protection * session_rate(
                    rate, park[i - lo]))
                    * (1.0 + (mandatory_factor if c >= 0 and mandatory[c] else 0.0)))
                if draw(k_disengage, t, i) < h:
                    status[i] = OUT
                    if queue[i] >= 0:
                        row = emit(log, row, t, i, _EV_DROPOUT, -1)
                        queue[i] = -1
                    row = emit(log, row, t, i, _EV_DISENGAGED, 1)
        if (status[i] == OUT and not in_work[i] and direct[i] < 0 and act[i] < 0
                and queue[i] < 0 and draw(k_rereferral, t, i) < rereferral):
            via = working_age[i] and draw(k_route, t, i) < via_employment
            row = emit(log, row, t, i, _EV_REREFERRED, 1.0 if via else 0.0)
            if via:
                emp[nemp] = i
                nemp += 1
            else:
                status[i] = WAITING
                wait_since[i] = t
    return row, emp[:nemp], counts
