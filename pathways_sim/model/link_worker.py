"""Link Workers and link work: triage, sessions, plans and offers, direct referral.

Everything a Link Worker does is here.

* :class:`LinkWorker` is one Link Worker (a Mesa agent). Its attributes (caseload, work
  awareness, IAG level, knowledge of provision, whether its post is funded) live in one
  row of the team's arrays: reading ``lw.caseload`` reads the row, ``lw.caseload = 5``
  writes it and takes effect from the next phase that uses it.
* :class:`LinkWork` is the process: the team's arrays, posts and training, and two phases
  of the week over the Link Workers' clients, each one compiled pass over the clients still
  followed (:func:`triage_kernel`, :func:`sessions_kernel`):

  - ``triage``: waiting clients may give up; free places are filled in the order of the
    triage rule, pulled towards the clients with the highest expected results payment (creaming);
    some decline at first contact; the rest are shared round-robin over Link Workers
    with free places;
  - ``sessions``: sessions at the service model's frequency, fewer for clients expected to
    earn less in results payments than the best-paying client (parking). A session builds
    confidence and is when the co-produced plan offers an activity the Link Worker knows
    (uptake helped by follow-up, co-location and accompaniment), refers a client with a
    work goal to work-focused support (the direct pathway), or - with low work awareness -
    discourages an 'ambitious' goal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent
from numba import njit

from pathways_sim.model.clients import OUT, SUPPORTED, WAITING, D
from pathways_sim.model.events import ACTIVITY_CODES, SOURCE_CODES, Ev
from pathways_sim.model.kernels import draw, emit
from pathways_sim.model.process import Process
from pathways_sim.scenario.registry import ACTIVITIES, TRIAGE

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

_ASP, _MENTAL, _ISO, _SKILLS = D["aspiration"], D["mental"], D["isolation"], D["skills"]
_VOL, _TRAIN, _EMP_ADVICE = (ACTIVITY_CODES[a] for a in ("volunteering", "training",
                                                          "employment_advice"))
_WEEKS_PER_MONTH = 52.0 / 12.0
_KNOWLEDGE_ROW = 8  # draws reserved per Link Worker in the knowledge stream (>= activities)


@njit(cache=True)
def _rank01(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]; ties rank the earlier position higher (as a stable sort would)."""
    k = len(x)
    ranks = np.zeros(k)
    if k < 2:
        return ranks
    # A stable sort of the reversed values puts, among ties, the later position first.
    order = np.argsort(x[::-1], kind="mergesort")
    for r in range(k):
        ranks[k - 1 - order[r]] = r / (k - 1)
    return ranks


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

    SECTIONS = ("link_workers", "service", "provision", "direct", "jcp",
                "referrals", "dynamics", "run")
    STREAMS = ("waiting.dropout", "decline", "accompaniment", "uptake", "direct.referral",
               "discourage", "link_worker.knowledge", "link_worker.skill",
               "link_worker.turnover")

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        self.caseload = np.zeros(0, dtype=np.int64)
        self.work_awareness = np.zeros(0, dtype=np.float64)
        self.iag_level = np.zeros(0, dtype=np.int64)
        self.knows = np.zeros((0, len(ACTIVITIES)), dtype=bool)
        self.active = np.zeros(0, dtype=bool)
        self.skill = np.zeros(0, dtype=np.float64)
        self.left = np.zeros(0, dtype=bool)  # rows of Link Workers who have left
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
        self.knows = np.vstack([self.knows, u < lwp.knowledge_of_provision * self.scale_factor(
            lwp.caseload_knowledge_loss)])
        self.active = np.append(self.active, True)
        # Skill, uniform in [1 - spread, 1 + spread]: exactly 1 with no spread.
        u_skill = float(self.uniform("link_worker.skill", 0, i, i + 1)[0])
        self.skill = np.append(self.skill, 1.0 + lwp.skill_spread * (2.0 * u_skill - 1.0))
        self.left = np.append(self.left, False)
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
        back = np.flatnonzero(~self.active & ~self.left)[: posts - len(active)]
        self.active[back] = True
        for _ in range(posts - len(active) - len(back)):
            self.hire()

    def turnover(self, t: int) -> None:
        """Link Workers in post leave (``link_workers.turnover_per_year``, a weekly hazard
        drawn per Link Worker: stream ``link_worker.turnover``, block ``t``, draw = index)
        and are replaced at once (:meth:`replace`)."""
        per_year = self.p.link_workers.turnover_per_year
        if per_year <= 0.0:
            return
        hazard = 1.0 - (1.0 - per_year) ** (1.0 / 52.0)
        u = self.uniform("link_worker.turnover", t, 0, len(self.agents))
        for j in np.flatnonzero(self.active & (u < hazard)):
            self.replace(t, int(j))

    def replace(self, t: int, j: int) -> LinkWorker:
        """Link Worker ``j`` leaves; a new hire (:meth:`hire`: its own knowledge and skill,
        trained as the team is) takes the post, its caseload and the leaver's supported
        clients, whose confidence barrier is set back by ``link_workers.handover_setback``
        (``HANDED_OVER``, value = the new Link Worker's index). The leaver's row stays
        (``left``) and is never reactivated."""
        hired = self.hire()
        k = hired.index
        self.caseload[k] = self.caseload[j]
        self.active[j] = False
        self.left[j] = True
        m = self.model
        s = m.clients
        lo, n = m.follow_up.lo, s.n
        mine = lo + np.flatnonzero((s.status[lo:n] == SUPPORTED) & (s.lw[lo:n] == j))
        if len(mine):
            s.lw[mine] = k
            setback = self.p.link_workers.handover_setback
            s.B[mine, _MENTAL] = np.minimum(s.B[mine, _MENTAL] + setback, 1.0)
            m.log.add(Ev.HANDED_OVER, t, mine, k)
        return hired

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

    def scale_factor(self, loss: float) -> float:
        """What a Link Worker keeps of knowledge or accompaniment at the service's caseload.

        ``max(0, 1 - loss x (caseload / reference - 1))`` above
        ``link_workers.reference_caseload``, 1 at or below it: scaling up as a process.
        """
        lwp = self.p.link_workers
        excess = max(0.0, lwp.caseload / lwp.reference_caseload - 1.0)
        return max(0.0, 1.0 - loss * excess)

    @property
    def accompaniment(self) -> float:
        """Chance a Link Worker goes along with a client: ``link_workers.accompaniment``,
        less at a caseload above the reference (``caseload_accompaniment_loss``)."""
        lwp = self.p.link_workers
        return lwp.accompaniment * self.scale_factor(lwp.caseload_accompaniment_loss)

    def direct_factor(self) -> float:
        """Relative rate of referral to work-focused support the service's set-up gives:
        co-location (``direct.colocation_referral_effect``) and an employment adviser on
        site (``direct.adviser_referral_boost``)."""
        d = self.p.direct
        f = 1.0 + d.colocation_referral_effect if self.p.link_workers.colocated else 1.0
        return f * (1.0 + d.adviser_referral_boost) if d.employment_adviser else f

    def trust_factor(self) -> float:
        """Relative uptake of the Link Worker's offers: lower under a JCP partnership, where
        some clients come to feel work is mandatory (``jcp.mandatory_uptake_cut``)."""
        j = self.p.jcp
        return 1.0 - j.mandatory_uptake_cut if j.partnership else 1.0

    def attended_awareness(self) -> np.ndarray:
        """Work awareness each Link Worker acts on: its own, times the funder's attention to
        work (:attr:`Funder.work_attention <pathways_sim.model.funder.Funder.work_attention>`:
        more where the funder records work outcomes), at most 1."""
        return np.minimum(self.work_awareness * self.model.funder.work_attention, 1.0)

    def awareness(self) -> np.ndarray:
        """Work awareness each Link Worker acts on (float32, for the client arrays)."""
        return self.attended_awareness().astype(np.float32)

    def readiness(self) -> np.ndarray:
        """Each Link Worker's readiness distance for work-oriented stepping stones (float32).

        ``provision.readiness_distance``, raised by what the service offers: accompaniment
        (``provision.readiness_accompaniment`` x :attr:`accompaniment`) and the
        Link Worker's knowledge of provision (``provision.readiness_knowledge`` x the share
        of the kinds of provision it knows).
        """
        prov = self.p.provision
        known = self.knows.mean(axis=1) if len(self.knows) else np.zeros(0)
        return (prov.readiness_distance + prov.readiness_accompaniment * self.accompaniment
                + prov.readiness_knowledge * known).astype(np.float32)

    def colocation_factor(self, sign: float) -> float:
        lw = self.p.link_workers
        return 1.0 + sign * lw.colocation_effect if lw.colocated else 1.0

    # ------------------------------------------------------------------ phase: triage
    def triage(self, t: int) -> None:
        """Turnover (:meth:`turnover`), waiting-list drop-out, then fill free places in
        triage order (:func:`triage_kernel`)."""
        self.turnover(t)
        m, p = self.model, self.p
        s, log = m.clients, m.log
        lo, n = m.follow_up.lo, s.n
        rows, start = log.reserve(2 * (n - lo))
        end = triage_kernel(
            t, lo, n, *self.keys("waiting.dropout", "decline"), s.status, s.lw, s.dist,
            s.wait_since, s.source, s.support_start, s.credit, s.far, self.active,
            self.caseload, p.service.waiting_dropout_per_week * self.colocation_factor(-1.0),
            _TRIAGE_RULES.index(p.link_workers.triage), m.funder.pull,
            m.funder.mids, m.funder.value_table, m.funder.far_price_factor,
            p.service.decline_at_contact * self.colocation_factor(-1.0), self.decline_factor,
            rows, start)
        log.advance(end)

    # ------------------------------------------------------------------ phase: sessions
    def sessions(self, t: int) -> None:
        """Sessions: confidence, the plan's activity offer, direct referral, discouragement.

        The weekly work is :func:`sessions_kernel` (one compiled pass over the clients
        still followed); the clients it refers to work-focused support then start there
        (:meth:`WorkSupport.start <pathways_sim.model.jobcentre.WorkSupport.start>`).
        """
        m, p = self.model, self.p
        s, log, prov = m.clients, m.log, m.provision
        lo, n = m.follow_up.lo, s.n
        lwp = p.link_workers
        w = lwp.session_coproduction_weight
        gain = lwp.session_effect * ((1.0 - w) + w * lwp.coproduction)
        # Link Workers who know the provision also know how full it is: a long waiting
        # list makes an activity a worse fit (link_workers.crowding_weight).
        crowding = 1.0 + lwp.crowding_weight * (
            prov.queue_counts / np.maximum(prov.places, 1).astype(np.float32))
        propensity = referral_propensity(lwp, self.attended_awareness(), self.iag_level)
        readiness = self.readiness()
        rows, start = log.reserve(4 * (n - lo))
        end, chosen, ready = sessions_kernel(
            t, lo, n, *self.keys("accompaniment", "uptake", "direct.referral", "discourage"),
            s.status, s.credit, s.sessions, s.lw, s.B, s.dist, s.act, s.queue, s.queue_since,
            s.goal, s.in_work, s.direct, self.knows, self.skill, self.awareness(),
            propensity.astype(np.float32), prov.profile, crowding.astype(np.float32),
            lwp.sessions_per_month / _WEEKS_PER_MONTH, m.funder.parking_now(lo, n), gain,
            lwp.session_isolation_share,
            readiness, bool(p.provision.open_learning), p.provision.supported_volunteering,
            p.service.uptake_base * (1.0 + lwp.follow_up) * self.colocation_factor(1.0)
            * self.trust_factor(),
            lwp.anxious_barrier, self.accompaniment, lwp.anxious_uptake_factor,
            lwp.accompanied_uptake_factor, p.service.uptake_cap,
            p.direct.referral_per_session * self.direct_factor(),
            p.direct.readiness_distance, m.work_support.jobcentre.referral_boost,
            lwp.discourage_distance, lwp.discourage_per_session, lwp.discourage_awareness,
            p.dynamics.goal_threshold + lwp.discourage_setback, rows, start)
        log.advance(end)
        if len(chosen):
            m.work_support.start(t, chosen, ready)


