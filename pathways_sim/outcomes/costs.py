"""The one cost account: the funder's ledger shared out over clients through the event log.

The funder's ledger (:class:`~pathways_sim.model.funder.Funder`, one row per funding
period) is the record of what the service costs; nothing here has a price of its own.
For each period ``p`` (weeks ``[end - weeks, end)``), what the funder paid is allocated
to the clients who used what it paid for, in that period:

* the guaranteed part of the Link Worker contract (``guaranteed``; under a block grant
  the whole contract, equal to the posts' cost) by Link Worker sessions: each SESSION
  event in the period costs ``guaranteed_p / sessions_p``;
* results payments (``results_payments``) to the clients whose outcomes earned them:
  their PAYMENT events, at their value;
* the VCS places funded (``vcs_cost``) by place-weeks: each week a client spends in an
  activity place in the period costs ``vcs_cost_p / place_weeks_p``. Places funded but
  not used are paid for all the same, so their cost falls on the clients who used
  places that period (full-cost allocation);
* the co-located employment adviser, when the funder pays for it (``adviser_cost``), by
  adviser-weeks: each week a client spends with the adviser (DIRECT_START to DIRECT_END,
  work-support code 1) costs ``adviser_cost_p / adviser_weeks_p``.

A period in which no session (no place-week, no adviser-week) happened has nothing to
share its guaranteed (VCS, adviser) cost over: that amount is *unallocated* and reported
as such, so costs allocated to clients + unallocated = the ledger's ``spend``, to
rounding.

The cost per session is derived, not set: the Link Worker posts' cost
(``link_worker_cost``) over the sessions delivered.

A place-week is a week from ACTIVITY_START to the client's ACTIVITY_END or
ACTIVITY_DROPOUT (value >= 0; -1 is leaving a waiting list), or else to the end of
the client's follow-up or of the run, whichever comes first (the model keeps no
client after their follow-up); adviser-weeks likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pathways_sim.model.events import DIRECT_CODES, Ev
from pathways_sim.outcomes.log import spells

__all__ = ["LEDGER_COLUMNS", "CostRates", "adviser_spells", "client_costs", "cost_rates",
           "place_spells", "staffing", "staffing_summary"]

LEDGER_COLUMNS = ("period_end_week", "weeks", "guaranteed", "results_payments", "income",
                  "link_worker_posts", "link_worker_cost", "vcs_places", "vcs_cost",
                  "adviser_cost", "spend")
"""Ledger columns the account reads (the funder's ledger has them all)."""


def _check_ledger(ledger: pd.DataFrame) -> None:
    missing = [c for c in LEDGER_COLUMNS if c not in ledger.columns]
    if missing:
        raise ValueError(f"the funder's ledger has no column {', '.join(missing)}: it was "
                         f"written by an older pathways-sim (the cost account needs "
                         f"{', '.join(LEDGER_COLUMNS)})")


def _referral_week_of(log: pd.DataFrame, n: int) -> np.ndarray:
    """First REFERRED week of clients 0..n-1 (a large number where none)."""
    ref = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
    ev = log["event"].to_numpy()
    rows = ev == int(Ev.REFERRED)
    np.minimum.at(ref, log["client"].to_numpy()[rows].astype(np.int64),
                  log["week"].to_numpy()[rows].astype(np.int64))
    return ref


_ADVISER = DIRECT_CODES["employment_adviser"]


def place_spells(log: pd.DataFrame, run_weeks: int, follow_up_weeks: int) -> pd.DataFrame:
    """Activity place spells of every client: ``client``, ``start`` and ``stop`` (weeks).

    A spell occupies weeks ``start .. stop - 1``; open spells stop at the end of the
    client's follow-up or of the run (see the module docstring).
    """
    ev = log["event"].to_numpy()
    value = log["value"].to_numpy()
    starts = ev == int(Ev.ACTIVITY_START)
    ends = (ev == int(Ev.ACTIVITY_END)) | ((ev == int(Ev.ACTIVITY_DROPOUT)) & (value >= 0))
    return _bounded(log, spells(log, starts, ends), run_weeks, follow_up_weeks)


def adviser_spells(log: pd.DataFrame, run_weeks: int, follow_up_weeks: int) -> pd.DataFrame:
    """Spells with the co-located employment adviser, as :func:`place_spells`."""
    ev = log["event"].to_numpy()
    adviser = log["value"].to_numpy() == _ADVISER
    starts = (ev == int(Ev.DIRECT_START)) & adviser
    ends = (ev == int(Ev.DIRECT_END)) & adviser
    return _bounded(log, spells(log, starts, ends), run_weeks, follow_up_weeks)


def _bounded(log: pd.DataFrame, sp: pd.DataFrame, run_weeks: int,
             follow_up_weeks: int) -> pd.DataFrame:
    """Spells with open ends stopped at the end of the client's follow-up or of the run."""
    client = sp["client"].to_numpy().astype(np.int64)
    n = int(log["client"].max()) + 1 if len(log) else 0
    ref = _referral_week_of(log, n)[client] if n else np.zeros(0, dtype=np.int64)
    cap = np.minimum(ref + int(follow_up_weeks), int(run_weeks))
    start = sp["start"].to_numpy().astype(np.int64)
    end = sp["end"].to_numpy()
    stop = np.minimum(np.where(np.isnan(end), cap, end), cap).astype(np.int64)
    stop = np.maximum(stop, start)
    return pd.DataFrame({"client": client, "start": start, "stop": stop})


@dataclass(frozen=True)
class CostRates:
    """The ledger turned into prices per unit of use, week by week.

    Attributes:
        session: GBP each Link Worker session in week ``w`` costs (``[w]``).
        place_week: GBP each place-week in week ``w`` costs.
        cum_place_week: ``cum_place_week[w]`` = sum of ``place_week[:w]`` (length
            weeks + 1), so a spell ``[a, b)`` costs ``cum[b] - cum[a]``.
        cum_adviser_week: The same for a week with the employment adviser.
        unallocated: GBP of the ledger that no use could carry (periods without
            sessions, place-weeks or adviser-weeks to share that line over).
        spend: The ledger's total ``spend``.
        link_worker_cost: The ledger's total ``link_worker_cost`` (posts' cost).
        sessions: Link Worker sessions in the weeks the ledger covers.
        place_weeks: Place-weeks in the weeks the ledger covers.
    """

    session: np.ndarray
    place_week: np.ndarray
    cum_place_week: np.ndarray
    cum_adviser_week: np.ndarray
    unallocated: float
    spend: float
    link_worker_cost: float
    sessions: int
    place_weeks: int


def cost_rates(log: pd.DataFrame, ledger: pd.DataFrame, run_weeks: int,
               follow_up_weeks: int) -> CostRates:
    """Each week's cost of a session, a place-week and an adviser-week (ledger and log).

    Args:
        log: The event log.
        ledger: The funder's ledger (one row per funding period).
        run_weeks: Weeks simulated.
        follow_up_weeks: Weeks each client is followed after referral.

    Returns:
        The :class:`CostRates`.

    Raises:
        ValueError: The ledger lacks a column of :data:`LEDGER_COLUMNS`.
    """
    _check_ledger(ledger)
    weeks = int(run_weeks)
    ev = log["event"].to_numpy()
    wk = log["week"].to_numpy().astype(np.int64)
    s_week = wk[ev == int(Ev.SESSION)]
    sessions_w = np.bincount(s_week[(s_week >= 0) & (s_week < weeks)], minlength=weeks)
    places_w = _occupancy(place_spells(log, weeks, follow_up_weeks), weeks)
    adviser_w = _occupancy(adviser_spells(log, weeks, follow_up_weeks), weeks)
    session = np.zeros(weeks)
    place_week = np.zeros(weeks)
    adviser_week = np.zeros(weeks)
    unallocated = 0.0
    n_sessions = n_place_weeks = 0
    for row in ledger.itertuples(index=False):
        hi = min(int(row.period_end_week), weeks)
        lo = max(int(row.period_end_week) - int(row.weeks), 0)
        s = int(sessions_w[lo:hi].sum())
        pw = int(places_w[lo:hi].sum())
        n_sessions += s
        n_place_weeks += pw
        if s > 0:
            session[lo:hi] = float(row.guaranteed) / s
        else:
            unallocated += float(row.guaranteed)
        if pw > 0:
            place_week[lo:hi] = float(row.vcs_cost) / pw
        else:
            unallocated += float(row.vcs_cost)
        aw = int(adviser_w[lo:hi].sum())
        if aw > 0:
            adviser_week[lo:hi] = float(row.adviser_cost) / aw
        else:
            unallocated += float(row.adviser_cost)
    cum = np.concatenate([[0.0], np.cumsum(place_week)])
    cum_adviser = np.concatenate([[0.0], np.cumsum(adviser_week)])
    return CostRates(session=session, place_week=place_week, cum_place_week=cum,
                     cum_adviser_week=cum_adviser, unallocated=unallocated,
                     spend=float(ledger["spend"].sum()),
                     link_worker_cost=float(ledger["link_worker_cost"].sum()),
                     sessions=n_sessions, place_weeks=n_place_weeks)


def _occupancy(sp: pd.DataFrame, weeks: int) -> np.ndarray:
    """Spells in progress in each week 0..weeks-1."""
    occ = np.zeros(weeks + 1, dtype=np.int64)
    np.add.at(occ, np.clip(sp["start"].to_numpy(), 0, weeks), 1)
    np.add.at(occ, np.clip(sp["stop"].to_numpy(), 0, weeks), -1)
    return np.cumsum(occ)[:weeks]


def _spell_cost(sp: pd.DataFrame, cum: np.ndarray, n: int, weeks: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Weeks and cost of each client's spells (``cum``: cumulative weekly price)."""
    c = sp["client"].to_numpy()
    a = np.clip(sp["start"].to_numpy(), 0, weeks)
    b = np.clip(sp["stop"].to_numpy(), 0, weeks)
    return (np.bincount(c, weights=(b - a).astype(np.float64), minlength=n),
            np.bincount(c, weights=cum[b] - cum[a], minlength=n))


def client_costs(log: pd.DataFrame, ledger: pd.DataFrame, run_weeks: int,
                 follow_up_weeks: int) -> pd.DataFrame:
    """Each client's share of the ledger over the whole run.

    Args:
        log: The event log.
        ledger: The funder's ledger.
        run_weeks: Weeks simulated.
        follow_up_weeks: Weeks each client is followed after referral.

    Returns:
        One row per client in the log (ascending ``client``) with ``sessions``,
        ``place_weeks``, ``adviser_weeks``, ``link_work_cost`` (GBP, their share of the
        guaranteed contract), ``vcs_cost`` (their share of the VCS places),
        ``adviser_cost`` (of the employment adviser, when the funder pays for it),
        ``results_payments`` (paid for their outcomes) and ``cost`` (the sum). Summed
        over clients, ``cost`` + :attr:`CostRates.unallocated` = the ledger's ``spend``.
    """
    rates = cost_rates(log, ledger, run_weeks, follow_up_weeks)
    n = int(log["client"].max()) + 1 if len(log) else 0
    weeks = int(run_weeks)
    ev = log["event"].to_numpy()
    client = log["client"].to_numpy().astype(np.int64)
    wk = log["week"].to_numpy().astype(np.int64)
    inside = (wk >= 0) & (wk < weeks)
    s = (ev == int(Ev.SESSION)) & inside
    sessions = np.bincount(client[s], minlength=n)
    lw = np.bincount(client[s], weights=rates.session[wk[s]], minlength=n)
    pay = ev == int(Ev.PAYMENT)
    payments = np.bincount(client[pay], weights=log["value"].to_numpy()[pay].astype(np.float64),
                           minlength=n)
    place_weeks, vcs = _spell_cost(place_spells(log, weeks, follow_up_weeks),
                                   rates.cum_place_week, n, weeks)
    adviser_weeks, adviser = _spell_cost(adviser_spells(log, weeks, follow_up_weeks),
                                         rates.cum_adviser_week, n, weeks)
    return pd.DataFrame({
        "client": np.arange(n, dtype=np.int64),
        "sessions": sessions.astype(np.int64),
        "place_weeks": place_weeks.astype(np.int64),
        "adviser_weeks": adviser_weeks.astype(np.int64),
        "link_work_cost": lw,
        "vcs_cost": vcs,
        "adviser_cost": adviser,
        "results_payments": payments,
        "cost": lw + vcs + adviser + payments,
    })


def staffing(ledger: pd.DataFrame) -> pd.DataFrame:
    """Link Worker posts funded in each funding period, from the funder's ledger.

    Args:
        ledger: One run's ledger (or several, with a ``replicate`` column).

    Returns:
        One row per period (per replicate, if given): ``period`` (1, 2, ...),
        ``start_week``, ``end_week`` (exclusive), ``weeks``, ``link_worker_posts``
        (funded during the period) and ``link_worker_cost``.
    """
    cols = ["start_week", "end_week", "weeks", "link_worker_posts", "link_worker_cost"]
    if ledger.empty:
        return pd.DataFrame(columns=["period", *cols])
    out = pd.DataFrame({
        "start_week": ledger["period_end_week"] - ledger["weeks"],
        "end_week": ledger["period_end_week"],
        "weeks": ledger["weeks"],
        "link_worker_posts": ledger["link_worker_posts"],
        "link_worker_cost": ledger["link_worker_cost"],
    })
    keys = [k for k in ("replicate", "seed") if k in ledger.columns]
    for k in reversed(keys):
        out.insert(0, k, ledger[k].to_numpy())
    if keys:
        period = ledger.groupby(keys[0], sort=False).cumcount() + 1
    else:
        period = pd.Series(np.arange(1, len(ledger) + 1), index=ledger.index)
    out.insert(len(keys), "period", period.to_numpy())
    return out.reset_index(drop=True)


def staffing_summary(ledger: pd.DataFrame) -> dict[str, float]:
    """Posts at the start, the fewest, the mean (weighted by weeks) and at the end of a run.

    Args:
        ledger: One run's ledger.

    Returns:
        ``{"start", "min", "mean", "end"}`` Link Worker posts funded (NaN for an empty ledger).
    """
    if ledger.empty:
        return dict.fromkeys(("start", "min", "mean", "end"), float("nan"))
    posts = ledger["link_worker_posts"].to_numpy(dtype=np.float64)
    weeks = ledger["weeks"].to_numpy(dtype=np.float64)
    return {"start": float(posts[0]), "min": float(posts.min()),
            "mean": float((posts * weeks).sum() / weeks.sum()), "end": float(posts[-1])}
