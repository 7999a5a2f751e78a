"""Results folders that cannot be lost: one writer at a time, damaged parts found, repair.

Each fault a user can meet is made on a copy of a small finished sweep (the
15-run experiment of ``test_sweep``, parts of 2 runs) and checked through
the command line: a second writer while one runs, a writer killed with
SIGKILL, a deleted or truncated part, a corrupt or deleted ``index.json`` or
``manifest.json``. No good run may be lost, no damaged file may be read as
if whole, and no traceback may reach the user.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pathways_sim.calibration.results import load_calibrated
from pathways_sim.cli import main
from pathways_sim.integrity import LOCK_NAME, FolderBusy, lock_folder, lock_holder
from pathways_sim.manifest import sha256_file
from pathways_sim.scenario import ScenarioError
from pathways_sim.sweep import InProcessExecutor, SweepError, load_experiment, load_sweep, run_sweep
from tests.small_calibration import write_small_calibration
from tests.test_sweep import TINY  # the same tiny experiment: 5 points x 3 replicates

RUNS = 15  # 5 design points x 3 replicates, in 8 parts of 2 runs (the last of 1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("experiments") / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "sweep"
    run_sweep(load_experiment(tiny), out, InProcessExecutor(), chunk_size=2, progress=False)
    return out


@pytest.fixture
def copy(reference: Path, tmp_path: Path) -> Path:
    out = tmp_path / "sweep"
    shutil.copytree(reference, out)
    return out


def same_results(a: Path, b: Path) -> None:
    sa, sb = load_sweep(a), load_sweep(b)
    assert sa.complete and sb.complete
    for table in ("design", "outcomes", "weekly", "errors"):
        pd.testing.assert_frame_equal(getattr(sa, table), getattr(sb, table), obj=table)


def part(out: Path, kind: str, chunk: int) -> Path:
    return out / "parts" / kind / f"{kind}-{chunk:05d}.parquet"


def truncate(path: Path, keep: int = 300) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def sweep_cli(tiny: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(tiny), "--out", str(out), "--workers", "1", *extra])


# --------------------------------------------------------------------------- the lock

HOLD = """\
import sys, time
from pathways_sim.integrity import lock_folder
with lock_folder(sys.argv[1], ["pathways-sim", "sweep", "tiny", "--resume"]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_and_a_dead_writers_lock_is_taken_over(
        tiny: Path, copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_before = (copy / "index.json").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(copy)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        capsys.readouterr()
        assert sweep_cli(tiny, copy, "--resume") == 1
        err = capsys.readouterr().err
        assert f"pid {holder.pid}" in err and "pathways-sim sweep tiny --resume" in err
        assert "started 20" in err and "in use by another pathways-sim process" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert sweep_cli(tiny, copy) == 1  # a new sweep into it is refused the same way
        assert lock_holder(copy)["pid"] == holder.pid  # type: ignore[index]
        assert (copy / "index.json").read_bytes() == index_before  # nothing touched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    # The killed holder's lock file is still there; the OS has released its lock.
    assert (copy / LOCK_NAME).is_file() and lock_holder(copy) is None
    capsys.readouterr()
    assert sweep_cli(tiny, copy, "--resume") == 0
    err = capsys.readouterr().err
    assert f"locked by pid {holder.pid}" in err and "no longer running" in err
    assert not (copy / LOCK_NAME).exists()  # released and removed at the end


def test_run_sweep_and_calibrate_hold_the_lock(tiny: Path, copy: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with lock_folder(copy, ["another", "writer"]):
        with pytest.raises(FolderBusy, match="another writer"):
            run_sweep(load_experiment(tiny), copy, resume=True, progress=False)
        new = tmp_path / "new"
        with lock_folder(new, ["holder"]), pytest.raises(FolderBusy):
            run_sweep(load_experiment(tiny), new, progress=False)
    assert not new.exists()  # the lock made the folder and removed it again, empty
    cal = tmp_path / "cal"
    config = write_small_calibration(tmp_path)
    with lock_folder(cal, ["pathways-sim", "calibrate", "--config", "first"]):
        capsys.readouterr()
        assert main(["calibrate", "--config", str(config), "--out", str(cal),
                     "--workers", "1"]) == 1
        err = capsys.readouterr().err
        assert f"pid {os.getpid()}" in err and "calibrate --config first" in err
        assert sorted(p.name for p in cal.iterdir()) == [LOCK_NAME]  # nothing written
    # The lock is released after a finished sweep: resuming again works and runs nothing.
    summary = run_sweep(load_experiment(tiny), copy, resume=True, progress=False)
    assert summary.ran == 0 and summary.skipped == RUNS
    assert not (copy / LOCK_NAME).exists()


# --------------------------------------------------------------------------- damaged parts


def test_the_index_records_every_parts_rows_size_and_checksum(reference: Path) -> None:
    index = json.loads((reference / "index.json").read_text())
    assert len(index["completed_chunks"]) == 8
    for chunk, entry in index["completed_chunks"].items():
        for kind in ("outcomes", "weekly"):
            rec = entry["parts"][kind]
            path = part(reference, kind, int(chunk))
            assert rec["sha256"] == sha256_file(path) and rec["bytes"] == path.stat().st_size
        assert entry["parts"]["outcomes"]["rows"] == entry["runs"]
        assert entry["parts"]["weekly"]["rows"] == entry["runs"] * 60


def test_resume_reruns_deleted_and_truncated_parts(tiny: Path, reference: Path, copy: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    truncate(part(copy, "outcomes", 3))
    part(copy, "weekly", 5).unlink()
    capsys.readouterr()
    assert sweep_cli(tiny, copy, "--resume") == 0
    captured = capsys.readouterr()
    assert "2 parts damaged or missing (parts/outcomes/outcomes-00003.parquet damaged" in (
        captured.err)
    assert "parts/weekly/weekly-00005.parquet missing): rerunning their 4 runs" in captured.err
    assert "4 run now, 11 already done" in captured.out
    same_results(reference, copy)
    # The manifest's checksums are the rewritten files', never the damaged ones'.
    files = load_sweep(copy).manifest["files"]
    for rel, rec in files.items():
        assert rec["sha256"] == sha256_file(copy / rel)
    assert files["parts/outcomes/outcomes-00003.parquet"]["sha256"] == sha256_file(
        part(reference, "outcomes", 3))
    session = load_sweep(copy).manifest["sweep"]["sessions"][-1]
    assert [p["chunk"] for p in session["parts_rerun"]] == [3, 5]


def test_load_sweep_and_the_report_flag_damaged_parts(
        copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    truncate(part(copy, "outcomes", 3))
    part(copy, "errors", 0).write_bytes(b"")  # a stray file where no run failed: ignored
    part(copy, "weekly", 7).unlink()  # the last part: run 14 alone
    flipped = bytearray(part(copy, "weekly", 1).read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF  # same size, one byte changed
    part(copy, "weekly", 1).write_bytes(bytes(flipped))
    sw = load_sweep(copy)
    assert not sw.complete and sw.runs_planned == RUNS and sw.runs_recorded == 10
    assert sorted(sw.damaged) == [1, 3, 7]
    assert sw.damaged[1][0][1] == "damaged (checksum differs from the one recorded)"
    assert set(sw.outcomes["run_id"]).isdisjoint({2, 3, 6, 7, 14})
    assert set(sw.weekly["run_id"]) == set(sw.outcomes["run_id"]) and len(sw.outcomes) == 10
    # figures are tested elsewhere: skip drawing them to keep this quick
    monkeypatch.setattr("pathways_sim.report.brief.figure_png", lambda fig: b"\x89PNG")
    capsys.readouterr()
    with lock_folder(copy, ["pathways-sim", "sweep", "tiny", "--resume"]):  # a live writer
        assert main(["report", str(copy), "--out", str(copy / "report")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    md = (copy / "report" / "report.md").read_text(encoding="utf-8")
    assert f"**A sweep is still writing to this folder** (pid {os.getpid()}" in md
    assert "**Incomplete sweep**: 10 of 15 runs are recorded; 3 parts damaged or missing" in md
    assert "`parts/outcomes/outcomes-00003.parquet`" in md and "reruns the damaged parts" in md
    assert "15 planned, 10 recorded (3 damaged part(s) left out)" in md


def test_an_index_without_checksums_still_finds_a_truncated_part(copy: Path) -> None:
    index = json.loads((copy / "index.json").read_text())
    for entry in index["completed_chunks"].values():
        del entry["parts"]  # as written before checksums were recorded
    (copy / "index.json").write_text(json.dumps(index))
    assert load_sweep(copy).complete
    truncate(part(copy, "outcomes", 2))
    sw = load_sweep(copy)
    assert not sw.complete and list(sw.damaged) == [2]
    assert "not readable Parquet" in sw.damaged[2][0][1]


# --------------------------------------------------------------------------- corrupt JSON

CORRUPT = [
    ("index.json", b'{"chunk_size": 2, "total_'),
    ("index.json", b'{"chunk_size": 2}'),
    ("index.json", b"\xff\xfe\x00garbage"),
    ("index.json", b""),
    ("index.json", b'{"chunk_size": 3, "total_runs": 15, "completed_chunks": {}}'),
    ("manifest.json", b"[1, 2]"),
    ("manifest.json", b'{"kind": "sweep", "sweep": {'),
    ("manifest.json", b'{"kind": "sweep", "sweep": {"sessions": []}, "experiment": {}}'),
]


@pytest.mark.parametrize(("name", "content"), CORRUPT)
def test_a_corrupt_index_or_manifest_is_one_clear_message_and_exit_2(
        tiny: Path, copy: Path, name: str, content: bytes,
        capsys: pytest.CaptureFixture[str]) -> None:
    (copy / name).write_bytes(content)
    for argv in (["sweep", str(tiny), "--out", str(copy), "--resume", "--workers", "1"],
                 ["report", str(copy)]):
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {copy / name}: ") and "--repair" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    with pytest.raises(SweepError, match="--repair"):
        load_sweep(copy)
    assert not (copy / "report").exists()


def test_a_corrupt_calibration_file_is_a_clear_message(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "calibrated.json").write_text('{"format_version": 1, "name": "x"', "utf-8")
    with pytest.raises(ScenarioError, match="calibrated.json: is damaged .not valid JSON"):
        load_calibrated(folder)
    (folder / "calibrated.json").write_text('{"format_version": 1, "name": "x"}', "utf-8")
    with pytest.raises(ScenarioError, match="calibrated.json: priors: is damaged"):
        load_calibrated(folder)
    assert main(["validate", "--calibration", str(folder), "--no-patterns"]) == 2
    err = capsys.readouterr().err
    assert "calibrated.json" in err and "Traceback" not in err


# --------------------------------------------------------------------------- repair


def test_a_deleted_index_is_rebuilt_with_no_good_run_lost(
        tiny: Path, reference: Path, copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (copy / "index.json").unlink()
    capsys.readouterr()
    assert sweep_cli(tiny, copy, "--resume") == 2
    assert "index.json: is missing" in capsys.readouterr().err
    assert main(["sweep", str(tiny), "--out", str(copy), "--repair"]) == 0
    assert "15 of 15 runs kept" in capsys.readouterr().out
    same_results(reference, copy)
    assert json.loads((copy / "index.json").read_text()) == {
        **json.loads((reference / "index.json").read_text()),
        "updated_utc": json.loads((copy / "index.json").read_text())["updated_utc"]}


def test_lost_manifest_and_index_with_a_damaged_part_are_rebuilt_then_resumed(
        tiny: Path, reference: Path, copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (copy / "index.json").unlink()
    (copy / "manifest.json").write_text("{ not json")
    truncate(part(copy, "weekly", 4))
    capsys.readouterr()
    assert main(["report", str(copy)]) == 2
    assert "--repair" in capsys.readouterr().err
    assert main(["sweep", str(tiny), "--out", str(copy), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt index.json, manifest.json; 13 of 15 runs kept" in out
    assert "1 damaged part(s) deleted" in out and "--resume" in out
    sw = load_sweep(copy)
    assert not sw.complete and sw.runs_recorded == 13 and not sw.damaged
    assert sw.manifest["sweep"]["status"] == "incomplete"
    assert sw.manifest["sweep"]["chunk_size"] == 2  # inferred from the parts
    assert sweep_cli(tiny, copy, "--resume") == 0
    same_results(reference, copy)


def test_report_on_a_sweep_whose_manifest_was_deleted_points_to_repair(
        copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (copy / "manifest.json").unlink()
    capsys.readouterr()
    assert main(["report", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json: is missing" in err and f"--out {copy} --repair" in err
    assert not (copy / "report").exists()


def test_repair_refuses_another_experiments_folder(tiny: Path, copy: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(TINY.replace("seed: 7", "seed: 8"), encoding="utf-8")
    index = (copy / "index.json").read_bytes()
    assert main(["sweep", str(other), "--out", str(copy), "--repair"]) == 2
    assert "another experiment" in capsys.readouterr().err
    (copy / "manifest.json").unlink()
    assert main(["sweep", str(other), "--out", str(copy), "--repair"]) == 2
    assert "design.parquet does not match" in capsys.readouterr().err
    assert (copy / "index.json").read_bytes() == index and not (copy / "manifest.json").exists()


def test_calibrate_overwrite_clears_the_folder_under_its_own_lock(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_small_calibration(tmp_path)
    cal = tmp_path / "cal"
    cal.mkdir()
    (cal / "calibrated.json").write_text("{}", encoding="utf-8")  # an earlier calibration
    (cal / "old-figure.png").write_bytes(b"old")
    assert main(["calibrate", "--config", str(config), "--out", str(cal), "--overwrite",
                 "--workers", "1"]) == 0, capsys.readouterr().err
    assert not (cal / "old-figure.png").exists() and not (cal / LOCK_NAME).exists()
    assert load_calibrated(cal).name == "small"
