"""A calibration folder's state cannot be misread or written by two commands at once.

* A damaged Optuna journal (``optuna.journal``: cut short, garbage, a corrupt
  line, entries Optuna cannot replay) makes ``calibrate --resume`` print one
  line naming the file and what to do, exit 2, and leave the folder as it
  was: never an Optuna or JSON traceback, never a trial appended to a broken
  file.
* ``validate`` holds the folder's lock while it runs and writes: a
  ``calibrate --resume`` meanwhile is refused naming the validate process, and
  a ``validate`` while another process holds the folder is refused (exit 1).

Each test works on a copy of one tiny finished fit (one target, one prior,
two trials of a 39-week service), so every case runs in about a second.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pathways_sim.calibration.optuna_fit import JOURNAL
from pathways_sim.cli import main
from pathways_sim.integrity import LOCK_NAME, lock_holder
from tests.small_calibration import write_small_calibration

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("calint")
    config = write_small_calibration(d, validate_target=True)
    fit = d / "fit"
    assert main(["calibrate", "--method", "optuna", "--config", str(config), "--out", str(fit),
                 "--workers", "1", "--quiet"]) == 0
    return {"config": config, "fit": fit}


@pytest.fixture
def fit(problem: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the finished fit."""
    out = tmp_path / "fit"
    shutil.copytree(problem["fit"], out)
    return out


def calibrate(problem: dict[str, Path], out: Path, *extra: str) -> int:
    return main(["calibrate", "--method", "optuna", "--config", str(problem["config"]),
                 "--out", str(out), "--workers", "1", "--quiet", *extra])


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: "), err
    return err.strip()


# --------------------------------------------------------------------------- the journal


def _cut_mid_line(data: bytes) -> bytes:
    return data[: data.rindex(b"\n", 0, len(data) - 1) + 20]  # 19 bytes into the last line


