"""Jobs (phase ``jobs``): job entry, job loss, sustainment at 13, 26 and 52 weeks.

The job-entry hazard falls with distance from the labour market, rises with labour demand
and with work-focused support, and is lower without a work goal. The job-loss hazard rises
with distance and falls with in-work support (from IPS or an adviser in full; from a Link
Worker still supporting the client, in proportion to follow-up intensity). The funder pays
for first job starts and sustainment where its regime does.
"""

from __future__ import annotations

import numpy as np

from pathways_sim.model.clients import NO_WEEK, REJECTED, SUPPORTED
from pathways_sim.model.events import Ev
from pathways_sim.model.process import Process

#: Weeks in work at which a job counts as sustained (and may be paid for).
SUSTAIN_WEEKS = (13, 26, 52)


class Jobs(Process):
    """Job entry and loss. No state of its own beyond the client rows."""

    SECTIONS = ("jobs", "link_workers")
    STREAMS = ("job.entry", "job.loss")

    def step(self, t: int) -> None:
        m, p = self.model, self.p
        s, log, W, ws, funder = m.clients, m.log, m.window, m.work_support, m.funder
        status = s.status[W]
        in_work = s.in_work[W]
        seek = m.followed(s.working_age[W] & ~in_work & (status != REJECTED))
        working = m.followed(in_work)
        if len(seek):
            j = p.jobs
            h = (j.base_per_week * j.labour_demand * np.exp(-j.distance_slope * s.dist[seek])
                 * (1.0 + ws.effect[s.direct[seek]])
                 * np.where(s.goal[seek], 1.0, j.no_goal_factor))
            start = seek[self.draw("job.entry", t, seek) < h]
            s.in_work[start] = True
            s.job_start[start] = t
            log.add(Ev.JOB_START, t, start, s.dist[start])
            first = start[~s.job_paid[start]]
            s.job_paid[first] = True
            funder.pay("job", first, t)
            leave = start[(s.direct[start] >= 0) & ~ws.in_work_support[s.direct[start]]]
            log.add(Ev.DIRECT_END, t, leave, s.direct[leave])
            s.direct[leave] = -1
        if len(working):
            j = p.jobs
            # In-work support: from IPS or an adviser in full; from a Link Worker
            # still supporting the client, in proportion to follow-up intensity.
            support = np.where(ws.in_work_support[s.direct[working]], 1.0,
                               np.where(s.status[working] == SUPPORTED,
                                        p.link_workers.follow_up, 0.0))
            h = (j.loss_per_week * (j.loss_distance_base + s.dist[working])
                 * (1.0 - j.in_work_support * support))
            lost = working[self.draw("job.loss", t, working) < h]
            started = s.job_start[lost]
            log.add(Ev.JOB_END, t, lost, np.where(started > NO_WEEK, t - started, -1))
            s.in_work[lost] = False
            s.job_start[lost] = NO_WEEK
            still = working[s.in_work[working] & (s.job_start[working] > NO_WEEK)]
            dur = t - s.job_start[still]
            for weeks in SUSTAIN_WEEKS:
                hit = still[dur == weeks]
                log.add(Ev.SUSTAINED, t, hit, weeks)
                funder.pay(f"sustain_{weeks}w", hit, t)
