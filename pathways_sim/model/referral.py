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
    DISTANCE_WEIGHTS,
    EMPLOYED_AT_RISK,
    INACTIVE,
    REJECTED,
    RETIRED,
    UNEMPLOYED,
    WAITING,
    D,
    wellbeing,
)
from pathways_sim.model.events import SOURCE_CODES, Ev
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
    # JCP refers Universal Credit claimants: working age, mostly unemployed (MODEL.md §2).
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
        shares = np.array([getattr(p.referrals, f"share_{s}") for s in SOURCES])
        shares = shares / shares.sum() if shares.sum() > 0 else shares
        shifts = {s: getattr(p.referrals, f"shift_{s}", 0.0) for s in SOURCES}
        shifts["gp"] = 0.0
        self.sources = [ReferralSource(s, p.referrals.per_year * scale * w, shifts[s])
                        for s, w in zip(SOURCES, shares, strict=True)]
        jcp = model.work_support.jobcentre
        self.sources.append(ReferralSource("jcp", jcp.referrals_per_year, p.jcp.shift))
        self.schedule = ReferralSchedule(p, model.streams, self.sources, p.run.weeks)

    def step(self, t: int) -> None:
        """Add week ``t``'s referrals: attributes, readings at referral, eligibility, goals."""
        new = self.schedule.week(t)
        if new is None:
            return
        m, p = self.model, self.p
        s, log = m.clients, m.log
        rows = s.extend(len(new["age"]))
        for key, col in new.items():
            getattr(s, key)[rows] = col
        s.B0[rows] = new["B"]
        s.ref_week[rows] = t
        s.wait_since[rows] = t
        idx = np.arange(rows.start, rows.stop, dtype=np.int32)
        B = new["B"]
        dist = B @ DISTANCE_WEIGHTS
        s.dist[rows] = dist
        s.dist0[rows] = dist
        s.far[rows] = dist >= p.funding.far_distance
        log.add(Ev.REFERRED, t, idx, new["source"])
        log.add(Ev.READING, t, idx, dist)
        log.add(Ev.WELLBEING, t, idx, wellbeing(B))
        e = p.eligibility
        age, wa = new["age"], new["working_age"]
        reject = ((age < e.min_age) | (age > e.max_age) | (dist > e.max_distance)
                  | (e.working_age_only & ~wa) | (e.exclude_psychosis & new["psychosis"]))
        s.status[rows] = np.where(reject, REJECTED, WAITING)
        log.add(Ev.REJECTED, t, idx[reject])
        kept = idx[~reject]
        log.add_barriers(t, kept, s.B[kept])
        employed = (new["emp_status"] == EMPLOYED_AT_RISK) & ~reject
        s.in_work[rows] = employed
        log.add(Ev.EMPLOYED_AT_REFERRAL, t, idx[employed])
        goal = ~reject & wa & ~employed & (B[:, _ASP] < p.dynamics.goal_threshold)
        s.goal[rows] = goal
        log.add(Ev.WORK_GOAL, t, idx[goal], B[goal, _ASP])
