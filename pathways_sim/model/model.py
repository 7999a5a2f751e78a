"""The Mesa model of client pathways to work through social prescribing: the assembly.

One tick is one week. :meth:`PathwaysModel.step` runs the phases of :data:`PHASES` in
this order over all clients at once (client state lives in arrays; see
:mod:`pathways_sim.model.clients`). Each phase is a method of one process module, which
owns that process's parameters, state and random streams
(:class:`pathways_sim.model.process.Process`):

1. ``refer`` (:mod:`~pathways_sim.model.referral`) - each source refers a Poisson number
   of clients; eligibility rules reject some; the rest join the Link Worker waiting list.
2. ``advance_window`` (:mod:`~pathways_sim.model.followup`) - clients whose follow-up
   has ended get their last reading and leave the window of followed clients.
3. ``readings`` (:mod:`~pathways_sim.model.followup`) - distance, wellbeing and the
   barrier in each domain read every 26 weeks after referral (Wellbeing Star practice).
4. ``triage`` (:mod:`~pathways_sim.model.link_worker`) - waiting clients may give up;
   free Link Worker places are filled in the order of the triage rule, pulled towards
   clients close to work by results payments (creaming); some decline at first contact.
5. ``sessions`` (:mod:`~pathways_sim.model.link_worker`) - sessions at the service
   model's frequency, fewer for clients worth less in results payments (parking). A
   session builds confidence and is when the co-produced plan offers an activity the Link
   Worker knows, refers a client with a work goal to work-focused support (the direct
   pathway, :mod:`~pathways_sim.model.jobcentre`), or - with low work awareness -
   discourages an 'ambitious' goal.
6. ``activities`` (:mod:`~pathways_sim.model.provider`) - VCS providers end, lose
   (drop-out) and fill places from their waiting lists; attending lowers the barriers
   each activity addresses. Clients out of support may step into volunteering or
   training on their own, slowly.
7. ``dynamics`` (:mod:`~pathways_sim.model.dynamics`) - unsupported gains fade; support
   and confidence raise interest in work; work goals are stated and lapse; distance from
   the labour market is recomputed; distance travelled is recorded.
8. ``jobs`` (:mod:`~pathways_sim.model.jobs`) - job entry, job loss, sustainment at
   13/26/52 weeks.
9. ``exits`` (:mod:`~pathways_sim.model.exits`) - work-focused support ends; discharge
   at the end of support or when the plan is complete; disengagement; re-referral,
   sometimes through an employment programme.

Results payments are made by the :class:`~pathways_sim.model.funder.Funder` as outcomes
happen; at the end of each funding period (a Mesa recurring event) it settles the ledger,
re-sets Link Worker posts from income and commissions places.

Every client event goes to the event log (:mod:`pathways_sim.model.events`),
the single source of all outcome metrics.
"""

from __future__ import annotations

import numpy as np
from mesa import Model
from mesa.time.events import Schedule

from pathways_sim.model.clients import NO_WEEK, REJECTED, SUPPORTED, WAITING, Client, ClientState
from pathways_sim.model.dynamics import Dynamics
from pathways_sim.model.events import ACTIVITY_CODES, SOURCE_CODES, EventLog
from pathways_sim.model.exits import Exits
from pathways_sim.model.followup import FollowUp
from pathways_sim.model.funder import Funder
from pathways_sim.model.jobcentre import WorkSupport
from pathways_sim.model.jobs import Jobs
from pathways_sim.model.link_worker import LinkWork, LinkWorker
from pathways_sim.model.params import Params
from pathways_sim.model.provider import Provision, VCSProvider
from pathways_sim.model.referral import Referral
from pathways_sim.model.rng import Streams
from pathways_sim.stages import STAGE_CODE, STAGE_NAMES, SUSTAINED_WEEKS

_VOL, _TRAIN = ACTIVITY_CODES["volunteering"], ACTIVITY_CODES["training"]

#: The weekly step, in order: (phase, the model's process attribute, its method).
PHASES: tuple[tuple[str, str, str], ...] = (
    ("refer", "referral", "step"),
    ("advance_window", "follow_up", "advance_window"),
    ("readings", "follow_up", "readings"),
    ("triage", "link_work", "triage"),
    ("sessions", "link_work", "sessions"),
    ("activities", "provision", "step"),
    ("dynamics", "dynamics", "step"),
    ("jobs", "jobs", "step"),
    ("exits", "exits", "step"),
)


