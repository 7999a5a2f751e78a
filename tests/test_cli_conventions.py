"""The command-line conventions every ``pathways-sim`` command follows (docs/cli.md).

One default seed and one default worker count; ``--quiet`` everywhere and
``--json`` never required; output folders checked before any computing and
replaced only when they hold a pathways-sim output; exit codes 0/1/2; broken
pipes silent; a taken workshop port is bad input; no metric summary silently
drops a replicate. Runs are tiny (tens of weeks, few replicates) so the file
stays fast.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.cli import build_parser, main, metric_table_text
from pathways_sim.cli_options import workers_of
from pathways_sim.defaults import DEFAULT_SEED, default_workers
from pathways_sim.outcomes.metrics import metric_table

# ----------------------------------------------------------------------------- the parser

# command -> (has --seed, has --workers): commands whose seed comes from their input file
# (sweep: the experiment; calibrate, validate: the calibration config, whose default seed is
# DEFAULT_SEED too) have no --seed; commands that run one model at a time have no --workers.
COMMANDS = {
    "run": (True, True),
    "scenarios list": (False, False),
    "scenarios show": (False, False),
    "scenarios diff": (False, False),
    "sweep": (False, True),
    "report": (False, False),
    "calibrate": (False, True),
    "predict": (True, True),
    "validate": (False, True),
    "sensitivity": (True, True),
    "workshop": (True, False),
    "animate": (True, False),
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every leaf command of the parser, by its words ("scenarios show")."""
    out: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = _subparsers(sub)
                if inner:
                    out.update({f"{name} {k}": v for k, v in inner.items()})
                else:
                    out[name] = sub
    return out


def _option(sub: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in sub._actions if flag in a.option_strings), None)


def test_the_table_lists_every_command() -> None:
    assert set(_subparsers(build_parser())) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_the_shared_options_with_the_same_defaults(command: str) -> None:
    sub = _subparsers(build_parser())[command]
    has_seed, has_workers = COMMANDS[command]
    quiet = _option(sub, "--quiet")
    assert quiet is not None and quiet.default is False, command
    js = _option(sub, "--json")
    if command == "workshop":  # a server until stopped: it prints its address, no result
        assert js is None
    else:
        assert js is not None and not js.required and js.default is None, command
    seed = _option(sub, "--seed")
    assert (seed is not None) == has_seed, command
    if seed is not None:
        assert seed.default == DEFAULT_SEED == 20261124, command
    workers = _option(sub, "--workers")
    assert (workers is not None) == has_workers, command
    if workers is not None:
        # None resolves to every core (None, not the count, so that argparse's mutual
        # exclusion with --scheduler/--dask-local sees only an explicit --workers).
        assert workers.default is None, command
        ns = sub.parse_args([*_positionals(command)])
        assert workers_of(ns) == default_workers() == max(1, os.cpu_count() or 1)
        assert workers_of(sub.parse_args([*_positionals(command), "--workers", "3"])) == 3


def _positionals(command: str) -> list[str]:
    return {"run": ["medium"], "sweep": ["smoke"], "predict": ["medium", "--observable", "x",
                                                               "--window-months", "6"]
            }.get(command, [])


def test_no_command_has_another_default_seed() -> None:
    for command, sub in _subparsers(build_parser()).items():
        for action in sub._actions:
            if action.dest == "seed":
                assert action.default == DEFAULT_SEED, command


# ----------------------------------------------------------------------------- helpers

def _run(out: Path, *extra: str, scenario: str = "medium") -> list[str]:
    return ["run", scenario, "--replicates", "2", "--weeks", "30", "--workers", "1",
            "--out", str(out), *extra]


