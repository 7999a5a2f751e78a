"""The funder/commissioner: funding regime, results payments, the ledger, capacity.

The :class:`Funder` agent pays for outcomes as processes report them (:meth:`Funder.pay`)
and, at the end of every funding period (a Mesa recurring event, not a phase of the
week), settles: it records the ledger row, sets the next period's Link Worker posts from
income and commissions places where waiting lists persist.

The ledger is the service's one cost account (docs/odd.md, "Costs"): per period, what
the funder pays (the guaranteed part of the Link Worker contract, results payments and
the VCS places it funds) and what the Link Worker posts cost. Costs per client, per
session and per job are derived from it and the event log
(:mod:`pathways_sim.outcomes.costs`); no other price enters. Calls go one way: the funder
tells the Link Worker team (:meth:`~pathways_sim.model.link_worker.LinkWork.set_posts`)
and the provision (:meth:`~pathways_sim.model.provider.Provision.commission`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from pathways_sim.model.events import Ev

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

#: Outcome events each regime pays for (docs/evidence.md §E2.13).
PAYS_FOR: dict[str, tuple[str, ...]] = {
    "block": (),
    "pbr_job": ("job",),
    "pbr_job_sustainment": ("job", "sustain_13w", "sustain_26w", "sustain_52w"),
    "pbr_stepping_stones": ("stepping_stone", "distance"),
}


def job_focus(regime: str, incentives) -> float:
    """How much a regime rewards closeness to work, hence creaming and parking.

    Job regimes reward it fully and a block grant not at all (by definition);
    stepping-stone payments by ``incentives.stepping_stone_focus``.
    """
    if regime == "pbr_stepping_stones":
        return incentives.stepping_stone_focus
    return 0.0 if regime == "block" else 1.0


class Funder(Agent):
    """Funds the Link Worker service and pays for results.

    Every funding period (``funding.period_weeks``) the funder settles: the
    guaranteed share of the block budget plus the results payments earned in
    the period, annualised, set the Link Worker posts for the next period
    (when ``funding.capacity_responds``). The ledger keeps one row a period:

    * ``guaranteed``: the part of the contract paid whatever the results,
      annual budget x (1 - share at risk) x weeks / 52;
    * ``results_payments``: paid for the period's outcomes (PAYMENT events);
    * ``income``: the Link Worker service's income, guaranteed + results payments;
    * ``link_worker_posts``: posts funded during the period; ``link_worker_cost``:
      their cost, posts x ``funding.cost_per_link_worker`` x weeks / 52;
    * ``provider_balance``: income - link_worker_cost (0 under a block grant; under
      payment by results the service's surplus or deficit, which sets next period's
      posts when capacity responds);
    * ``vcs_places``: VCS activity places funded during the period; ``vcs_cost``:
      places x weeks x ``funding.cost_per_place_week``;
    * ``adviser_cost``: the co-located employment adviser, when this funder pays
      for it (``funding.pays_employment_adviser``), ``funding.employment_adviser_cost``
      x ``run.scale`` x weeks / 52; else 0;
    * ``spend``: what the funder pays in the period, income + vcs_cost + adviser_cost
      (the total that the costs allocated to clients add up to);
    * ``link_workers_before`` / ``link_workers_after``: posts before and after the
      settlement re-sets them.
    """

    SECTIONS = ("funding", "incentives", "provision", "direct", "run")

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        self.p = model.p.only(self.SECTIONS)
        f = self.p.funding
        self.regime: str = f.regime
        self.share_at_risk: float = f.share_at_risk if self.regime != "block" else 0.0
        self.cost_per_link_worker: float = f.cost_per_link_worker
        self.cost_per_place_week: float = f.cost_per_place_week
        # The employment adviser is in this account only when this funder pays for it.
        pays = f.pays_employment_adviser and self.p.direct.employment_adviser
        self.adviser_cost_per_year: float = (
            f.employment_adviser_cost * self.p.run.scale if pays else 0.0)
        self.period_weeks: int = f.period_weeks
        self.capacity_responds: bool = f.capacity_responds
        self.prices = {
            "job": f.price_job, "sustain_13w": f.price_sustain_13w,
            "sustain_26w": f.price_sustain_26w, "sustain_52w": f.price_sustain_52w,
            "stepping_stone": f.price_stepping_stone, "distance": f.price_distance,
        }
        self.far_price_factor: float = f.far_price_factor
        self.initial_posts = model.link_work.initial_posts
        self.annual_budget = self.initial_posts * self.cost_per_link_worker
        self.ledger: list[dict] = []
        self._period_payments = 0.0
        self._period_start = 0

    @property
    def incentive(self) -> float:
        """Strength 0-1 of the pull towards clients close to work (drives creaming and parking)."""
        inc = self.p.incentives
        at_risk = min(1.0, inc.at_risk_gain * self.share_at_risk)
        return inc.response * at_risk * job_focus(self.regime, inc)

    def pay(self, outcome: str, clients: np.ndarray, week: int) -> None:
        """Pay for ``outcome`` for each client if the regime pays for it; log PAYMENT events."""
        if outcome not in PAYS_FOR[self.regime] or len(clients) == 0:
            return
        price = np.full(len(clients), self.prices[outcome], dtype=np.float32)
        price[self.model.clients.far[clients]] *= self.far_price_factor
        self.model.log.add(Ev.PAYMENT, week, clients, price)
        self._period_payments += float(price.sum())

    def settle_period(self) -> None:
        """End of a funding period: record the ledger row and re-set capacity from income."""
        m = self.model
        team = m.link_work
        weeks = m.week - self._period_start
        if weeks <= 0:
            return
        guaranteed = self.annual_budget * (1.0 - self.share_at_risk) * weeks / 52.0
        income = guaranteed + self._period_payments
        posts_before = team.active_posts
        posts_after = posts_before
        # Places change only here (commissioning, below), so those funded now were
        # funded for the whole period.
        places = int(m.provision.places.sum())
        if self.capacity_responds and self.regime != "block":
            annualised = income * 52.0 / weeks
            posts_after = int(np.clip(round(annualised / self.cost_per_link_worker), 0,
                                      self.p.funding.max_posts_multiple
                                      * max(1, self.initial_posts)))
            team.set_posts(posts_after)
        link_worker_cost = posts_before * self.cost_per_link_worker * weeks / 52.0
        vcs_cost = places * weeks * self.cost_per_place_week
        adviser_cost = self.adviser_cost_per_year * weeks / 52.0
        self.ledger.append({
            "period_end_week": m.week, "weeks": weeks, "guaranteed": guaranteed,
            "results_payments": self._period_payments, "income": income,
            "link_worker_posts": posts_before, "link_worker_cost": link_worker_cost,
            "provider_balance": income - link_worker_cost,
            "vcs_places": places, "vcs_cost": vcs_cost, "adviser_cost": adviser_cost,
            "spend": income + vcs_cost + adviser_cost,
            "link_workers_before": posts_before, "link_workers_after": posts_after,
        })
        if self.p.provision.commission_new:
            m.provision.commission()
        self._period_payments = 0.0
        self._period_start = m.week
