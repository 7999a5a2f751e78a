"""VCS providers: places, duration, waiting list, drop-out and effects on barriers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from pathways_sim.model.clients import DOMAINS, D

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
        code: Its activity code in the event log.
        places: Concurrent places (funding may add more).
        weeks: Typical duration of the activity.
        dropout: Weekly drop-out hazard.
        effect: Weekly relative fall of the barriers it addresses.
    """

    def __init__(self, model: PathwaysModel, activity: str, code: int) -> None:
        super().__init__(model)
        prov = model.p.provision
        self.activity = activity
        self.code = code
        self.places: int = int(round(getattr(prov, f"{activity}_places") * model.p.run.scale))
        self.weeks: int = getattr(prov, f"{activity}_weeks")
        self.dropout: float = getattr(prov, f"{activity}_dropout")
        self.effect: float = getattr(prov, f"{activity}_effect")
        self.is_stepping_stone = activity in STEPPING_STONES

    @property
    def occupancy(self) -> int:
        return int(self.model.act_counts[self.code])

    @property
    def waiting(self) -> int:
        return int(self.model.queue_counts[self.code])

    def commission(self, extra_share: float = 0.1) -> int:
        """Add places (Rotherham-style commissioning of new provision). Returns places added."""
        extra = max(1, int(round(self.places * extra_share)))
        self.places += extra
        return extra
