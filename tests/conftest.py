"""Suite-wide checks: no test leaves a process running behind it.

Worker pools and Dask clusters must be closed on every path (normal, error,
interrupt). At the end of the session every child process of the test
process must be gone, apart from multiprocessing's own long-lived helpers
(the forkserver and the resource tracker, which end with this process);
their children, pool workers, must be gone too. A leak fails the session
(an error at the teardown of its last test) and the leaked processes are
ended so that they do not outlive the run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import psutil
import pytest

LEAK_GRACE_SECONDS = 10.0
"""How long processes that are ending anyway (e.g. pool workers told to stop) get."""


def multiprocessing_helpers() -> set[int]:
    """Pids of multiprocessing's forkserver and resource tracker in this process, if running."""
    pids: set[int] = set()
    for module, attr in (("multiprocessing.forkserver", "_forkserver"),
                         ("multiprocessing.resource_tracker", "_resource_tracker")):
        mod = sys.modules.get(module)
        helper = getattr(mod, attr, None) if mod is not None else None
        pid = getattr(helper, "_forkserver_pid", None) or getattr(helper, "_pid", None)
        if pid:
            pids.add(int(pid))
    return pids


def leftover_processes(grace: float = LEAK_GRACE_SECONDS) -> list[psutil.Process]:
    """Descendants of this process other than multiprocessing's helpers, after ``grace``."""
    me = psutil.Process()
    deadline = time.monotonic() + grace
    while True:
        helpers = multiprocessing_helpers()
        left = [p for p in me.children(recursive=True)
                if p.pid not in helpers and p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def describe(procs: list[psutil.Process]) -> str:
    lines = []
    for p in procs:
        try:
            cmd = " ".join(p.cmdline())[:160]
            lines.append(f"  pid {p.pid} (parent {p.ppid()}): {cmd}")
        except psutil.Error:
            lines.append(f"  pid {p.pid}")
    return "\n".join(lines)


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_tests() -> Iterator[None]:
    """Fail the session if a test left a child process (a worker, a cluster) running."""
    yield
    # The workshop's background-replicates pool lives as long as its server; in the
    # tests the server is this session, so it ends here.
    ensemble = sys.modules.get("pathways_sim.viz.ensemble")
    if ensemble is not None:
        ensemble.shutdown_pool()
    left = leftover_processes()
    if left:
        text = describe(left)
        for p in left:
            try:
                p.kill()
            except psutil.Error:
                pass
        pytest.fail(f"{len(left)} process(es) outlived the tests (now killed):\n{text}",
                    pytrace=False)
