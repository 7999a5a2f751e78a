"""The Mesa model of client pathways to work through social prescribing.

One tick is one week. :meth:`PathwaysModel.step` runs these phases in order
over all clients at once (client state lives in arrays; see
:mod:`pathways_sim.model.clients`):

1. **Referral** - each source refers a Poisson number of clients; eligibility
   rules reject some; the rest join the Link Worker waiting list.
2. **Waiting and triage** - waiting clients may give up; free Link Worker
   places are filled in the order of the triage rule, pulled towards
   clients close to work by results payments (creaming).
3. **Link Worker sessions** - sessions at the service model's frequency, fewer
   for clients far from work under job incentives (parking). A session builds
   confidence and is when the co-produced plan offers an activity the Link
   Worker knows (uptake helped by follow-up, co-location and accompaniment),
   refers a ready client with a work goal to work-focused support (the direct
   pathway), or - with low work awareness - discourages an 'ambitious' goal.
4. **Activities** - VCS providers end, lose (drop-out) and fill places from
   their waiting lists; attending lowers the barriers each activity
   addresses. Volunteering and training are stepping stones. Clients out of
   support may step into them on their own, slowly.
5. **Barriers, wellbeing and work goals** - unsupported gains fade; support
   and confidence raise interest in work; a work goal is stated once the
   aspiration barrier falls below a threshold; distance from the labour
   market is recomputed; distance travelled is recorded.
6. **Jobs** - job-entry hazard (distance, goal, work-focused support, labour
   demand), job loss (distance, in-work support), sustainment at 13/26/52
   weeks.
7. **Exits** - work-focused support ends; discharge at the end of support or
   when the plan is complete; disengagement (falls with contact, rises when
   work feels mandatory); re-referral, sometimes through an employment
   programme.
8. **Readings** - distance, wellbeing and the barrier in each domain read every
   26 weeks (Wellbeing Star practice), as at referral and at the end of follow-up.

Results payments are made by the :class:`~pathways_sim.model.funder.Funder`
as outcomes happen; at the end of each funding period (a Mesa recurring
event) it settles the ledger and re-sets Link Worker posts from income.

Every client event goes to the event log (:mod:`pathways_sim.model.events`),
the single source of all outcome metrics.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from mesa import Model
from mesa.time.events import Schedule

from pathways_sim.model.clients import (
    DISTANCE_WEIGHTS,
    EMPLOYED_AT_RISK,
    NO_WEEK,
    OUT,
    REJECTED,
    SUPPORTED,
    WAITING,
    Client,
    ClientState,
    D,
    wellbeing,
)
from pathways_sim.model.events import (
    ACTIVITY_CODES,
    BARRIER_EVENTS,
    DIRECT_CODES,
    SOURCE_CODES,
    Ev,
    EventLog,
)
from pathways_sim.model.funder import Funder
from pathways_sim.model.jobcentre import EmploymentSupport, JobcentrePlus
from pathways_sim.model.link_worker import LinkWorker
from pathways_sim.model.provider import VCSProvider, profile_matrix
from pathways_sim.model.referral import ReferralSchedule, ReferralSource
from pathways_sim.model.rng import Streams
from pathways_sim.scenario.registry import ACTIVITIES, SOURCES
from pathways_sim.stages import STAGE_CODE, STAGE_NAMES, SUSTAINED_WEEKS

_ASP, _MENTAL, _ISO, _SKILLS = D["aspiration"], D["mental"], D["isolation"], D["skills"]
_VOL, _TRAIN, _EMP_ADVICE = (ACTIVITY_CODES[a] for a in ("volunteering", "training",
                                                          "employment_advice"))
_JCP, _ADVISER, _IPS = DIRECT_CODES["jcp"], DIRECT_CODES["employment_adviser"], DIRECT_CODES["ips"]
_WEEKS_PER_MONTH = 52.0 / 12.0
_READING_EVERY = 26
_ANXIOUS = 0.6  # confidence barrier above which a client counts as anxious (Box H)


def _plain_params(scenario) -> SimpleNamespace:
    """The scenario's values as plain nested namespaces (fast attribute access in the hot path)."""
    sections: dict[str, dict] = {}
    for path, value in scenario.values.items():
        section, key = path.split(".", 1)
        sections.setdefault(section, {})[key] = value
    return SimpleNamespace(**{k: SimpleNamespace(**v) for k, v in sections.items()})


