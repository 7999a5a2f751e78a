"""One way to run many simulations: jobs, executors and :func:`run_many`.

Sweeps and calibration both hand a stream of :class:`Job` (a key, a resolved
scenario, a seed) to :func:`run_many` with an executor, and get back a
:class:`JobResult` per job, in completion order::

    from pathways_sim.sweep.executors import Job, make_executor, run_many, run_metrics

    jobs = (Job(i, scenario, seed) for i, seed in enumerate(seeds))
    with make_executor(workers=4) as executor:          # or scheduler="tcp://host:8786"
        for res in run_many(jobs, executor, task=run_metrics):
            if res.ok:
                use(res.key, res.value)                  # value: the task's return
            else:
                log(res.key, res.error, res.traceback)

A run's results depend only on its scenario and seed, so they are the same
whichever executor runs it and however many workers it has. An exception
raised by the task is captured in the :class:`JobResult` (the other jobs go
on); a failure of the executor itself (a worker process killed, a lost Dask
scheduler) raises :class:`ExecutorError`.

Executors:

* :class:`InProcessExecutor`: one job after another in this process.
* :class:`LocalPoolExecutor`: a pool of worker processes on this machine,
  started with ``forkserver`` (``spawn`` where unavailable), never ``fork``:
  pyarrow and BLAS start threads, and forking a multi-threaded process can
  deadlock the child.
* :class:`DaskExecutor`: a Dask distributed cluster, by scheduler address, or
  a ``LocalCluster`` of worker processes started for the purpose. Every
  worker needs this package installed (the same version).

Executors are context managers and can run :func:`run_many` many times
while open (a calibration's generations reuse one pool). They close on every
path: after an error, Ctrl-C or SIGTERM the local pool's workers are stopped
at once and a ``LocalCluster`` is closed, so no worker outlives the command.
Worker processes start with Ctrl-C blocked and leave it to this process
(:mod:`pathways_sim.interrupt`): they never print tracebacks of their own. At most a window
of jobs is in flight at once, so a stream of a million jobs holds only that
window in memory.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.context
import os
import time
import traceback
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from types import TracebackType
from typing import Any, Protocol, Self

from pathways_sim.interrupt import starting_workers, stop_pool, worker_initializer
from pathways_sim.scenario import Scenario

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "InProcessExecutor",
    "Job",
    "JobResult",
    "LocalPoolExecutor",
    "make_executor",
    "run_many",
    "run_metrics",
    "worker_context",
]

PRELOAD = ("pathways_sim.run", "pathways_sim.sweep.runner")
"""Modules the forkserver imports once, so each worker process starts warm."""


class ExecutorError(RuntimeError):
    """The executor itself failed (not a job): a worker died, the cluster was lost."""


@dataclass(frozen=True)
class Job:
    """One simulation to run.

    Attributes:
        key: The caller's identifier (a sweep's run id), returned with the result.
        scenario: The resolved scenario (``run.weeks`` included).
        seed: The run's seed.
    """

    key: Hashable
    scenario: Scenario
    seed: int


@dataclass(frozen=True)
class JobResult:
    """What one job gave.

    Attributes:
        key: The job's key.
        value: The task's return value, or None when it raised.
        error: ``"<ExceptionType>: <message>"`` when the task raised, else None.
        traceback: The formatted traceback when the task raised, else None.
        seconds: Wall time of the task in the worker.
    """

    key: Hashable
    value: Any
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the task returned."""
        return self.error is None


def run_metrics(job: Job) -> dict[str, float]:
    """The default task: run one replicate and return its metrics.

    Args:
        job: The job.

    Returns:
        Metric name -> value (:data:`~pathways_sim.outcomes.metrics.METRICS`).
    """
    from pathways_sim.run import run_one

    return run_one(job.scenario, job.seed).metrics


@dataclass(frozen=True)
class _Guarded:
    """A task wrapped so that its exceptions become a :class:`JobResult` (picklable)."""

    task: Callable[[Job], Any]

    def __call__(self, job: Job) -> JobResult:
        start = time.perf_counter()
        try:
            value = self.task(job)
        except Exception as exc:  # recorded for this job; the other jobs go on
            return JobResult(job.key, None, f"{type(exc).__name__}: {exc}",
                             traceback.format_exc(), time.perf_counter() - start)
        return JobResult(job.key, value, None, None, time.perf_counter() - start)


