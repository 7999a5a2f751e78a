"""Defaults shared by every command and API: one root seed, one worker count.

Every ``pathways-sim`` command that draws random numbers defaults to
:data:`DEFAULT_SEED`, and every command that runs simulations defaults to
:func:`default_workers` worker processes (all cores). Results never depend on
the number of workers: each replicate's seed is derived from the root seed
alone (``pathways_sim.run.replicate_seeds``).
"""

from __future__ import annotations

import os

__all__ = ["DEFAULT_SEED", "PREDICTIVE_SEED", "default_workers"]

DEFAULT_SEED = 20261124
"""The root seed of every command and API when none is given."""

PREDICTIVE_SEED = 4242
"""Root seed of a calibration's posterior predictive draws when its config sets none.

Deliberately not :data:`DEFAULT_SEED`: the fit's replicate seeds are derived from
the config's ``seed`` (default :data:`DEFAULT_SEED`), and the predictive
intervals must be drawn with fresh noise, not the noise the fit was tuned to.
"""


def default_workers() -> int:
    """Worker processes when ``--workers`` is not given: every core (``os.cpu_count()``, >= 1)."""
    return max(1, os.cpu_count() or 1)
