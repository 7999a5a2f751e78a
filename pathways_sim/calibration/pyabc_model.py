"""pyabc's model with early rejection: stop simulating a particle once it cannot be accepted.

With the deviance distance a particle's distance is a sum over the fit targets of
non-negative terms (each target's deviance, or a pattern term's penalty), and each target is
read from one target scenario. So the scenarios can run one by one, in the problem's group
order (:attr:`~pathways_sim.calibration.objective.Problem.groups`, the order of
calibration/targets.csv), and once the deviance of the targets run so far exceeds the
generation's tolerance the particle is rejected without running the rest: its total could
only be larger. The accepted particles are exactly those of the full simulation (each target
scenario's run depends on the particle and its seed, not on which scenarios ran before it),
with the same distances and summaries, and pyabc keeps no rejected particle with the
deviance distance (it records them only for adaptive distances). So a fit with early
rejection is the same fit, generation by generation and to the bit, in less time (a run that
``abc.max_minutes`` stops sooner ends elsewhere, and a model error in a later scenario
surfaces only for the particles that reach it): most proposals of the later generations are
rejected (about nineteen in twenty at the shipped fit's last tolerance), and most of those
after the first few scenarios (``benchmarks/calibration_bench.py --early-rejection``
measures it).

The idea is pyabc's own (its ``IntegratedModel``: "interrupt the simulation if the current
acceptance threshold cannot be satisfied anymore"); this class keeps pyabc's acceptor and
distance for the particles that run to the end. Its own module because it imports pyabc,
which the CLI loads only to calibrate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyabc
from pyabc.model import ModelResult

from pathways_sim.calibration.pyabc_fit import SummaryModel

__all__ = ["MARGIN", "EarlyRejectionModel"]

MARGIN = 1e-9
"""Relative margin on the tolerance before stopping: the partial sum is added in another
order than pyabc's distance, so a particle within rounding of the tolerance runs to the end."""


class EarlyRejectionModel(pyabc.Model):
    """The fit's model (:class:`~pathways_sim.calibration.pyabc_fit.SummaryModel`) with early
    rejection (see the module's docstring). Use it with the ``deviance`` distance only: an
    adaptive distance re-weights the targets from the rejected particles' summaries.

    Args:
        summary: The particle -> signed root deviances model.
    """

    def __init__(self, summary: SummaryModel) -> None:
        super().__init__(name=type(summary).__name__)  # as pyabc names the plain model
        self.summary = summary

    def sample(self, pars: Any) -> dict[str, float]:
        """Every target scenario run (the calibration sample from the prior uses this)."""
        return self.summary(pars)

    def accept(self, t: int, pars: Any, sum_stat_calculator: Callable,
               distance_calculator: Any, eps_calculator: Any, acceptor: Any,
               x_0: dict) -> ModelResult:
        """Simulate until the particle cannot be accepted; otherwise judge it as pyabc does."""
        eps = float(eps_calculator(t))
        raw = self.summary.summarise(pars, stop_above=eps * (1.0 + MARGIN))
        if raw is None:
            return ModelResult(accepted=False)
        result = ModelResult(sum_stat=sum_stat_calculator(raw))
        verdict = acceptor(distance_function=distance_calculator, eps=eps_calculator,
                           x=result.sum_stat, x_0=x_0, t=t, par=pars)
        result.distance = verdict.distance
        result.accepted = verdict.accept
        result.weight = verdict.weight
        return result
