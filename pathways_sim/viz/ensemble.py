"""Background replicates: the fan of quantile bands behind a live run.

One live trajectory invites over-reading, so the charts draw behind it the
spread of a few replicates of the same scenario (different seeds). An
:class:`Ensemble` holds their weekly series; :meth:`Ensemble.band` gives
quantile bands, and :func:`paired_difference_band` the band of A - B over
replicates that share seeds (common random numbers), which is the honest
uncertainty of a difference.

Replicates are run with the same :class:`~pathways_sim.viz.trace.Trace` as
the live run, so bands and live lines mean the same thing.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from pathways_sim.interrupt import starting_workers, stop_pool, worker_initializer
from pathways_sim.model.model import PathwaysModel
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import Scenario
from pathways_sim.viz.trace import SERIES, Trace

#: Replicates behind the live run, and the bands drawn (outer, inner).
DEFAULT_REPLICATES = 8
BAND = (0.1, 0.9)


def scenario_key(scenario: Scenario) -> tuple:
    """A key equal for scenarios with the same values (whatever their names)."""
    return tuple(sorted(scenario.values.items()))


def run_trace(scenario: Scenario, seed: int, cancel: threading.Event | None = None) -> Trace:
    """Run ``scenario`` to its end with ``seed``, recording a trace every week."""
    model = PathwaysModel(scenario, seed=seed)
    trace = Trace(scenario.values["run.weeks"])
    while model.week < trace.weeks:
        if cancel is not None and cancel.is_set():
            raise Cancelled
        model.step()
        trace.record(model)
    return trace


class Cancelled(Exception):
    """The ensemble's scenario changed before it was finished."""


@dataclass
class Ensemble:
    """Weekly series of replicates of one scenario.

    Attributes:
        key: :func:`scenario_key` of the scenario.
        seeds: Replicate seeds (row order of ``values``).
        values: Series name -> array (replicates x weeks).
    """

    key: tuple
    seeds: tuple[int, ...]
    values: dict[str, np.ndarray]

    @property
    def weeks(self) -> int:
        return next(iter(self.values.values())).shape[1]

    def band(self, name: str, q: Sequence[float] = BAND) -> np.ndarray:
        """Quantiles of series ``name`` over replicates: array (len(q) x weeks)."""
        return np.quantile(self.values[name], q, axis=0)


def replicate_series(scenario: Scenario, seed: int) -> dict[str, np.ndarray]:
    """Every series of one replicate (a picklable task for a worker process)."""
    frame = run_trace(scenario, seed).frame()
    return {name: frame[name].to_numpy(dtype=np.float64) for name in SERIES}


def compute_ensemble(scenario: Scenario, root_seed: int, replicates: int = DEFAULT_REPLICATES,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: threading.Event | None = None,
                     executor: Executor | None = None) -> Ensemble:
    """Run ``replicates`` replicates of ``scenario`` (seeds derived from ``root_seed``).

    Args:
        scenario: The scenario of the live run.
        root_seed: Root of the replicate seeds (:func:`pathways_sim.run.replicate_seeds`),
            so the A and B ensembles of one session share seeds.
        replicates: How many.
        progress: Called with (done, total) after each replicate.
        cancel: When set, stop early by raising :class:`Cancelled`.
        executor: Run the replicates there (e.g. :func:`worker_pool`) instead of in this
            thread. A web app must: simulation in a thread of the server would starve
            the page's own thread of Python's interpreter lock.

    Returns:
        The ensemble.
    """
    seeds = tuple(replicate_seeds(root_seed, replicates))
    rows: list[dict[str, np.ndarray]] = []
    if executor is None:
        for seed in seeds:
            frame = run_trace(scenario, seed, cancel).frame()
            rows.append({name: frame[name].to_numpy(dtype=np.float64) for name in SERIES})
            if progress is not None:
                progress(len(rows), replicates)
    else:
        futures: list[Future] = [executor.submit(replicate_series, scenario, s) for s in seeds]
        try:
            for fut in futures:
                while True:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled
                    try:
                        rows.append(fut.result(timeout=0.2))
                        break
                    except TimeoutError:
                        continue
                if progress is not None:
                    progress(len(rows), replicates)
        finally:
            for fut in futures:
                fut.cancel()
    values = {name: np.stack([r[name] for r in rows]) for name in SERIES}
    return Ensemble(scenario_key(scenario), seeds, values)


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def worker_pool() -> ProcessPoolExecutor:
    """One worker process for background replicates, shared by the pages of a server.

    Started on first use with the "spawn" method (safe in a threaded server; the
    process-wide start method is left alone) and kept for the server's life.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            # Started now, deaf to Ctrl-C (the server stops it: shutdown_pool), and ending
            # by itself if the server is killed (pathways_sim.interrupt).
            with starting_workers():
                _POOL = ProcessPoolExecutor(max_workers=1,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=worker_initializer,
                                            initargs=(os.getpid(),))
                _POOL.submit(int)  # a submit starts the worker process
        return _POOL


def shutdown_pool() -> None:
    """Stop the worker process of :func:`worker_pool`, if it was started."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        stop_pool(pool)


def paired_difference_band(a: Ensemble, b: Ensemble, name: str,
                           q: Sequence[float] = BAND) -> np.ndarray | None:
    """Quantiles of (A - B) of series ``name`` over replicates with the same seeds, or None."""
    if a.seeds != b.seeds or a.weeks != b.weeks:
        return None
    return np.quantile(a.values[name] - b.values[name], q, axis=0)


class EnsembleCache:
    """Ensembles by scenario, computed once each (thread-safe)."""

    def __init__(self, root_seed: int, replicates: int = DEFAULT_REPLICATES) -> None:
        self.root_seed = root_seed
        self.replicates = replicates
        self._done: dict[tuple, Ensemble] = {}
        self._lock = threading.Lock()
        self.progress: dict[tuple, tuple[int, int]] = {}

    def get(self, scenario: Scenario) -> Ensemble | None:
        """The ensemble of ``scenario`` if it has been computed."""
        with self._lock:
            return self._done.get(scenario_key(scenario))

    def compute(self, scenario: Scenario, cancel: threading.Event | None = None,
                on_progress: Callable[[], None] | None = None,
                executor: Executor | None = None) -> Ensemble:
        """The ensemble of ``scenario``, computing it now if needed (blocking).

        ``executor``: where to run the replicates (see :func:`compute_ensemble`).
        """
        key = scenario_key(scenario)
        found = self.get(scenario)
        if found is not None:
            return found

        def progress(done: int, total: int) -> None:
            self.progress[key] = (done, total)
            if on_progress is not None:
                on_progress()

        ens = compute_ensemble(scenario, self.root_seed, self.replicates, progress, cancel,
                               executor)
        with self._lock:
            self._done[key] = ens
            if len(self._done) > 16:  # keep memory bounded in a long workshop
                self._done.pop(next(iter(self._done)))
        return ens


_SHARED: dict[tuple[int, int], EnsembleCache] = {}


def shared_cache(root_seed: int, replicates: int = DEFAULT_REPLICATES) -> EnsembleCache:
    """The process-wide cache for a root seed: pages of one server share their fans."""
    with _POOL_LOCK:
        return _SHARED.setdefault((int(root_seed), int(replicates)),
                                  EnsembleCache(root_seed, replicates))