def _rank01(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]; ties rank the earlier position higher (as a stable sort would)."""
    if len(x) < 2:
        return np.zeros(len(x))
    order = np.lexsort((-np.arange(len(x)), x))  # ties: the earlier position ranks higher
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    return ranks / (len(x) - 1)


class PathwaysModel(Model):
    """Clients moving towards work through a social prescribing service.

    Args:
        scenario: A resolved, frozen scenario (:func:`pathways_sim.scenario.load_scenario`).
        seed: Root seed; every random stream of the run is derived from it.

    Attributes:
        p: The scenario's parameters as a nested read-only namespace.
        week: The week the next :meth:`step` will simulate (0-based).
        clients: Array state of every client ever referred.
        log: The client event log.
    """

    def __init__(self, scenario, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.config = scenario
        self.p = p = _plain_params(scenario)
        self.seed = int(seed)
        self.week = 0
        self.streams = Streams(self.seed)
        scale = p.run.scale
        expected = (p.referrals.per_year + p.jcp.referrals_per_year) * scale * p.run.weeks / 52
        self.clients = ClientState(capacity=max(1024, int(expected * 1.1)))
        self.log = EventLog(capacity=max(4096, int(expected * 40)))
        self._agents: list[Client | None] = []
        self._lo = 0  # first client still in follow-up

        shares = np.array([getattr(p.referrals, f"share_{s}") for s in SOURCES])
        shares = shares / shares.sum() if shares.sum() > 0 else shares
        shifts = {s: getattr(p.referrals, f"shift_{s}", 0.0) for s in SOURCES}
        shifts["gp"] = 0.0
        self.sources = [ReferralSource(s, p.referrals.per_year * scale * w, shifts[s])
                        for s, w in zip(SOURCES, shares, strict=True)]
        self.jobcentre = JobcentrePlus(self)
        self.sources.append(ReferralSource("jcp", self.jobcentre.referrals_per_year, p.jcp.shift))
        self.referrals = ReferralSchedule(p, self.streams, self.sources, p.run.weeks)
        # Declining at first contact, relative to GP referrals, by source code (JCP as GP).
        self._decline_factor = np.ones(max(SOURCE_CODES.values()) + 1, dtype=np.float64)
        for src, code in SOURCE_CODES.items():
            self._decline_factor[code] = getattr(p.referrals, f"decline_factor_{src}", 1.0)

        self.providers = [VCSProvider(self, a, ACTIVITY_CODES[a]) for a in ACTIVITIES]
        self._profile = profile_matrix(ACTIVITIES)
        self._act_weeks = np.array([pr.weeks for pr in self.providers], dtype=np.int32)
        self._act_dropout = np.array([pr.dropout for pr in self.providers], dtype=np.float32)
        self._act_effect = np.array([pr.effect for pr in self.providers], dtype=np.float32)
        self.act_counts = np.zeros(len(ACTIVITIES), dtype=np.int64)
        self.queue_counts = np.zeros(len(ACTIVITIES), dtype=np.int64)

        self.work_support: dict[int, EmploymentSupport] = {_JCP: self.jobcentre}
        if p.direct.employment_adviser:
            self.work_support[_ADVISER] = EmploymentSupport(
                self, "employment_adviser", int(round(p.direct.adviser_caseload * scale)),
                p.direct.adviser_effect, in_work_support=True)
        if p.direct.ips:
            self.work_support[_IPS] = EmploymentSupport(
                self, "ips", int(round(p.direct.ips_caseload * scale)), p.direct.ips_effect,
                zero_exclusion=True, in_work_support=True)
        self._direct_effect = np.zeros(4, dtype=np.float32)  # index -1 -> last slot = none
        for code, sup in self.work_support.items():
            self._direct_effect[code] = sup.effect
        self._in_work_support = np.zeros(4, dtype=bool)
        self._mandatory = np.zeros(4, dtype=bool)
        for code, sup in self.work_support.items():
            self._in_work_support[code] = sup.in_work_support
            self._mandatory[code] = sup.mandatory
        self.direct_counts = np.zeros(3, dtype=np.int64)

        self._training = (0.0, 0)  # work awareness and IAG level of any training given so far
        self.initial_link_workers = int(round(p.link_workers.count * scale))
        self.link_workers: list[LinkWorker] = []
        self.set_link_worker_posts(self.initial_link_workers)
        self.lw_load = np.zeros(len(self.link_workers), dtype=np.int64)

        self.funder = Funder(self)
        self.schedule_recurring(self.funder.settle_period,
                                Schedule(interval=p.funding.period_weeks,
                                         start=p.funding.period_weeks))
        if p.link_workers.training_week >= 0:
            # Mesa holds callbacks by weak reference: schedule a bound method.
            self.schedule_event(self._scheduled_training, at=p.link_workers.training_week)

    # ------------------------------------------------------------------ set-up helpers
    @property
    def active_link_workers(self) -> int:
        return sum(lw.active for lw in self.link_workers)

    def set_link_worker_posts(self, posts: int) -> None:
        """Fund ``posts`` Link Worker posts: reactivate or hire, or stop intake (LIFO)."""
        active = [lw for lw in self.link_workers if lw.active]
        if posts < len(active):
            for lw in active[posts:]:
                lw.active = False
        else:
            need = posts - len(active)
            for lw in self.link_workers:
                if need == 0:
                    break
                if not lw.active:
                    lw.active = True
                    need -= 1
            for _ in range(need):
                i = len(self.link_workers)
                u = self.streams.uniform("link_worker.knowledge", 0, i * 8, i * 8 + len(ACTIVITIES))
                knows = u < self.p.link_workers.knowledge_of_provision
                hired = LinkWorker(self, knows)
                hired.train(*self._training)
                self.link_workers.append(hired)
        self.refresh_link_worker_arrays()

    def refresh_link_worker_arrays(self) -> None:
        """Copy Link Worker attributes into arrays for the vectorised phases."""
        lws = self.link_workers
        self._lw_cap = np.array([lw.caseload if lw.active else 0 for lw in lws], dtype=np.int64)
        self._lw_aware = np.array([lw.work_awareness for lw in lws], dtype=np.float32)
        self._lw_prop = np.array([lw.referral_propensity() for lw in lws], dtype=np.float32)
        self._lw_knows = (np.array([lw.knows for lw in lws], dtype=bool)
                          if lws else np.zeros((0, len(ACTIVITIES)), dtype=bool))
        self._lw_colocated = np.array([lw.colocated for lw in lws], dtype=bool)
        if hasattr(self, "lw_load") and len(self.lw_load) < len(lws):
            self.lw_load = np.concatenate(
                [self.lw_load, np.zeros(len(lws) - len(self.lw_load), dtype=np.int64)])

    def train_link_workers(self, work_awareness: float | None = None,
                           iag_level: int | None = None) -> None:
        """Train every Link Worker in work awareness (a lever the workshop can pull mid-run).

        Defaults to ``link_workers.trained_awareness`` and ``trained_iag_level``.
        Link Workers hired later are hired trained.
        """
        lwp = self.p.link_workers
        aware = lwp.trained_awareness if work_awareness is None else work_awareness
        iag = lwp.trained_iag_level if iag_level is None else iag_level
        self._training = (max(self._training[0], aware), max(self._training[1], iag))
        for lw in self.link_workers:
            lw.train(*self._training)
        self.refresh_link_worker_arrays()

    def _scheduled_training(self) -> None:
        """The training event of ``link_workers.training_week`` (before that week is simulated)."""
        self.train_link_workers()

    def commission_provision(self) -> None:
        """Commission extra places where an activity's waiting list persists (Rotherham)."""
        for pr in self.providers:
            if pr.places > 0 and self.queue_counts[pr.code] > 0.5 * pr.places:
                pr.commission()

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Simulate one week (the phases in the module docstring, in order)."""
        t = self.week
        self._refer(t)
        self._advance_window(t)
        self._readings(t)
        self._triage(t)
        self._sessions(t)
        self._activities(t)
        self._dynamics(t)
        self._jobs(t)
        self._exits(t)
        self.week += 1
        if self.week == self.p.run.weeks:
            self.running = False
            if self.week % self.p.funding.period_weeks:
                self.funder.settle_period()  # the last, partial funding period

    def run(self, weeks: int | None = None) -> None:
        """Run ``weeks`` more weeks (default: to ``run.weeks``) with Mesa's event loop."""
        weeks = self.p.run.weeks - self.week if weeks is None else weeks
        if weeks > 0:
            self.run_for(weeks)

    @property
    def window(self) -> slice:
        """Clients still followed (referred within ``run.follow_up_weeks``)."""
        return slice(self._lo, self.clients.n)

    def _u(self, decision: str, t: int, idx: np.ndarray) -> np.ndarray:
        """This week's uniform draws for ``decision`` for clients ``idx`` (sorted ascending).

        Each decision has its own stream (common random numbers: a client's draw
        for a decision never depends on the other decisions or other clients).
        """
        if len(idx) == 0:
            return np.empty(0, dtype=np.float32)
        lo = int(idx[0])
        return self.streams.uniform(decision, t, lo, int(idx[-1]) + 1)[idx - lo]

    def _where(self, mask: np.ndarray) -> np.ndarray:
        """Client indices where a window mask is true."""
        return np.flatnonzero(mask) + self._lo

    # ------------------------------------------------------------------ 1. referral
    def _refer(self, t: int) -> None:
        new = self.referrals.week(t)
        if new is None:
            return
        s, p, log = self.clients, self.p, self.log
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
        self._log_barriers(t, idx[~reject])
        employed = (new["emp_status"] == EMPLOYED_AT_RISK) & ~reject
        s.in_work[rows] = employed
        log.add(Ev.EMPLOYED_AT_REFERRAL, t, idx[employed])
        goal = ~reject & wa & ~employed & (B[:, _ASP] < p.dynamics.goal_threshold)
        s.goal[rows] = goal
        log.add(Ev.WORK_GOAL, t, idx[goal], B[goal, _ASP])
        self._agents.extend(Client(self, i) for i in range(rows.start, rows.stop))

    def _advance_window(self, t: int) -> None:
        """Stop following clients whose follow-up has ended; remove their agents."""
        s = self.clients
        new_lo = int(np.searchsorted(s.ref_week[: s.n], t - self.p.run.follow_up_weeks,
                                     side="right"))
        if new_lo > self._lo:
            leaving = np.arange(self._lo, new_lo, dtype=np.int32)
            leaving = leaving[s.status[leaving] != REJECTED]
            # The 24-month reading, then the end of follow-up (closes every open state).
            self.log.add(Ev.READING, t, leaving, s.dist[leaving])
            self.log.add(Ev.WELLBEING, t, leaving, wellbeing(s.B[leaving]))
            self._log_barriers(t, leaving)
            self.log.add(Ev.FOLLOW_UP_END, t, leaving)
        for i in range(self._lo, new_lo):
            agent = self._agents[i]
            if agent is not None:
                agent.remove()
                self._agents[i] = None
        self._lo = max(self._lo, new_lo)

    def client(self, index: int) -> Client | None:
        """The Mesa agent of client ``index`` while it is followed, else None."""
        return self._agents[index]

    # ------------------------------------------------------------------ 2. triage
    def _triage(self, t: int) -> None:
        s, p, log, W = self.clients, self.p, self.log, self.window
        status = s.status[W]
        waiting = self._where(status == WAITING)
        if len(waiting):
            h = p.service.waiting_dropout_per_week * self._colocation_factor(-1.0)
            gone = waiting[self._u("waiting.dropout", t, waiting) < h]
            s.status[gone] = OUT
            log.add(Ev.DISENGAGED, t, gone, 0)
            waiting = waiting[s.status[waiting] == WAITING]
        supported = self._where(status == SUPPORTED)
        self.lw_load = np.bincount(s.lw[supported], minlength=len(self.link_workers))
        free = np.clip(self._lw_cap - self.lw_load, 0, None)
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
        w = self.funder.incentive
        if w > 0:
            score = (1 - w) * _rank01(base) + w * _rank01(-d.astype(np.float64))
        else:
            score = base
        order = np.argsort(-score, kind="stable") if k < len(waiting) else slice(None)
        chosen = waiting[order][:k]
        # Some decline when first contacted (warm handover by a co-located Link Worker helps).
        # The referral route matters too (a care coordinator's referral is warmer than a GP's).
        chosen_sorted = np.sort(chosen)
        h = (p.service.decline_at_contact * self._colocation_factor(-1.0)
             * self._decline_factor[s.source[chosen_sorted]])
        declined = chosen_sorted[self._u("decline", t, chosen_sorted) < h]
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
        np.add.at(self.lw_load, lw_ids, 1)
        log.add(Ev.ASSIGNED, t, chosen, lw_ids)

    def _colocation_factor(self, sign: float) -> float:
        lw = self.p.link_workers
        return 1.0 + sign * lw.colocation_effect if lw.colocated else 1.0

    def _far_score(self, dist: np.ndarray) -> np.ndarray:
        """How far from work a Link Worker judges a client (0 close - 1 far)."""
        return np.clip((dist - 0.45) / 0.3, 0.0, 1.0)

    def session_rate(self, idx: np.ndarray) -> np.ndarray:
        """Sessions a week for supported clients ``idx``: service frequency less parking."""
        p = self.p
        rate = p.link_workers.sessions_per_month / _WEEKS_PER_MONTH
        park = p.incentives.parking * self.funder.incentive
        if park == 0:
            return np.full(len(idx), rate, dtype=np.float32)
        return rate * (1.0 - park * self._far_score(self.clients.dist[idx]))

    # ------------------------------------------------------------------ 3. sessions
    def _sessions(self, t: int) -> None:
        s, p, log = self.clients, self.p, self.log
        sup = self._where(s.status[self.window] == SUPPORTED)
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
        gain = lwp.session_effect * (0.5 + 0.5 * lwp.coproduction)
        s.B[sess, _MENTAL] = np.maximum(0.01, s.B[sess, _MENTAL] - gain)
        s.B[sess, _ISO] = np.maximum(0.01, s.B[sess, _ISO] - 0.5 * gain)
        self._offer_activities(t, sess)
        self._refer_to_work_support(t, sess)
        self._discourage(t, sess)

    def _offer_activities(self, t: int, sess: np.ndarray) -> None:
        """The co-produced plan offers the known activity that best fits the largest barriers."""
        s, p, log = self.clients, self.p, self.log
        cand = sess[(s.act[sess] < 0) & (s.queue[sess] < 0)]
        if len(cand) == 0:
            return
        fit = s.B[cand] @ self._profile.T  # clients x activities
        allowed = self._lw_knows[s.lw[cand]].copy()
        ready = s.dist[cand] < p.provision.readiness_distance
        allowed[:, _VOL] &= ready
        if not p.provision.open_learning:
            allowed[:, _TRAIN] &= ready
        else:
            # An adult-learning offer takes anyone, but for a client not yet ready for
            # stepping stones it answers the skills and confidence parts of training (basic
            # maths, English, digital), not its work-related parts (aspiration, experience).
            far = cand[~ready]
            prof = self._profile[_TRAIN]
            fit[~ready, _TRAIN] = (s.B[far, _SKILLS] * prof[_SKILLS]
                                   + s.B[far, _MENTAL] * prof[_MENTAL])
        # Employment advice is for clients who have said they want work.
        allowed[:, _EMP_ADVICE] &= s.goal[cand] & ~s.in_work[cand]
        # Link Workers who know the provision also know how full it is: a long
        # waiting list makes an activity a worse fit (assumption).
        places = np.array([max(pr.places, 1) for pr in self.providers], dtype=np.float32)
        fit = fit / (1.0 + self.queue_counts / places)
        fit = np.where(allowed, fit, -1.0)
        best = np.argmax(fit, axis=1)
        has = fit[np.arange(len(cand)), best] > 0
        cand, best = cand[has], best[has]
        if len(cand) == 0:
            return
        lwp = p.link_workers
        prob = np.full(len(cand), p.service.uptake_base * (1.0 + lwp.follow_up)
                       * self._colocation_factor(1.0), dtype=np.float32)
        anxious = s.B[cand, _MENTAL] > _ANXIOUS
        accompanied = anxious & (self._u("accompaniment", t, cand) < lwp.accompaniment)
        prob[anxious] *= 0.5
        prob[accompanied] *= 3.0
        log.add(Ev.ACCOMPANIED, t, cand[accompanied], best[accompanied])
        take = self._u("uptake", t, cand) < np.minimum(prob, 0.95)
        cand, best = cand[take], best[take]
        s.queue[cand] = best
        s.queue_since[cand] = t
        log.add(Ev.ACTIVITY_REFERRAL, t, cand, best)

    def _refer_to_work_support(self, t: int, sess: np.ndarray) -> None:
        """The direct pathway: refer clients with a work goal to work-focused support."""
        s, p = self.clients, self.p
        cand = sess[s.goal[sess] & (s.direct[sess] < 0) & ~s.in_work[sess]]
        if len(cand) == 0:
            return
        prob = p.direct.referral_per_session * self._lw_prop[s.lw[cand]]
        ready = s.dist[cand] < p.direct.readiness_distance
        jcp_prob = np.minimum(1.0, prob * self.jobcentre.referral_boost)
        u = self._u("direct.referral", t, cand)
        chosen = cand[u < np.where(ready, jcp_prob, prob)]
        if len(chosen):
            self._start_work_support(t, chosen, ready[u < np.where(ready, jcp_prob, prob)])

    def _start_work_support(self, t: int, idx: np.ndarray, ready: np.ndarray) -> None:
        """Place clients with the best available work-focused support (IPS, adviser, JCP)."""
        s = self.clients
        code = np.full(len(idx), -1, dtype=np.int8)
        for c in (_IPS, _ADVISER):
            sup = self.work_support.get(c)
            if sup is None:
                continue
            free = sup.free_places()
            elig = (code < 0) & (ready | sup.zero_exclusion)
            pos = np.flatnonzero(elig)[: max(0, free)]
            code[pos] = c
            self.direct_counts[c] += len(pos)
        code[(code < 0) & ready] = _JCP
        placed = code >= 0
        idx, code = idx[placed], code[placed]
        s.direct[idx] = code
        s.direct_end[idx] = t + self.p.direct.support_weeks
        self.log.add(Ev.DIRECT_START, t, idx, code)

    def _discourage(self, t: int, sess: np.ndarray) -> None:
        """Link Workers with low work awareness discourage 'overly ambitious' goals."""
        s, p = self.clients, self.p
        cand = sess[s.goal[sess] & (s.dist[sess] > 0.5) & ~s.in_work[sess]]
        if len(cand) == 0:
            return
        lw = s.lw[cand]
        h = p.link_workers.discourage_per_session * np.clip(1.0 - self._lw_aware[lw] / 0.6, 0, 1)
        hit = self._u("discourage", t, cand) < h
        cand = cand[hit]
        s.goal[cand] = False
        s.B[cand, _ASP] = np.maximum(s.B[cand, _ASP], p.dynamics.goal_threshold + 0.2)
        self.log.add(Ev.GOAL_DISCOURAGED, t, cand, lw[hit])

    # ------------------------------------------------------------------ 4. activities
    def _activities(self, t: int) -> None:
        s, p, log, W = self.clients, self.p, self.log, self.window
        n_prov = len(self.providers)
        busy = self._where(s.act[W] >= 0)
        a = s.act[busy]
        if len(busy):
            done = s.act_end[busy] <= t
            log.add(Ev.ACTIVITY_END, t, busy[done], a[done])
            s.act[busy[done]] = -1
            busy, a = busy[~done], a[~done]
            h = self._act_dropout[a] * np.where(s.status[busy] == SUPPORTED,
                                                1.0 - 0.5 * p.link_workers.follow_up, 1.0)
            drop = self._u("activity.dropout", t, busy) < h
            log.add(Ev.ACTIVITY_DROPOUT, t, busy[drop], a[drop])
            s.act[busy[drop]] = -1
            busy, a = busy[~drop], a[~drop]
            eff = self._act_effect[a] * (0.6 + 0.4 * p.link_workers.coproduction)
            s.B[busy] *= 1.0 - eff[:, None] * self._profile[a]
        counts = np.bincount(a, minlength=n_prov)
        self._self_directed(t)
        queued = self._where(s.queue[W] >= 0)
        if len(queued):
            h = 0.5 * p.service.waiting_dropout_per_week
            leave = self._u("activity.queue_dropout", t, queued) < h
            s.queue[queued[leave]] = -1
            log.add(Ev.ACTIVITY_DROPOUT, t, queued[leave], -1)
            queued = queued[~leave]
        # Fill free places first come, first served: one stable sort by (activity, since).
        q = s.queue[queued]
        order = np.lexsort((s.queue_since[queued], q))
        queued, q = queued[order], q[order]
        bounds = np.searchsorted(q, np.arange(n_prov + 1))
        waiting = np.diff(bounds)
        for pr in self.providers:
            c = pr.code
            take = min(pr.places - int(counts[c]), int(waiting[c]))
            if take <= 0:
                continue
            start = queued[bounds[c] : bounds[c] + take]
            s.queue[start] = -1
            s.act[start] = c
            s.act_end[start] = t + pr.weeks
            counts[c] += take
            waiting[c] -= take
            log.add(Ev.ACTIVITY_START, t, start, c)
            if pr.is_stepping_stone:
                first = start[~s.stepped[start]]
                s.stepped[first] = True
                self.funder.pay("stepping_stone", first, t)
        self.act_counts = counts
        self.queue_counts = waiting

    def _self_directed(self, t: int) -> None:
        """Clients out of support step into volunteering or training on their own, slowly."""
        s, p = self.clients, self.p
        W = self.window
        cand = self._where((s.status[W] == OUT) & (s.act[W] < 0) & (s.queue[W] < 0)
                           & ~s.in_work[W] & s.working_age[W])
        if len(cand) == 0:
            return
        cand = cand[s.dist[cand] < p.provision.readiness_distance]
        go = cand[self._u("self_directed", t, cand) < p.provision.self_directed_per_week]
        kind = np.where(s.B[go, D["skills"]] > s.B[go, D["work_experience"]], _TRAIN, _VOL)
        s.queue[go] = kind
        s.queue_since[go] = t
        self.log.add(Ev.ACTIVITY_REFERRAL, t, go, kind)

    # ------------------------------------------------------------------ 5. dynamics
    def _dynamics(self, t: int) -> None:
        s, p, log, W = self.clients, self.p, self.log, self.window
        status = s.status[W]
        engaged = (status == SUPPORTED) | (s.act[W] >= 0)
        # Relapse of idle clients, on window views (cheaper than gathering the idle rows).
        idle = ~engaged & (status != REJECTED)
        Bw = s.B[W]
        gap = s.B0[W] - Bw
        np.maximum(gap, 0.0, out=gap)
        gap *= (p.dynamics.relapse_rate * idle).astype(np.float32)[:, None]
        Bw += gap
        grow = self._where(engaged & s.working_age[W] & ~s.in_work[W])
        if len(grow):
            # A supporting Link Worker's work awareness; 0.3 for clients in an activity alone.
            aware = np.full(len(grow), 0.3, dtype=np.float32)
            sup = s.status[grow] == SUPPORTED
            aware[sup] = self._lw_aware[s.lw[grow[sup]]]
            fall = p.dynamics.goal_growth * (1.0 - s.B[grow, _MENTAL]) * (0.3 + aware)
            s.B[grow, _ASP] = np.maximum(0.01, s.B[grow, _ASP] - fall)
        asp = s.B[W, _ASP]
        thr = p.dynamics.goal_threshold
        new_goal = self._where(~s.goal[W] & s.working_age[W] & ~s.in_work[W]
                               & (status != REJECTED) & (asp < thr))
        s.goal[new_goal] = True
        log.add(Ev.WORK_GOAL, t, new_goal, s.B[new_goal, _ASP])
        lapsed = self._where(s.goal[W] & (asp > thr + 0.15))
        s.goal[lapsed] = False
        log.add(Ev.GOAL_LAPSED, t, lapsed, s.B[lapsed, _ASP])
        dist = s.B[W] @ DISTANCE_WEIGHTS
        s.dist[W] = dist
        moved = self._where(~s.travelled[W] & (s.dist0[W] - dist >= 0.1) & (status != REJECTED))
        s.travelled[moved] = True
        log.add(Ev.DISTANCE_TRAVELLED, t, moved, s.dist0[moved] - s.dist[moved])
        self.funder.pay("distance", moved, t)

    # ------------------------------------------------------------------ 6. jobs
    def _jobs(self, t: int) -> None:
        s, p, log, W = self.clients, self.p, self.log, self.window
        status = s.status[W]
        in_work = s.in_work[W]
        seek = self._where(s.working_age[W] & ~in_work & (status != REJECTED))
        working = self._where(in_work)
        if len(seek):
            j = p.jobs
            h = (j.base_per_week * j.labour_demand * np.exp(-j.distance_slope * s.dist[seek])
                 * (1.0 + self._direct_effect[s.direct[seek]])
                 * np.where(s.goal[seek], 1.0, j.no_goal_factor))
            start = seek[self._u("job.entry", t, seek) < h]
            s.in_work[start] = True
            s.job_start[start] = t
            log.add(Ev.JOB_START, t, start, s.dist[start])
            first = start[~s.job_paid[start]]
            s.job_paid[first] = True
            self.funder.pay("job", first, t)
            leave = start[(s.direct[start] >= 0) & ~self._in_work_support[s.direct[start]]]
            log.add(Ev.DIRECT_END, t, leave, s.direct[leave])
            s.direct[leave] = -1
        if len(working):
            j = p.jobs
            # In-work support: from IPS or an adviser in full; from a Link Worker
            # still supporting the client, in proportion to follow-up intensity.
            support = np.where(self._in_work_support[s.direct[working]], 1.0,
                               np.where(s.status[working] == SUPPORTED,
                                        p.link_workers.follow_up, 0.0))
            h = j.loss_per_week * (0.5 + s.dist[working]) * (1.0 - j.in_work_support * support)
            lost = working[self._u("job.loss", t, working) < h]
            started = s.job_start[lost]
            log.add(Ev.JOB_END, t, lost, np.where(started > NO_WEEK, t - started, -1))
            s.in_work[lost] = False
            s.job_start[lost] = NO_WEEK
            still = working[s.in_work[working] & (s.job_start[working] > NO_WEEK)]
            dur = t - s.job_start[still]
            for weeks in (13, 26, 52):
                hit = still[dur == weeks]
                log.add(Ev.SUSTAINED, t, hit, weeks)
                self.funder.pay(f"sustain_{weeks}w", hit, t)

    # ------------------------------------------------------------------ 7. exits
    def _exits(self, t: int) -> None:
        s, p, log, W = self.clients, self.p, self.log, self.window
        direct = self._where(s.direct[W] >= 0)
        if len(direct):
            end = direct[s.direct_end[direct] <= t]
            log.add(Ev.DIRECT_END, t, end, s.direct[end])
            s.direct[end] = -1
        self.direct_counts = np.bincount(s.direct[W][s.direct[W] >= 0], minlength=3)
        sup = self._where(s.status[W] == SUPPORTED)
        if len(sup):
            weeks = t - s.support_start[sup]
            done = (weeks >= p.link_workers.max_support_weeks) | (
                (s.dist[sup] < p.service.discharge_distance) & (s.act[sup] < 0)
                & (s.queue[sup] < 0) & (weeks >= 4))
            out = sup[done]
            s.status[out] = OUT
            log.add(Ev.DISCHARGED, t, out, weeks[done])
            sup = sup[~done]
            d = p.disengagement
            h = (d.base_per_week * np.exp(-d.contact_protection * self.session_rate(sup))
                 * (1.0 + d.mandatory_factor * self._mandatory[s.direct[sup]])
                 * self._colocation_factor(-1.0))
            gone = sup[self._u("disengage", t, sup) < h]
            s.status[gone] = OUT
            queued = gone[s.queue[gone] >= 0]
            log.add(Ev.ACTIVITY_DROPOUT, t, queued, -1)
            s.queue[queued] = -1
            log.add(Ev.DISENGAGED, t, gone, 1)
        cand = self._where((s.status[W] == OUT) & ~s.in_work[W] & (s.direct[W] < 0)
                           & (s.act[W] < 0) & (s.queue[W] < 0))
        if len(cand):
            d = p.disengagement
            back = cand[self._u("rereferral", t, cand) < d.rereferral_per_week]
            if len(back):
                via_emp = (self._u("rereferral.route", t, back) < d.rereferral_via_employment)
                via_emp &= s.working_age[back]
                log.add(Ev.RE_REFERRED, t, back, via_emp.astype(np.float32))
                rest = back[~via_emp]
                s.status[rest] = WAITING
                s.wait_since[rest] = t
                emp = back[via_emp]
                self._start_work_support(t, emp, np.ones(len(emp), dtype=bool))

    # ------------------------------------------------------------------ 8. readings
    def _readings(self, t: int) -> None:
        """Distance, wellbeing and barriers read every 26 weeks after referral (Wellbeing Star)."""
        s = self.clients
        ref = s.ref_week[self._lo : s.n]
        due = []
        for k in range(1, (self.p.run.follow_up_weeks - 1) // _READING_EVERY + 1):
            week = t - k * _READING_EVERY  # clients referred then are read now: a contiguous run
            lo, hi = np.searchsorted(ref, week, "left"), np.searchsorted(ref, week, "right")
            due.append(np.arange(lo, hi) + self._lo)
        due = np.concatenate(due) if due else np.empty(0, dtype=np.int64)
        due = due[s.status[due] != REJECTED]
        if len(due):
            self.log.add(Ev.READING, t, due, s.dist[due])
            self.log.add(Ev.WELLBEING, t, due, wellbeing(s.B[due]))
            self._log_barriers(t, due)

    def _log_barriers(self, t: int, idx: np.ndarray) -> None:
        """Log each client's barrier in every domain (one BARRIER_* event per domain)."""
        if len(idx) == 0:
            return
        B = self.clients.B[idx]
        for j, ev in enumerate(BARRIER_EVENTS):
            self.log.add(ev, t, idx, B[:, j])

    # ------------------------------------------------------------------ views
    def stage_codes(self, idx: np.ndarray) -> np.ndarray:
        """Stage of clients ``idx``: codes of :data:`pathways_sim.stages.STAGES`."""
        s, t, c = self.clients, self.week, STAGE_CODE
        code = np.full(len(idx), c["exited"], dtype=np.int8)
        st = s.status[idx]
        code[st == WAITING] = c["waiting"]
        code[st == SUPPORTED] = c["with_link_worker"]
        act = s.act[idx]
        code[act >= 0] = c["in_activity"]
        code[(act == _VOL) | (act == _TRAIN)] = c["stepping_stone"]
        code[s.direct[idx] >= 0] = c["work_support"]
        work = s.in_work[idx]
        code[work] = c["in_work"]
        code[work & (s.job_start[idx] > NO_WEEK)
             & (t - s.job_start[idx] >= SUSTAINED_WEEKS)] = c["sustained"]
        return code

    def stage_counts(self) -> dict[str, int]:
        """Clients in each stage now (clients still followed, rejected excluded)."""
        W = self.window
        idx = self._where(self.clients.status[W] != REJECTED)
        counts = np.bincount(self.stage_codes(idx), minlength=len(STAGE_NAMES))
        return dict(zip(STAGE_NAMES, (int(c) for c in counts), strict=True))

    def client_attributes(self):
        """One row per client with attributes fixed at referral (joined to log outcomes)."""
        import pandas as pd

        from pathways_sim.model.clients import EMPLOYMENT_STATUS, REASONS

        s, n = self.clients, self.clients.n
        sources = {v: k for k, v in SOURCE_CODES.items()}
        return pd.DataFrame({
            "client": np.arange(n, dtype=np.int32),
            "referral_week": s.ref_week[:n].copy(),
            "source": pd.Categorical.from_codes(s.source[:n], [sources[i] for i in range(6)]),
            "age": s.age[:n].round(1),
            "working_age": s.working_age[:n].copy(),
            "conditions": s.conditions[:n].copy(),
            "employment_status": pd.Categorical.from_codes(s.emp_status[:n],
                                                           list(EMPLOYMENT_STATUS)),
            "reason": pd.Categorical.from_codes(s.reason[:n], list(REASONS)),
            "distance_at_referral": s.dist0[:n].copy(),
            "far_from_work": s.far[:n].copy(),
        })
