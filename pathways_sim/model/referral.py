"""Referral sources and the clients they refer (client mix and barrier profiles)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from pathways_sim.model.clients import (
    D,
    EMPLOYED_AT_RISK,
    INACTIVE,
    RETIRED,
    UNEMPLOYED,
    ClientState,
)
from pathways_sim.model.events import SOURCE_CODES
from pathways_sim.model.rng import Streams

_COLUMNS = 16  # uniform draws per referred client (fixed: keeps CRN across scenarios)

# Typical barrier at referral of each work-experience status. Assumption: clients
# out of work longer have less recent work experience (MBAT "recent work" domain).
_WORK_EXPERIENCE = np.zeros(4, dtype=np.float32)
_WORK_EXPERIENCE[[EMPLOYED_AT_RISK, UNEMPLOYED, INACTIVE, RETIRED]] = (0.2, 0.45, 0.7, 0.9)


@dataclass
class ReferralSource:
    """A referrer (GP, hospital, mental health services, social care, self, JCP).

    Attributes:
        name: Source name (a key of SOURCE_CODES).
        per_year: Expected referrals a year (after scaling).
        shift: Added to every barrier of its referrals (negative: closer to work).
        referred: Clients referred so far (their order of arrival keys their draws).
    """

    name: str
    per_year: float
    shift: float
    referred: int = 0

    @property
    def code(self) -> int:
        return SOURCE_CODES[self.name]


def make_clients(state: ClientState, p, streams: Streams, source: ReferralSource, k: int,
                 week: int) -> slice:
    """Append ``k`` clients referred by ``source`` in ``week`` and draw their attributes.

    Client ``j`` of a source always gets the ``j``-th row of that source's
    population draws, so the same person arrives in every scenario with the
    same seed (common random numbers for the client mix).
    """
    rows = state.extend(k)
    u = streams.population(source.name, source.referred, k, _COLUMNS)
    source.referred += k
    c = p.clients
    wa = u[:, 0] < c.share_working_age
    pension = float(c.pension_age)
    age = np.where(wa, 18.0 + u[:, 1] * (pension - 18.0),
                   np.minimum(100.0, pension - 9.0 * np.log1p(-u[:, 1])))
    conditions = np.minimum(3, poisson.ppf(u[:, 2], max(c.conditions_mean, 1e-9))).astype(np.int8)
    emp = np.where(u[:, 3] < c.share_employed_at_risk, EMPLOYED_AT_RISK,
                   np.where(u[:, 3] < c.share_employed_at_risk + c.share_unemployed,
                            UNEMPLOYED, INACTIVE))
    emp = np.where(wa, emp, RETIRED).astype(np.int8)
    z = Streams.normal(u[:, 6])[:, None]  # common frailty
    e = Streams.normal(u[:, 7:15])  # domain-specific
    base = np.full((k, 8), c.barrier_mean, dtype=np.float32)
    base[:, D["physical"]] += 0.08 * (conditions - 1.4)
    base[:, D["skills"]] -= 0.05
    substance = u[:, 5] < c.share_substance_use
    base[:, D["substance"]] = np.where(substance, 0.7, 0.08)
    base[:, D["work_experience"]] = _WORK_EXPERIENCE[emp]
    asp = np.where(emp == EMPLOYED_AT_RISK, 0.3, c.aspiration_barrier)
    base[:, D["aspiration"]] = np.where(wa, asp, 0.98)
    B = base + c.barrier_sd * (0.6 * z + 0.8 * e) + c.distance_shift + source.shift
    B[~wa, D["aspiration"]] = 0.98  # above pension age work is not a goal (EVIDENCE §4)
    B[~substance, D["substance"]] = np.minimum(B[~substance, D["substance"]], 0.15)
    np.clip(B, 0.01, 0.99, out=B)

    state.ref_week[rows] = week
    state.source[rows] = source.code
    state.age[rows] = age
    state.working_age[rows] = wa
    state.conditions[rows] = conditions
    state.emp_status[rows] = emp
    state.psychosis[rows] = u[:, 4] < c.share_psychosis
    state.B[rows] = B
    state.B0[rows] = B
    state.in_work[rows] = emp == EMPLOYED_AT_RISK
    state.reason[rows] = _reason(B, emp, wa, source.name, u[:, 15], p.dynamics.goal_threshold)
    return rows


def _reason(B: np.ndarray, emp: np.ndarray, wa: np.ndarray, source: str, noise: np.ndarray,
            goal_threshold: float) -> np.ndarray:
    """Main reason for referral (the report's Box C): the most pressing barrier, or employment."""
    cols = [D["physical"], D["mental"], D["isolation"], D["money_housing"], D["substance"],
            D["skills"]]
    felt = B[:, cols] + 0.15 * noise[:, None] * np.arange(1, 7, dtype=np.float32) / 6.0
    reason = np.argmax(felt, axis=1).astype(np.int8)
    wants_work = wa & (emp != EMPLOYED_AT_RISK) & (B[:, D["aspiration"]] < goal_threshold + 0.1)
    if source == "jcp":
        wants_work |= wa
    reason[wants_work] = 6
    return reason
