"""Jobs (phase ``jobs``): job entry, job loss, sustainment at 13, 26 and 52 weeks.

The job-entry hazard falls with distance from the labour market, rises with labour demand
and with work-focused support, and is lower without a work goal. The job-loss hazard rises
with distance and falls with in-work support (from IPS or an adviser in full; from a Link
Worker still supporting the client, in proportion to follow-up intensity). The funder pays
for first job starts and sustainment where its regime does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pathways_sim.model.clients import NO_WEEK, REJECTED, SUPPORTED
from pathways_sim.model.events import Ev
from pathways_sim.model.kernels import draw, emit
from pathways_sim.model.process import Process

#: Weeks in work at which a job counts as sustained (and may be paid for).
SUSTAIN_WEEKS = (13, 26, 52)


class Jobs(Process):
    """Job entry and loss. No state of its own beyond the client rows."""

    SECTIONS = ("jobs", "link_workers")
    STREAMS = ("job.entry", "job.loss")

    def step(self, t: int) -> None:
        """The weekly work is :func:`jobs_kernel`; the funder then pays for first job starts
        and sustainment where its regime does."""
        m, p = self.model, self.p
        s, log, ws = m.clients, m.log, m.work_support
        lo, n = m.follow_up.lo, s.n
        j = p.jobs
        rows, start = log.reserve(2 * (n - lo))
        end, paid, kind = jobs_kernel(
            t, lo, n, *self.keys("job.entry", "job.loss"), s.status, s.working_age, s.in_work,
            s.job_start, s.job_paid, s.dist, s.direct, s.goal, ws.effect, ws.in_work_support,
            j.base_per_week * j.labour_demand, j.distance_slope, j.no_goal_factor,
            j.loss_per_week, j.loss_distance_base, j.in_work_support, p.link_workers.follow_up,
            _SUSTAIN, rows, start)
        log.advance(end)
        for k, outcome in enumerate(_OUTCOMES):
            if len(paid):
                m.funder.pay(outcome, paid[kind == k], t)


_SUSTAIN = np.array(SUSTAIN_WEEKS, dtype=np.int64)
_OUTCOMES = ("job", *(f"sustain_{w}w" for w in SUSTAIN_WEEKS))
_EV_START, _EV_END = int(Ev.JOB_START), int(Ev.JOB_END)
_EV_DIRECT_END, _EV_SUSTAINED = int(Ev.DIRECT_END), int(Ev.SUSTAINED)


@njit(cache=True)
def jobs_kernel(t, lo, n, k_entry, k_loss, status, working_age, in_work, job_start, job_paid,
                dist, direct, goal, support_effect, in_work_support, entry_base, slope,
                no_goal_factor, loss_base, loss_distance_base, loss_support, follow_up,
                sustain, log, row):
    """The phase ``jobs`` for clients ``lo .. n-1`` in week ``t``.

    A client of working age out of work (not rejected) starts a job at the hazard
    ``entry_base x exp(-slope x distance) x (1 + work support's effect)``, lower without
    a work goal; work-focused support without in-work support then ends. A client in
    work at the start of the week loses the job at ``loss_base x (loss_distance_base +
    distance) x (1 - loss_support x in-work support)`` (in-work support is 1 from IPS or
    an adviser, ``follow_up`` from a Link Worker still supporting the client); a job
    kept reaches 13, 26 and 52 weeks (sustained).

    Returns the log's new row count, the clients to pay for and the outcome of each
    (0 a first job start, then the index in ``sustain`` + 1).
    """
    paid = np.empty(n - lo, dtype=np.int64)
    kind = np.empty(n - lo, dtype=np.int64)
    npaid = 0
    for i in range(lo, n):
        c = direct[i]
        if in_work[i]:
            support = 0.0
            if c >= 0 and in_work_support[c]:
                support = 1.0
            elif status[i] == SUPPORTED:
                support = follow_up
            h = loss_base * (loss_distance_base + dist[i]) * (1.0 - loss_support * support)
            started = job_start[i]
            if draw(k_loss, t, i) < h:
                row = emit(log, row, t, i, _EV_END, t - started if started > NO_WEEK else -1)
                in_work[i] = False
                job_start[i] = NO_WEEK
            elif started > NO_WEEK:
                for k in range(len(sustain)):
                    if t - started == sustain[k]:
                        row = emit(log, row, t, i, _EV_SUSTAINED, sustain[k])
                        paid[npaid] = i
                        kind[npaid] = k + 1
                        npaid += 1
        elif working_age[i] and status[i] != REJECTED:
            h = entry_base * np.exp(-slope * dist[i]) * (
                1.0 + (support_effect[c] if c >= 0 else 0.0))
            if not goal[i]:
                h *= no_goal_factor
            if draw(k_entry, t, i) < h:
                in_work[i] = True
                job_start[i] = t
                row = emit(log, row, t, i, _EV_START, dist[i])
                if not job_paid[i]:
                    job_paid[i] = True
                    paid[npaid] = i
                    kind[npaid] = 0
                    npaid += 1
                if c >= 0 and not in_work_support[c]:
                    row = emit(log, row, t, i, _EV_DIRECT_END, c)
                    direct[i] = -1
    return row, paid[:npaid], kind[:npaid]