def _corrupt_line_3(data: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[2] = lines[2][: len(lines[2]) // 2]
    return b"\n".join(lines)


DAMAGE = {
    "cut mid-line": (_cut_mid_line, "its last line (line {n}) is incomplete, the file was "
                     "cut short"),
    "cut in half": (lambda d: d[: len(d) // 2 + 7], "is incomplete, the file was cut short"),
    "replaced by garbage": (lambda d: b"\x89PNG\r\n\x1a\n\0\0\xff garbage\n",
                            "line 1 is not an Optuna journal entry"),
    "replaced by text": (lambda d: b"this is not a journal\n",
                         "line 1 is not an Optuna journal entry"),
    "a corrupt line inside": (_corrupt_line_3, "line 3 is not an Optuna journal entry"),
    "JSON that is not journal entries": (lambda d: d + b'[1, 2]\n{"op": 1}\n',
                                         "is not an Optuna journal entry"),
    "entries Optuna cannot replay": (lambda d: d + b'{"op_code": 99, "worker_id": "x"}\n',
                                     "is damaged: Optuna cannot replay it"),
    "an entry with missing fields": (lambda d: d + b'{"op_code": 6, "worker_id": "x"}\n',
                                     "is damaged: Optuna cannot replay it"),
    "emptied": (lambda d: b"", "is damaged: the Optuna study journal is empty"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_journal_is_one_clear_line_and_exit_2(
        problem: dict[str, Path], fit: Path, damage: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    journal = fit / JOURNAL
    make, problem_text = DAMAGE[damage]
    journal.write_bytes(make(journal.read_bytes()))
    before = {p.name: p.read_bytes() for p in fit.iterdir() if p.is_file()}
    capsys.readouterr()
    assert calibrate(problem, fit, "--resume", "--budget", "4") == 2
    err = one_error_line(capsys)
    lines = journal.read_bytes().count(b"\n") + 1
    assert err.startswith(f"error: {journal}: is damaged"), err
    assert problem_text.format(n=lines) in err, err
    assert "calibrate --overwrite to start the fit again" in err
    assert f"restore {JOURNAL} from a backup" in err
    # Nothing was appended to the broken journal, and the finished fit is as it was.
    assert {p.name: p.read_bytes() for p in fit.iterdir() if p.is_file()} == before
    assert not (fit / LOCK_NAME).exists()


def test_a_cut_journal_says_the_trials_before_it_can_be_kept(
        problem: dict[str, Path], fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = fit / JOURNAL
    whole = journal.read_bytes()
    journal.write_bytes(_cut_mid_line(whole))
    capsys.readouterr()
    assert calibrate(problem, fit, "--resume", "--budget", "3") == 2
    assert "delete that line to continue from the trials before it" in one_error_line(capsys)
    # Doing what the message says: the fit continues from the entries before the cut.
    journal.write_bytes(whole[: whole.rindex(b"\n", 0, len(whole) - 1) + 1])
    assert calibrate(problem, fit, "--resume", "--budget", "3") == 0
    history = json.loads((fit / "diagnostics.json").read_text(encoding="utf-8"))
    assert history["trials"] == 3 and history["resumed_from"] >= 1


def test_overwrite_starts_again_after_a_damaged_journal(
        problem: dict[str, Path], fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (fit / JOURNAL).write_bytes(b"garbage\n")
    assert calibrate(problem, fit, "--resume") == 2
    assert calibrate(problem, fit, "--overwrite") == 0, capsys.readouterr().err
    assert calibrate(problem, fit, "--resume", "--budget", "3") == 0  # a whole journal again


def test_a_damaged_journal_through_the_real_command_line(problem: dict[str, Path], fit: Path,
                                                         tmp_path: Path) -> None:
    (fit / JOURNAL).write_bytes(b'{"op_code": 0, "worker_id": "a", "study_name": "calibr')
    done = subprocess.run(
        [sys.executable, "-m", "pathways_sim", "calibrate", "--method", "optuna", "--config",
         str(problem["config"]),
         "--out", str(fit), "--resume", "--workers", "1", "--quiet"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {fit / JOURNAL}: is damaged")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- validate's lock

HOLD = """\
import sys, time
from pathways_sim.integrity import lock_folder
with lock_folder(sys.argv[1], ["pathways-sim", "calibrate", "--resume"]):
    print("held", flush=True)
    time.sleep(60)
"""


def validate_argv(problem: dict[str, Path], fit: Path) -> list[str]:
    return ["validate", "--calibration", str(fit), "--config", str(problem["config"]),
            "--no-patterns", "--draws", "2", "--workers", "1", "--quiet"]


def test_validate_is_refused_while_another_process_writes_the_folder(
        problem: dict[str, Path], fit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(fit)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        capsys.readouterr()
        assert main(validate_argv(problem, fit)) == 1
        err = one_error_line(capsys)
        assert f"pid {holder.pid}" in err and "pathways-sim calibrate --resume" in err
        assert "in use by another pathways-sim process" in err
        assert not (fit / "validation.json").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]


def test_validate_holds_the_lock_so_a_calibrate_meanwhile_is_refused(
        problem: dict[str, Path], fit: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from pathways_sim.calibration import validate as validation

    journal = (fit / JOURNAL).read_bytes()
    seen: dict[str, object] = {}
    real = validation.validate_targets

    def meanwhile(*args: object, **kwargs: object) -> object:
        # While validate runs: who holds the folder, and what a calibrate --resume gets.
        seen["holder"] = lock_holder(fit)
        seen["calibrate"] = calibrate(problem, fit, "--resume", "--budget", "4")
        seen["err"] = capsys.readouterr().err
        return real(*args, **kwargs)

    monkeypatch.setattr(validation, "validate_targets", meanwhile)
    assert main(validate_argv(problem, fit)) == 0
    holder = seen["holder"]
    assert isinstance(holder, dict) and holder["pid"] == os.getpid()
    assert holder["command"][:2] == ["pathways-sim", "validate"]
    assert seen["calibrate"] == 1
    err = str(seen["err"])
    assert "in use by another pathways-sim process" in err and "pathways-sim validate" in err
    assert (fit / JOURNAL).read_bytes() == journal  # the refused calibrate wrote nothing
    assert (fit / "validation.json").is_file() and not (fit / LOCK_NAME).exists()
    # The lock is released: a calibrate --resume now runs.
    assert calibrate(problem, fit, "--resume", "--budget", "3") == 0
