"""VCS providers and provision: places, waiting lists, drop-out and effects on barriers.

* :class:`VCSProvider` is one provider of one kind of activity (a Mesa agent). Its places,
  duration, drop-out and effect live in one row of the provision's arrays; it can be
  commissioned to add places (:meth:`VCSProvider.commission`). Its weekly work (filling
  its free places from its waiting list, first come first served) is done for every
  provider at once by :func:`activities_kernel`.
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
from numba import njit

from pathways_sim.model.clients import DOMAINS, OUT, SUPPORTED, D
from pathways_sim.model.events import ACTIVITY_CODES, Ev
from pathways_sim.model.kernels import draw, emit
from pathways_sim.model.process import Process
from pathways_sim.scenario.registry import ACTIVITIES

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

STEPPING_STONES = ("volunteering", "training")
_VOL, _TRAIN = ACTIVITY_CODES["volunteering"], ACTIVITY_CODES["training"]


def profile_matrix(provision, activities: tuple[str, ...]) -> np.ndarray:
    """Activities x domains matrix of relative effects.

    ``provision`` is the ``provision`` section of the parameters: the entry of activity ``a``
    and domain ``d`` is ``provision.profile_<a>_<d>``, 0 where no such parameter exists.
    """
    m = np.zeros((len(activities), len(DOMAINS)), dtype=np.float32)
    for a, prof in enumerate(activities):
        for dom in DOMAINS:
            v = getattr(provision, f"profile_{prof}_{dom}", None)
            if v is not None:
                m[a, D[dom]] = v
    return m


class VCSProvider(Agent):
    """A voluntary and community sector provider offering one kind of activity.

    Attributes:
        activity: The activity type (one of the registry's ``ACTIVITIES``).
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

    def commission(self, extra_share: float) -> int:
        """Add places (Rotherham-style commissioning of new provision). Returns places added."""
        extra = max(1, int(round(self.places * extra_share)))
        self.places += extra
        return extra


class Provision(Process):
    """The VCS providers and the phase ``activities``.

    State: per activity code, ``places``, ``weeks``, ``dropout`` and ``effect`` (the
    providers' rows), ``profile`` (activities x barrier domains), and this week's
    ``act_counts`` (clients in each activity), ``queue_counts`` (on each waiting list) and
    ``stepping`` (whether each activity is a stepping stone).
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
        self.profile = profile_matrix(prov, ACTIVITIES)
        self.agents = [VCSProvider(self, a, ACTIVITY_CODES[a]) for a in ACTIVITIES]
        self.act_counts = np.zeros(len(ACTIVITIES), dtype=np.int64)
        self.queue_counts = np.zeros(len(ACTIVITIES), dtype=np.int64)
        self.stepping = np.array([pr.is_stepping_stone for pr in self.agents])

    def step(self, t: int) -> None:
        """Activities end or are dropped, act on barriers; waiting lists move; places fill.

        The weekly work is :func:`activities_kernel` (one compiled pass over the clients
        still followed); the funder pays for first stepping stones afterwards.
        """
        m, p = self.model, self.p
        s, log = m.clients, m.log
        lo, n = m.follow_up.lo, s.n
        cut = p.provision.follow_up_dropout_cut * p.link_workers.follow_up
        w = p.provision.coproduction_weight
        rows, start = log.reserve(4 * (n - lo))
        end, counts, waiting, paid = activities_kernel(
            t, lo, n, *self.keys("activity.dropout", "activity.queue_dropout", "self_directed"),
            s.status, s.act, s.act_end, s.queue, s.queue_since, s.in_work, s.working_age,
            s.dist, s.stepped, s.B, self.places, self.weeks, self.dropout, self.effect,
            self.profile, self.stepping, 1.0 - cut, (1.0 - w) + w * p.link_workers.coproduction,
            p.provision.readiness_distance, p.provision.self_directed_per_week,
            p.provision.queue_dropout_factor * p.service.waiting_dropout_per_week, rows, start)
        log.advance(end)
        self.act_counts = counts
        self.queue_counts = waiting
        if len(paid):
            m.funder.pay("stepping_stone", paid, t)

    def commission(self) -> None:
        """Commission extra places where an activity's waiting list persists (Rotherham)."""
        prov = self.p.provision
        for pr in self.agents:
            persists = self.queue_counts[pr.code] > prov.commission_queue_share * pr.places
            if pr.places > 0 and persists:
                pr.commission(prov.commission_share)

    def cut(self, share: float) -> None:
        """Cut ``share`` of every provider's places (a grant not renewed; rounded to whole
        places kept). Clients in an activity finish it; no place is filled until the
        activity's clients fall below its places."""
        self.places[:] = np.round(self.places * (1.0 - share)).astype(np.int64)


_EV_END, _EV_DROPOUT = int(Ev.ACTIVITY_END), int(Ev.ACTIVITY_DROPOUT)
_EV_REFERRAL, _EV_START = int(Ev.ACTIVITY_REFERRAL), int(Ev.ACTIVITY_START)
_SKILLS, _WORK_EXP = D["skills"], D["work_experience"]


@njit(cache=True)
def activities_kernel(t, lo, n, k_dropout, k_queue, k_self, status, act, act_end, queue,
                      queue_since, in_work, working_age, dist, stepped, B, places, weeks,
                      dropout, effect, profile, stepping, supported_dropout, coproduction,
                      readiness, self_directed, queue_dropout, log, row):
    """The phase ``activities`` for clients ``lo .. n-1`` in week ``t``.

    For each client, in index order: an activity that has run its weeks ends; otherwise
    the client may drop out (less when a Link Worker follows up); otherwise attending
    lowers each barrier by ``effect x coproduction x profile``. A client out of support,
    out of work and of working age, close enough to work, with no activity or waiting
    list, may put themselves on the waiting list for training (skills the larger
    barrier) or volunteering. Anyone on a waiting list may leave it. Then each provider
    fills its free places from its waiting list, first come (``queue_since``), first
    served (lowest index on a tie).

    Returns the log's new row count, clients per activity and left waiting per activity,
    and the clients whose first stepping stone started (the funder pays for them).
    """
    k = len(places)
    counts = np.zeros(k, dtype=np.int64)
    nq = np.zeros(k, dtype=np.int64)
    queued = np.empty(n - lo, dtype=np.int64)
    nqueued = 0
    for i in range(lo, n):
        a = act[i]
        if a >= 0:
            if act_end[i] <= t:
                row = emit(log, row, t, i, _EV_END, a)
                act[i] = -1
            else:
                h = dropout[a] * (supported_dropout if status[i] == SUPPORTED else 1.0)
                if draw(k_dropout, t, i) < h:
                    row = emit(log, row, t, i, _EV_DROPOUT, a)
                    act[i] = -1
                else:
                    eff = effect[a] * coproduction
                    for d in range(B.shape[1]):
                        B[i, d] *= 1.0 - eff * profile[a, d]
                    counts[a] += 1
        if (status[i] == OUT and act[i] < 0 and queue[i] < 0 and not in_work[i]
                and working_age[i] and dist[i] < readiness
                and draw(k_self, t, i) < self_directed):
            kind = _TRAIN if B[i, _SKILLS] > B[i, _WORK_EXP] else _VOL
            queue[i] = kind
            queue_since[i] = t
            row = emit(log, row, t, i, _EV_REFERRAL, kind)
        if queue[i] >= 0:
            if draw(k_queue, t, i) < queue_dropout:
                queue[i] = -1
                row = emit(log, row, t, i, _EV_DROPOUT, -1)
            else:
                queued[nqueued] = i
                nqueued += 1
                nq[queue[i]] += 1
    paid = np.empty(nqueued, dtype=np.int64)
    npaid = 0
    if nqueued:
        queued = queued[:nqueued]
        code = np.empty(nqueued, dtype=np.int64)
        for j in range(nqueued):
            code[j] = queue[queued[j]]
        for c in range(k):
            free = places[c] - counts[c]
            if free <= 0 or nq[c] == 0:
                continue
            mine = queued[code == c]
            if free < len(mine):
                order = np.argsort(queue_since[mine], kind="mergesort")  # stable: index ties
                mine = mine[order[:free]]
            for i in mine:
                queue[i] = -1
                act[i] = c
                act_end[i] = t + weeks[c]
                row = emit(log, row, t, i, _EV_START, c)
                if stepping[c] and not stepped[i]:
                    stepped[i] = True
                    paid[npaid] = i
                    npaid += 1
            counts[c] += len(mine)
            nq[c] -= len(mine)
    return row, counts, nq, paid[:npaid]
