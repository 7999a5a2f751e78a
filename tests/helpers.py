"""Shared helpers for the model tests: small runs, log queries, paired intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import compute_metrics, spells
from pathways_sim.scenario import Scenario, load_scenario

VOL, TRAIN = 2, 3  # activity codes of the stepping stones (events.ACTIVITY_CODES)
JCP, ADVISER, IPS = 0, 1, 2  # work-support codes (events.DIRECT_CODES)


def make_log(rows: list[tuple[int, int, Ev, float]]) -> pd.DataFrame:
    """A log with the model's dtypes from (week, client, event, value) rows, sorted by week."""
    rows = sorted(rows, key=lambda r: r[0])  # stable: same-week rows keep their order
    return pd.DataFrame({
        "week": np.array([r[0] for r in rows], dtype=np.int16),
        "client": np.array([r[1] for r in rows], dtype=np.int32),
        "event": np.array([int(r[2]) for r in rows], dtype=np.int8),
        "value": np.array([r[3] for r in rows], dtype=np.float32),
    })


def scenario(name: str = "medium", changes: Mapping[str, Any] | None = None) -> Scenario:
    """A named scenario with some parameters changed (dotted paths)."""
    sc = load_scenario(name)
    return sc.with_changes(dict(changes)) if changes else sc


def run_model(name: str | Scenario = "medium", changes: Mapping[str, Any] | None = None,
          seed: int = 1, weeks: int | None = None) -> PathwaysModel:
    """A model of a scenario run for ``weeks`` weeks (default: the scenario's ``run.weeks``)."""
    sc = name if isinstance(name, Scenario) else scenario(name, changes)
    if isinstance(name, Scenario) and changes:
        sc = sc.with_changes(dict(changes))
    m = PathwaysModel(sc, seed=seed)
    m.run(weeks)
    return m


def events(m: PathwaysModel | pd.DataFrame, event: Ev, value: float | None = None
           ) -> pd.DataFrame:
    """The log rows of one event (optionally with one value), in log order."""
    log = m if isinstance(m, pd.DataFrame) else m.log.frame()
    rows = log[log["event"] == int(event)]
    if value is not None:
        rows = rows[rows["value"] == value]
    return rows


def count(m: PathwaysModel, event: Ev, value: float | None = None) -> int:
    """Number of log rows of one event (optionally with one value)."""
    return len(events(m, event, value))


def metrics(m: PathwaysModel) -> dict[str, float]:
    """The outcome metrics of a finished run (:func:`pathways_sim.outcomes.compute_metrics`)."""
    p = m.p
    return compute_metrics(m.log.frame(), m.client_attributes(), run_weeks=p.run.weeks,
                           follow_up_weeks=p.run.follow_up_weeks,
                           cohort_weeks=p.run.cohort_weeks,
                           ledger=pd.DataFrame(m.funder.ledger))


@dataclass
class Week:
    """One simulated week seen from outside: client state at its start and the events it logged.

    Attributes:
        t: The week simulated.
        dist: Distance from work of every client at the start of the week (clients
            referred in the week: their distance at referral). Nothing changes it
            before the Link Worker phase, so it is the distance triage, session
            offers and direct-pathway referrals saw.
        status: Status code at the start of the week (clients referred in the week:
            WAITING, or REJECTED).
        wait_since: Week each client joined the waiting list, as triage saw it.
        log: The rows the week appended to the event log.
    """

    t: int
    dist: np.ndarray
    status: np.ndarray
    wait_since: np.ndarray
    log: pd.DataFrame

    def clients(self, event: Ev, value: float | None = None) -> np.ndarray:
        """Clients with this event in the week."""
        rows = events(self.log, event, value)
        return rows["client"].to_numpy().astype(np.int64)


def step(m: PathwaysModel) -> Week:
    """Simulate one week and return what it started from and what it logged."""
    s = m.clients
    n0, start, t = s.n, len(m.log), m.week
    dist, status, since = s.dist[:n0].copy(), s.status[:n0].copy(), s.wait_since[:n0].copy()
    m.step()
    n1 = s.n
    w, c, e, v = m.log.since(start)
    log = pd.DataFrame({"week": w.copy(), "client": c.copy(), "event": e.copy(),
                        "value": v.copy()})
    return Week(t=t,
                dist=np.concatenate([dist, s.dist0[n0:n1]]),
                status=np.concatenate([status, s.status[n0:n1]]),
                wait_since=np.concatenate([since, s.wait_since[n0:n1]]),
                log=log)


def sessions_per_supported_week(m: PathwaysModel, clients: np.ndarray) -> float:
    """Link Worker sessions per week of support, over support spells of ``clients`` (log only)."""
    log = m.log.frame()
    ev, value = log["event"].to_numpy(), log["value"].to_numpy()
    start = ev == Ev.ASSIGNED
    end = (ev == Ev.DISCHARGED) | ((ev == Ev.DISENGAGED) & (value == 1))
    sp = spells(log, start, end)
    sp = sp[sp["client"].isin(clients)]
    weeks = (sp["end"].fillna(m.week - 1) - sp["start"] + 1).sum()
    return float(((ev == Ev.SESSION) & log["client"].isin(clients)).sum() / weeks)


def paired_interval(base: Sequence[float], other: Sequence[float], level: float = 0.90
                    ) -> tuple[float, float, float]:
    """Mean and ``level`` t-interval of the paired difference ``other - base`` over replicates.

    Replicate ``i`` of both sides must share a seed (common random numbers), so
    the interval is of the lever's effect with the client-level noise paired away.
    """
    d = np.asarray(other, dtype=np.float64) - np.asarray(base, dtype=np.float64)
    n = len(d)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def interval(x: Sequence[float], level: float = 0.90) -> tuple[float, float]:
    """The ``level`` t-interval of a mean over replicates."""
    x = np.asarray(x, dtype=np.float64)
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)
