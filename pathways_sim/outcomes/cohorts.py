"""Outcome cohorts: which clients an outcome rate is a share of.

A cohort is the clients whose (first) referral was accepted in a window of
referral weeks. Each member is followed from their own referral week, so
"found work within 12 months" means a job start less than 52 weeks after
that client's referral. A re-referral (``RE_REFERRED``) is a return of an
existing member, never a new member.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pathways_sim.model.events import Ev
from pathways_sim.outcomes.log import check_log


@dataclass(frozen=True)
class Cohort:
    """A window of referral weeks whose accepted referrals form an outcome cohort.

    Attributes:
        name: Short identifier (used in file and column names).
        description: The cohort in words, for tables and reports.
        first_week: First referral week in the cohort (inclusive).
        last_week: Referral weeks end before this week (exclusive).
        follow_up_weeks: Weeks each member is followed after their referral week.
    """

    name: str
    description: str
    first_week: int
    last_week: int
    follow_up_weeks: int

    def __post_init__(self) -> None:
        if self.last_week < self.first_week:
            raise ValueError(f"cohort {self.name!r}: last_week {self.last_week} is before "
                             f"first_week {self.first_week}")
        if self.follow_up_weeks < 0:
            raise ValueError(f"cohort {self.name!r}: follow_up_weeks must be >= 0")

    def contains(self, week: int | np.ndarray) -> bool | np.ndarray:
        """Whether a referral week (or array of weeks) falls in the cohort window."""
        return (week >= self.first_week) & (week < self.last_week)


def default_cohort(run_weeks: int, cohort_weeks: int, follow_up_weeks: int) -> Cohort:
    """The outcome cohort of a run: clients referred in weeks ``[0, cohort_weeks)``.

    The window is cut at ``run_weeks`` if the run is shorter. When the run ends
    before the last members' follow-up does, the description says so (their
    later outcomes are not simulated).

    Args:
        run_weeks: Weeks simulated (``run.weeks``).
        cohort_weeks: Referral weeks in the cohort (``run.cohort_weeks``).
        follow_up_weeks: Weeks each client is followed (``run.follow_up_weeks``).

    Returns:
        The cohort, e.g. described as "clients referred in the first 52 weeks
        (accepted referrals; rejected excluded), each followed up to 104 weeks".
    """
    last = max(0, min(int(cohort_weeks), int(run_weeks)))
    desc = (f"clients referred in the first {last} weeks (accepted referrals; rejected "
            f"excluded), each followed up to {follow_up_weeks} weeks")
    full_until = run_weeks - follow_up_weeks  # referrals at or before this week are complete
    if last - 1 > full_until:
        if full_until < 0:
            desc += f"; the run ends at week {run_weeks}, so no member has full follow-up"
        else:
            desc += (f"; the run ends at week {run_weeks}, so follow-up is cut short for "
                     f"clients referred after week {full_until}")
    return Cohort(name=f"referred_first_{last}w", description=desc, first_week=0,
                  last_week=last, follow_up_weeks=int(follow_up_weeks))


def members(log: pd.DataFrame, cohort: Cohort) -> np.ndarray:
    """Client ids of the cohort: REFERRED in the window and never REJECTED.

    Args:
        log: The event log.
        cohort: The cohort.

    Returns:
        Sorted unique client ids (int64).
    """
    check_log(log)
    ev = log["event"].to_numpy()
    week = log["week"].to_numpy()
    client = log["client"].to_numpy()
    ref = ev == int(Ev.REFERRED)
    referred = np.unique(client[ref & cohort.contains(week)])
    rejected = np.unique(client[ev == int(Ev.REJECTED)])
    return np.setdiff1d(referred, rejected, assume_unique=True).astype(np.int64)
