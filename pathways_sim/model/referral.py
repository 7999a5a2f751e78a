"""Referral: the sources, the clients they refer (client mix, barriers) and eligibility.

The process :class:`Referral` adds each week's referrals to the client arrays (phase
``refer``): every referral of the run is drawn up front by :class:`ReferralSchedule`
(referrals do not depend on model state); eligibility rules reject some; the rest join
the Link Worker waiting list, and those whose aspiration barrier is already low state a
work goal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import poisson

from pathways_sim.model.clients import (
    EMPLOYED_AT_RISK,
    INACTIVE,
    REJECTED,
    RETIRED,
    UNEMPLOYED,
    WAITING,
    D,
    distance_weights,
    wellbeing,
)
from pathways_sim.model.events import BARRIER_EVENTS, SOURCE_CODES, Ev
from pathways_sim.model.process import Process
from pathways_sim.model.rng import Streams
from pathways_sim.scenario.registry import SOURCES

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

_COLUMNS = 16  # uniform draws per referred client (fixed: keeps CRN across scenarios)



@dataclass
class ReferralSource:
    """A referrer (GP, hospital, mental health services, social care, self, JCP).

    Attributes:
        name: Source name (a key of SOURCE_CODES).
        per_year: Expected referrals a year (after scaling).
        shift: Added to every barrier of its referrals (negative: closer to work).
    """

    name: str
    per_year: float
    shift: float

    @property
    def code(self) -> int:
        return SOURCE_CODES[self.name]


def _poisson_capped(u: np.ndarray, mean: float, cap: int = 3) -> np.ndarray:
    """Inverse-CDF Poisson draws capped at ``cap`` (the '3+' conditions group)."""
    cdf = poisson.cdf(np.arange(cap), max(mean, 1e-9))
    return np.searchsorted(cdf, u, side="right").astype(np.int8)


def draw_population(p, streams: Streams, source: ReferralSource, seq_lo: int,
                    k: int) -> dict[str, np.ndarray]:
    """Attributes of referrals ``seq_lo .. seq_lo+k-1`` from ``source`` (vectorised).

    Client ``j`` of a source always gets the ``j``-th row of that source's
    population draws, so the same person arrives in every scenario with the
    same seed (common random numbers for the client mix).
    """
    u = streams.population(source.name, seq_lo, k, _COLUMNS)
    c = p.clients
    # Typical barrier at referral of each work-experience status (MBAT "recent work" domain).
    work_experience = np.zeros(4, dtype=np.float32)
    work_experience[[EMPLOYED_AT_RISK, UNEMPLOYED, INACTIVE, RETIRED]] = (
        c.work_experience_employed, c.work_experience_unemployed, c.work_experience_inactive,
        c.work_experience_retired)
    # JCP refers Universal Credit claimants: working age, mostly unemployed (evidence.md §E4.3).
    jcp = source.name == "jcp"
    wa = np.ones(k, dtype=bool) if jcp else u[:, 0] < c.share_working_age
    pension = float(c.pension_age)
    age = np.where(wa, 18.0 + u[:, 1] * (pension - 18.0),
                   np.minimum(c.max_age, pension - c.age_tail_years * np.log1p(-u[:, 1])))
    conditions = _poisson_capped(u[:, 2], c.conditions_mean)
    emp = np.where(u[:, 3] < c.share_employed_at_risk, EMPLOYED_AT_RISK,
                   np.where(u[:, 3] < c.share_employed_at_risk + c.share_unemployed,
                            UNEMPLOYED, INACTIVE))
    if jcp:
        emp = np.where(u[:, 3] < p.jcp.share_unemployed, UNEMPLOYED, INACTIVE)
    emp = np.where(wa, emp, RETIRED).astype(np.int8)
    z = Streams.normal(u[:, 6])[:, None]  # common frailty
    e = Streams.normal(u[:, 7:15])  # domain-specific
    base = np.full((k, 8), c.barrier_mean, dtype=np.float32)
    base[:, D["physical"]] += c.condition_barrier_step * (conditions - c.conditions_mean)
    substance = u[:, 5] < c.share_substance_use
    base[:, D["substance"]] = np.where(substance, c.substance_barrier, c.no_substance_barrier)
    base[:, D["work_experience"]] = work_experience[emp]
    base[:, D["aspiration"]] = np.where(emp == EMPLOYED_AT_RISK, c.aspiration_employed,
                                        c.aspiration_barrier)
    B = (base + c.barrier_sd * (c.frailty_loading * z + c.domain_loading * e) + c.distance_shift
         + source.shift)
    B[~wa, D["aspiration"]] = c.aspiration_retired  # above pension age work is not a goal
    B[~substance, D["substance"]] = np.minimum(B[~substance, D["substance"]],
                                               c.no_substance_cap)
    np.clip(B, 0.01, 0.99, out=B)
    return {
        "source": np.full(k, source.code, dtype=np.int8), "age": age.astype(np.float32),
        "working_age": wa, "conditions": conditions, "emp_status": emp,
        "psychosis": u[:, 4] < c.share_psychosis, "B": B.astype(np.float32),
        "reason": _reason(B, emp, wa, source.name, e, p.dynamics.goal_threshold, c),
    }


class ReferralSchedule:
    """Every referral of a run, drawn up front (referrals do not depend on model state).

    Weekly counts per source are Poisson draws from the ``referrals`` stream;
    each source's clients are drawn in one vectorised call. Within a week
    clients arrive source by source in a fixed order.

    Args:
        p: Scenario parameters.
        streams: The run's random streams.
        sources: The referral sources.
        weeks: Weeks to schedule.
    """

    def __init__(self, p, streams: Streams, sources: list[ReferralSource], weeks: int) -> None:
        rates = np.array([src.per_year / 52.0 for src in sources])
        counts = np.array([streams.generator("referrals", w).poisson(rates)
                           for w in range(weeks)], dtype=np.int64).reshape(weeks, len(sources))
        pops = [draw_population(p, streams, src, 0, int(counts[:, j].sum()))
                for j, src in enumerate(sources)]
        # Order rows by (week, source): row r of source j in week w.
        week_of = [np.repeat(np.arange(weeks), counts[:, j]) for j in range(len(sources))]
        src_of = [np.full(len(w), j) for j, w in enumerate(week_of)]
        order = np.lexsort((np.concatenate(src_of), np.concatenate(week_of)))
        self.table = {key: np.concatenate([pop[key] for pop in pops])[order] for key in pops[0]}
        self.offsets = np.concatenate([[0], np.cumsum(counts.sum(axis=1))])

    def week(self, t: int) -> dict[str, np.ndarray] | None:
        """The attributes of clients referred in week ``t`` (None when none or out of range)."""
        if t + 1 >= len(self.offsets):
            return None
        lo, hi = self.offsets[t], self.offsets[t + 1]
        if hi == lo:
            return None
        return {key: col[lo:hi] for key, col in self.table.items()}


def _reason(B: np.ndarray, emp: np.ndarray, wa: np.ndarray, source: str, noise: np.ndarray,
            goal_threshold: float, c) -> np.ndarray:
    """Main reason for referral (the report's Box C): the most pressing barrier, or employment."""
    cols = [D["physical"], D["mental"], D["isolation"], D["money_housing"], D["substance"],
            D["skills"]]
    felt = B[:, cols] + c.reason_salience * noise[:, cols]  # idiosyncratic salience of each need
    reason = np.argmax(felt, axis=1).astype(np.int8)
    wants_work = wa & (emp != EMPLOYED_AT_RISK) & (B[:, D["aspiration"]]
                                                       < goal_threshold + c.reason_work_margin)
    if source == "jcp":
        wants_work |= wa
    reason[wants_work] = 6
    return reason


_ASP = D["aspiration"]


class Referral(Process):
    """Referral and eligibility (phase ``refer``).

    State: the referral sources and the schedule of every referral of the run. Streams:
    ``referrals`` (weekly counts) and ``population.<source>`` (client attributes), drawn up
    front by :class:`ReferralSchedule`.
    """

    SECTIONS = ("referrals", "jcp", "run", "clients", "dynamics", "eligibility", "funding")
    STREAMS = ("referrals", *(f"population.{s}" for s in (*SOURCES, "jcp")))

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        p, scale = self.p, self.p.run.scale
        #: Normalised weights of the barriers in the distance from work (also read by dynamics).
        self.distance_weights = distance_weights(p.clients)
        shares = np.array([getattr(p.referrals, f"share_{s}") for s in SOURCES])
        shares = shares / shares.sum() if shares.sum() > 0 else shares
        shifts = {s: getattr(p.referrals, f"shift_{s}", 0.0) for s in SOURCES}
        shifts["gp"] = 0.0
        self.sources = [ReferralSource(s, p.referrals.per_year * scale * w, shifts[s])
                        for s, w in zip(SOURCES, shares, strict=True)]
        jcp = model.work_support.jobcentre
        self.sources.append(ReferralSource("jcp", jcp.referrals_per_year, p.jcp.shift))
        self.schedule = ReferralSchedule(p, model.streams, self.sources, p.run.weeks)

        self._settle()

    def _settle(self) -> None:
        """Work out, for every scheduled referral at once, what ``step`` adds in its week.

        Referrals do not depend on model state, and a referral's client index is its row in
        the schedule (clients are indexed in order of referral, and only referral adds
        them), so their client columns (eligibility, employment, goal, distance) and their
        events (referral, readings, rejection, employment, goal) are settled here, in
        vectorised passes over the whole run; ``step`` copies week ``t``'s rows. Within a
        week the events are grouped by kind, in the order listed above.
        """
        p, tab = self.p, self.schedule.table
        offsets = self.schedule.offsets
        n = int(offsets[-1])
        week = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)).astype(np.int32)
        idx = np.arange(n, dtype=np.int32)
        B = tab["B"]
        # Week by week, as the referrals arrive: a matrix product's last bits can depend on
        # the number of rows (BLAS blocking), and each week's values must not.
        dist = np.empty(n, dtype=np.float32)
        well = np.empty(n, dtype=np.float32)
        for lo, hi in zip(offsets[:-1], offsets[1:], strict=True):
            if hi > lo:
                dist[lo:hi] = B[lo:hi] @ self.distance_weights
                well[lo:hi] = wellbeing(B[lo:hi])
        e = p.eligibility
        age, wa = tab["age"], tab["working_age"]
        reject = ((age < e.min_age) | (age > e.max_age) | (dist > e.max_distance)
                  | (e.working_age_only & ~wa) | (e.exclude_psychosis & tab["psychosis"]))
        employed = (tab["emp_status"] == EMPLOYED_AT_RISK) & ~reject
        goal = ~reject & wa & ~employed & (B[:, _ASP] < p.dynamics.goal_threshold)
        self.columns = {**tab, "B0": B, "ref_week": week, "wait_since": week, "dist": dist,
                        "dist0": dist, "far": dist >= p.funding.far_distance,
                        "status": np.where(reject, REJECTED, WAITING).astype(np.int8),
                        "in_work": employed, "goal": goal}
        kept = ~reject
        groups = [(Ev.REFERRED, None, tab["source"]), (Ev.READING, None, dist),
                  (Ev.WELLBEING, None, well), (Ev.REJECTED, reject, 0.0),
                  *((ev, kept, B[:, j]) for j, ev in enumerate(BARRIER_EVENTS)),
                  (Ev.EMPLOYED_AT_REFERRAL, employed, 0.0), (Ev.WORK_GOAL, goal, B[:, _ASP])]
        parts = []
        for rank, (ev, mask, value) in enumerate(groups):
            rows = idx if mask is None else idx[mask]
            value = np.broadcast_to(np.asarray(value, dtype=np.float32), (n,))
            parts.append((week[rows], np.full(len(rows), rank), rows, np.full(len(rows), ev),
                          value[rows]))
        ev_week, rank, client, event, value = (np.concatenate(c) for c in zip(*parts,
                                                                              strict=True))
        order = np.lexsort((rank, ev_week))  # stable: by week, kind, then client
        self.events = (ev_week[order].astype(np.int16), client[order],
                       event[order].astype(np.int8), value[order])
        self.event_offsets = np.searchsorted(self.events[0], np.arange(len(offsets)))

    def step(self, t: int) -> None:
        """Add week ``t``'s referrals: their rows of the client arrays and their events
        (settled up front by :meth:`_settle`)."""
        offsets = self.schedule.offsets
        if t + 1 >= len(offsets) or offsets[t + 1] == offsets[t]:
            return
        lo, hi = int(offsets[t]), int(offsets[t + 1])
        s, log = self.model.clients, self.model.log
        if s.n != lo:
            raise RuntimeError(f"referral: client arrays hold {s.n} clients, the schedule {lo}")
        rows = s.extend(hi - lo)
        for key, col in self.columns.items():
            getattr(s, key)[rows] = col[lo:hi]
        a, b = self.event_offsets[t], self.event_offsets[t + 1]
        cols, start = log.reserve(b - a)
        for dst, src in zip(cols, self.events, strict=True):
            dst[start : start + b - a] = src[a:b]
        log.advance(start + b - a)
