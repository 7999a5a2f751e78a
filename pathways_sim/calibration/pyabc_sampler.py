"""pyabc's MappingSampler with a seed per task: the same fit on any executor, every time.

pyabc's own MappingSampler reseeds each task from the operating system, so two runs of one
configuration differ. Here a generation's ``n`` tasks (each samples and simulates until it
accepts one particle) get seeds derived from the root seed, the generation and the task's
index, and their results are kept in task order (the map must return them in order), so a
fit depends only on its configuration's seed, and resuming after a generation continues it
exactly. Its own module because it imports pyabc, which the CLI loads only to calibrate.
"""

from __future__ import annotations

import functools
import random
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler

__all__ = ["SeededMappingSampler"]


class SeededMappingSampler(MappingSampler):
    """MappingSampler whose tasks draw from seeds of (root, generation, task index).

    Args:
        map_: A ``map(fn, items)`` returning the results in the items' order.
        root: The root seed (the calibration config's ``seed``).
    """

    def __init__(self, map_: Any, root: int) -> None:
        super().__init__(map_=map_)
        self.root = int(root)

    def __getstate__(self) -> Any:
        return super().__getstate__(), self.root

    def __setstate__(self, state: Any) -> None:
        base, self.root = state
        super().__setstate__(base)

    def map_function(self, simulate_one: Any, seed: Any) -> Any:
        """One task: from its seed, propose and simulate until one particle is accepted."""
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(seed)  # noqa: NPY002 - pyabc samples from the global state
        random.seed(seed)
        nr_simulations = 0
        sample = self._create_empty_sample()
        while True:
            new_sim = simulate_one()
            nr_simulations += 1
            sample.append(new_sim)
            if new_sim.accepted:
                return sample, nr_simulations

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **_: Any) -> Any:
        """``n`` tasks with seeds of (root, t, index), results in task order."""
        seq = np.random.SeedSequence([self.root, int(t) + 1])
        seeds = [int(c.generate_state(1)[0]) for c in seq.spawn(n)]
        run = functools.partial(self.map_function, self.pickle(simulate_one))
        results, evals = zip(*self.map_(run, seeds), strict=True)
        self.nr_evaluations_ = sum(evals)
        sample = self._create_empty_sample()
        for result in results:
            sample += result
        return sample
