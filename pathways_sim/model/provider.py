"""VCS providers and provision: places, waiting lists, drop-out and effects on barriers.

* :class:`VCSProvider` is one provider of one kind of activity (a Mesa agent). Its places,
  duration, drop-out and effect live in one row of the provision's arrays; it fills its
  free places from its waiting list (:meth:`VCSProvider.fill`) and can be commissioned to
  add places (:meth:`VCSProvider.commission`).
* :class:`Provision` is the process (phase ``activities``): activities end or are dropped,
  attending lowers the barriers each activity addresses, clients out of support step into
  volunteering or training on their own (slowly), people leave waiting lists, and every
  provider fills its free places first come, first served. Volunteering and training are
  stepping stones (paid for under some regimes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from pathways_sim.model.clients import DOMAINS, OUT, SUPPORTED, D
from pathways_sim.model.events import ACTIVITY_CODES, Ev
from pathways_sim.model.process import Process
from pathways_sim.scenario.registry import ACTIVITIES

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

#: Which barriers each activity type addresses, relative to its headline effect.
#: Assumption from the report's description of each kind of provision (Box C/H):
#: health programmes act on physical and mental health; groups on isolation and
#: confidence; volunteering on work experience, confidence and aspiration;
#: training on basic skills; employment advice on aspiration.
PROFILES: dict[str, dict[str, float]] = {
    "health_wellbeing": {"physical": 1.0, "mental": 0.6, "substance": 0.5, "money_housing": 0.2},
    "social_group": {"isolation": 1.0, "mental": 0.7, "aspiration": 0.1},
    "volunteering": {"work_experience": 1.0, "isolation": 0.4, "mental": 0.3,
                     "aspiration": 0.3, "skills": 0.1},
    "training": {"skills": 1.0, "aspiration": 0.4, "mental": 0.3, "work_experience": 0.3},
    "employment_advice": {"aspiration": 0.8, "work_experience": 0.4, "money_housing": 0.4},
}
STEPPING_STONES = ("volunteering", "training")
_VOL, _TRAIN = ACTIVITY_CODES["volunteering"], ACTIVITY_CODES["training"]


def profile_matrix(activities: tuple[str, ...]) -> np.ndarray:
    """Activities x domains matrix of relative effects."""
    m = np.zeros((len(activities), len(DOMAINS)), dtype=np.float32)
    for a, prof in enumerate(activities):
        for dom, v in PROFILES[prof].items():
            m[a, D[dom]] = v
    return m


class VCSProvider(Agent):
    """A voluntary and community sector provider offering one kind of activity.

    Attributes:
        activity: The activity type (a key of :data:`PROFILES`).
        code: Its activity code in the event log (and its row of the provision's arrays).
        places: Concurrent places (commissioning may add more).
        weeks: Typical duration of the activity.
        dropout: Weekly drop-out hazard.
        effect: Weekly relative fall of the barriers it addresses.
        is_stepping_stone: Volunteering or training.
    """

    def __init__(self, provision: Provision, activity: str, code: int) -> None:
        super().__init__(provision.model)
        self._provision = provision
        self.activity = activity
        self.code = code
        self.is_stepping_stone = activity in STEPPING_STONES

    @property
    def places(self) -> int:
        return int(self._provision.places[self.code])

    @places.setter
    def places(self, value: int) -> None:
        self._provision.places[self.code] = value

    @property
    def weeks(self) -> int:
        return int(self._provision.weeks[self.code])

    @property
    def dropout(self) -> float:
        return float(self._provision.dropout[self.code])

    @property
    def effect(self) -> float:
        return float(self._provision.effect[self.code])

    def fill(self, t: int, queue: np.ndarray, occupied: int) -> np.ndarray:
        """Start the first clients of ``queue`` (its waiting list, in order) in free places.

        Returns the clients started (their activity ends ``weeks`` from now).
        """
        take = min(self.places - occupied, len(queue))
        if take <= 0:
            return queue[:0]
        m = self.model
        s = m.clients
        start = queue[:take]
        s.queue[start] = -1
        s.act[start] = self.code
        s.act_end[start] = t + self.weeks
        m.log.add(Ev.ACTIVITY_START, t, start, self.code)
        if self.is_stepping_stone:
            first = start[~s.stepped[start]]
            s.stepped[first] = True
            m.funder.pay("stepping_stone", first, t)
        return start

    def commission(self, extra_share: float) -> int:
        """Add places (Rotherham-style commissioning of new provision). Returns places added."""
        extra = max(1, int(round(self.places * extra_share)))
        self.places += extra
        return extra


class Provision(Process):
    """The VCS providers and the phase ``activities``.

    State: per activity code, ``places``, ``weeks``, ``dropout`` and ``effect`` (the
    providers' rows), ``profile`` (activities x barrier domains), and this week's
    ``act_counts`` (clients in each activity) and ``queue_counts`` (on each waiting list).
    """

    SECTIONS = ("provision", "service", "link_workers", "run")
    STREAMS = ("activity.dropout", "activity.queue_dropout", "self_directed")

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        prov, scale = self.p.provision, self.p.run.scale
        self.places = np.array([int(round(getattr(prov, f"{a}_places") * scale))
                                for a in ACTIVITIES], dtype=np.int64)
        self.weeks = np.array([getattr(prov, f"{a}_weeks") for a in ACTIVITIES], dtype=np.int32)
        self.dropout = np.array([getattr(prov, f"{a}_dropout") for a in ACTIVITIES],
                                dtype=np.float32)
        self.effect = np.array([getattr(prov, f"{a}_effect") for a in ACTIVITIES],
                               dtype=np.float32)
        self.profile = profile_matrix(ACTIVITIES)
        self.agents = [VCSProvider(self, a, ACTIVITY_CODES[a]) for a in ACTIVITIES]
        self.act_counts = np.zeros(len(ACTIVITIES), dtype=np.int64)
        self.queue_counts = np.zeros(len(ACTIVITIES), dtype=np.int64)

    def step(self, t: int) -> None:
        """Activities end or are dropped, act on barriers; waiting lists move; places fill."""
        m, p = self.model, self.p
        s, log, W = m.clients, m.log, m.window
        busy = m.followed(s.act[W] >= 0)
        a = s.act[busy]
        if len(busy):
            done = s.act_end[busy] <= t
            log.add(Ev.ACTIVITY_END, t, busy[done], a[done])
            s.act[busy[done]] = -1
            busy, a = busy[~done], a[~done]
            cut = p.provision.follow_up_dropout_cut * p.link_workers.follow_up
            h = self.dropout[a] * np.where(s.status[busy] == SUPPORTED, 1.0 - cut, 1.0)
            drop = self.draw("activity.dropout", t, busy) < h
            log.add(Ev.ACTIVITY_DROPOUT, t, busy[drop], a[drop])
            s.act[busy[drop]] = -1
            busy, a = busy[~drop], a[~drop]
            w = p.provision.coproduction_weight
            eff = self.effect[a] * ((1.0 - w) + w * p.link_workers.coproduction)
            s.B[busy] *= 1.0 - eff[:, None] * self.profile[a]
        counts = np.bincount(a, minlength=len(self.agents))
        self.self_directed(t)
        queued = m.followed(s.queue[W] >= 0)
        if len(queued):
            h = p.provision.queue_dropout_factor * p.service.waiting_dropout_per_week
            leave = self.draw("activity.queue_dropout", t, queued) < h
            s.queue[queued[leave]] = -1
            log.add(Ev.ACTIVITY_DROPOUT, t, queued[leave], -1)
            queued = queued[~leave]
        # Fill free places first come, first served: one stable sort by (activity, since).
        q = s.queue[queued]
        order = np.lexsort((s.queue_since[queued], q))
        queued, q = queued[order], q[order]
        bounds = np.searchsorted(q, np.arange(len(self.agents) + 1))
        waiting = np.diff(bounds)
        for pr in self.agents:
            c = pr.code
            started = pr.fill(t, queued[bounds[c] : bounds[c + 1]], int(counts[c]))
            counts[c] += len(started)
            waiting[c] -= len(started)
        self.act_counts = counts
        self.queue_counts = waiting

    def self_directed(self, t: int) -> None:
        """Clients out of support step into volunteering or training on their own, slowly."""
        m, p = self.model, self.p
        s, W = m.clients, m.window
        cand = m.followed((s.status[W] == OUT) & (s.act[W] < 0) & (s.queue[W] < 0)
                          & ~s.in_work[W] & s.working_age[W])
        if len(cand) == 0:
            return
        cand = cand[s.dist[cand] < p.provision.readiness_distance]
        go = cand[self.draw("self_directed", t, cand) < p.provision.self_directed_per_week]
        kind = np.where(s.B[go, D["skills"]] > s.B[go, D["work_experience"]], _TRAIN, _VOL)
        s.queue[go] = kind
        s.queue_since[go] = t
        m.log.add(Ev.ACTIVITY_REFERRAL, t, go, kind)

    def commission(self) -> None:
        """Commission extra places where an activity's waiting list persists (Rotherham)."""
        prov = self.p.provision
        for pr in self.agents:
            persists = self.queue_counts[pr.code] > prov.commission_queue_share * pr.places
            if pr.places > 0 and persists:
                pr.commission(prov.commission_share)