class PathwaysModel(Model):
    """Clients moving towards work through a social prescribing service.

    Args:
        scenario: A resolved, frozen scenario (:func:`pathways_sim.scenario.load_scenario`).
        seed: Root seed; every random stream of the run is derived from it.

    Attributes:
        p: The scenario's parameters (typed, read-only section views).
        week: The week the next :meth:`step` will simulate (0-based).
        clients: Array state of every client ever referred.
        log: The client event log.
        referral, follow_up, link_work, provision, dynamics, jobs, exits, work_support:
            The processes (see :data:`PHASES`).
        funder: The funder (payments and settlement).
    """

    def __init__(self, scenario, seed: int = 0) -> None:
        super().__init__(rng=seed)
        self.config = scenario
        self.p = p = Params.of(scenario)
        self.seed = int(seed)
        self.week = 0
        self.streams = Streams(self.seed)
        scale = p.run.scale
        expected = (p.referrals.per_year + p.jcp.referrals_per_year) * scale * p.run.weeks / 52
        self.clients = ClientState(capacity=max(1024, int(expected * 1.1)))
        self.log = EventLog(capacity=max(4096, int(expected * 40)))
        # Assembly: a process may read those built before it.
        self.work_support = WorkSupport(self)
        self.referral = Referral(self)
        self.follow_up = FollowUp(self)
        self.provision = Provision(self)
        self.link_work = LinkWork(self)
        self.dynamics = Dynamics(self)
        self.jobs = Jobs(self)
        self.exits = Exits(self)
        self.funder = Funder(self)
        self._phases = tuple(getattr(getattr(self, proc), method) for _, proc, method in PHASES)
        self.schedule_recurring(self.funder.settle_period,
                                Schedule(interval=p.funding.period_weeks,
                                         start=p.funding.period_weeks))
        if p.link_workers.training_week >= 0:
            # Mesa holds callbacks by weak reference: schedule a bound method.
            self.schedule_event(self.link_work.scheduled_training,
                                at=p.link_workers.training_week)

    @property
    def processes(self) -> dict[str, object]:
        """The processes by attribute name (the funder is an agent, not a process)."""
        return {name: getattr(self, name) for name in (
            "referral", "follow_up", "link_work", "provision", "dynamics", "jobs", "exits",
            "work_support")}

    # ------------------------------------------------------------------ agents and levers
    @property
    def link_workers(self) -> list[LinkWorker]:
        """Every Link Worker ever hired (in index order)."""
        return self.link_work.agents

    @property
    def providers(self) -> list[VCSProvider]:
        """The VCS providers, one per activity type (in activity-code order)."""
        return self.provision.agents

    @property
    def active_link_workers(self) -> int:
        """Link Worker posts funded now."""
        return self.link_work.active_posts

    def train_link_workers(self, work_awareness: float | None = None,
                           iag_level: int | None = None) -> None:
        """Train every Link Worker in work awareness (:meth:`LinkWork.train`)."""
        self.link_work.train(work_awareness, iag_level)

    def set_link_worker_posts(self, posts: int) -> None:
        """Fund ``posts`` Link Worker posts (:meth:`LinkWork.set_posts`)."""
        self.link_work.set_posts(posts)

    def commission_provision(self) -> None:
        """Commission places where waiting lists persist (:meth:`Provision.commission`)."""
        self.provision.commission()

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Simulate one week: the phases of :data:`PHASES`, in order."""
        t = self.week
        for phase in self._phases:
            phase(t)
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
        return slice(self.follow_up.lo, self.clients.n)

    def followed(self, mask: np.ndarray) -> np.ndarray:
        """Client indices where a mask over the window of followed clients is true."""
        return np.flatnonzero(mask) + self.follow_up.lo

    def client(self, index: int) -> Client | None:
        """A view of client ``index`` while it is followed, else None."""
        if not 0 <= index < self.clients.n:
            raise IndexError(f"no client {index} (clients referred so far: {self.clients.n})")
        return Client(self, index) if index >= self.follow_up.lo else None

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
        idx = self.followed(self.clients.status[W] != REJECTED)
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
