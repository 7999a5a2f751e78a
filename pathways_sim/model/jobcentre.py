"""Work-focused support on the direct pathway: JCP work coaches, employment advisers, IPS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from pathways_sim.model.events import DIRECT_CODES

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel


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
        return int(self.model.direct_counts[self.code])

    def free_places(self) -> int | None:
        if self.caseload is None:
            return None
        return max(0, self.caseload - self.load)


class JobcentrePlus(EmploymentSupport):
    """Jobcentre Plus: a referral source under a partnership, work coaches, and a risk.

    Work coaches are always reachable by signposting; a partnership adds a stream
    of Universal Credit referrals closer to work and eases Link Worker referrals
    to work coaches. Work-coach support can make work feel mandatory (MODEL.md §2).
    """

    def __init__(self, model: PathwaysModel) -> None:
        super().__init__(model, "jcp", caseload=None, effect=model.p.direct.jcp_effect,
                         mandatory=True)
        self.partnership: bool = model.p.jcp.partnership
        self.referrals_per_year: float = (model.p.jcp.referrals_per_year * model.p.run.scale
                                          if self.partnership else 0.0)
        self.referral_boost = 1.0 + (model.p.jcp.referral_boost if self.partnership else 0.0)
