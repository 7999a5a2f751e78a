"""Stopping commands: Ctrl-C and SIGTERM give one line and exit 130/143, and no process is left.

The sweeps here are real ``python -m pathways_sim`` processes in their own
process group, stopped the way a user stops them: Ctrl-C in a terminal
signals the whole foreground group (the command, its forkserver and its
workers), ``kill`` signals the command alone. A small experiment keeps
each test to a few seconds.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from pathways_sim import interrupt
from pathways_sim.cli import main
from pathways_sim.sweep import DaskExecutor, load_experiment, load_sweep, run_sweep
from tests.conftest import leftover_processes
from tests.small_calibration import write_small_calibration

ROOT = Path(__file__).resolve().parents[1]

# 5 design points x 20 replicates = 100 short runs: long enough to still be running when
# the signal comes, a few seconds' work.
EXPERIMENT = """\
description: An experiment for the signal tests.
base: medium
levers:
  scenario: [medium, holistic]
outcomes: {found_work_12m: maximize}
design: {type: full_factorial}
replicates: REPLICATES
seed: 7
weeks: 60
baseline: {scenario: medium}
counterfactual: no_service
"""


def experiment(folder: Path, replicates: int) -> Path:
    path = folder / "sig.yaml"
    path.write_text(EXPERIMENT.replace("REPLICATES", str(replicates)), encoding="utf-8")
    return path


def group_processes(pgid: int) -> list[psutil.Process]:
    """Live processes of a process group."""
    out = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (ProcessLookupError, psutil.Error):
            pass
    return out


def wait_until_group_is_gone(pgid: int, timeout: float = 10.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (left := group_processes(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``python -m pathways_sim ARGV`` in a new session (its own process group)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "pathways_sim", *argv], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop_everything(proc: subprocess.Popen[str]) -> None:
    """Make sure a test never leaves its command's group behind, whatever happened."""
    for p in group_processes(proc.pid):
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.kill()
    proc.communicate()


def messages(stderr: str, progress_prefix: str) -> list[str]:
    """Lines of stderr other than the progress lines (``<experiment>: ...``)."""
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith(progress_prefix)]


# --------------------------------------------------------------------------- sweeps


@pytest.mark.parametrize(("how", "code"), [("ctrl-c", 130), ("sigterm", 143)])
def test_a_sweep_stopped_early_says_one_line_and_leaves_nothing_running(tmp_path, how, code):
    out = tmp_path / "out"
    proc = start(["sweep", str(experiment(tmp_path, 20)), "--out", str(out), "--workers", "2",
                  "--chunk-size", "2"], tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (out / "manifest.json").is_file() and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep did not start"
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.3)  # the pool is starting its workers (the forkserver imports the model)
        if how == "ctrl-c":  # a terminal signals the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:  # kill PID, a service manager: the command alone
            proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        left = wait_until_group_is_gone(proc.pid)
    finally:
        stop_everything(proc)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    lines = messages(stderr, "sig:")
    assert len(lines) == 1, stderr
    assert lines[0].startswith("interrupted:") and "--resume" in lines[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sweep"]["status"] == "interrupted"
    assert manifest["sweep"]["sessions"][-1]["stopped"] == "interrupted"
    assert not left, [p.cmdline() for p in left]


def test_an_interrupted_sweep_resumes_to_a_complete_one(tmp_path, monkeypatch):
    from pathways_sim.sweep.runner import SweepTask

    exp = experiment(tmp_path, 1)
    out = tmp_path / "out"
    real = SweepTask.__call__
    calls = []

    def second_run_interrupted(self, job):  # Ctrl-C arrives during the second run
        calls.append(job.key)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, job)

    monkeypatch.setattr(SweepTask, "__call__", second_run_interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_experiment(exp), out, chunk_size=1, progress=False)
    monkeypatch.undo()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sweep"]["status"] == "interrupted"
    assert manifest["sweep"]["sessions"][0]["runs"] == 1
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--resume"]) == 0
    sweep = load_sweep(out)
    assert sweep.complete and sweep.manifest["sweep"]["status"] == "complete"
    assert [s["resume"] for s in sweep.manifest["sweep"]["sessions"]] == [False, True]


def test_a_dask_local_sweep_leaves_no_worker_process(tmp_path):
    summary = run_sweep(load_experiment(experiment(tmp_path, 1)), tmp_path / "out",
                        DaskExecutor(n_workers=2), progress=False)
    assert summary.complete and summary.failed == 0
    # The cluster's worker processes (children of this process's forkserver) are gone.
    left = leftover_processes(grace=10.0)
    assert not left, [p.cmdline() for p in left]


