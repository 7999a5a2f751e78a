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

Under payment by results the funder first measures **baseline performance**: a pilot run of
the same scenario under its block grant, with the same seed (:func:`baseline`; deterministic,
cached per scenario and seed). From it come (i) the ``budget_neutral`` price rule, which scales
the regime's prices so that its expected spend at baseline performance equals the block
budget, and the expected payments of each period, against which posts respond; and (ii) the
Link Workers' chance of each paid outcome by a client's distance from work, hence the
**expected payment per client** (price x chance) that drives creaming (triage) and parking
(each supported client's sessions, :meth:`Funder.parking`).

Who funds the service (``funding.funder``) matters through the funder's **profile**
(:func:`funder_profile`): whether it records work outcomes - a funder that does raises Link
Workers' attention to work (:attr:`Funder.work_attention`, read by
:meth:`~pathways_sim.model.link_worker.LinkWork.attended_awareness`) - and whether it funds
through short-term grants, whose renewal may fail at each renewal date and cut VCS places
(:meth:`Funder.renew_grant`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from pathways_sim.model.clients import SUPPORTED, D, wellbeing
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


#: Outcomes a funder pays for whatever the regime, on the part of the contract at risk
#: (``funding.share_at_risk`` > 0): a social impact bond pays on wellbeing improvement and on
#: secondary-care cost reduction, as Ways to Wellness (docs/evidence.md §E2.15).
FUNDER_PAYS: dict[str, tuple[str, ...]] = {
    "health_commissioner": (), "dwp": (), "lottery": (), "pooled": (),
    "social_impact_bond": ("wellbeing", "health_cost"),
}

#: Every priced outcome, in the order of the baseline's tallies.
OUTCOMES: tuple[str, ...] = ("job", "sustain_13w", "sustain_26w", "sustain_52w",
                             "stepping_stone", "distance", "wellbeing", "health_cost")

# The funding settings that do not change what happens under a block grant: runs that differ
# only in them share one baseline.
_PRICING_KEYS = ("funding.regime", "funding.share_at_risk", "funding.price_rule",
                 "funding.far_price_factor", "funding.capacity_responds")


@dataclass(frozen=True)
class FunderProfile:
    """What a funder (``funding.funder``) records and how it funds.

    Attributes:
        funder: The funder (a value of :data:`pathways_sim.scenario.registry.FUNDERS`).
        records_work: It records work outcomes (``funding.records_work_<funder>``).
        work_attention: Multiplier on Link Workers' work awareness (``funding.work_attention``
            where work is recorded, else 1).
        grant: It funds through short-term grants with a renewal risk (the lottery funder).
    """

    funder: str
    records_work: bool
    work_attention: float
    grant: bool


def funder_profile(funding) -> FunderProfile:
    """The profile of the scenario's funder, from the ``funding`` parameters."""
    records = bool(getattr(funding, f"records_work_{funding.funder}"))
    return FunderProfile(funding.funder, records, funding.work_attention if records else 1.0,
                         funding.funder == "lottery")


@dataclass(frozen=True)
class Baseline:
    """What a scenario achieves under its block grant (a pilot run, same seed).

    Attributes:
        rates: Outcome -> its count per client referred, by band of distance from work at
            referral (``incentives.value_bands`` equal bands of 0-1; 0 where a band is empty).
        periods: One row per funding period, one column per outcome of :data:`OUTCOMES`,
            a pair (near, far) each: the outcomes counted in the period (shape periods x
            outcomes x 2).
    """

    rates: dict[str, np.ndarray]
    periods: np.ndarray


_BASELINES: dict[tuple, Baseline] = {}


def baseline(scenario, seed: int) -> Baseline:
    """Baseline performance of ``scenario`` at ``seed``: a pilot run under its block grant.

    Cached per scenario (without its pricing settings) and seed, so the regimes and price
    rules compared on one service share one pilot.
    """
    key = (tuple((k, v) for k, v in scenario.values.items() if k not in _PRICING_KEYS
                 and not k.startswith(("funding.price_", "incentives."))), int(seed))
    if key not in _BASELINES:
        from pathways_sim.model.model import PathwaysModel  # the funder is part of the model

        pilot = PathwaysModel(scenario.with_changes(
            {"funding.regime": "block", "funding.share_at_risk": 0.0},
            name=f"{scenario.name}+block_baseline"), seed=seed)
        pilot.run()
        f, s = pilot.funder, pilot.clients
        bands = f.bands(s.dist0[: s.n])
        referred = np.bincount(bands, minlength=f.n_bands).astype(np.float64)
        rates = {o: np.divide(f.tally_bands[o], referred, out=np.zeros(f.n_bands),
                              where=referred > 0) for o in OUTCOMES}
        if len(_BASELINES) > 64:
            _BASELINES.clear()
        _BASELINES[key] = Baseline(rates, np.array(f.tally_periods, dtype=np.float64))
    return _BASELINES[key]


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
        # What this funder pays for: the regime's outcomes, and the funder's own on the part
        # of the contract at risk (a social impact bond's).
        own = FUNDER_PAYS[f.funder] if f.share_at_risk > 0 else ()
        self.pays: tuple[str, ...] = PAYS_FOR[self.regime] + own
        self.share_at_risk: float = f.share_at_risk if self.pays else 0.0
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
            "wellbeing": f.price_wellbeing, "health_cost": f.price_health_cost,
        }
        self.far_price_factor: float = f.far_price_factor
        self.profile = funder_profile(f)
        #: Multiplier on Link Workers' work awareness: what the funder records, they attend to.
        self.work_attention: float = self.profile.work_attention
        self._next_renewal = f.grant_weeks if self.profile.grant else -1
        #: (week, renewed) of each grant renewal date passed (grant funders only).
        self.renewals: list[tuple[int, bool]] = []
        self._log_read = 0  # event-log rows read for outcomes evidenced at readings
        # Per client: whether each outcome evidenced at readings has been counted.
        self._evidenced = {o: np.zeros(0, dtype=bool) for o in ("wellbeing", "health_cost")}
        self.initial_posts = model.link_work.initial_posts
        self.annual_budget = self.initial_posts * self.cost_per_link_worker
        self.ledger: list[dict] = []
        self._period_payments = 0.0
        self._period_start = 0
        # Every priced outcome is tallied, paid for or not: a block run is the baseline.
        inc = self.p.incentives
        self.n_bands: int = inc.value_bands
        self.mids = (np.arange(self.n_bands) + 0.5) / self.n_bands  # band midpoints
        self.tally_bands = {o: np.zeros(self.n_bands) for o in OUTCOMES}
        self.tally_periods: list[np.ndarray] = []
        self._tally = np.zeros((len(OUTCOMES), 2))
        # Strength of the Link Workers' response to results payments (0 under a block grant).
        self.pull: float = (inc.response * min(1.0, inc.at_risk_gain * self.share_at_risk)
                            if self.pays else 0.0)
        self.price_scale = 1.0
        self.expected_payments: np.ndarray | None = None  # per period, budget_neutral only
        self.value_table = np.zeros(self.n_bands)  # expected payment per client by band
        if self.pays and (self.pull > 0 or f.price_rule == "budget_neutral"):
            self._price(baseline(model.config, model.seed))  # else nothing uses a baseline

    def _price(self, base: Baseline) -> None:
        """Set prices (``budget_neutral``: scaled to the block budget) and the value table."""
        f, pays = self.p.funding, self.pays
        weights = np.array([self.prices[o] if o in pays else 0.0 for o in OUTCOMES])
        per_period = (base.periods[..., 0] + self.far_price_factor * base.periods[..., 1]
                      ) @ weights if len(base.periods) else np.zeros(0)
        if f.price_rule == "budget_neutral":
            at_risk = self.annual_budget * self.share_at_risk * self.p.run.weeks / 52.0
            total = float(per_period.sum())
            # No outcome at baseline: nothing to scale (prices stay as given).
            self.price_scale = at_risk / total if total > 0 else 1.0
            self.prices = {o: v * self.price_scale for o, v in self.prices.items()}
            self.expected_payments = per_period * self.price_scale
        self.value_table = sum((self.prices[o] * base.rates[o] for o in pays),
                               np.zeros(self.n_bands))

    def price_record(self) -> dict:
        """The prices this run paid, for the manifest: rule, scale and price per outcome; and
        the funder's profile (whether it records work outcomes; a grant's renewals so far)."""
        pays = self.pays
        record = {"regime": self.regime, "funder": self.profile.funder,
                  "records_work": self.profile.records_work,
                  "rule": self.p.funding.price_rule, "price_scale": self.price_scale,
                  "prices": {o: round(float(self.prices[o]), 2) for o in pays},
                  "far_price_factor": self.far_price_factor}
        if self.profile.grant:
            record["grant_renewals"] = [[w, r] for w, r in self.renewals]
        return record

    def bands(self, dist: np.ndarray) -> np.ndarray:
        """Band (0 .. ``incentives.value_bands`` - 1) of each distance from work."""
        return np.minimum((np.asarray(dist) * self.n_bands).astype(np.int64), self.n_bands - 1)

    def value(self, dist: np.ndarray, far: np.ndarray) -> np.ndarray:
        """Expected results payment for clients at ``dist`` (far premium where ``far``):
        the prices x the baseline chance of each paid outcome, interpolated between bands."""
        v = np.interp(dist, self.mids, self.value_table)
        return np.where(far, v * self.far_price_factor, v)

    def parking(self, dist: np.ndarray, far: np.ndarray, supported: np.ndarray) -> np.ndarray:
        """Parking of each client: the share of its sessions its Link Worker withholds.

        ``incentives.parking`` x pull x how much less the client is expected to earn than the
        best-paying client supported (``supported``), clip(1 - v / top, 0, 1), with v =
        :meth:`value` at the client's current distance (far premium and all). So the
        best-paying client is not parked, a premium that makes a far client worth as much is
        not parked either, and a client worth nothing is parked fully. All zeros when nothing
        pulls (a block grant) or no supported client is expected to earn anything.
        """
        park = np.zeros(len(dist))
        if self.pull == 0 or not supported.any():
            return park
        v = self.value(dist, far)
        top = float(v[supported].max())
        if top > 0:
            park = self.p.incentives.parking * self.pull * np.clip(1.0 - v / top, 0.0, 1.0)
        return park

    def parking_now(self, lo: int, n: int) -> np.ndarray:
        """:meth:`parking` of clients ``lo .. n-1`` as they stand (index ``i - lo``)."""
        s = self.model.clients
        return self.parking(s.dist[lo:n], s.far[lo:n], s.status[lo:n] == SUPPORTED)

    def pay(self, outcome: str, clients: np.ndarray, week: int) -> None:
        """Pay for ``outcome`` for each client if the regime pays for it; log PAYMENT events.

        Every outcome is tallied (by distance band at referral, and near/far in the period)
        whether paid or not: a block run's tallies are the baseline (:func:`baseline`).
        """
        if len(clients) == 0:
            return
        s = self.model.clients
        k = OUTCOMES.index(outcome)
        far = s.far[clients]
        self.tally_bands[outcome] += np.bincount(self.bands(s.dist0[clients]),
                                                 minlength=self.n_bands)
        self._tally[k, 1] += int(far.sum())
        self._tally[k, 0] += len(clients) - int(far.sum())
        if outcome not in self.pays:
            return
        price = np.full(len(clients), self.prices[outcome], dtype=np.float32)
        price[far] *= self.far_price_factor
        self.model.log.add(Ev.PAYMENT, week, clients, price)
        self._period_payments += float(price.sum())

    def settle_period(self) -> None:
        """End of a funding period: record the ledger row and re-set capacity from income."""
        m = self.model
        team = m.link_work
        weeks = m.week - self._period_start
        if weeks <= 0:
            return
        self.read_outcomes(m.week)
        guaranteed = self.annual_budget * (1.0 - self.share_at_risk) * weeks / 52.0
        income = guaranteed + self._period_payments
        posts_before = team.active_posts
        posts_after = posts_before
        # Places change only here (commissioning, below), so those funded now were
        # funded for the whole period.
        places = int(m.provision.places.sum())
        if self.capacity_responds and self.pays:
            k = len(self.ledger)
            if self.expected_payments is not None and k < len(self.expected_payments):
                # Budget-neutral contract: the service plans on the baseline's payments of
                # the period and keeps its posts while it earns them.
                planned = guaranteed + float(self.expected_payments[k])
                target = self.initial_posts * income / planned if planned > 0 else 0.0
            else:
                target = income * 52.0 / weeks / self.cost_per_link_worker
            posts_after = int(np.clip(round(target), 0, self.p.funding.max_posts_multiple
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
            "price_scale": self.price_scale,
        })
        self.tally_periods.append(self._tally.copy())
        self._tally[:] = 0.0
        if self.p.provision.commission_new:
            m.provision.commission()
        while 0 <= self._next_renewal <= m.week:
            self.renew_grant()
        self._period_payments = 0.0
        self._period_start = m.week

    def renew_grant(self) -> None:
        """A grant's renewal date has passed (at the settlement on or after it): the grant is
        renewed at ``funding.grant_renewal_chance``; if not, ``funding.grant_cut_share`` of
        every VCS provider's places is cut (:meth:`Provision.cut
        <pathways_sim.model.provider.Provision.cut>`). One model-level draw from the stream
        ``funding.renewal`` keyed by the renewal date, so runs with one seed share it."""
        m, f = self.model, self.p.funding
        week = self._next_renewal
        renewed = bool(m.streams.generator("funding.renewal", week).random()
                       < f.grant_renewal_chance)
        if not renewed:
            m.provision.cut(f.grant_cut_share)
        self.renewals.append((week, renewed))
        self._next_renewal = week + f.grant_weeks

    def read_outcomes(self, week: int) -> None:
        """Outcomes evidenced at the readings of the period (Wellbeing Star practice), paid
        (where this funder pays for them) and tallied at the settlement, once per client:

        * ``wellbeing``: a wellbeing reading at least ``funding.wellbeing_gain`` above the
          client's wellbeing at referral;
        * ``health_cost``: a reading of the physical and mental-health barriers whose mean
          has fallen by at least ``funding.health_gain`` since referral (standing for the
          fall in secondary-care use a social impact bond pays for; the model has no
          secondary-care use of its own).
        """
        m, f = self.model, self.p.funding
        s = m.clients
        _, client, event, value = m.log.since(self._log_read)
        self._log_read = len(m.log)
        read = event == int(Ev.WELLBEING)
        idx, val = client[read].astype(np.int64), value[read]
        self._pay_once("wellbeing", idx[val - wellbeing(s.B0[idx]) >= f.wellbeing_gain], week)
        # A reading logs every domain's barrier for the same clients in the same order.
        phys, ment = event == int(Ev.BARRIER_PHYSICAL), event == int(Ev.BARRIER_MENTAL)
        idx = client[phys].astype(np.int64)
        now = (value[phys] + value[ment]) / 2.0
        before = (s.B0[idx, D["physical"]] + s.B0[idx, D["mental"]]) / 2.0
        self._pay_once("health_cost", idx[before - now >= f.health_gain], week)

    def _pay_once(self, outcome: str, clients: np.ndarray, week: int) -> None:
        """Pay (and tally) ``outcome`` for those of ``clients`` not yet paid for it."""
        done = self._evidenced[outcome]
        n = self.model.clients.n
        if len(done) < n:
            done = self._evidenced[outcome] = np.concatenate(
                [done, np.zeros(n - len(done), dtype=bool)])
        new = np.unique(clients)
        new = new[~done[new]]
        done[new] = True
        self.pay(outcome, new, week)