_EV_SESSION, _EV_ACCOMPANIED = int(Ev.SESSION), int(Ev.ACCOMPANIED)
_EV_ACT_REFERRAL, _EV_DISCOURAGED = int(Ev.ACTIVITY_REFERRAL), int(Ev.GOAL_DISCOURAGED)


@njit(cache=True)
def session_rate(rate, park):
    """Sessions a week for a supported client: the service's frequency ``rate``, less the
    client's parking ``park`` (the share withheld under results payments,
    :meth:`Funder.parking <pathways_sim.model.funder.Funder.parking>`; 0 under a block grant,
    which leaves ``rate`` exactly)."""
    return rate * (1.0 - park)


@njit(cache=True)
def sessions_kernel(t, lo, n, k_accompany, k_uptake, k_direct, k_discourage, status, credit,
                    sessions, lw, B, dist, act, queue, queue_since, goal, in_work, direct,
                    knows, skill, awareness, propensity, profile, crowding, rate, park, gain,
                    isolation_share, readiness, open_learning, supported_volunteering, uptake,
                    anxious_barrier, accompaniment, anxious_factor, accompanied_factor,
                    uptake_cap, direct_per_session, direct_readiness, jcp_boost,
                    discourage_distance, discourage_per_session, discourage_awareness,
                    discouraged_barrier, log, row):
    """The phase ``sessions`` for clients ``lo .. n-1`` in week ``t``.

    Each supported client gains session credit at its session rate (``rate`` less its
    parking ``park[i - lo]``, :func:`session_rate`); with a whole session
    due, the session (logged with the Link Worker) lowers the mental-health and isolation
    barriers (by ``gain`` times the Link Worker's ``skill``), then, in order:

    * **the plan's offer**, to a client with no activity and no waiting list: the activity
      the Link Worker knows that best fits the client's barriers (the profile), worse the
      longer its waiting list; volunteering (and training, unless open learning) only
      when ready (closer than the Link Worker's ``readiness`` distance) - except
      supported volunteering, considered at a share ``supported_volunteering`` of offers
      and offered at any distance and age when the Link Worker will accompany the client
      (the accompaniment draw); employment advice only with a work
      goal and out of work; with open learning, training answers only the skills and
      confidence parts for a client not ready. Uptake is lower for an anxious client,
      higher when accompanied (a supported volunteering offer always is);
    * **direct referral** of a client with a work goal, out of work and of work support,
      at the Link Worker's propensity (eased to Jobcentre Plus under a partnership for a
      client ready for it);
    * **discouragement** by a Link Worker of low work awareness of a goal thought
      'overly ambitious' (the client far from work): the goal is dropped and aspiration
      set back.

    Returns the log's new row count, the clients referred to work-focused support and
    whether each is ready for ordinary support.
    """
    chosen = np.empty(n - lo, dtype=np.int64)
    ready_out = np.empty(n - lo, dtype=np.bool_)
    nchosen = 0
    nact = profile.shape[0]
    fit = np.empty(nact, dtype=np.float64)
    for i in range(lo, n):
        if status[i] != SUPPORTED:
            continue
        credit[i] += session_rate(rate, park[i - lo])
        if credit[i] < 1.0:
            continue
        credit[i] -= 1.0
        sessions[i] += 1
        j = lw[i]
        row = emit(log, row, t, i, _EV_SESSION, j)
        g = gain * skill[j]  # the Link Worker's skill scales what a session does
        B[i, _MENTAL] = max(0.01, B[i, _MENTAL] - g)
        B[i, _ISO] = max(0.01, B[i, _ISO] - isolation_share * g)
        # The plan's offer.
        if act[i] < 0 and queue[i] < 0:
            is_ready = dist[i] < readiness[j]
            # One accompaniment draw per offer: whether the Link Worker would go along.
            u = draw(k_accompany, t, i)
            with_lw = u < accompaniment
            # Supported volunteering is considered at a share of offers, and only with
            # the Link Worker going along (the same draw: supported implies with_lw).
            supported = u < accompaniment * supported_volunteering
            for a in range(nact):
                f = 0.0
                for d in range(B.shape[1]):
                    f += B[i, d] * profile[a, d]
                fit[a] = f
            if open_learning and not is_ready:
                fit[_TRAIN] = (B[i, _SKILLS] * profile[_TRAIN, _SKILLS]
                               + B[i, _MENTAL] * profile[_TRAIN, _MENTAL])
            best = -1
            best_fit = -1.0
            for a in range(nact):
                allowed = knows[j, a]
                if a == _VOL:
                    allowed = allowed and (is_ready or supported)
                elif a == _TRAIN and not open_learning:
                    allowed = allowed and is_ready
                if a == _EMP_ADVICE:
                    allowed = allowed and goal[i] and not in_work[i]
                f = fit[a] / crowding[a] if allowed else -1.0
                if f > best_fit:
                    best, best_fit = a, f
            if best_fit > 0:
                prob = uptake
                anxious = B[i, _MENTAL] > anxious_barrier
                if anxious:
                    prob *= anxious_factor
                    if with_lw:
                        prob *= accompanied_factor
                # An anxious client may be accompanied; supported volunteering (volunteering
                # for a client not yet ready) always is.
                if with_lw and (anxious or (best == _VOL and not is_ready)):
                    row = emit(log, row, t, i, _EV_ACCOMPANIED, best)
                if draw(k_uptake, t, i) < min(prob, uptake_cap):
                    queue[i] = best
                    queue_since[i] = t
                    row = emit(log, row, t, i, _EV_ACT_REFERRAL, best)
        # Direct referral to work-focused support.
        if goal[i] and direct[i] < 0 and not in_work[i]:
            prob = direct_per_session * propensity[j]
            is_ready = dist[i] < direct_readiness
            if is_ready:
                prob = min(1.0, prob * jcp_boost)
            if draw(k_direct, t, i) < prob:
                chosen[nchosen] = i
                ready_out[nchosen] = is_ready
                nchosen += 1
        # Discouragement of an 'ambitious' goal.
        if goal[i] and dist[i] > discourage_distance and not in_work[i]:
            h = discourage_per_session * min(max(1.0 - awareness[j] / discourage_awareness,
                                                 0.0), 1.0)
            if draw(k_discourage, t, i) < h:
                goal[i] = False
                B[i, _ASP] = max(B[i, _ASP], discouraged_barrier)
                row = emit(log, row, t, i, _EV_DISCOURAGED, j)
    return row, chosen[:nchosen], ready_out[:nchosen]


