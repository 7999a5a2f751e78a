"""What a run looked like, week by week: the series behind the live charts.

A :class:`Trace` is filled by calling :meth:`Trace.record` after each
``model.step()``. It keeps what the model shows about itself at that moment
(the board's lane counts from :meth:`PathwaysModel.stage_codes
<pathways_sim.model.model.PathwaysModel.stage_codes>`, the Link Worker posts
and places funded) and the rows of the event log that the outcome functions
need. Every outcome it charts is computed by :mod:`pathways_sim.outcomes` from
those rows: cumulative first job, volunteering and training starts
(:func:`~pathways_sim.outcomes.cumulative_outcomes`), the waiting list and
weeks waited so far (:func:`~pathways_sim.outcomes.waiting_list`), the share
of funded places in use (:func:`~pathways_sim.outcomes.link_worker_utilisation`)
and results payments so far (:func:`~pathways_sim.outcomes.cumulative_payments`).
The workshop computes none itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathways_sim.model.clients import REJECTED
from pathways_sim.model.events import Ev
from pathways_sim.outcomes import (
    cumulative_outcomes,
    cumulative_payments,
    link_worker_utilisation,
    waiting_list,
)
from pathways_sim.stages import LANE_NAMES

#: Series of a trace, in chart order, with what each is.
SERIES = {
    **{f"lane_{lane}": f"clients in lane {lane!r} at the end of the week" for lane in LANE_NAMES},
    "waiting_list": "clients waiting for a Link Worker",
    "median_wait": "median weeks waited so far by clients on the waiting list",
    "utilisation": "clients supported / places of funded Link Workers (can pass 1 when "
                   "posts are cut and leavers keep their clients)",
    "posts": "Link Worker posts taking clients",
    "payments": "results payments so far (GBP, cumulative)",
    "first_job_start": "clients with a first job start so far",
    "first_volunteering": "clients who started volunteering so far",
    "first_training": "clients who started training so far",
}
OUTCOMES = ("first_job_start", "first_volunteering", "first_training")
#: Series computed by the outcome functions from the kept log rows (not recorded).
FROM_LOG = (*OUTCOMES, "waiting_list", "median_wait", "utilisation", "payments")
#: Events the outcome functions of :data:`FROM_LOG` read: job and activity starts,
#: payments, and those that open and close the waiting and with-a-Link-Worker spells.
_KEEP = tuple(int(e) for e in (
    Ev.JOB_START, Ev.ACTIVITY_START, Ev.PAYMENT, Ev.REFERRED, Ev.REJECTED, Ev.RE_REFERRED,
    Ev.ASSIGNED, Ev.DECLINED, Ev.DISENGAGED, Ev.DISCHARGED))


def lane_codes(model, idx: np.ndarray) -> np.ndarray:
    """Board lane (index into :data:`pathways_sim.stages.LANES`) of clients ``idx``.

    The model's stages shifted by one, with clients referred in the week just
    simulated and still waiting in the first lane, "referred".
    """
    codes = model.stage_codes(idx).astype(np.int8) + 1
    new = (codes == 1) & (model.clients.ref_week[idx] == model.week - 1)
    codes[new] = 0
    return codes


def clients_in_view(model) -> np.ndarray:
    """Indices of clients still followed by the model, rejected referrals left out."""
    w = model.window
    return np.flatnonzero(model.clients.status[w] != REJECTED) + w.start


class Trace:
    """Weekly series of one run (see :data:`SERIES`), recorded from week 0.

    Args:
        weeks: Weeks the run will last (arrays are preallocated).
    """

    def __init__(self, weeks: int) -> None:
        self.weeks = int(weeks)
        self.n = 0  # weeks recorded
        self.data = {name: np.zeros(self.weeks, dtype=np.float64) for name in SERIES
                     if name not in FROM_LOG}
        self._places = np.zeros(self.weeks, dtype=np.float64)
        self._follow_up_weeks = 0
        self._rows: list[tuple[np.ndarray, ...]] = []
        self._log_pos = 0
        self._from_log: dict[str, np.ndarray] | None = None

    def record(self, model) -> None:
        """Record the week the model has just simulated (call after each step)."""
        if self.n >= self.weeks:
            return
        w = self.n
        self._follow_up_weeks = int(model.p.run.follow_up_weeks)
        idx = clients_in_view(model)
        counts = np.bincount(lane_codes(model, idx), minlength=len(LANE_NAMES))
        for lane, c in zip(LANE_NAMES, counts, strict=True):
            self.data[f"lane_{lane}"][w] = c
        self._places[w] = sum(lw.caseload for lw in model.link_workers if lw.active)
        self.data["posts"][w] = model.active_link_workers
        week, client, event, value = model.log.since(self._log_pos)
        self._log_pos += len(week)
        keep = np.isin(event, _KEEP)
        if keep.any():
            self._rows.append((week[keep].copy(), client[keep].copy(), event[keep].copy(),
                               value[keep].copy()))
        self._from_log = None
        self.n += 1

    def outcome_log(self) -> pd.DataFrame:
        """The rows of the event log so far that the outcome functions read (:data:`_KEEP`)."""
        cols = list(zip(*self._rows, strict=True)) if self._rows else [[], [], [], []]
        types = (np.int16, np.int32, np.int8, np.float32)
        return pd.DataFrame({
            name: (np.concatenate(c) if len(c) else np.empty(0, dtype=t))
            for name, c, t in zip(("week", "client", "event", "value"), cols, types, strict=True)
        })

    def from_log(self) -> dict[str, np.ndarray]:
        """The series of :data:`FROM_LOG` (weeks recorded), from the outcome functions."""
        if self._from_log is None:
            n, log, fu = self.n, self.outcome_log(), self._follow_up_weeks
            if n == 0:
                self._from_log = {name: np.empty(0) for name in FROM_LOG}
            else:
                cum = cumulative_outcomes(log, n)
                waits = waiting_list(log, n, fu)
                self._from_log = {
                    **{name: cum[name].to_numpy(dtype=np.float64) for name in OUTCOMES},
                    "waiting_list": waits["waiting"].to_numpy(dtype=np.float64),
                    "median_wait": waits["median_wait"].to_numpy(dtype=np.float64),
                    "utilisation": link_worker_utilisation(log, self._places[:n], fu)
                    .to_numpy(dtype=np.float64),
                    "payments": cumulative_payments(log, n).to_numpy(dtype=np.float64),
                }
        return self._from_log

    def outcomes(self) -> pd.DataFrame:
        """Cumulative first job, volunteering and training starts by week (recorded weeks)."""
        data = self.from_log()
        return pd.DataFrame({name: data[name] for name in OUTCOMES},
                            index=pd.RangeIndex(self.n, name="week"))

    def series(self, name: str) -> np.ndarray:
        """One series over the weeks recorded so far."""
        if name in FROM_LOG:
            return self.from_log()[name]
        return self.data[name][: self.n]

    def frame(self) -> pd.DataFrame:
        """Every series as a DataFrame indexed by week (weeks recorded so far)."""
        out = pd.DataFrame({name: self.series(name) for name in SERIES},
                           index=pd.RangeIndex(self.n, name="week"))
        return out
