"""Stopping a command: Ctrl-C and SIGTERM give one line and an exit code, never a traceback.

The ``pathways-sim`` command runs inside :func:`handling_signals`: SIGINT
(Ctrl-C) raises :class:`KeyboardInterrupt` and SIGTERM raises
:class:`Terminated` (a subclass) in the main thread, so the ``finally``
blocks and ``with`` statements on the way out close worker pools and Dask
clusters and mark a sweep's manifest "interrupted". ``main()`` then prints
one ``interrupted: ...`` line and returns :func:`exit_code` (130 for SIGINT,
143 for SIGTERM). A second signal while that clean-up runs is ignored; a
third stops the process at once (its worker processes are killed first).

Worker processes never print a ``KeyboardInterrupt`` traceback of their own
(Ctrl-C in a terminal signals every process of the foreground group):

* :func:`starting_workers` blocks SIGINT in this thread while pools start
  their processes. A blocked signal mask is inherited by child processes
  (across ``exec`` too), so the forkserver and every worker start deaf to
  Ctrl-C, even while they import the model (multiprocessing's resource
  tracker, started first, ignores it by itself). A signal
  that arrives meanwhile is raised here as soon as the block ends, when the
  pool knows every process it has started.
* :func:`worker_initializer` (a pool's ``initializer``) also ignores SIGINT
  and ends the worker soon after its parent dies (a parent killed with
  SIGKILL cannot shut its pool down). The parent ends its workers with
  SIGTERM, whose default action is quiet.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import Any

__all__ = [
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "PARENT_CHECK_SECONDS",
    "Terminated",
    "describe",
    "exit_code",
    "handling_signals",
    "starting_workers",
    "stop_pool",
    "terminate_processes",
    "worker_initializer",
]

EXIT_SIGINT = 130
"""Exit status after SIGINT (Ctrl-C): 128 + 2."""

EXIT_SIGTERM = 143
"""Exit status after SIGTERM: 128 + 15."""

PARENT_CHECK_SECONDS = 1.0
"""How often a pool worker checks that the process that started it is still alive."""


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM (raised in the main thread by :func:`handling_signals`).

    A subclass of :class:`KeyboardInterrupt`, so every clean-up written for
    Ctrl-C runs for SIGTERM too.
    """

    exit_code = EXIT_SIGTERM


def exit_code(exc: BaseException) -> int:
    """The exit status for an interrupt: 143 for :class:`Terminated`, else 130."""
    return EXIT_SIGTERM if isinstance(exc, Terminated) else EXIT_SIGINT


def describe(exc: BaseException) -> str:
    """The signal behind an interrupt, in words (``Ctrl-C (SIGINT)`` or ``SIGTERM``)."""
    return "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"


class _State:
    received: list[int]
    """Signals received inside :func:`handling_signals`."""
    deferring: int
    """Depth of :func:`starting_workers` blocks in the main thread."""
    pending: int | None
    """A signal received while deferring, raised when the outermost block ends."""

    def __init__(self) -> None:
        self.received, self.deferring, self.pending = [], 0, None


_STATE = _State()


def _raise(signum: int) -> None:
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def _handler(signum: int, frame: FrameType | None) -> None:
    _STATE.received.append(signum)
    count = len(_STATE.received)
    if count == 1:
        if _STATE.deferring:  # a pool is starting a process: raise once it is registered
            _STATE.pending = signum
            return
        _raise(signum)
    if count >= 3:  # the clean-up hangs and the user insists: stop now
        terminate_processes(multiprocessing.active_children(), grace=0.5)
        try:
            print("interrupted: stopped at once, without cleaning up (third signal)",
                  file=sys.stderr, flush=True)
        finally:
            os._exit(EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT)
    # The second signal: let the clean-up of the first finish.


@contextlib.contextmanager
def handling_signals(quiet_exit: bool = False) -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`KeyboardInterrupt` / :class:`Terminated` inside.

    Args:
        quiet_exit: After an interrupt, keep this module's handler instead of
            restoring the previous ones (for a process that is about to exit:
            a second signal cannot interrupt its shutdown with a traceback; a
            third still ends it at once).

    Outside the main thread (where handlers cannot be set) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STATE.received, _STATE.pending = [], None
    old = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        if not (quiet_exit and _STATE.received):
            for sig, handler in old.items():
                signal.signal(sig, handler)


_TRACKER_STARTED_IN: dict[str, int] = {}


@contextlib.contextmanager
def starting_workers() -> Iterator[None]:
    """Start worker processes (or a cluster) inside: they start deaf to Ctrl-C.

    SIGINT is blocked in this thread, and child processes (and threads) inherit
    the blocked mask, so Ctrl-C in a terminal reaches only this process, which
    stops them itself. Under :func:`handling_signals`, a SIGINT or SIGTERM that
    arrives inside the block (Python runs handlers in the main thread even when
    another thread took the signal) is raised when the block ends: a pool is
    never left with a process it has started but not yet recorded.
    """
    main = threading.current_thread() is threading.main_thread()
    old = None
    if hasattr(signal, "pthread_sigmask"):
        # multiprocessing's resource tracker, when it starts, *unblocks* SIGINT in the
        # calling thread: start it first (it ignores SIGINT itself), once per process.
        if _TRACKER_STARTED_IN.get("pid") != os.getpid():
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
            _TRACKER_STARTED_IN["pid"] = os.getpid()
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    if main:
        _STATE.deferring += 1
    try:
        yield
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        if main:
            _STATE.deferring -= 1
            if not _STATE.deferring and _STATE.pending is not None:
                signum, _STATE.pending = _STATE.pending, None
                _raise(signum)


def worker_initializer(parent_pid: int) -> None:
    """Pool worker initializer: ignore Ctrl-C; end this worker soon after its parent dies.

    Ctrl-C is the parent's to handle: it stops its workers itself. A parent
    killed outright (SIGKILL, out of memory) cannot shut its pool down, and
    ``forkserver`` or ``spawn`` workers would wait on their job queue forever.

    Args:
        parent_pid: The process that started the pool (``os.getpid()`` there).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, owned by someone else (never ours, but alive)
                pass

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def stop_pool(pool: Any) -> None:
    """Stop a ``concurrent.futures.ProcessPoolExecutor`` now: on an error, Ctrl-C or SIGTERM.

    Queued jobs are dropped and running ones stopped (a replicate can take
    minutes): its worker processes get SIGTERM (SIGKILL if they linger), then
    the pool tidies up after them, so no process outlives the command.
    """
    terminate_processes(list((getattr(pool, "_processes", None) or {}).values()))
    pool.shutdown(wait=True, cancel_futures=True)


def terminate_processes(processes: Iterable[Any], grace: float = 5.0) -> None:
    """End processes: SIGTERM, wait up to ``grace`` seconds in all, then SIGKILL.

    Args:
        processes: ``multiprocessing.Process`` objects (an iterable; others are skipped).
        grace: Seconds to wait for them to exit after SIGTERM.
    """
    procs = [p for p in processes if hasattr(p, "terminate") and hasattr(p, "join")]
    for p in procs:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)
