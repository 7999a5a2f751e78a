"""Follow-up and readings: which clients are still followed, and when they are measured.

Clients are followed for ``run.follow_up_weeks`` after referral. The process
:class:`FollowUp` owns the start of the window of followed clients (they are contiguous:
clients are indexed in order of referral) and runs two phases:

* ``advance_window``: clients whose follow-up has ended get their last reading and a
  ``FOLLOW_UP_END`` event, then leave the window (no later phase looks at them);
* ``readings``: distance, wellbeing and the barrier in each domain are read every
  :data:`READING_EVERY` weeks after referral (Wellbeing Star practice), as at referral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pathways_sim.model.clients import REJECTED, wellbeing
from pathways_sim.model.events import Ev
from pathways_sim.model.process import Process

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

#: Weeks between readings after referral (the Wellbeing Star is reviewed every six months).
READING_EVERY = 26


class FollowUp(Process):
    """The window of followed clients and their readings.

    State: ``lo``, the first client still followed (the window is ``lo .. clients.n``).
    """

    SECTIONS = ("run",)

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        self.lo = 0

    def advance_window(self, t: int) -> None:
        """Stop following clients whose follow-up has ended (24-month reading, then the end)."""
        m = self.model
        s, log = m.clients, m.log
        new_lo = int(np.searchsorted(s.ref_week[: s.n], t - self.p.run.follow_up_weeks,
                                     side="right"))
        if new_lo > self.lo:
            leaving = np.arange(self.lo, new_lo, dtype=np.int32)
            leaving = leaving[s.status[leaving] != REJECTED]
            # The 24-month reading, then the end of follow-up (closes every open state).
            log.add(Ev.READING, t, leaving, s.dist[leaving])
            log.add(Ev.WELLBEING, t, leaving, wellbeing(s.B[leaving]))
            log.add_barriers(t, leaving, s.B[leaving])
            log.add(Ev.FOLLOW_UP_END, t, leaving)
        self.lo = max(self.lo, new_lo)

    def readings(self, t: int) -> None:
        """Distance, wellbeing and barriers read every 26 weeks after referral (Wellbeing Star)."""
        m = self.model
        s = m.clients
        ref = s.ref_week[self.lo : s.n]
        due = []
        for k in range(1, (self.p.run.follow_up_weeks - 1) // READING_EVERY + 1):
            week = t - k * READING_EVERY  # clients referred then are read now: a contiguous run
            lo, hi = np.searchsorted(ref, week, "left"), np.searchsorted(ref, week, "right")
            due.append(np.arange(lo, hi) + self.lo)
        due = np.concatenate(due) if due else np.empty(0, dtype=np.int64)
        due = due[s.status[due] != REJECTED]
        if len(due):
            m.log.add(Ev.READING, t, due, s.dist[due])
            m.log.add(Ev.WELLBEING, t, due, wellbeing(s.B[due]))
            m.log.add_barriers(t, due, s.B[due])
