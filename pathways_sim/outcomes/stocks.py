"""Stocks and flows rebuilt from the event log: who is where each week, and the funnel.

A stock is the number of clients in a state at the end of a week, rebuilt
from the events that open and close the state (see :data:`STATES`; the
states are the stages of :mod:`pathways_sim.stages` that have a stock). A client
is in a state at the end of week ``w`` if the opening event happened in a
week ``<= w`` and the closing event (if any) in a week ``> w``. Every client
leaves every state when their follow-up ends (``referral week +
follow_up_weeks``): the model stops following them then, without closing
events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathways_sim.model.events import ACTIVITY_CODES, Ev
from pathways_sim.outcomes.cohorts import Cohort, members
from pathways_sim.outcomes.log import check_log, spells
from pathways_sim.stages import STAGES

_STEPPING = (ACTIVITY_CODES["volunteering"], ACTIVITY_CODES["training"])

#: Stock name -> (opening events, closing events), in words: the stages of
#: :data:`pathways_sim.stages.STAGES` that have a weekly stock, in stage order.
STATES: dict[str, tuple[str, str]] = {st.name: st.stock for st in STAGES if st.stock is not None}

#: Funnel stages, in order (labels of :func:`funnel`'s index).
FUNNEL_STAGES = ("referred", "accepted", "assigned a Link Worker", "took up an activity",
                 "stepping stone", "work goal", "work-focused support", "found work",
                 "sustained 26 weeks")


def _referral_week(log: pd.DataFrame, attrs: pd.DataFrame | None) -> pd.Series:
    """Referral week per client: ``attrs.referral_week`` if given, else the REFERRED event."""
    if attrs is not None and "referral_week" in attrs.columns:
        return attrs.set_index("client")["referral_week"].astype(np.int64)
    ref = log["event"].to_numpy() == int(Ev.REFERRED)
    client = log["client"].to_numpy()[ref].astype(np.int64)
    week = log["week"].to_numpy()[ref].astype(np.int64)
    order = np.lexsort((week, client))  # each client's earliest REFERRED first
    client, week = client[order], week[order]
    first = np.ones(len(client), dtype=bool)
    first[1:] = client[1:] != client[:-1]
    return pd.Series(week[first], index=client[first])


def _lookup(ref: pd.Series, clients: np.ndarray) -> np.ndarray:
    """``ref`` at each of ``clients`` as floats, NaN where a client is not in it."""
    keys, values = ref.index.to_numpy(), ref.to_numpy(dtype=np.float64)
    if not ref.index.is_monotonic_increasing:
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
    out = np.full(len(clients), np.nan)
    if len(keys):
        pos = np.minimum(np.searchsorted(keys, clients), len(keys) - 1)
        hit = keys[pos] == clients
        out[hit] = values[pos[hit]]
    return out


def _in_view(sp: pd.DataFrame, ref: pd.Series, run_weeks: int,
             follow_up_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last week each spell counts in, within the run and follow-up.

    Returns ``(start, stop)`` of the spells that count in at least one week of
    0..run_weeks-1: a spell counts at the end of week ``w`` when ``start <= w < stop``.
    """
    start = sp["start"].to_numpy().astype(np.int64)
    end = sp["end"].to_numpy()
    r = _lookup(ref, sp["client"].to_numpy())
    follow_end = np.where(np.isnan(r), np.inf, r + follow_up_weeks)
    stop = np.minimum(np.where(np.isnan(end), np.inf, end), follow_end)
    stop = np.minimum(stop, run_weeks).astype(np.int64)
    ok = (start < stop) & (start < run_weeks)
    return np.maximum(start[ok], 0), stop[ok]


def _count(sp: pd.DataFrame, ref: pd.Series, run_weeks: int, follow_up_weeks: int) -> np.ndarray:
    """Spells in progress at the end of each week 0..run_weeks-1."""
    start, stop = _in_view(sp, ref, run_weeks, follow_up_weeks)
    diff = np.bincount(start, minlength=run_weeks + 1)[: run_weeks + 1].astype(np.int64)
    diff -= np.bincount(stop, minlength=run_weeks + 1)[: run_weeks + 1]
    return np.cumsum(diff)[:run_weeks]


