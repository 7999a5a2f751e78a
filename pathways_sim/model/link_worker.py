"""Link Workers: caseload, contact, knowledge of provision, work awareness, incentives."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel


class LinkWorker(Agent):
    """A Link Worker. The model reads these attributes into arrays for the weekly phases.

    Attributes:
        caseload: Clients supported at once.
        work_awareness: 0-1; raises work goals, low values discourage them.
        iag_level: Advice-and-guidance qualification level 0-4.
        colocated: Based in a GP practice.
        knows: Bool per activity type: provision this Link Worker knows and uses.
        active: False once funding no longer pays for the post (keeps its clients, takes none).
    """

    def __init__(self, model: PathwaysModel, knows: np.ndarray) -> None:
        super().__init__(model)
        p = model.p.link_workers
        self.caseload: int = p.caseload
        self.work_awareness: float = p.work_awareness
        self.iag_level: int = p.iag_level
        self.colocated: bool = p.colocated
        self.knows = knows
        self.active = True

    @property
    def clients(self) -> int:
        """Clients currently supported by this Link Worker."""
        return int(self.model.lw_load[self.index])

    @property
    def index(self) -> int:
        return self.model.link_workers.index(self)

    def train(self, work_awareness: float, iag_level: int) -> None:
        """Work-awareness training (Raising Aspirations: IAG Level 4); never lowers a level.

        The model refreshes its Link Worker arrays after training (``train_link_workers``).
        """
        self.work_awareness = max(self.work_awareness, work_awareness)
        self.iag_level = max(self.iag_level, iag_level)

    def referral_propensity(self) -> float:
        """Relative readiness to refer a client to work-focused support (awareness and IAG)."""
        return (0.25 + self.work_awareness) * (1.0 + 0.25 * self.iag_level)