def _options_named(err: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", err))


def _assert_hints_exist(err: str, command: str) -> None:
    """Every --option an error message names exists in that command."""
    sub = _subparsers(build_parser())[command]
    known = {o for a in sub._actions for o in a.option_strings}
    assert _options_named(err) <= known, (err, _options_named(err) - known)


# ----------------------------------------------------------------------------- output folders

def test_run_refuses_a_non_empty_out_before_computing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    t0 = time.perf_counter()
    assert main(_run(out)) == 2
    assert time.perf_counter() - t0 < 1.0  # refused before simulating
    err = capsys.readouterr().err
    assert str(out) in err and "not empty" in err and err.count("\n") == 1
    _assert_hints_exist(err, "run")
    # --overwrite does not delete a folder that holds no pathways-sim output either.
    assert main(_run(out, "--overwrite")) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_run_overwrite_replaces_an_earlier_run_and_nothing_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(_run(out, "--seed", "3")) == 0
    (out / "stale.txt").write_text("left from before", encoding="utf-8")
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert main(_run(out, "--seed", "4", "--overwrite", "--json", str(out / "s.json"))) == 0
    second = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert first["root_seed"] == 3 and second["root_seed"] == 4
    assert not (out / "stale.txt").exists()  # the old folder was replaced, not merged into
    assert "s.json" in second["files"] and (out / "s.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary sibling left


def test_a_failed_overwrite_keeps_the_old_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from pathways_sim import cli

    out = tmp_path / "out"
    assert main(_run(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(reps, table, folder, name=None):  # noqa: ANN001, ANN202
        (folder / "events.parquet").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "clients.parquet"))

    monkeypatch.setattr(cli, "write_outputs", full_disk)
    assert main(_run(out, "--overwrite")) == 1
    err = capsys.readouterr().err
    assert "clients.parquet" in err and "disk full" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _read_only_folder(tmp_path: Path) -> Path | None:
    """A folder this process cannot create files in, or None on this machine."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        return ro
    for candidate in (Path("/sys"), Path("/proc")):  # root: pseudo file systems
        try:
            os.mkdir(candidate / "pathways-sim-probe")
        except OSError:
            return candidate
        os.rmdir(candidate / "pathways-sim-probe")
    return None


@pytest.mark.parametrize("case", ["file in place", "file above", "read-only"])
def test_unusable_out_fails_at_once_with_one_line(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scenarios", "show", "medium"])  # warm: the scenario files are read once
    capsys.readouterr()
    (tmp_path / "f").write_text("x", encoding="utf-8")
    if case == "file in place":
        out, code = tmp_path / "f", 2
    elif case == "file above":
        out, code = tmp_path / "f" / "sub", 2
    else:
        ro = _read_only_folder(tmp_path)
        if ro is None:
            pytest.skip("no folder here refuses this process's writes")
        out, code = ro / "x", 1
    t0 = time.perf_counter()
    assert main(["run", "medium", "--out", str(out)]) == code
    assert time.perf_counter() - t0 < 1.0  # 10 replicates would take many seconds
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}") and err.count("\n") == 1 and "Errno" not in err


def test_animate_refuses_an_existing_file_unless_overwrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"earlier")
    t0 = time.perf_counter()
    assert main(["animate", "medium", "--out", str(gif)]) == 2
    assert time.perf_counter() - t0 < 1.0
    err = capsys.readouterr().err
    assert "--overwrite" in err
    _assert_hints_exist(err, "animate")
    assert gif.read_bytes() == b"earlier"


def test_calibrate_into_a_foreign_folder_names_only_real_options(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c"
    out.mkdir()
    (out / "x.txt").write_text("x", encoding="utf-8")
    assert main(["calibrate", "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--name" not in err
    _assert_hints_exist(err, "calibrate")
    assert main(["calibrate", "--out", str(out), "--overwrite", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "not a calibration results folder" in err and "--name" not in err
    _assert_hints_exist(err, "calibrate")
    assert (out / "x.txt").is_file()


# ----------------------------------------------------------------------------- quiet, json

def test_quiet_hides_progress_but_not_the_result(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(tmp_path / "a")) == 0
    loud = capsys.readouterr()
    assert "replicates (100%)" in loud.err  # progress lines (stderr is not a terminal here)
    assert main(_run(tmp_path / "b", "--quiet")) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert "90% interval" in quiet.out and "found_work_12m" in quiet.out


def test_json_dash_prints_the_json_instead_of_the_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(tmp_path / "a", "--json", "-", "--quiet")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seed"] == DEFAULT_SEED and doc["replicates"] == 2
    assert main(["scenarios", "show", "medium", "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["parameters"]["link_workers.caseload"]["set_by"]


@pytest.fixture
def small_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(textwrap.dedent("""\
        description: A small fast service for the CLI convention tests.
        base: medium
        params:
          run: {weeks: 39, cohort_weeks: 13, follow_up_weeks: 26}
          referrals: {per_year: 600}
        """), encoding="utf-8")
    return path


def test_predict_without_json_prints_its_result(
        small_scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["predict", str(small_scenario), "--observable", "found_work",
                 "--window-months", "6", "--draws", "2", "--calibration", "none",
                 "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "found_work" in out and "median" in out and "90% interval" in out
    assert f"root seed {DEFAULT_SEED}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


# ----------------------------------------------------------------------------- sweep

@pytest.fixture
def tiny_experiment(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent("""\
        description: Two design points, two replicates, a short run.
        base: medium
        levers:
          link_workers.count: [4, 6]
        outcomes: {found_work_12m: maximize}
        design: {type: full_factorial}
        replicates: 2
        weeks: 30
        """), encoding="utf-8")
    return path


def test_sweep_dry_run_prints_the_plan_and_writes_nothing(
        tiny_experiment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", str(tiny_experiment), "--out", str(out), "--dry-run",
                 "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert "2 design points" in text and "= 4 runs" in text
    assert "Estimated time: about" in text and "on 2 local workers" in text
    assert not out.exists()
    assert main(["sweep", str(tiny_experiment), "--out", str(out), "--dry-run",
                 "--json", "-"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["runs"] == 4 and plan["design_points"] == 2
    assert plan["seconds_per_run"] > 0 and plan["estimated_seconds"] > 0
    assert [p["link_workers.count"] for p in plan["points"]] == [4, 6]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


def test_sweep_disk_full_names_the_path_and_the_resume_command(
        tiny_experiment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from pathways_sim.sweep.store import SweepStore

    def full(self, chunk, records):  # noqa: ANN001, ANN202
        raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "parts"))

    monkeypatch.setattr(SweepStore, "write_chunk", full)
    out = tmp_path / "sweep"
    assert main(["sweep", str(tiny_experiment), "--out", str(out), "--workers", "1",
                 "--chunk-size", "2", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "disk full" in err and str(out / "parts") in err and "Traceback" not in err
    assert f"--out {out} --resume" in err
    _assert_hints_exist(err, "sweep")


# ----------------------------------------------------------------------------- small fixes

def test_a_closed_stdout_pipe_is_silent_and_exits_0() -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as after `| head`
    try:
        done = subprocess.run([sys.executable, "-m", "pathways_sim", "scenarios", "show",
                               "medium"], stdout=write, stderr=subprocess.PIPE, timeout=120,
                              check=False)
    finally:
        os.close(write)
    assert done.returncode == 0
    assert done.stderr == b""


def test_a_busy_workshop_port_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["workshop", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "in use" in err and err.count("\n") == 1
    _assert_hints_exist(err, "workshop")


def test_a_replicate_without_jobs_is_reported_not_dropped_silently() -> None:
    reps = [{"found_work_24m": 0.1, "cost_per_job_24m": 20_000.0},
            {"found_work_24m": 0.0, "cost_per_job_24m": np.nan},
            {"found_work_24m": 0.2, "cost_per_job_24m": 30_000.0}]
    table = metric_table(reps)
    row = table.set_index("metric").loc["cost_per_job_24m"]
    assert row["n"] == 2 and row["mean"] == pytest.approx(25_000.0)  # over those with jobs
    text = metric_table_text(table, 3)
    assert "cost_per_job_24m *" in text
    assert ("cost_per_job_24m: n/a in 1 of 3 replicates (no cohort member found work within "
            "24 months); the mean and interval are over the other 2") in text
    assert "found_work_24m:" not in text  # defined in every replicate: no note


def test_run_reports_its_no_job_replicates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "rare_jobs.yaml"
    scenario.write_text(textwrap.dedent("""\
        description: Few clients and rare job starts, so that some replicates have no job.
        base: medium
        params:
          referrals: {per_year: 60}
          jobs: {base_per_week: 0.01}
        """), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--replicates", "4", "--weeks", "60", "--out", str(out),
                 "--quiet", "--json", str(out / "s.json")]) == 0
    text = capsys.readouterr().out
    per_rep = pd.read_csv(out / "metrics.csv")["cost_per_job_24m"]
    missing = int(per_rep.isna().sum())
    assert 0 < missing, "the scenario no longer has a replicate without a job: adjust it"
    assert f"cost_per_job_24m: n/a in {missing} of 4 replicates" in text
    doc = json.loads((out / "s.json").read_text(encoding="utf-8"))
    assert doc["metrics"]["cost_per_job_24m"]["replicates_with_value"] == 4 - missing
    assert any(n.startswith("cost_per_job_24m: n/a") for n in doc["notes"])


def test_the_sweep_report_says_when_cost_per_job_is_na(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    experiment = tmp_path / "rare.yaml"
    experiment.write_text(textwrap.dedent("""\
        description: Rare job starts and few clients, so that some runs have no job.
        base: medium
        levers:
          jobs.base_per_week: [0.01]
          referrals.per_year: [60]
        outcomes: {cost_per_job_24m: minimize}
        design: {type: full_factorial}
        replicates: 4
        weeks: 60
        """), encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(experiment), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    from pathways_sim.sweep.results import load_sweep

    missing = int(load_sweep(out).joined()["cost_per_job_24m"].isna().sum())
    assert 0 < missing < 4, "the experiment no longer mixes runs with and without a job"
    assert main(["report", str(out), "--quiet"]) == 0
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert f"n/a in {missing} of 4 runs" in md


def test_calibrate_disk_full_names_the_resume_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from pathways_sim.calibration import fit

    out = tmp_path / "cal"

    def full(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "optuna.journal"))

    monkeypatch.setattr(fit, "calibrate", full)
    assert main(["calibrate", "--out", str(out), "--workers", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "optuna.journal" in err and "disk full" in err and "Traceback" not in err
    assert f"pathways-sim calibrate --out {out} --workers 1 --quiet --resume" in err
    _assert_hints_exist(err, "calibrate")


def test_calibrate_overwrite_swaps_in_the_new_fit_only_when_it_is_complete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from pathways_sim.calibration import fit

    out = tmp_path / "cal"
    out.mkdir()
    (out / "calibrated.json").write_text('{"earlier": true}', encoding="utf-8")
    seen: list[Path] = []

    def broken(config, method, executor, *, out, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.append(out)
        (out / "optuna.journal").write_text("half a fit", encoding="utf-8")
        raise RuntimeError("a worker died")

    monkeypatch.setattr(fit, "calibrate", broken)
    assert main(["calibrate", "--out", str(out), "--overwrite", "--workers", "1",
                 "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "a worker died" in err and "unchanged" in err and "--resume" not in err
    assert seen[0] != out and seen[0].parent == tmp_path  # the fit ran in a sibling folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal"]
    assert (out / "calibrated.json").read_text(encoding="utf-8") == '{"earlier": true}'

    def works(config, method, executor, *, out, **kwargs):  # noqa: ANN001, ANN003, ANN202
        (out / "calibrated.json").write_text('{"new": true}', encoding="utf-8")
        return SimpleNamespace(path=out, version="v2", method="optuna",
                               summary=lambda: pd.DataFrame(
                                   columns=["parameter", "point", "low", "high"]))

    monkeypatch.setattr(fit, "calibrate", works)
    assert main(["calibrate", "--out", str(out), "--overwrite", "--workers", "1",
                 "--quiet"]) == 0
    assert f"Report: {out / 'report.html'}" in capsys.readouterr().out
    assert (out / "calibrated.json").read_text(encoding="utf-8") == '{"new": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal"]


def test_run_outputs_are_byte_identical_for_any_worker_count(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in ("1", "2"):
        assert main(["run", "medium", "--replicates", "3", "--weeks", "30", "--quiet",
                     "--workers", n, "--out", str(tmp_path / n)]) == 0
    for name in ("events.parquet", "clients.parquet", "metrics.csv", "summary.csv",
                 "stocks.csv", "funnel.csv", "ledger.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
