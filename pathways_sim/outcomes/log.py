"""Helpers for reading the client event log.

The log is a DataFrame with columns ``week`` (int16), ``client`` (int32),
``event`` (int8, an :class:`~pathways_sim.model.events.Ev` code) and ``value``
(float32, the event's detail: see :data:`~pathways_sim.model.events.EVENT_VALUE`),
one row per client event, in the order the events happened.

Everything in :mod:`pathways_sim.outcomes` is computed from the log (plus the
static client attribute table and the run settings), never from model state.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from pathways_sim.model.events import Ev

#: Event code -> lower-case event name (``{0: "referred", 1: "rejected", ...}``).
EVENT_LABEL: dict[int, str] = {int(e): e.name.lower() for e in Ev}

#: Event name -> event code (the inverse of :data:`EVENT_LABEL`).
EVENT_CODE: dict[str, int] = {name: code for code, name in EVENT_LABEL.items()}

_COLUMNS = ("week", "client", "event", "value")


def event_label(event: int | Ev) -> str:
    """The lower-case name of an event code (``event_label(13) == "job_start"``).

    Args:
        event: An event code or :class:`Ev` member.

    Returns:
        The event's name in lower case.

    Raises:
        KeyError: If ``event`` is not an event code.
    """
    return EVENT_LABEL[int(event)]


def check_log(log: pd.DataFrame) -> None:
    """Raise if ``log`` lacks a column of the event log.

    Args:
        log: The event log.

    Raises:
        ValueError: If a column of week, client, event, value is missing.
    """
    missing = [c for c in _COLUMNS if c not in log.columns]
    if missing:
        raise ValueError(f"event log is missing column(s) {missing}; "
                         f"expected {list(_COLUMNS)}")


def label_log(log: pd.DataFrame) -> pd.DataFrame:
    """A copy of the log with an ``event_name`` column (a categorical of event names).

    Meant for readable Parquet/CSV output; metrics work on the numeric codes.

    Args:
        log: The event log.

    Returns:
        A copy of ``log`` with ``event_name`` inserted after ``event``.
    """
    check_log(log)
    out = log.copy()
    names = [EVENT_LABEL[int(e)] for e in Ev]
    codes = out["event"].to_numpy().astype(np.int64)
    # Codes follow the Ev order 0..n-1, so they index the category list directly.
    cat = pd.Categorical.from_codes(np.where((codes >= 0) & (codes < len(names)), codes, -1),
                                    categories=names)
    out.insert(out.columns.get_loc("event") + 1, "event_name", cat)
    return out


def event_mask(log: pd.DataFrame, event: int | Ev,
               value: float | Iterable[float] | None = None) -> np.ndarray:
    """Boolean mask of the log rows of one event, optionally with given value(s).

    Args:
        log: The event log.
        event: The event code.
        value: Keep only rows whose ``value`` equals this number (or is one of
            these numbers). None keeps every value.

    Returns:
        A boolean array, one entry per log row.
    """
    mask = log["event"].to_numpy() == int(event)
    if value is not None:
        vals = np.atleast_1d(np.asarray(list(value) if isinstance(value, Iterable) else value,
                                        dtype=np.float32))
        mask &= np.isin(log["value"].to_numpy(), vals)
    return mask


def first_event_week(log: pd.DataFrame, event: int | Ev, clients: Iterable[int] | None = None,
                     value: float | Iterable[float] | None = None) -> pd.Series:
    """Week of each client's first occurrence of an event (NaN if it never happens).

    Args:
        log: The event log.
        event: The event code.
        clients: The clients to report, in this order (None: every client with the event).
        value: Count only rows whose value equals this number (or is one of these).

    Returns:
        A float Series indexed by client (named ``client``), NaN where the client
        has no such event.
    """
    check_log(log)
    mask = event_mask(log, event, value)
    first = (pd.Series(log["week"].to_numpy()[mask].astype(np.float64),
                       index=log["client"].to_numpy()[mask])
             .groupby(level=0).min())
    first.index.name = "client"
    first.name = f"first_{event_label(event)}_week"
    if clients is not None:
        ids = clients if isinstance(clients, np.ndarray) else np.asarray(list(clients))
        first = first.reindex(pd.Index(ids, name="client"))
    return first


def referral_weeks(log: pd.DataFrame) -> pd.Series:
    """Week each client was first referred (their REFERRED event), indexed by client.

    Args:
        log: The event log.

    Returns:
        An int Series indexed by client, one entry per referred client.
    """
    return first_event_week(log, Ev.REFERRED).astype(np.int64)


def spells(log: pd.DataFrame, starts: np.ndarray, ends: np.ndarray) -> pd.DataFrame:
    """Pair start and end events into spells (periods in a state), per client.

    Rows are taken per client in time order (week, then log order). Each start
    row is closed by the client's next selected row: normally an end, but a
    second start also closes the first (a client is in one spell of a state at
    a time). End rows not preceded by a start are ignored. A row that is in
    both masks counts as a start.

    Args:
        log: The event log.
        starts: Boolean mask of the rows that open a spell.
        ends: Boolean mask of the rows that close a spell.

    Returns:
        One row per spell with columns ``client``, ``start`` (week), ``end``
        (week of the closing event; NaN while open at the end of the log) and
        ``value`` (the start row's value), ordered by client then start.
    """
    idx = np.flatnonzero(starts | ends)
    client = log["client"].to_numpy()[idx]
    week = log["week"].to_numpy()[idx].astype(np.int64)
    order = np.lexsort((idx, week, client))
    idx, client, week = idx[order], client[order], week[order]
    is_start = starts[idx]
    nxt_same = np.zeros(len(idx), dtype=bool)
    nxt_same[:-1] = client[1:] == client[:-1]
    end = np.full(len(idx), np.nan)
    end[:-1] = np.where(nxt_same[:-1], week[1:], np.nan)
    keep = is_start
    return pd.DataFrame({
        "client": client[keep],
        "start": week[keep],
        "end": end[keep],
        "value": log["value"].to_numpy()[idx[keep]],
    })