class Executor(Protocol):
    """Runs a function over items, yielding results as they complete."""

    workers: int
    """Jobs it runs at once (for progress and chunking decisions)."""

    description: str
    """What it is, in words (for logs and manifests)."""

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn(item)`` for every item, in completion order, with a bounded window in flight."""
        ...


def run_many(
    jobs: Iterable[Job], executor: Executor, task: Callable[[Job], Any] = run_metrics
) -> Iterator[JobResult]:
    """Run jobs on an executor; yield one result per job as each completes.

    Args:
        jobs: The jobs (any iterable; consumed lazily, a window at a time).
        executor: An open executor (use it as a context manager).
        task: Function of a job run in the workers: a module-level function
            or a picklable callable (default :func:`run_metrics`).

    Yields:
        A :class:`JobResult` per job, in completion order (sort by key for
        job order). A task that raises gives a result with ``error`` set.

    Raises:
        ExecutorError: The executor failed (jobs not yet yielded are lost).
    """
    return executor.imap_unordered(_Guarded(task), jobs)


# --------------------------------------------------------------------------- in process


class InProcessExecutor:
    """Runs jobs one after another in this process (no pickling, easy to debug)."""

    workers = 1
    description = "in process"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn(item)`` for each item, in order."""
        for item in items:
            yield fn(item)


# --------------------------------------------------------------------------- local pool


def worker_context() -> multiprocessing.context.BaseContext:
    """A process start method safe in a multi-threaded parent.

    Returns:
        ``forkserver`` preloading :data:`PRELOAD` where available, else ``spawn``.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


class LocalPoolExecutor:
    """A pool of worker processes on this machine.

    Args:
        workers: Worker processes (default: every core).
        window: Jobs in flight at once (default ``4 * workers``).
    """

    def __init__(self, workers: int | None = None, window: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.window = max(1, window or 4 * self.workers)
        self.description = f"local process pool ({self.workers} workers)"
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Self:
        with starting_workers():  # the workers (and the forkserver) start deaf to Ctrl-C
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=worker_context(),
                initializer=worker_initializer, initargs=(os.getpid(),),
            )
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc is None:
            pool.shutdown(wait=True)
            return
        stop_pool(pool)  # an error, Ctrl-C or SIGTERM: drop the queued jobs, stop the workers

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn(item)`` in the worker processes, in completion order."""
        if self._pool is None:
            raise RuntimeError("use the executor as a context manager: with LocalPoolExecutor()")
        pool = self._pool
        it = iter(items)
        pending: set[Future[Any]] = set()
        try:
            with starting_workers():  # a submit may start a worker process
                pending.update(pool.submit(fn, item) for item in islice(it, self.window))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        result = fut.result()
                    except Exception as exc:
                        raise ExecutorError(f"local worker pool failed: {exc!r}") from exc
                    nxt = next(it, _END)
                    if nxt is not _END:
                        with starting_workers():
                            pending.add(pool.submit(fn, nxt))
                    yield result
        finally:
            for fut in pending:
                fut.cancel()


_END = object()


# --------------------------------------------------------------------------- Dask

CLOSE_TIMEOUT = 10
"""Seconds a Dask client or LocalCluster gets to close."""

DASK_LOGGERS = ("distributed", "tornado", "asyncio")
"""Loggers silenced while a failed or interrupted Dask executor closes."""

CLIENT_LOGGERS = ("distributed.client",)
"""Loggers silenced while a Dask executor is open (a lost scheduler is an ExecutorError)."""


@contextlib.contextmanager
def quiet_dask_logs(names: Iterable[str] = DASK_LOGGERS) -> Iterator[None]:
    """Silence Dask's (and its event loop's) logging inside the block.

    A lost scheduler makes the client log a traceback for every reconnection
    attempt; the command says it in one line instead (:class:`ExecutorError`).
    """
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _local_cluster(cls: Any, n_workers: int, processes: bool) -> Any:
    """A ``LocalCluster`` whose worker processes come from :func:`worker_context`.

    Dask starts its workers with ``spawn`` from its own threads, where a
    Ctrl-C in the terminal reaches them while they import (a traceback each).
    Started by this process's forkserver instead (itself started here with
    Ctrl-C blocked, see :func:`~pathways_sim.interrupt.starting_workers`),
    they inherit the blocked signal and this process stops them.
    """
    import dask

    method = worker_context().get_start_method()
    if processes and method == "forkserver":
        import multiprocessing.forkserver

        multiprocessing.forkserver.ensure_running()
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        return cls(n_workers=n_workers, threads_per_worker=1, processes=processes,
                   dashboard_address=None, silence_logs=logging.ERROR)


