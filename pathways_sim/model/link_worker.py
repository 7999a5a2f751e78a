"""Link Workers and link work: triage, sessions, plans and offers, direct referral.

Everything a Link Worker does is here.

* :class:`LinkWorker` is one Link Worker (a Mesa agent). Its attributes (caseload, work
  awareness, IAG level, knowledge of provision, whether its post is funded) live in one
  row of the team's arrays: reading ``lw.caseload`` reads the row, ``lw.caseload = 5``
  writes it and takes effect from the next phase that uses it.
* :class:`LinkWork` is the process: the team's arrays, posts and training, and two phases
  of the week over the Link Workers' clients at once (vectorised by client row):

  - ``triage``: waiting clients may give up; free places are filled in the order of the
    triage rule, pulled towards clients close to work by results payments (creaming);
    some decline at first contact; the rest are shared round-robin over Link Workers
    with free places;
  - ``sessions``: sessions at the service model's frequency, fewer for clients far from
    work under job incentives (parking). A session builds confidence and is when the
    co-produced plan offers an activity the Link Worker knows (uptake helped by
    follow-up, co-location and accompaniment), refers a client with a work goal to
    work-focused support (the direct pathway), or - with low work awareness -
    discourages an 'ambitious' goal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from pathways_sim.model.clients import OUT, SUPPORTED, WAITING, D
from pathways_sim.model.events import ACTIVITY_CODES, SOURCE_CODES, Ev
from pathways_sim.model.process import Process
from pathways_sim.scenario.registry import ACTIVITIES

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

_ASP, _MENTAL, _ISO, _SKILLS = D["aspiration"], D["mental"], D["isolation"], D["skills"]
_VOL, _TRAIN, _EMP_ADVICE = (ACTIVITY_CODES[a] for a in ("volunteering", "training",
                                                          "employment_advice"))
_WEEKS_PER_MONTH = 52.0 / 12.0
_KNOWLEDGE_ROW = 8  # draws reserved per Link Worker in the knowledge stream (>= activities)


def _rank01(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]; ties rank the earlier position higher (as a stable sort would)."""
    if len(x) < 2:
        return np.zeros(len(x))
    order = np.lexsort((-np.arange(len(x)), x))  # ties: the earlier position ranks higher
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    return ranks / (len(x) - 1)


def referral_propensity(lwp, work_awareness, iag_level):
    """Relative readiness to refer a client to work-focused support (awareness and IAG).

    ``lwp``: the ``link_workers`` parameters (``propensity_base``, ``propensity_per_iag``).
    """
    return ((lwp.propensity_base + work_awareness)
            * (1.0 + lwp.propensity_per_iag * iag_level))


class LinkWorker(Agent):
    """A Link Worker: a view of its row of the team's arrays (:class:`LinkWork`).

    Attributes:
        index: Its row (and the Link Worker index in the event log).
        caseload: Clients supported at once.
        work_awareness: 0-1; raises work goals, low values discourage them.
        iag_level: Advice-and-guidance qualification level 0-4.
        knows: Bool per activity type: provision this Link Worker knows and uses.
        active: False once funding no longer pays for the post (keeps its clients, takes none).
    """

    def __init__(self, team: LinkWork, index: int) -> None:
        super().__init__(team.model)
        self._team = team
        self.index = index

    @property
    def caseload(self) -> int:
        return int(self._team.caseload[self.index])

    @caseload.setter
    def caseload(self, value: int) -> None:
        self._team.caseload[self.index] = value

    @property
    def work_awareness(self) -> float:
        return float(self._team.work_awareness[self.index])

    @work_awareness.setter
    def work_awareness(self, value: float) -> None:
        self._team.work_awareness[self.index] = value

    @property
    def iag_level(self) -> int:
        return int(self._team.iag_level[self.index])

    @iag_level.setter
    def iag_level(self, value: int) -> None:
        self._team.iag_level[self.index] = value

    @property
    def knows(self) -> np.ndarray:
        """Bool per activity type (a view of the row: writes take effect)."""
        return self._team.knows[self.index]

    @property
    def active(self) -> bool:
        return bool(self._team.active[self.index])

    @active.setter
    def active(self, value: bool) -> None:
        self._team.active[self.index] = value

    @property
    def colocated(self) -> bool:
        """Based in a GP practice (service-wide: ``link_workers.colocated``)."""
        return bool(self._team.p.link_workers.colocated)

    def train(self, work_awareness: float, iag_level: int) -> None:
        """Work-awareness training (Raising Aspirations: IAG Level 4); never lowers a level."""
        self.work_awareness = max(self.work_awareness, work_awareness)
        self.iag_level = max(self.iag_level, iag_level)

    def referral_propensity(self) -> float:
        """Relative readiness to refer a client to work-focused support (awareness and IAG)."""
        return referral_propensity(self._team.p.link_workers, self.work_awareness,
                                   self.iag_level)