_TRIAGE_RULES = TRIAGE  # rule codes of triage_kernel: their positions
_EV_DISENGAGED, _EV_DECLINED, _EV_ASSIGNED = int(Ev.DISENGAGED), int(Ev.DECLINED), int(
    Ev.ASSIGNED)


@njit(cache=True)
def triage_kernel(t, lo, n, k_dropout, k_decline, status, lw, dist, wait_since, source,
                  support_start, credit, far, active, caseload, waiting_dropout, rule, pull,
                  mids, value_table, far_factor, decline, decline_factor, log, row):
    """The phase ``triage`` for clients ``lo .. n-1`` in week ``t``.

    Waiting clients may give up (``waiting_dropout``). The places Link Workers in post
    have free (caseload less supported clients) are filled from the waiting list in the
    order of the triage ``rule`` (0 first come, 1 furthest from work first, 2 closest
    first), pulled towards the clients with the highest expected results payment
    (creaming): ``value_table`` by band of distance from work, interpolated between band
    midpoints ``mids``, times ``far_factor`` for clients ``far`` from work at referral. The pull is
    ``pull`` x the spread of expected payment over the list ((max - min) / max): a
    payment that barely depends on the client reorders little. Some of those chosen
    decline at first contact
    (``decline`` by referral source); the rest are shared round-robin over the Link
    Workers with free places (one each in index order, then a second each...) and their
    assessment counts as their first session.

    Returns the log's new row count.
    """
    nlw = len(caseload)
    load = np.zeros(nlw, dtype=np.int64)
    waiting = np.empty(n - lo, dtype=np.int64)
    nw = 0
    for i in range(lo, n):
        st = status[i]
        if st == SUPPORTED:
            load[lw[i]] += 1
        elif st == WAITING:
            if draw(k_dropout, t, i) < waiting_dropout:
                status[i] = OUT
                row = emit(log, row, t, i, _EV_DISENGAGED, 0)
            else:
                waiting[nw] = i
                nw += 1
    free = np.zeros(nlw, dtype=np.int64)
    for j in range(nlw):
        if active[j]:
            free[j] = max(caseload[j] - load[j], 0)
    k = min(free.sum(), nw)
    if k == 0:
        return row
    waiting = waiting[:nw]
    if k < nw:
        d = np.empty(nw)
        for q in range(nw):
            d[q] = dist[waiting[q]]
        if rule == 0:
            base = np.empty(nw)
            for q in range(nw):
                base[q] = -float(wait_since[waiting[q]])
        elif rule == 1:
            base = d
        else:
            base = -d
        score = base
        if pull > 0:
            v = np.interp(d, mids, value_table)
            for q in range(nw):
                if far[waiting[q]]:
                    v[q] *= far_factor
            top = v.max()
            if top > 0:
                w = pull * (top - v.min()) / top
                score = (1 - w) * _rank01(base) + w * _rank01(v)
        chosen = waiting[np.argsort(-score, kind="mergesort")[:k]]
    else:
        chosen = waiting
    # Some decline when first contacted; the rest, in triage order, go round-robin.
    slots = np.empty(k, dtype=np.int64)
    ns = 0
    level = 0
    while ns < k:
        for j in range(nlw):
            if free[j] > level and ns < k:
                slots[ns] = j
                ns += 1
        level += 1
    ns = 0
    for i in chosen:
        if draw(k_decline, t, i) < decline * decline_factor[source[i]]:
            status[i] = OUT
            row = emit(log, row, t, i, _EV_DECLINED, -1)
            continue
        j = slots[ns]
        ns += 1
        status[i] = SUPPORTED
        lw[i] = j
        support_start[i] = t
        credit[i] = 1.0  # the assessment is the first session
        row = emit(log, row, t, i, _EV_ASSIGNED, j)
    return row
