"""The client event log: one row per client event, the single source of every metric.

Rows are (week, client, event, value). ``value`` carries the event's detail
(the referral source, the activity type, the payment in GBP...): see
:data:`EVENT_VALUE`. The log is held in growable numpy columns while the
model runs and handed to :mod:`pathways_sim.outcomes` as a DataFrame.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

from pathways_sim.model.clients import DOMAINS


class Ev(IntEnum):
    """Event codes of the client event log."""

    REFERRED = 0
    REJECTED = 1
    ASSIGNED = 2
    SESSION = 3
    ACTIVITY_REFERRAL = 4
    ACTIVITY_START = 5
    ACTIVITY_END = 6
    ACTIVITY_DROPOUT = 7
    WORK_GOAL = 8
    GOAL_DISCOURAGED = 9
    DISTANCE_TRAVELLED = 10
    DIRECT_START = 11
    DIRECT_END = 12
    JOB_START = 13
    JOB_END = 14
    SUSTAINED = 15
    DISCHARGED = 16
    DISENGAGED = 17
    RE_REFERRED = 18
    PAYMENT = 19
    ACCOMPANIED = 20
    READING = 21
    WELLBEING = 22
    EMPLOYED_AT_REFERRAL = 23
    GOAL_LAPSED = 24
    FOLLOW_UP_END = 25
    BARRIER_PHYSICAL = 26
    BARRIER_MENTAL = 27
    BARRIER_ISOLATION = 28
    BARRIER_SKILLS = 29
    BARRIER_MONEY_HOUSING = 30
    BARRIER_SUBSTANCE = 31
    BARRIER_WORK_EXPERIENCE = 32
    BARRIER_ASPIRATION = 33
    DECLINED = 34
    HANDED_OVER = 35


#: The per-domain barrier reading events, in the order of :data:`clients.DOMAINS`.
BARRIER_EVENTS: tuple[Ev, ...] = tuple(Ev[f"BARRIER_{d.upper()}"] for d in DOMAINS)
_BARRIER_CODES = np.array(BARRIER_EVENTS, dtype=np.int8)


EVENT_VALUE = {
    Ev.REFERRED: "referral source code (see SOURCE_CODES)",
    Ev.REJECTED: "0",
    Ev.ASSIGNED: "Link Worker index",
    Ev.SESSION: "Link Worker index",
    Ev.ACTIVITY_REFERRAL: "activity code",
    Ev.ACTIVITY_START: "activity code",
    Ev.ACTIVITY_END: "activity code",
    Ev.ACTIVITY_DROPOUT: "activity code (-1: left the activity's waiting list)",
    Ev.WORK_GOAL: "aspiration barrier when stated",
    Ev.GOAL_DISCOURAGED: "Link Worker index",
    Ev.DISTANCE_TRAVELLED: "distance fallen since referral",
    Ev.DIRECT_START: "work-support code (0 JCP work coach, 1 employment adviser, 2 IPS)",
    Ev.DIRECT_END: "work-support code",
    Ev.JOB_START: "distance from work at job start",
    Ev.JOB_END: "weeks the job lasted",
    Ev.SUSTAINED: "weeks in work reached (13, 26, 52)",
    Ev.DISCHARGED: "weeks supported",
    Ev.DISENGAGED: "0 while waiting, 1 while supported",
    Ev.RE_REFERRED: "0 back to the waiting list, 1 through an employment programme",
    Ev.PAYMENT: ("payment in GBP (for the outcome event of the same client and week; "
                 "the funder's ledger totals by period)"),
    Ev.ACCOMPANIED: "activity code",
    Ev.READING: ("distance from the labour market (0-1), read at referral and every 26 weeks "
                 "(with WELLBEING and one BARRIER_* event per domain)"),
    Ev.WELLBEING: "wellbeing score (WEMWBS-like 14-70), read with READING",
    Ev.EMPLOYED_AT_REFERRAL: "0 (in work but at risk when referred)",
    Ev.GOAL_LAPSED: "aspiration barrier when the goal lapsed (interest in work faded)",
    Ev.DECLINED: "Link Worker index (the client declined at first contact)",
    Ev.HANDED_OVER: ("index of the new Link Worker (the client's Link Worker left and the "
                     "post's new hire took the client over)"),
    Ev.FOLLOW_UP_END: ("0 (follow-up ended: every open state closes; the 24-month READING "
                       "is logged the same week)"),
    **{ev: (f"{d.replace('_', ' ')} barrier (0 none - 1 severe), read with READING at "
            "referral (accepted referrals only), every 26 weeks and at follow-up end")
       for ev, d in zip(BARRIER_EVENTS, DOMAINS, strict=True)},
}

ACTIVITY_CODES = {
    "health_wellbeing": 0, "social_group": 1, "volunteering": 2, "training": 3,
    "employment_advice": 4,
}
DIRECT_CODES = {"jcp": 0, "employment_adviser": 1, "ips": 2}
SOURCE_CODES = {"gp": 0, "hospital": 1, "mental_health": 2, "social_care": 3, "self": 4, "jcp": 5}


class EventLog:
    """Growable columnar buffer of client events."""

    def __init__(self, capacity: int = 4096) -> None:
        self._n = 0
        self._week = np.empty(capacity, dtype=np.int16)
        self._client = np.empty(capacity, dtype=np.int32)
        self._event = np.empty(capacity, dtype=np.int8)
        self._value = np.empty(capacity, dtype=np.float32)

    def __len__(self) -> int:
        return self._n

    def _grow(self, need: int) -> None:
        cap = max(need, 2 * len(self._week))
        for name in ("_week", "_client", "_event", "_value"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def add(self, event: Ev, week: int, clients: np.ndarray, value=0.0) -> None:
        """Append one event of one kind for each client in ``clients``."""
        k = len(clients)
        if k == 0:
            return
        end = self._n + k
        if end > len(self._week):
            self._grow(end)
        self._week[self._n : end] = week
        self._client[self._n : end] = clients
        self._event[self._n : end] = int(event)
        self._value[self._n : end] = value
        self._n = end

    def reserve(self, k: int) -> tuple[tuple[np.ndarray, ...], int]:
        """Room for ``k`` more rows: the column arrays and the row count, for a kernel.

        The kernel writes rows from the count on (:func:`pathways_sim.model.kernels.emit`)
        and returns the new count, which the caller passes to :meth:`advance`.
        """
        if self._n + k > len(self._week):
            self._grow(self._n + k)
        return (self._week, self._client, self._event, self._value), self._n

    def advance(self, n: int) -> None:
        """Take the rows a kernel wrote up to ``n`` (after :meth:`reserve`)."""
        if not self._n <= n <= len(self._week):
            raise ValueError(f"event log: {n} rows written, {self._n} before")
        self._n = n

    def add_barriers(self, week: int, clients: np.ndarray, B: np.ndarray) -> None:
        """Log each client's barrier in every domain (one BARRIER_* event per domain).

        ``B`` holds the clients' barrier rows (``ClientState.B[clients]``).
        """
        k = len(clients)
        if k == 0:
            return
        # One block: all clients' first domain, then the second... (8 rows per client).
        (w, c, e, v), start = self.reserve(k * len(BARRIER_EVENTS))
        end = start + k * len(BARRIER_EVENTS)
        w[start:end] = week
        c[start:end].reshape(len(BARRIER_EVENTS), k)[:] = clients
        e[start:end].reshape(len(BARRIER_EVENTS), k)[:] = _BARRIER_CODES[:, None]
        v[start:end].reshape(len(BARRIER_EVENTS), k)[:] = B.T
        self._n = end

    def frame(self) -> pd.DataFrame:
        """The log as a DataFrame with columns week, client, event, value (copies)."""
        n = self._n
        return pd.DataFrame({
            "week": self._week[:n].copy(),
            "client": self._client[:n].copy(),
            "event": self._event[:n].copy(),
            "value": self._value[:n].copy(),
        })

    def since(self, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Views of the rows appended since row ``start`` (for live displays)."""
        n = self._n
        return (self._week[start:n], self._client[start:n], self._event[start:n],
                self._value[start:n])
