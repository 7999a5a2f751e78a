"""Work-focused support on the direct pathway: JCP work coaches, employment advisers, IPS.

The process :class:`WorkSupport` owns the providers of work-focused support (Mesa agents),
their per-provider arrays (effect on job entry, in-work support, mandatory feel) and their
current loads. It places clients (:meth:`WorkSupport.start`: referred by a Link Worker, or
re-referred through an employment programme); spells whose time is up end in the ``exits``
phase (:func:`pathways_sim.model.exits.exits_kernel`). Each provider decides whom it takes
(:meth:`EmploymentSupport.accept`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from pathways_sim.model.events import DIRECT_CODES, Ev
from pathways_sim.model.process import Process

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

_JCP, _ADVISER, _IPS = DIRECT_CODES["jcp"], DIRECT_CODES["employment_adviser"], DIRECT_CODES["ips"]


class EmploymentSupport(Agent):
    """A provider of work-focused support.

    Attributes:
        kind: ``jcp``, ``employment_adviser`` or ``ips``.
        code: Work-support code in the event log.
        caseload: Clients supported at once (None: no limit).
        effect: Relative rise in the job-entry hazard while supported.
        zero_exclusion: Takes anyone who wants work, whatever their distance (IPS).
        in_work_support: Keeps supporting clients after a job start (lowers job loss).
        mandatory: Clients may come to feel work is mandatory (raises disengagement).
    """

    def __init__(self, model: PathwaysModel, kind: str, caseload: int | None, effect: float,
                 zero_exclusion: bool = False, in_work_support: bool = False,
                 mandatory: bool = False) -> None:
        super().__init__(model)
        self.kind = kind
        self.code = DIRECT_CODES[kind]
        self.caseload = caseload
        self.effect = effect
        self.zero_exclusion = zero_exclusion
        self.in_work_support = in_work_support
        self.mandatory = mandatory

    @property
    def load(self) -> int:
        """Clients this provider supports now (as of the last ``exits`` phase, plus new starts)."""
        return int(self.model.work_support.counts[self.code])

    def free_places(self) -> int | None:
        if self.caseload is None:
            return None
        return max(0, self.caseload - self.load)

    def accept(self, unplaced: np.ndarray, ready: np.ndarray) -> np.ndarray:
        """Positions among candidates that this provider takes, first come first served.

        ``unplaced``: candidates not yet placed; ``ready``: close enough to work for
        ordinary work-focused support (zero exclusion takes anyone).
        """
        free = self.free_places()
        elig = np.flatnonzero(unplaced & (ready | self.zero_exclusion))
        return elig if free is None else elig[:free]


class JobcentrePlus(EmploymentSupport):
    """Jobcentre Plus: a referral source under a partnership, work coaches, and a risk.

    Work coaches are always reachable by signposting; a partnership adds a stream
    of Universal Credit referrals closer to work and eases Link Worker referrals
    to work coaches. Work-coach support can make work feel mandatory (docs/evidence.md §E4.6).
    """

    def __init__(self, model: PathwaysModel, p) -> None:
        super().__init__(model, "jcp", caseload=None, effect=p.direct.jcp_effect,
                         mandatory=True)
        self.partnership: bool = p.jcp.partnership
        self.referrals_per_year: float = (p.jcp.referrals_per_year * p.run.scale
                                          if self.partnership else 0.0)
        self.referral_boost = 1.0 + (p.jcp.referral_boost if self.partnership else 0.0)


class WorkSupport(Process):
    """The direct pathway's providers and the clients they support.

    State: ``providers`` (code -> agent), per-code arrays ``effect``, ``in_work_support``,
    ``mandatory`` (index -1, the last slot, is "no support"), and ``counts`` (clients
    supported by each code).
    """

    SECTIONS = ("direct", "jcp", "run")

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model)
        p, scale = self.p, self.p.run.scale
        self.jobcentre = JobcentrePlus(model, p)
        self.providers: dict[int, EmploymentSupport] = {_JCP: self.jobcentre}
        if p.direct.employment_adviser:
            self.providers[_ADVISER] = EmploymentSupport(
                model, "employment_adviser", int(round(p.direct.adviser_caseload * scale)),
                p.direct.adviser_effect, in_work_support=True)
        if p.direct.ips:
            self.providers[_IPS] = EmploymentSupport(
                model, "ips", int(round(p.direct.ips_caseload * scale)), p.direct.ips_effect,
                zero_exclusion=True, in_work_support=True)
        self.effect = np.zeros(4, dtype=np.float32)  # index -1 -> last slot = none
        self.in_work_support = np.zeros(4, dtype=bool)
        self.mandatory = np.zeros(4, dtype=bool)
        for code, sup in self.providers.items():
            self.effect[code] = sup.effect
            self.in_work_support[code] = sup.in_work_support
            self.mandatory[code] = sup.mandatory
        self.counts = np.zeros(3, dtype=np.int64)

    def placement_order(self) -> list[int]:
        """Provider codes in the order a referred client is offered them.

        ``direct.placement_order``: ``most_effective`` ranks the providers available by
        their effect on job entry, highest first (ties: IPS, adviser, JCP);
        ``ips_adviser_jcp`` keeps that fixed order whatever the effects.
        """
        fixed = [c for c in (_IPS, _ADVISER, _JCP) if c in self.providers]
        if self.p.direct.placement_order == "ips_adviser_jcp":
            return fixed
        return sorted(fixed, key=lambda c: -self.providers[c].effect)  # stable: ties fixed

    def start(self, t: int, idx: np.ndarray, ready: np.ndarray) -> None:
        """Place clients with the work-focused support first in :meth:`placement_order` that
        takes them (places free; ready, or zero exclusion)."""
        s = self.model.clients
        code = np.full(len(idx), -1, dtype=np.int8)
        for c in self.placement_order():
            pos = self.providers[c].accept(code < 0, ready)
            code[pos] = c
            if c != _JCP:  # work coaches' loads are counted in the exits phase only
                self.counts[c] += len(pos)
        placed = code >= 0
        idx, code = idx[placed], code[placed]
        s.direct[idx] = code
        s.direct_end[idx] = t + self.p.direct.support_weeks
        self.model.log.add(Ev.DIRECT_START, t, idx, code)