def test_sigterm_in_process_returns_143_and_restores_the_handlers(tmp_path):
    """main() maps SIGTERM to 143 and leaves the caller's signal handlers as they were."""
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))

    def terminate_once_handled() -> None:
        deadline = time.monotonic() + 30
        # Never signal this test process before main() handles SIGTERM (it would end it).
        while signal.getsignal(signal.SIGTERM) is not interrupt._handler:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        time.sleep(0.2)
        if signal.getsignal(signal.SIGTERM) is interrupt._handler:  # still running
            os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=terminate_once_handled, daemon=True)
    killer.start()
    code = main(["run", "medium", "--replicates", "50", "--workers", "2",
                 "--out", str(tmp_path / "run")])
    killer.join()
    assert code == 143
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert not leftover_processes(grace=10.0)


def test_losing_the_dask_scheduler_is_one_message_and_the_resume_hint(tmp_path):
    import logging

    from distributed import LocalCluster

    out = tmp_path / "out"
    # Threads of this process do the work; the sweep is a separate process, its client.
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                           protocol="tcp", host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.ERROR)
    try:
        proc = start(["sweep", str(experiment(tmp_path, 20)), "--out", str(out), "--scheduler",
                      cluster.scheduler_address, "--chunk-size", "2"], tmp_path)
        try:
            deadline = time.monotonic() + 60
            while not (out / "index.json").is_file() or json.loads(
                    (out / "index.json").read_text())["runs_done"] < 2:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the sweep did not start"
                time.sleep(0.05)
            cluster.close()  # the scheduler goes away mid-sweep
            _, stderr = proc.communicate(timeout=90)
        finally:
            stop_everything(proc)
    finally:
        cluster.close()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    lines = messages(stderr, "sig:")
    assert len(lines) <= 2, stderr
    assert lines[0].startswith("error: lost the Dask scheduler"), stderr
    assert "--resume" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sweep"]["status"] == "failed"


# --------------------------------------------------------------------------- calibration


def test_an_interrupted_calibration_says_so_in_its_manifest_and_resumes(tmp_path, monkeypatch,
                                                                         capsys):
    from pathways_sim.calibration.objective import Problem

    config = write_small_calibration(tmp_path, budget=4)
    out = tmp_path / "fit"
    real = Problem.evaluate
    calls = []

    def second_batch_interrupted(self, *args, **kwargs):  # Ctrl-C during the second batch
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Problem, "evaluate", second_batch_interrupted)
    argv = ["calibrate", "--config", str(config), "--out", str(out), "--workers", "1",
            "--quiet"]  # the progress lines go to stderr too
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted:") and "--resume" in err and len(err.splitlines()) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["calibration"]["status"] == "interrupted"
    monkeypatch.undo()
    assert main([*argv, "--resume"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["calibration"]["status"] == "complete"


# --------------------------------------------------------------------------- workshop


def test_the_workshop_stops_on_ctrl_c_with_one_line_and_exit_130(tmp_path):
    from pathways_sim.viz.server import OfflineAssetsMissing, check_offline_assets

    try:
        check_offline_assets()
    except OfflineAssetsMissing as exc:
        pytest.skip(str(exc))
    proc = start(["workshop", "--port", "0"], tmp_path)
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 90
        address = None
        while address is None and time.monotonic() < deadline and proc.poll() is None:
            if sel.select(timeout=0.5):
                line = proc.stdout.readline()
                if "http://" in line:
                    address = line
        assert address, "the workshop did not print its address"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in its terminal
        _, stderr = proc.communicate(timeout=60)
        left = wait_until_group_is_gone(proc.pid)
    finally:
        stop_everything(proc)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Abort" not in stderr, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [
        line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert not left, [p.cmdline() for p in left]


# --------------------------------------------------------------------------- the module


def test_exit_codes_and_names_of_interrupts():
    assert interrupt.exit_code(KeyboardInterrupt()) == 130
    assert interrupt.exit_code(interrupt.Terminated()) == 143
    assert isinstance(interrupt.Terminated(), KeyboardInterrupt)
    assert interrupt.describe(interrupt.Terminated()) == "SIGTERM"
    assert "SIGINT" in interrupt.describe(KeyboardInterrupt())


def test_a_signal_while_workers_start_is_raised_when_they_have_started():
    order = []
    with interrupt.handling_signals(), pytest.raises(KeyboardInterrupt):
        with interrupt.starting_workers():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the handler has run by now: deferred, not raised
            order.append("still starting")
        order.append("not reached")
    assert order == ["still starting"]


def test_workers_start_with_ctrl_c_blocked_and_the_parent_unblocked():
    code = "import signal; print(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))"
    with interrupt.starting_workers():
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert child.stdout.strip() == "True"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])