class LinkWork(Process):
    """The Link Worker team and the phases ``triage`` and ``sessions``.

    State: one row per Link Worker ever hired in ``caseload``, ``work_awareness``,
    ``iag_level``, ``knows`` (Link Workers x activities) and ``active``; ``agents`` (the
    :class:`LinkWorker` of each row); ``training`` (the highest work awareness and IAG
    level trained so far: later hires are hired trained).
    """

    SECTIONS = ("link_workers", "service", "incentives", "provision", "direct", "referrals",
                "dynamics", "run")
    STREAMS = ("waiting.dropout", "decline", "accompaniment", "uptake", "direct.referral",
               "discourage", "link_worker.knowledge")

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        self.caseload = np.zeros(0, dtype=np.int64)
        self.work_awareness = np.zeros(0, dtype=np.float64)
        self.iag_level = np.zeros(0, dtype=np.int64)
        self.knows = np.zeros((0, len(ACTIVITIES)), dtype=bool)
        self.active = np.zeros(0, dtype=bool)
        self.agents: list[LinkWorker] = []
        self.training = (0.0, 0)  # work awareness and IAG level of any training given so far
        # Declining at first contact, relative to GP referrals, by source code (JCP as GP).
        self.decline_factor = np.ones(max(SOURCE_CODES.values()) + 1, dtype=np.float64)
        for src, code in SOURCE_CODES.items():
            self.decline_factor[code] = getattr(self.p.referrals, f"decline_factor_{src}", 1.0)
        self.initial_posts = int(round(self.p.link_workers.count * self.p.run.scale))
        self.set_posts(self.initial_posts)

    # ------------------------------------------------------------------ the team
    @property
    def active_posts(self) -> int:
        return int(self.active.sum())

    def hire(self) -> LinkWorker:
        """A new Link Worker with the scenario's attributes, trained as the team is."""
        i = len(self.agents)
        lwp = self.p.link_workers
        u = self.uniform("link_worker.knowledge", 0, i * _KNOWLEDGE_ROW,
                         i * _KNOWLEDGE_ROW + len(ACTIVITIES))
        self.caseload = np.append(self.caseload, lwp.caseload)
        self.work_awareness = np.append(self.work_awareness, lwp.work_awareness)
        self.iag_level = np.append(self.iag_level, lwp.iag_level)
        self.knows = np.vstack([self.knows, u < lwp.knowledge_of_provision])
        self.active = np.append(self.active, True)
        hired = LinkWorker(self, i)
        hired.train(*self.training)
        self.agents.append(hired)
        return hired

    def set_posts(self, posts: int) -> None:
        """Fund ``posts`` Link Worker posts: reactivate or hire, or stop intake (LIFO)."""
        active = np.flatnonzero(self.active)
        if posts < len(active):
            self.active[active[posts:]] = False
            return
        back = np.flatnonzero(~self.active)[: posts - len(active)]
        self.active[back] = True
        for _ in range(posts - len(active) - len(back)):
            self.hire()

    def train(self, work_awareness: float | None = None, iag_level: int | None = None) -> None:
        """Train every Link Worker in work awareness (a lever the workshop can pull mid-run).

        Defaults to ``link_workers.trained_awareness`` and ``trained_iag_level``.
        Link Workers hired later are hired trained.
        """
        lwp = self.p.link_workers
        aware = lwp.trained_awareness if work_awareness is None else work_awareness
        iag = lwp.trained_iag_level if iag_level is None else iag_level
        self.training = (max(self.training[0], aware), max(self.training[1], iag))
        for lw in self.agents:
            lw.train(*self.training)

    def scheduled_training(self) -> None:
        """The training event of ``link_workers.training_week`` (before that week is simulated)."""
        self.train()

    def awareness(self) -> np.ndarray:
        """Work awareness of each Link Worker (float32, for the client arrays)."""
        return self.work_awareness.astype(np.float32)

    def far_score(self, dist: np.ndarray) -> np.ndarray:
        """How far from work a Link Worker judges a client (0 close - 1 far: parked fully)."""
        inc = self.p.incentives
        return np.clip((dist - inc.parking_distance) / inc.parking_span, 0.0, 1.0)

    def colocation_factor(self, sign: float) -> float:
        lw = self.p.link_workers
        return 1.0 + sign * lw.colocation_effect if lw.colocated else 1.0

    def session_rate(self, idx: np.ndarray) -> np.ndarray:
        """Sessions a week for supported clients ``idx``: service frequency less parking."""
        p = self.p
        rate = p.link_workers.sessions_per_month / _WEEKS_PER_MONTH
        park = p.incentives.parking * self.model.funder.incentive
        if park == 0:
            return np.full(len(idx), rate, dtype=np.float32)
        return rate * (1.0 - park * self.far_score(self.model.clients.dist[idx]))

    # ------------------------------------------------------------------ phase: triage
    def triage(self, t: int) -> None:
        """Waiting-list drop-out, then fill free places in triage order."""
        m, p = self.model, self.p
        s, log, W = m.clients, m.log, m.window
        status = s.status[W]
        waiting = m.followed(status == WAITING)
        if len(waiting):
            h = p.service.waiting_dropout_per_week * self.colocation_factor(-1.0)
            gone = waiting[self.draw("waiting.dropout", t, waiting) < h]
            s.status[gone] = OUT
            log.add(Ev.DISENGAGED, t, gone, 0)
            waiting = waiting[s.status[waiting] == WAITING]
        supported = m.followed(status == SUPPORTED)
        load = np.bincount(s.lw[supported], minlength=len(self.agents))
        free = np.clip(np.where(self.active, self.caseload, 0) - load, 0, None)
        k = min(int(free.sum()), len(waiting))
        if k == 0:
            return
        rule = p.link_workers.triage
        d = s.dist[waiting]
        if rule == "first_come":
            base = -(s.wait_since[waiting].astype(np.float64))
        elif rule == "needs_based":
            base = d.astype(np.float64)
        else:
            base = -d.astype(np.float64)
        w = m.funder.incentive
        if w > 0:
            score = (1 - w) * _rank01(base) + w * _rank01(-d.astype(np.float64))
        else:
            score = base
        order = np.argsort(-score, kind="stable") if k < len(waiting) else slice(None)
        chosen = waiting[order][:k]
        # Some decline when first contacted (warm handover by a co-located Link Worker helps).
        # The referral route matters too (a care coordinator's referral is warmer than a GP's).
        chosen_sorted = np.sort(chosen)
        h = (p.service.decline_at_contact * self.colocation_factor(-1.0)
             * self.decline_factor[s.source[chosen_sorted]])
        declined = chosen_sorted[self.draw("decline", t, chosen_sorted) < h]
        if len(declined):
            s.status[declined] = OUT
            log.add(Ev.DECLINED, t, declined, -1)
            chosen = chosen[s.status[chosen] == WAITING]
            k = len(chosen)
            if k == 0:
                return
        # Round-robin over Link Workers with free places.
        lw_ids = np.repeat(np.arange(len(free)), free)
        slot = np.arange(len(lw_ids)) - np.repeat(np.cumsum(free) - free, free)
        lw_ids = lw_ids[np.argsort(slot, kind="stable")][:k]
        s.status[chosen] = SUPPORTED
        s.lw[chosen] = lw_ids
        s.support_start[chosen] = t
        s.credit[chosen] = 1.0  # the assessment is the first session
        log.add(Ev.ASSIGNED, t, chosen, lw_ids)

    # ------------------------------------------------------------------ phase: sessions
    def sessions(self, t: int) -> None:
        """Sessions: confidence, the plan's activity offer, direct referral, discouragement."""
        m, p = self.model, self.p
        s, log = m.clients, m.log
        sup = m.followed(s.status[m.window] == SUPPORTED)
        if len(sup) == 0:
            return
        s.credit[sup] += self.session_rate(sup)
        sess = sup[s.credit[sup] >= 1.0]
        if len(sess) == 0:
            return
        s.credit[sess] -= 1.0
        s.sessions[sess] += 1
        lw = s.lw[sess]
        log.add(Ev.SESSION, t, sess, lw)
        lwp = p.link_workers
        w = lwp.session_coproduction_weight
        gain = lwp.session_effect * ((1.0 - w) + w * lwp.coproduction)
        s.B[sess, _MENTAL] = np.maximum(0.01, s.B[sess, _MENTAL] - gain)
        s.B[sess, _ISO] = np.maximum(0.01, s.B[sess, _ISO] - lwp.session_isolation_share * gain)
        self.offer_activities(t, sess)
        self.refer_to_work_support(t, sess)
        self.discourage(t, sess)

    def offer_activities(self, t: int, sess: np.ndarray) -> None:
        """The co-produced plan offers the known activity that best fits the largest barriers."""
        m, p = self.model, self.p
        s, log, prov = m.clients, m.log, m.provision
        cand = sess[(s.act[sess] < 0) & (s.queue[sess] < 0)]
        if len(cand) == 0:
            return
        fit = s.B[cand] @ prov.profile.T  # clients x activities
        allowed = self.knows[s.lw[cand]]  # a copy (fancy indexing)
        ready = s.dist[cand] < p.provision.readiness_distance
        allowed[:, _VOL] &= ready
        if not p.provision.open_learning:
            allowed[:, _TRAIN] &= ready
        else:
            # An adult-learning offer takes anyone, but for a client not yet ready for
            # stepping stones it answers the skills and confidence parts of training (basic
            # maths, English, digital), not its work-related parts (aspiration, experience).
            far = cand[~ready]
            profile = prov.profile[_TRAIN]
            fit[~ready, _TRAIN] = (s.B[far, _SKILLS] * profile[_SKILLS]
                                   + s.B[far, _MENTAL] * profile[_MENTAL])
        # Employment advice is for clients who have said they want work.
        allowed[:, _EMP_ADVICE] &= s.goal[cand] & ~s.in_work[cand]
        # Link Workers who know the provision also know how full it is: a long
        # waiting list makes an activity a worse fit (assumption).
        places = np.maximum(prov.places, 1).astype(np.float32)
        fit = fit / (1.0 + prov.queue_counts / places)
        fit = np.where(allowed, fit, -1.0)
        best = np.argmax(fit, axis=1)
        has = fit[np.arange(len(cand)), best] > 0
        cand, best = cand[has], best[has]
        if len(cand) == 0:
            return
        lwp = p.link_workers
        prob = np.full(len(cand), p.service.uptake_base * (1.0 + lwp.follow_up)
                       * self.colocation_factor(1.0), dtype=np.float32)
        anxious = s.B[cand, _MENTAL] > lwp.anxious_barrier
        accompanied = anxious & (self.draw("accompaniment", t, cand) < lwp.accompaniment)
        prob[anxious] *= lwp.anxious_uptake_factor
        prob[accompanied] *= lwp.accompanied_uptake_factor
        log.add(Ev.ACCOMPANIED, t, cand[accompanied], best[accompanied])
        take = self.draw("uptake", t, cand) < np.minimum(prob, p.service.uptake_cap)
        cand, best = cand[take], best[take]
        s.queue[cand] = best
        s.queue_since[cand] = t
        log.add(Ev.ACTIVITY_REFERRAL, t, cand, best)

    def refer_to_work_support(self, t: int, sess: np.ndarray) -> None:
        """The direct pathway: refer clients with a work goal to work-focused support."""
        m, p = self.model, self.p
        s = m.clients
        cand = sess[s.goal[sess] & (s.direct[sess] < 0) & ~s.in_work[sess]]
        if len(cand) == 0:
            return
        propensity = referral_propensity(p.link_workers, self.work_awareness,
                                         self.iag_level).astype(np.float32)
        prob = p.direct.referral_per_session * propensity[s.lw[cand]]
        ready = s.dist[cand] < p.direct.readiness_distance
        jcp_prob = np.minimum(1.0, prob * m.work_support.jobcentre.referral_boost)
        u = self.draw("direct.referral", t, cand)
        chosen = cand[u < np.where(ready, jcp_prob, prob)]
        if len(chosen):
            m.work_support.start(t, chosen, ready[u < np.where(ready, jcp_prob, prob)])

    def discourage(self, t: int, sess: np.ndarray) -> None:
        """Link Workers with low work awareness discourage 'overly ambitious' goals."""
        m, p = self.model, self.p
        s = m.clients
        lwp = p.link_workers
        cand = sess[s.goal[sess] & (s.dist[sess] > lwp.discourage_distance) & ~s.in_work[sess]]
        if len(cand) == 0:
            return
        lw = s.lw[cand]
        aware = self.awareness()[lw]
        h = lwp.discourage_per_session * np.clip(1.0 - aware / lwp.discourage_awareness, 0, 1)
        hit = self.draw("discourage", t, cand) < h
        cand = cand[hit]
        s.goal[cand] = False
        s.B[cand, _ASP] = np.maximum(s.B[cand, _ASP],
                                     p.dynamics.goal_threshold + lwp.discourage_setback)
        m.log.add(Ev.GOAL_DISCOURAGED, t, cand, lw[hit])

