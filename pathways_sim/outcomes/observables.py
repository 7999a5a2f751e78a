"""Calibration observables: (k, n) counts computed from the event log.

Every calibration target (``calibration/targets.csv``) names an observable, a
cohort of clients and a window. An observable turns one run's event log (plus
the static client attribute table) into a count ``k`` out of ``n``, the same
kind of count the evidence reports, so a likelihood can compare the two.

**Members.** A cohort is built from the accepted referrals in the log (a
REFERRED event and no REJECTED event; re-referrals are returns, not new
members), optionally only those referred in a window of weeks (a
:class:`~pathways_sim.outcomes.cohorts.Cohort`, e.g. the run's default cohort),
then narrowed by a subgroup in :data:`COHORTS`:

* ``all`` - every member;
* ``working_age`` - members below pension age at referral (``attrs.working_age``);
* ``not_in_work`` - members with no EMPLOYED_AT_REFERRAL event.

An explicit array of client ids may be given instead of a subgroup name.

**Windows.** A window of ``M`` months is ``months_to_weeks(M)`` weeks
(:func:`~pathways_sim.outcomes.metrics.months_to_weeks`: 6 -> 26, 12 -> 52,
18 -> 78) from each member's own referral week. An event counts when
``0 <= week - referral week < window``, as in
:mod:`~pathways_sim.outcomes.metrics`; readings (which fall exactly on 26-week
marks) count when ``<= window``, so the 12-month reading is in a 12-month
window. ``None`` is no limit: everything in the log ("cumulative"). Runs must
simulate the whole window for every member; later outcomes are simply absent.

**Units.** ``clients``: ``n`` is the number of members and ``k`` the members
with the outcome (binomial). ``goals``: event-level counts, several per client
(goals set, onward referrals, needs raised), so overdispersed
(beta-binomial). Goals are the goals a co-produced plan records (as in Ways
to Wellness' Wellbeing Star action plans): each ACTIVITY_REFERRAL is a goal of
its activity's kind (``employment_advice`` is a work goal, ``volunteering`` a
volunteering goal, and so on). A wish to work (WORK_GOAL, at referral or
later) is a need the client raises, not a goal the plan records: it counts in
``work_issue_share`` and ``work_goal`` (clients), not among goals, until the
plan acts on it with employment advice. Referrals to work-focused support
outside the VCS (DIRECT_START) are onward referrals
(``employment_referral_share``), not plan goals.

**Employment-related need at referral.** A member presents an
employment-related need when employment is the main reason for referral
(``attrs.reason``: working age, wants work) or the member is in work at risk of
losing it (``attrs.employment_status == "employed_at_risk"``: a job-retention
need, whatever the main reason).

**Pattern terms.** Four observables put the report's qualitative patterns
(docs/evidence.md §E4.8) in k/n form, so a one-sided likelihood
(``lower_bound``/``upper_bound``) can carry them into the fit:
``stepping_vs_work`` (stepping stones over four times job starts),
``work_interest_rise_6m`` (wishes to work by 6 months over three times those at
referral), ``jobs_6m_of_12m`` (job starts by 6 months well below those by 12) and
``work_interest_vs_other_domains`` (interest in work improves more than any other
domain). Each is written so that the pattern's ratio ``r`` ("``a`` is more than
``r`` times ``b``") is the bound ``a / (a + b) >= r / (1 + r)``, and each counts
the same quantities as the matching check of ``experiments/patterns.yaml``.

**Static attributes.** ``attrs`` (``PathwaysModel.client_attributes()``) is
used only for what is fixed at referral and not in the log: ``working_age``
(the ``working_age`` cohort), ``reason`` and ``employment_status``
(``employment_need_at_referral`` and ``work_issue_share``). Everything else comes from the log.

Typical use::

    from pathways_sim.outcomes.observables import observe

    k, n = observe("found_work", log, attrs, cohort="all", window_months=12,
                   referred=default_cohort(run.weeks, run.cohort_weeks, run.follow_up_weeks))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pathways_sim.model.clients import DOMAINS
from pathways_sim.model.events import ACTIVITY_CODES, BARRIER_EVENTS, Ev
from pathways_sim.outcomes.cohorts import Cohort, members
from pathways_sim.outcomes.log import check_log
from pathways_sim.outcomes.metrics import barrier_fall, months_to_weeks

_VOL = ACTIVITY_CODES["volunteering"]
_TRAIN = ACTIVITY_CODES["training"]
_EMP = ACTIVITY_CODES["employment_advice"]

#: Subgroups a cohort can be narrowed to (see the module docstring).
COHORTS: tuple[str, ...] = ("all", "working_age", "not_in_work")

#: Units of an observable's counts.
UNITS: tuple[str, ...] = ("clients", "goals", "points")

_FALL = 1e-6  # a barrier 'fell' when it dropped by more than float32 noise

CohortArg = str | np.ndarray | Iterable[int]


# ----------------------------------------------------------------------------- the panel
class Panel:
    """The log rows of a cohort's members, grouped by event, with weeks since referral.

    Build one per (log, cohort) and evaluate any number of observables and
    windows on it (:meth:`Observable.count`).

    Args:
        log: The event log (columns week, client, event, value).
        attrs: The client attribute table, or None (then the ``working_age``
            cohort and the observables that need ``reason`` raise).
        cohort: A subgroup name in :data:`COHORTS` or an array of client ids
            (only accepted referrals among them are kept).
        referred: Keep only members referred in this window of weeks; None keeps
            every accepted referral in the log.

    Attributes:
        ids: Member client ids, sorted (int64).
        n: Number of members.
        ref: Each member's referral week.
        attrs: The attribute table (or None).

    Raises:
        ValueError: For an unknown cohort name, a log missing a column, or the
            ``working_age`` cohort without ``attrs``.
    """

    def __init__(self, log: pd.DataFrame, attrs: pd.DataFrame | None,
                 cohort: CohortArg = "all", referred: Cohort | None = None) -> None:
        check_log(log)
        self.attrs = attrs
        window = referred if referred is not None else Cohort(
            "all", "all accepted referrals", -(10**9), 10**9, 0)
        ids = members(log, window)
        if isinstance(cohort, str):
            if cohort not in COHORTS:
                raise ValueError(f"unknown cohort {cohort!r}; expected one of {list(COHORTS)} "
                                 "or an array of client ids")
            if cohort == "working_age":
                wa = self._attr("working_age", "the 'working_age' cohort")
                ids = ids[wa.reindex(ids, fill_value=False).to_numpy(dtype=bool)]
            elif cohort == "not_in_work":
                ev = log["event"].to_numpy()
                employed = np.unique(log["client"].to_numpy()[ev == int(Ev.EMPLOYED_AT_REFERRAL)])
                ids = np.setdiff1d(ids, employed)
        else:
            ids = np.intersect1d(ids, np.fromiter(cohort, dtype=np.int64))
        self.ids = ids = ids.astype(np.int64)
        self.n = n = len(ids)

        week = log["week"].to_numpy().astype(np.int64)
        client = log["client"].to_numpy().astype(np.int64)
        ev = log["event"].to_numpy().astype(np.int64)
        pos = np.searchsorted(ids, client)
        hit = (pos < n) & (ids[np.minimum(pos, max(n - 1, 0))] == client) if n else pos < 0
        rows = np.flatnonzero(hit)
        pos = pos[rows]
        self.ref = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
        is_ref = ev[rows] == int(Ev.REFERRED)
        np.minimum.at(self.ref, pos[is_ref], week[rows][is_ref])
        rel = week[rows] - self.ref[pos]
        ok = rel >= 0
        rows, pos, rel = rows[ok], pos[ok], rel[ok]
        # Group by event; within an event, chronological (week, then log order).
        order = np.lexsort((rows, week[rows], ev[rows]))
        self._rows, self._pos, self._rel = rows[order], pos[order], rel[order]
        self._ev = ev[self._rows]
        self._val = log["value"].to_numpy()[self._rows].astype(np.float64)
        self._bounds = np.searchsorted(self._ev, np.arange(max(int(e) for e in Ev) + 2))

    def _attr(self, column: str, needed_for: str) -> pd.Series:
        if self.attrs is None or column not in self.attrs.columns:
            raise ValueError(f"{needed_for} needs the client attribute table with a "
                             f"{column!r} column (PathwaysModel.client_attributes())")
        return self.attrs.set_index("client")[column]

    def attribute(self, column: str, needed_for: str) -> np.ndarray:
        """Members' static attribute ``column`` from ``attrs``, in member order (object array).

        Raises:
            ValueError: If ``attrs`` is None or lacks the column.
        """
        return self._attr(column, needed_for).reindex(self.ids).to_numpy(dtype=object)

    def rows(self, event: Ev, window_weeks: int | None = None, *, inclusive: bool = False,
             values: Iterable[float] | None = None, min_value: float | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(member position, weeks since referral, value) of one event's rows in a window.

        Args:
            event: The event code.
            window_weeks: Keep rows less than this many weeks after referral (at most,
                with ``inclusive``); None keeps every row.
            inclusive: Count rows exactly ``window_weeks`` after referral (readings).
            values: Keep only rows with one of these values.
            min_value: Keep only rows with a value at least this.

        Returns:
            Three arrays, chronological per member.
        """
        lo, hi = self._bounds[int(event)], self._bounds[int(event) + 1]
        pos, rel, val = self._pos[lo:hi], self._rel[lo:hi], self._val[lo:hi]
        keep = np.ones(len(pos), dtype=bool)
        if window_weeks is not None:
            keep &= (rel <= window_weeks) if inclusive else (rel < window_weeks)
        if values is not None:
            keep &= np.isin(val, np.asarray(list(values), dtype=np.float64))
        if min_value is not None:
            keep &= val >= min_value
        return pos[keep], rel[keep], val[keep]

    def has(self, event: Ev, window_weeks: int | None, **filters) -> np.ndarray:
        """Boolean per member: at least one such event in the window."""
        pos, _, _ = self.rows(event, window_weeks, **filters)
        out = np.zeros(self.n, dtype=bool)
        out[pos] = True
        return out

    def count(self, event: Ev, window_weeks: int | None, **filters) -> int:
        """Number of such events of all members in the window."""
        return len(self.rows(event, window_weeks, **filters)[0])

    def first_and_last(self, event: Ev, window_weeks: int | None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Each member's reading at referral and latest reading within the window (inclusive).

        NaN where a member has no reading at referral (``last`` is then NaN too
        unless a later reading exists).
        """
        pos, rel, val = self.rows(event, window_weeks, inclusive=True)
        start = np.full(self.n, np.nan)
        at0 = rel == 0
        who, first = np.unique(pos[at0], return_index=True)  # rows are chronological
        start[who] = val[at0][first]
        last = np.full(self.n, np.nan)
        who, first = np.unique(pos[::-1], return_index=True)  # reversed: latest first
        last[who] = val[::-1][first]
        return start, last


# ----------------------------------------------------------------------------- registry
Counter = Callable[[Panel, int | None], tuple[int, int]]


@dataclass(frozen=True)
class Observable:
    """A calibration observable: a named (k, n) count from the event log.

    Attributes:
        name: Registry name (as in ``calibration/targets.csv``).
        unit: ``clients`` (k of n members) or ``goals`` (event-level counts).
        description: What is counted, exactly.
        counter: Computes (k, n) from a :class:`Panel` and a window in weeks (None: no limit).
    """

    name: str
    unit: str
    description: str
    counter: Counter

    def count(self, panel: Panel, window_weeks: int | None) -> tuple[int, int]:
        """(k, n) on a prepared panel."""
        k, n = self.counter(panel, window_weeks)
        return int(k), int(n)

    def __call__(self, log: pd.DataFrame, attrs: pd.DataFrame | None,
                 cohort: CohortArg = "all", window_weeks: int | None = None, *,
                 referred: Cohort | None = None) -> tuple[int, int]:
        """(k, n) for a log, a cohort and a window in weeks from each member's referral.

        Args:
            log: The event log.
            attrs: The client attribute table (or None where not needed).
            cohort: A name in :data:`COHORTS` or an array of client ids.
            window_weeks: Weeks from each member's referral (None: no limit).
            referred: Only members referred in this window of weeks (None: all).

        Returns:
            ``(k, n)`` as ints.
        """
        return self.count(Panel(log, attrs, cohort, referred), window_weeks)


OBSERVABLES: dict[str, Observable] = {}


def _register(name: str, unit: str, description: str) -> Callable[[Counter], Counter]:
    def wrap(fn: Counter) -> Counter:
        assert unit in UNITS and name not in OBSERVABLES
        OBSERVABLES[name] = Observable(name, unit, description, fn)
        return fn
    return wrap


def _clients_with(event: Ev, **filters) -> Counter:
    def fn(panel: Panel, w: int | None) -> tuple[int, int]:
        return int(panel.has(event, w, **filters).sum()), panel.n
    return fn


def _add(name: str, description: str, fn: Counter, unit: str = "clients") -> None:
    _register(name, unit, description)(fn)


_add("found_work", "Members who started a job (JOB_START) within the window; clients in work "
     "at referral count only if they start a new job.", _clients_with(Ev.JOB_START))
_add("training_or_education", "Members who started training or education (ACTIVITY_START "
     "of 'training') within the window.", _clients_with(Ev.ACTIVITY_START, values=(_TRAIN,)))
_add("volunteering", "Members who started volunteering (ACTIVITY_START of 'volunteering') "
     "within the window.", _clients_with(Ev.ACTIVITY_START, values=(_VOL,)))
_add("stepping_stone", "Members who started volunteering or training within the window.",
     _clients_with(Ev.ACTIVITY_START, values=(_VOL, _TRAIN)))
_add("took_up_service", "Members who started any VCS activity (ACTIVITY_START) within the "
     "window.", _clients_with(Ev.ACTIVITY_START))
_add("engaged", "Members assigned a Link Worker (ASSIGNED: first contact) within the window.",
     _clients_with(Ev.ASSIGNED))
_add("work_goal", "Members who stated a work goal (WORK_GOAL, at referral included) within "
     "the window.", _clients_with(Ev.WORK_GOAL))
_add("direct_support", "Members who started work-focused support (DIRECT_START: JCP, "
     "employment adviser or IPS) within the window.", _clients_with(Ev.DIRECT_START))
_add("in_work_13w", "Members who reached 13 or more weeks in a job (SUSTAINED with value "
     ">= 13) within the window.", _clients_with(Ev.SUSTAINED, min_value=13))


@_register("worked_any", "clients", "Members who worked at all within the window: a "
           "JOB_START in the window or in work at referral (EMPLOYED_AT_REFERRAL); EQOLISE's "
           "'worked at least one day'.")
def _worked_any(panel: Panel, w: int | None) -> tuple[int, int]:
    worked = panel.has(Ev.JOB_START, w) | panel.has(Ev.EMPLOYED_AT_REFERRAL, None)
    return int(worked.sum()), panel.n


def _employment_related_need(panel: Panel, needed_for: str) -> np.ndarray:
    """Members with an employment-related need at referral (module docstring)."""
    reason = panel.attribute("reason", needed_for)
    status = panel.attribute("employment_status", needed_for)
    return np.array([r == "employment" or e == "employed_at_risk"
                     for r, e in zip(reason, status, strict=True)], dtype=bool)


@_register("employment_need_at_referral", "clients", "Members who present an "
           "employment-related need at referral: employment is the main reason for referral "
           "(attrs.reason, the report's Box C) or they are in work at risk of losing it "
           "(attrs.employment_status, a job-retention need); read at referral, so the window "
           "is ignored.")
def _employment_need(panel: Panel, w: int | None) -> tuple[int, int]:
    return int(_employment_related_need(panel, "employment_need_at_referral").sum()), panel.n


def _goals(panel: Panel, w: int | None) -> tuple[int, int, int]:
    """(work goals, volunteering goals, all goals) set by plans within the window."""
    _, _, act = panel.rows(Ev.ACTIVITY_REFERRAL, w)
    return int(np.count_nonzero(act == _EMP)), int(np.count_nonzero(act == _VOL)), len(act)


@_register("work_goals_share", "goals", "Work goals among all goals the plans set within the "
           "window. Goals: each ACTIVITY_REFERRAL is a goal of its activity's kind; work goals "
           "are ACTIVITY_REFERRAL to employment_advice (a stated wish to work, WORK_GOAL, is a "
           "need raised, not a goal recorded).")
def _work_goals(panel: Panel, w: int | None) -> tuple[int, int]:
    work, _, total = _goals(panel, w)
    return work, total


@_register("volunteering_goals_share", "goals", "Volunteering goals (ACTIVITY_REFERRAL to "
           "volunteering) among all goals set within the window (goals as in "
           "work_goals_share).")
def _volunteering_goals(panel: Panel, w: int | None) -> tuple[int, int]:
    _, vol, total = _goals(panel, w)
    return vol, total


@_register("volunteering_vs_work_goals", "goals", "Volunteering goals among volunteering and "
           "work goals set within the window (goals as in work_goals_share): a share above "
           "0.75 means more than three volunteering goals per work goal.")
def _volunteering_vs_work(panel: Panel, w: int | None) -> tuple[int, int]:
    work, vol, _ = _goals(panel, w)
    return vol, vol + work


@_register("employment_referral_share", "goals", "Onward referrals to employment support "
           "among all onward referrals within the window: (ACTIVITY_REFERRAL to "
           "employment_advice + DIRECT_START) / (ACTIVITY_REFERRAL + DIRECT_START).")
def _employment_referrals(panel: Panel, w: int | None) -> tuple[int, int]:
    _, _, act = panel.rows(Ev.ACTIVITY_REFERRAL, w)
    direct = panel.count(Ev.DIRECT_START, w)
    return int(np.count_nonzero(act == _EMP)) + direct, len(act) + direct


@_register("work_issue_share", "goals", "Needs raised that concern work: (members with an "
           "employment-related need at referral, as in employment_need_at_referral + WORK_GOAL "
           "events in the window) / (members, one need each at referral + WORK_GOAL events in "
           "the window).")
def _work_issues(panel: Panel, w: int | None) -> tuple[int, int]:
    at_referral = int(_employment_related_need(panel, "work_issue_share").sum())
    stated = panel.count(Ev.WORK_GOAL, w)
    return at_referral + stated, panel.n + stated


def _barrier_fall(panel: Panel, w: int | None, event: Ev) -> tuple[np.ndarray, np.ndarray]:
    """(has a referral reading, fall of the barrier from it to the last reading in the window;
    0 with no later reading, NaN with no reading at referral)."""
    start, last = panel.first_and_last(event, w)
    return ~np.isnan(start), barrier_fall(start, last)


def _barrier_fell(panel: Panel, w: int | None, event: Ev) -> tuple[np.ndarray, np.ndarray]:
    """(has a referral reading, barrier fell from it to the last reading in the window)."""
    read, fall = _barrier_fall(panel, w, event)
    return read, read & (fall > _FALL)


def _domain_improvement(event: Ev) -> Counter:
    def fn(panel: Panel, w: int | None) -> tuple[int, int]:
        read, fell = _barrier_fell(panel, w, event)
        return int(fell.sum()), int(read.sum())
    return fn


for _domain, _event in zip(DOMAINS, BARRIER_EVENTS, strict=True):
    _add(f"wellbeing_domain_improvement.{_domain}",
         f"Members whose {_domain.replace('_', ' ')} barrier (BARRIER_{_domain.upper()}) fell "
         "from the reading at referral to the last reading within the window (inclusive); n: "
         "members with a reading at referral.", _domain_improvement(_event))


@_register("any_domain_progress", "clients", "Members whose barrier fell in at least one "
           "domain from the reading at referral to the last reading within the window "
           "(inclusive); n: members with readings at referral.")
def _any_progress(panel: Panel, w: int | None) -> tuple[int, int]:
    read = np.ones(panel.n, dtype=bool)
    any_fell = np.zeros(panel.n, dtype=bool)
    for event in BARRIER_EVENTS:
        r, f = _barrier_fell(panel, w, event)
        read &= r
        any_fell |= f
    return int((any_fell & read).sum()), int(read.sum())


# ----------------------------------------------------------------------------- pattern terms
# The report's qualitative patterns (docs/evidence.md §E4.8) as k/n counts, so a one-sided
# likelihood (``lower_bound`` / ``upper_bound``) can carry them into the fit. Each share is
# written so that the bound is the pattern's own ratio: k / n >= r / (1 + r) is exactly
# "k is at least r times the other count".

_SIX_MONTHS = months_to_weeks(6)
_TWELVE_MONTHS = months_to_weeks(12)


@_register("stepping_vs_work", "clients", "Members who started a stepping stone "
           "(ACTIVITY_START of volunteering or training) within the window, out of those "
           "members plus the members who started a job (JOB_START) within the window; a "
           "member who did both counts in both, so k / n >= 0.8 is exactly 'at least four "
           "times as many clients reached a stepping stone as found work' (Rotherham, "
           "docs/evidence.md §E4.1; the patterns experiment's check 2).")
def _stepping_vs_work(panel: Panel, w: int | None) -> tuple[int, int]:
    step = int(panel.has(Ev.ACTIVITY_START, w, values=(_VOL, _TRAIN)).sum())
    work = int(panel.has(Ev.JOB_START, w).sum())
    return step, step + work


@_register("work_interest_rise_6m", "clients", "Members who stated a wish to work (WORK_GOAL) "
           "within 6 months of referral, out of those members plus the members who stated one "
           "in the week of referral: the metrics work_goal_6m and work_goal_at_referral as "
           "counts, so k / n >= 0.75 is exactly the patterns experiment's check 9 (work goals "
           "by 6 months over three times those at referral, docs/evidence.md §E3.9). Read at "
           "referral and at 6 months: the window is ignored.")
def _work_interest_rise(panel: Panel, w: int | None) -> tuple[int, int]:
    at_referral = int(panel.has(Ev.WORK_GOAL, 1).sum())
    by_six = int(panel.has(Ev.WORK_GOAL, _SIX_MONTHS).sum())
    return by_six, at_referral + by_six


@_register("jobs_6m_of_12m", "clients", "Members who started a job (JOB_START) within 6 months "
           "of referral, out of the members who started one within 12 months (the metrics "
           "found_work_6m and found_work_12m as counts): k / n <= 0.6 is the patterns "
           "experiment's check 3, 'job outcomes at 6 months much lower than at 12' "
           "(docs/evidence.md §E4.8). Read at 6 and 12 months: the window is ignored.")
def _jobs_6m_of_12m(panel: Panel, w: int | None) -> tuple[int, int]:
    return (int(panel.has(Ev.JOB_START, _SIX_MONTHS).sum()),
            int(panel.has(Ev.JOB_START, _TWELVE_MONTHS).sum()))


_ASPIRATION = BARRIER_EVENTS[DOMAINS.index("aspiration")]


@_register("work_interest_vs_other_domains", "points", "Progress in interest in work against "
           "the most-improved other area, as the services measured it (a mean change of an "
           "area's score): k is the members' summed fall of the aspiration barrier "
           "(BARRIER_ASPIRATION) from the reading at referral to the last reading within the "
           "window (inclusive), in points of a 100-point scale (barrier units x 100, rounded; "
           "0 if negative); n is k plus the same sum for the most-improved of the seven other "
           "domains. k / n > 0.5 is 'of the eight wellbeing measures, interest in work showed "
           "the greatest progress' (docs/evidence.md §E3.9), the metrics "
           "work_interest_progress_6m against other_domain_progress_6m at 6 months.")
def _work_interest_vs_other_domains(panel: Panel, w: int | None) -> tuple[int, int]:
    work = _points(panel, w, _ASPIRATION)
    other = max(_points(panel, w, ev) for ev in BARRIER_EVENTS if ev != _ASPIRATION)
    return work, work + other


def _points(panel: Panel, w: int | None, event: Ev) -> int:
    """Members' summed fall of a barrier since referral, in points of a 100-point scale."""
    read, fall = _barrier_fall(panel, w, event)
    return max(0, int(round(100 * float(fall[read].sum()))))


# ----------------------------------------------------------------------------- entry points
def months_to_window(window_months: float | None) -> int | None:
    """Weeks in a window of months (:func:`months_to_weeks`); None stays None (no limit)."""
    if window_months is None or (isinstance(window_months, float) and np.isnan(window_months)):
        return None
    return months_to_weeks(window_months)


def observe(name: str, log: pd.DataFrame, attrs: pd.DataFrame | None,
            cohort: CohortArg = "all", window_months: float | None = None, *,
            referred: Cohort | None = None) -> tuple[int, int]:
    """(k, n) of observable ``name`` for a cohort and a window in months from referral.

    Args:
        name: A key of :data:`OBSERVABLES`.
        log: The event log.
        attrs: The client attribute table (needed by the ``working_age`` cohort,
            ``employment_need_at_referral`` and ``work_issue_share``).
        cohort: A name in :data:`COHORTS` or an array of client ids.
        window_months: Months from each member's referral (None or NaN: no limit).
        referred: Only members referred in this window of weeks (e.g. the run's
            :func:`~pathways_sim.outcomes.cohorts.default_cohort`); None: all.

    Returns:
        ``(k, n)`` as ints.

    Raises:
        KeyError: For an unknown observable (the message lists them).
        ValueError: For an unknown cohort, or missing ``attrs`` where needed.
    """
    if name not in OBSERVABLES:
        raise KeyError(f"unknown observable {name!r}; known: {sorted(OBSERVABLES)}")
    return OBSERVABLES[name](log, attrs, cohort, months_to_window(window_months),
                             referred=referred)


def observe_many(specs: Iterable[tuple[str, CohortArg, float | None]], log: pd.DataFrame,
                 attrs: pd.DataFrame | None, *, referred: Cohort | None = None
                 ) -> list[tuple[int, int]]:
    """(k, n) of several (observable, cohort, window_months) specs, one panel per cohort.

    Args:
        specs: (name, cohort, window_months) triples.
        log: The event log.
        attrs: The client attribute table (or None where not needed).
        referred: Only members referred in this window of weeks; None: all.

    Returns:
        One ``(k, n)`` per spec, in order.
    """
    panels: dict[str, Panel] = {}
    out = []
    for name, cohort, months in specs:
        if name not in OBSERVABLES:
            raise KeyError(f"unknown observable {name!r}; known: {sorted(OBSERVABLES)}")
        key = cohort if isinstance(cohort, str) else f"ids:{id(cohort)}"
        if key not in panels:
            panels[key] = Panel(log, attrs, cohort, referred)
        out.append(OBSERVABLES[name].count(panels[key], months_to_window(months)))
    return out