class DaskExecutor:
    """Jobs on a Dask distributed cluster.

    Args:
        address: Scheduler address of an existing cluster (``tcp://host:8786``);
            None to start a ``LocalCluster``.
        n_workers: Workers of the ``LocalCluster`` (default: every core).
        processes: ``LocalCluster`` workers are processes (True) or threads of
            this process (False: cheaper to start, but runs share one GIL).
        window: Jobs in flight at once (default ``4 *`` the cluster's threads).

    Raises:
        ExecutorError: ``dask[distributed]`` is not installed, or the
            scheduler cannot be reached.
    """

    def __init__(self, address: str | None = None, n_workers: int | None = None,
                 processes: bool = True, window: int | None = None) -> None:
        self.address = address
        self.n_workers = max(1, n_workers or os.cpu_count() or 1)
        self.processes = processes
        self._window = window
        self.workers = self.n_workers
        where = address if address else (
            f"LocalCluster of {self.n_workers} {'processes' if processes else 'threads'}")
        self.description = f"Dask ({where})"
        self._client: Any = None
        self._cluster: Any = None
        self._quiet = contextlib.ExitStack()

    def __enter__(self) -> Self:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ExecutorError(f"Dask is not installed ({exc}); pip install 'dask[distributed]'"
                                ) from exc
        self._quiet.enter_context(quiet_dask_logs(CLIENT_LOGGERS))
        try:
            # The cluster's threads and worker processes start deaf to Ctrl-C: this
            # process stops them (see pathways_sim.interrupt).
            with starting_workers():
                if self.address:
                    self._client = Client(self.address, timeout="30s")
                else:
                    self._cluster = _local_cluster(LocalCluster, self.n_workers, self.processes)
                    self._client = Client(self._cluster)
            self.workers = max(1, sum(self._client.nthreads().values()))
        except OSError as exc:
            self._close(quietly=True)
            raise ExecutorError(f"cannot reach the Dask scheduler {self.address}: {exc}") from exc
        except BaseException:  # Ctrl-C while the cluster starts: close what has started
            self._close(quietly=True)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close(quietly=exc is not None)

    def _close(self, quietly: bool) -> None:
        """Close the client and the LocalCluster (its worker processes end with it).

        ``quietly`` (an error or interrupt is on its way out): Dask's own logging of a
        lost scheduler or of workers being stopped is silenced, and a failure to close
        is not raised over the error that matters.
        """
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        try:
            with quiet_dask_logs() if quietly else contextlib.nullcontext():
                for thing in (client, cluster):
                    if thing is None:
                        continue
                    try:
                        thing.close(timeout=CLOSE_TIMEOUT)
                    except Exception:
                        if not quietly:
                            raise
        finally:
            self._quiet.close()

    def _failure(self, client: Any, exc: Exception) -> str:
        """What went wrong, in one line, when a Dask future raises."""
        from concurrent.futures import CancelledError

        if isinstance(exc, CancelledError | OSError) or client.status != "running":
            where = self.address or "of the LocalCluster"
            return (f"lost the Dask scheduler {where} ({type(exc).__name__}): it stopped or "
                    "cannot be reached; the runs in flight are lost")
        return f"the Dask cluster failed: {exc!r}"

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn(item)`` on the cluster's workers, in completion order."""
        if self._client is None:
            raise RuntimeError("use the executor as a context manager: with DaskExecutor()")
        from distributed import as_completed

        client = self._client
        window = self._window or 4 * self.workers
        it = iter(items)
        # pure=False: every job is a new task even when two are equal.
        futures = as_completed([client.submit(fn, item, pure=False)
                                for item in islice(it, window)])
        try:
            for fut in futures:
                try:
                    result = fut.result()
                except Exception as exc:
                    raise ExecutorError(self._failure(client, exc)) from exc
                fut.release()
                nxt = next(it, _END)
                if nxt is not _END:
                    futures.add(client.submit(fn, nxt, pure=False))
                yield result
        finally:
            futures.clear()


# --------------------------------------------------------------------------- choosing one


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  dask_local: int | None = None) -> Executor:
    """The executor the command-line options ask for.

    Args:
        workers: Local worker processes (default every core); 1 runs in process.
        scheduler: Address of a Dask scheduler (takes precedence).
        dask_local: Workers of a Dask ``LocalCluster`` (processes).

    Returns:
        An executor (not yet open: use it in a ``with`` block).
    """
    if scheduler:
        return DaskExecutor(address=scheduler)
    if dask_local:
        return DaskExecutor(n_workers=dask_local)
    n = workers or os.cpu_count() or 1
    return InProcessExecutor() if n == 1 else LocalPoolExecutor(n)
