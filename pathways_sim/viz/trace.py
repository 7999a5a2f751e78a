"""What a run looked like, week by week: the series behind the live charts.

A :class:`Trace` is filled by calling :meth:`Trace.record` after each
``model.step()``. It keeps what the model shows about itself at that moment
(the board's lane counts from :meth:`PathwaysModel.stage_counts
<pathways_sim.model.model.PathwaysModel.stage_counts>`, the waiting list, Link
Worker places in use and posts) and the rows of the event log that the
outcome functions need. Cumulative outcomes (first job, volunteering and
training starts) come from :func:`pathways_sim.outcomes.cumulative_outcomes`
and results payments from the PAYMENT events of the log, so the charts show
the numbers :mod:`pathways_sim.outcomes` defines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathways_sim.model.clients import REJECTED, SUPPORTED, WAITING
from pathways_sim.model.events import Ev
from pathways_sim.outcomes import cumulative_outcomes
from pathways_sim.viz.style import LANES

#: Series of a trace, in chart order, with what each is.
SERIES = {
    **{f"lane_{lane}": f"clients in lane {lane!r} at the end of the week" for lane in LANES},
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
_KEEP = (int(Ev.JOB_START), int(Ev.ACTIVITY_START))


def lane_codes(model, idx: np.ndarray) -> np.ndarray:
    """Board lane (index into :data:`~pathways_sim.viz.style.LANES`) of clients ``idx``.

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
    """Weekly series of one run (see :data:`SERIES`).

    Args:
        weeks: Weeks the run will last (arrays are preallocated).
    """

    def __init__(self, weeks: int) -> None:
        self.weeks = int(weeks)
        self.n = 0  # weeks recorded
        self.data = {name: np.zeros(self.weeks, dtype=np.float64) for name in SERIES
                     if name not in OUTCOMES}
        self._rows: list[tuple[np.ndarray, ...]] = []
        self._log_pos = 0
        self._payments = 0.0
        self._outcomes: pd.DataFrame | None = None

    def record(self, model) -> None:
        """Record the week the model has just simulated (call after each step)."""
        if self.n >= self.weeks:
            return
        w = self.n
        idx = clients_in_view(model)
        counts = np.bincount(lane_codes(model, idx), minlength=len(LANES))
        for lane, c in zip(LANES, counts, strict=True):
            self.data[f"lane_{lane}"][w] = c
        s = model.clients
        waiting = idx[s.status[idx] == WAITING]
        self.data["waiting_list"][w] = len(waiting)
        self.data["median_wait"][w] = (float(np.median(model.week - s.wait_since[waiting]))
                                       if len(waiting) else 0.0)
        places = sum(lw.caseload for lw in model.link_workers if lw.active)
        supported = int(np.count_nonzero(s.status[idx] == SUPPORTED))
        self.data["utilisation"][w] = supported / places if places else 0.0
        self.data["posts"][w] = model.active_link_workers
        week, client, event, value = model.log.since(self._log_pos)
        self._log_pos += len(week)
        self._payments += float(value[event == int(Ev.PAYMENT)].sum(dtype=np.float64))
        self.data["payments"][w] = self._payments
        keep = np.isin(event, _KEEP)
        if keep.any():
            self._rows.append((week[keep].copy(), client[keep].copy(), event[keep].copy(),
                               value[keep].copy()))
        self._outcomes = None
        self.n += 1

    def outcome_log(self) -> pd.DataFrame:
        """The job-start and activity-start rows of the event log so far."""
        cols = list(zip(*self._rows, strict=True)) if self._rows else [[], [], [], []]
        types = (np.int16, np.int32, np.int8, np.float32)
        return pd.DataFrame({
            name: (np.concatenate(c) if len(c) else np.empty(0, dtype=t))
            for name, c, t in zip(("week", "client", "event", "value"), cols, types, strict=True)
        })

    def outcomes(self) -> pd.DataFrame:
        """Cumulative first job, volunteering and training starts by week (recorded weeks)."""
        if self._outcomes is None:
            self._outcomes = cumulative_outcomes(self.outcome_log(), max(self.n, 1)).iloc[: self.n]
        return self._outcomes

    def series(self, name: str) -> np.ndarray:
        """One series over the weeks recorded so far."""
        if name in OUTCOMES:
            return self.outcomes()[name].to_numpy(dtype=np.float64)
        return self.data[name][: self.n]

    def frame(self) -> pd.DataFrame:
        """Every series as a DataFrame indexed by week (weeks recorded so far)."""
        out = pd.DataFrame({name: self.series(name) for name in SERIES},
                           index=pd.RangeIndex(self.n, name="week"))
        return out
