"""Exits and re-referral (phase ``exits``).

Work-focused support ends when its time is up; Link Worker support ends at
``link_workers.max_support_weeks`` or when the plan is complete (close enough to work,
nothing in progress, at least four weeks); supported clients may disengage (less with
more contact and co-location, more when work-focused support feels mandatory); clients
out of everything may be re-referred, sometimes through an employment programme.
"""

from __future__ import annotations

import numpy as np

from pathways_sim.model.clients import OUT, SUPPORTED, WAITING
from pathways_sim.model.events import Ev
from pathways_sim.model.process import Process


class Exits(Process):
    """Discharge, disengagement and re-referral. No state of its own beyond the client rows."""

    SECTIONS = ("link_workers", "service", "disengagement")
    STREAMS = ("disengage", "rereferral", "rereferral.route")

    def step(self, t: int) -> None:
        m, p = self.model, self.p
        s, log, W, ws = m.clients, m.log, m.window, m.work_support
        ws.end_spells(t)
        sup = m.followed(s.status[W] == SUPPORTED)
        if len(sup):
            weeks = t - s.support_start[sup]
            done = (weeks >= p.link_workers.max_support_weeks) | (
                (s.dist[sup] < p.service.discharge_distance) & (s.act[sup] < 0)
                & (s.queue[sup] < 0) & (weeks >= p.service.min_weeks_before_discharge))
            out = sup[done]
            s.status[out] = OUT
            log.add(Ev.DISCHARGED, t, out, weeks[done])
            sup = sup[~done]
            d = p.disengagement
            h = (d.base_per_week * np.exp(-d.contact_protection * m.link_work.session_rate(sup))
                 * (1.0 + d.mandatory_factor * ws.mandatory[s.direct[sup]])
                 * m.link_work.colocation_factor(-1.0))
            gone = sup[self.draw("disengage", t, sup) < h]
            s.status[gone] = OUT
            queued = gone[s.queue[gone] >= 0]
            log.add(Ev.ACTIVITY_DROPOUT, t, queued, -1)
            s.queue[queued] = -1
            log.add(Ev.DISENGAGED, t, gone, 1)
        cand = m.followed((s.status[W] == OUT) & ~s.in_work[W] & (s.direct[W] < 0)
                          & (s.act[W] < 0) & (s.queue[W] < 0))
        if len(cand):
            d = p.disengagement
            back = cand[self.draw("rereferral", t, cand) < d.rereferral_per_week]
            if len(back):
                via_emp = self.draw("rereferral.route", t, back) < d.rereferral_via_employment
                via_emp &= s.working_age[back]
                log.add(Ev.RE_REFERRED, t, back, via_emp.astype(np.float32))
                rest = back[~via_emp]
                s.status[rest] = WAITING
                s.wait_since[rest] = t
                emp = back[via_emp]
                ws.start(t, emp, np.ones(len(emp), dtype=bool))
