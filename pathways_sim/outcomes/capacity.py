"""Link Worker capacity week by week: the waiting list, weeks waited so far, places in use.

Rebuilt from the event log with the spells of the ``waiting`` and
``with_link_worker`` stages (:func:`~pathways_sim.outcomes.stocks.stage_spells`),
so the waiting list here is the ``waiting`` column of
:func:`~pathways_sim.outcomes.weekly_stocks`, week for week. These are the
numbers the workshop charts (:mod:`pathways_sim.viz.trace`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pathways_sim.outcomes.stocks import _count, _in_view, _referral_week, stage_spells


def waiting_list(log: pd.DataFrame, run_weeks: int, follow_up_weeks: int,
                 attrs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clients on the Link Worker waiting list at the end of each week, and how long they waited.

    A client joins the list when referred (and accepted) or re-referred back to it,
    and leaves when assigned a Link Worker, when they decline at first contact, give
    up waiting, or their follow-up ends. At the end of week ``w`` a client who joined
    in week ``j`` has waited ``w + 1 - j`` weeks (the week they joined counts).

    Args:
        log: The event log.
        run_weeks: Weeks simulated (the index runs 0..run_weeks-1).
        follow_up_weeks: Weeks each client is followed after referral.
        attrs: The client attribute table (its ``referral_week`` sets when follow-up
            ends); optional, as in :func:`~pathways_sim.outcomes.weekly_stocks`.

    Returns:
        A DataFrame indexed by ``week`` with columns ``waiting`` (int: clients on the
        list) and ``median_wait`` (float: median weeks waited so far by the clients on
        the list; 0 when it is empty).
    """
    sp = stage_spells(log, ("waiting",))["waiting"]
    ref = _referral_week(log, attrs)
    start, stop = _in_view(sp, ref, run_weeks, follow_up_weeks)
    # on[w, j]: clients on the list at the end of week w who joined in week j (j <= w).
    on = np.zeros((run_weeks + 1, run_weeks), dtype=np.int64)
    np.add.at(on, (start, start), 1)
    np.add.at(on, (stop, start), -1)
    on = np.cumsum(on, axis=0)[:run_weeks]
    n = on.sum(axis=1)
    # Waits in ascending order are joining weeks in descending order: joined[w, j] is
    # how many on the list at the end of week w joined in week j or later.
    joined = np.cumsum(on[:, ::-1], axis=1)[:, ::-1]
    week = np.arange(run_weeks)

    def kth_wait(k: np.ndarray) -> np.ndarray:
        """The k-th smallest wait (0-based) at the end of each week."""
        j = (joined > k[:, None]).sum(axis=1) - 1  # latest joining week among the k+1 shortest
        return week + 1 - j

    median = np.where(n > 0, (kth_wait((n - 1) // 2) + kth_wait(n // 2)) / 2.0, 0.0)
    return pd.DataFrame({"waiting": n, "median_wait": median.astype(np.float64)},
                        index=pd.RangeIndex(run_weeks, name="week"))


def link_worker_utilisation(log: pd.DataFrame, places: np.ndarray, follow_up_weeks: int,
                            attrs: pd.DataFrame | None = None) -> pd.Series:
    """Clients supported by a Link Worker / funded Link Worker places, at the end of each week.

    Args:
        log: The event log.
        places: Places of the funded (active) Link Worker posts in each week 0..n-1: the
            sum of their caseloads. Capacity is a lever, not an event: it comes from
            the model (or the funder's ledger), not the log.
        follow_up_weeks: Weeks each client is followed after referral.
        attrs: The client attribute table (optional, as in
            :func:`~pathways_sim.outcomes.weekly_stocks`).

    Returns:
        A float Series indexed by ``week`` (0..len(places)-1), named ``utilisation``:
        the ``with_link_worker`` stock over ``places``, 0 where no place is funded. It
        can pass 1: when posts are cut, Link Workers leaving intake keep their clients.
    """
    places = np.asarray(places, dtype=np.float64)
    weeks = len(places)
    sp = stage_spells(log, ("with_link_worker",))["with_link_worker"]
    supported = _count(sp, _referral_week(log, attrs), weeks, follow_up_weeks)
    safe = np.where(places > 0, places, 1.0)
    util = np.where(places > 0, supported / safe, 0.0)
    return pd.Series(util, index=pd.RangeIndex(weeks, name="week"), name="utilisation")