def stage_spells(log: pd.DataFrame,
                 names: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """The spells of each state of :data:`STATES`, from the events that open and close it.

    Args:
        log: The event log.
        names: The states wanted (default: all of :data:`STATES`, in order).

    Returns:
        State name -> :func:`~pathways_sim.outcomes.log.spells` of that state (open
        spells have ``end`` NaN; follow-up end is not applied here).
    """
    check_log(log)
    ev = log["event"].to_numpy()
    value = log["value"].to_numpy()
    client = log["client"].to_numpy()

    def is_(e: Ev) -> np.ndarray:
        return ev == int(e)

    def opened_closed(name: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows that open and close state ``name`` (see :data:`STATES`)."""
        if name == "waiting":
            rejected = np.isin(client, client[is_(Ev.REJECTED)])
            return ((is_(Ev.REFERRED) & ~rejected) | (is_(Ev.RE_REFERRED) & (value == 0)),
                    is_(Ev.ASSIGNED) | is_(Ev.DECLINED) | (is_(Ev.DISENGAGED) & (value == 0)))
        if name == "with_link_worker":
            return is_(Ev.ASSIGNED), is_(Ev.DISCHARGED) | (is_(Ev.DISENGAGED) & (value == 1))
        if name in ("in_activity", "stepping_stone"):
            return (is_(Ev.ACTIVITY_START),
                    is_(Ev.ACTIVITY_END) | (is_(Ev.ACTIVITY_DROPOUT) & (value >= 0)))
        if name == "work_support":
            return is_(Ev.DIRECT_START), is_(Ev.DIRECT_END)
        if name == "in_work":
            return is_(Ev.EMPLOYED_AT_REFERRAL) | is_(Ev.JOB_START), is_(Ev.JOB_END)
        raise KeyError(f"no stock for stage {name!r}; stocks: {', '.join(STATES)}")

    out: dict[str, pd.DataFrame] = {}
    for name in STATES if names is None else names:
        if name == "stepping_stone":  # the activity spells of volunteering and training
            act = out.get("in_activity")
            act = spells(log, *opened_closed(name)) if act is None else act
            out[name] = act[act["value"].isin(_STEPPING)]
        else:
            out[name] = spells(log, *opened_closed(name))
    return out


def weekly_stocks(log: pd.DataFrame, run_weeks: int, follow_up_weeks: int,
                  attrs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clients in each state at the end of each week (see :data:`STATES`).

    Args:
        log: The event log.
        run_weeks: Weeks simulated (the index runs 0..run_weeks-1).
        follow_up_weeks: Weeks each client is followed after referral.
        attrs: The client attribute table; its ``referral_week`` sets when follow-up
            ends. Optional: without it the REFERRED events do.

    Returns:
        A DataFrame indexed by ``week`` with one int column per state of :data:`STATES`
        (waiting, with_link_worker, in_activity, stepping_stone, work_support and
        in_work). A client can be in several states at once (e.g. with a Link Worker
        and in an activity).
    """
    pairs = stage_spells(log)
    ref = _referral_week(log, attrs)
    out = pd.DataFrame({name: _count(sp, ref, run_weeks, follow_up_weeks)
                        for name, sp in pairs.items()},
                       index=pd.RangeIndex(run_weeks, name="week"))
    return out


def cumulative_outcomes(log: pd.DataFrame, run_weeks: int) -> pd.DataFrame:
    """Cumulative clients with a first job start, first volunteering and first training.

    Counts every client in the log (not only a cohort), by the week of their first
    such event.

    Args:
        log: The event log.
        run_weeks: Weeks simulated (the index runs 0..run_weeks-1).

    Returns:
        A DataFrame indexed by ``week`` with int columns ``first_job_start``,
        ``first_volunteering`` and ``first_training``: clients whose first such
        event happened in that week or before.
    """
    check_log(log)
    ev = log["event"].to_numpy()
    value = log["value"].to_numpy()
    masks = {
        "first_job_start": ev == int(Ev.JOB_START),
        "first_volunteering": (ev == int(Ev.ACTIVITY_START))
        & (value == ACTIVITY_CODES["volunteering"]),
        "first_training": (ev == int(Ev.ACTIVITY_START)) & (value == ACTIVITY_CODES["training"]),
    }
    week = log["week"].to_numpy().astype(np.int64)
    client = log["client"].to_numpy()
    cols = {}
    for name, mask in masks.items():
        first = pd.Series(week[mask], index=client[mask]).groupby(level=0).min().to_numpy()
        first = first[(first >= 0) & (first < run_weeks)]
        cols[name] = np.cumsum(np.bincount(first, minlength=run_weeks)[:run_weeks])
    return pd.DataFrame(cols, index=pd.RangeIndex(run_weeks, name="week"))


def cumulative_payments(log: pd.DataFrame, run_weeks: int) -> pd.Series:
    """Results payments made so far, at the end of each week (every client, not a cohort).

    Args:
        log: The event log.
        run_weeks: Weeks simulated (the index runs 0..run_weeks-1).

    Returns:
        A float Series (GBP) indexed by ``week``, named ``payments``: the sum of the
        PAYMENT events' values in that week and before.
    """
    check_log(log)
    paid = log["event"].to_numpy() == int(Ev.PAYMENT)
    week = log["week"].to_numpy()[paid].astype(np.int64)
    value = log["value"].to_numpy()[paid].astype(np.float64)
    ok = (week >= 0) & (week < run_weeks)
    by_week = np.bincount(week[ok], weights=value[ok], minlength=run_weeks)[:run_weeks]
    return pd.Series(np.cumsum(by_week), index=pd.RangeIndex(run_weeks, name="week"),
                     name="payments")


def funnel(log: pd.DataFrame, cohort: Cohort | np.ndarray) -> pd.Series:
    """Clients reaching each stage of the pathway (:data:`FUNNEL_STAGES`, in order).

    Each stage counts clients who ever reached it, so the stages after "assigned a
    Link Worker" are not strictly nested (a client who dropped out of the waiting
    list may still step into volunteering on their own).

    Args:
        log: The event log.
        cohort: A :class:`~pathways_sim.outcomes.cohorts.Cohort`: "referred" counts
            all its referrals, rejected included, "accepted" its members, and later
            stages count members' events within its follow-up. Or an array of
            client ids: "referred" counts those with a REFERRED event, "accepted"
            those never rejected, and later stages count any of their events.

    Returns:
        Clients per stage (int), indexed by stage label, named ``clients``.
    """
    check_log(log)
    ev = log["event"].to_numpy()
    week = log["week"].to_numpy().astype(np.int64)
    client = log["client"].to_numpy().astype(np.int64)
    value = log["value"].to_numpy()
    is_ref = ev == int(Ev.REFERRED)
    if isinstance(cohort, Cohort):
        referred = np.unique(client[is_ref & cohort.contains(week)])
        accepted = members(log, cohort)
        horizon = cohort.follow_up_weeks
    else:
        ids = np.unique(np.asarray(cohort, dtype=np.int64))
        referred = np.intersect1d(ids, client[is_ref])
        accepted = np.setdiff1d(referred, client[ev == int(Ev.REJECTED)])
        horizon = None
    rows = np.isin(client, accepted)
    if horizon is not None:
        ref = pd.Series(week[is_ref], index=client[is_ref]).groupby(level=0).min()
        rel = week - ref.reindex(client).to_numpy(dtype=np.float64)
        rows &= (rel >= 0) & (rel < horizon)

    def reached(mask: np.ndarray) -> int:
        return int(np.unique(client[rows & mask]).size)

    start = ev == int(Ev.ACTIVITY_START)
    counts = [
        len(referred),
        len(accepted),
        reached(ev == int(Ev.ASSIGNED)),
        reached(start),
        reached(start & np.isin(value, _STEPPING)),
        reached(ev == int(Ev.WORK_GOAL)),
        reached(ev == int(Ev.DIRECT_START)),
        reached(ev == int(Ev.JOB_START)),
        reached((ev == int(Ev.SUSTAINED)) & (value >= 26)),
    ]
    return pd.Series(counts, index=pd.Index(FUNNEL_STAGES, name="stage"), name="clients")
