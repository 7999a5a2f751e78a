"""Smoke tests of the ``pathways-sim`` command line, run in-process through ``main(argv)``.

Runs are short (60 weeks, 2 replicates) so the whole file stays fast; one
test goes through a real subprocess to check that a bad scenario exits with
status 2 and no traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pathways_sim.cli import main
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import list_scenarios, load_scenario

WEEKS = "60"
REPLICATES = "2"

EXPECTED_METRICS = (
    "found_work_6m",
    "found_work_12m",
    "found_work_24m",
    "sustained_work_26w_24m",
    "volunteering_12m",
    "training_12m",
    "stepping_stone_12m",
    "work_goal_12m",
    "took_up_service",
    "disengaged_12m",
    "wait_weeks_median",
    "found_work_ratio_near_far_24m",
    "support_ratio_near_far",
    "pbr_payments_total",
    "cost_per_job_24m",
)

OUTPUT_FILES = (
    "events.parquet",
    "clients.parquet",
    "metrics.csv",
    "summary.csv",
    "ledger.csv",
    "stocks.png",
    "funnel.png",
    "manifest.json",
)


def _run_args(out: Path, *extra: str) -> list[str]:
    return [
        "run",
        "medium",
        "--replicates",
        REPLICATES,
        "--weeks",
        WEEKS,
        "--out",
        str(out),
        "--json",
        str(out / "m.json"),
        *extra,
    ]


@pytest.fixture(scope="module")
def medium_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One short run of the medium scenario: (output folder, stdout)."""
    out = tmp_path_factory.mktemp("run") / "medium"
    capture = _Capture()
    with capture:
        code = main(_run_args(out))
    assert code == 0, capture.err
    return out, capture.out


class _Capture:
    """Capture sys.stdout/sys.stderr in a module-scoped fixture (capsys is function-scoped)."""

    def __enter__(self) -> _Capture:
        import io

        self._old = sys.stdout, sys.stderr
        self._out, self._err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = self._out, self._err
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self._old
        self.out, self.err = self._out.getvalue(), self._err.getvalue()


def _metrics(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["metrics"]


# --------------------------------------------------------------------------- run


def test_run_writes_every_output(medium_run: tuple[Path, str]) -> None:
    out, _ = medium_run
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    events = pd.read_parquet(out / "events.parquet")
    assert {"replicate", "seed", "week", "client", "event", "event_name", "value"} <= set(
        events.columns
    )
    assert sorted(events["replicate"].unique()) == [0, 1]
    assert "job_start" in set(events["event_name"].astype(str))
    clients = pd.read_parquet(out / "clients.parquet")
    assert {"replicate", "seed", "client", "distance_at_referral", "in_cohort",
            "first_job_start_week"} <= set(clients.columns)
    metrics = pd.read_csv(out / "metrics.csv")
    assert len(metrics) == 2 and {"replicate", "seed", "found_work_12m"} <= set(metrics.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["metric", "n", "mean", "lo", "hi", "unit"]
    ledger = pd.read_csv(out / "ledger.csv")
    assert {"replicate", "period_end_week"} <= set(ledger.columns)


def test_run_prints_metric_table(medium_run: tuple[Path, str]) -> None:
    _, stdout = medium_run
    assert "90% interval" in stdout
    assert "Cohort" in stdout
    for name in EXPECTED_METRICS:
        assert name in stdout


def test_run_json_summary(medium_run: tuple[Path, str]) -> None:
    out, _ = medium_run
    summary = json.loads((out / "m.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "medium"
    assert summary["seed"] == 20261124
    assert summary["replicates"] == 2
    assert "referred" in summary["cohort"]
    for name in EXPECTED_METRICS:
        entry = summary["metrics"][name]
        assert {"mean", "lo", "hi"} <= set(entry), name
        if None not in (entry["mean"], entry["lo"], entry["hi"]):
            assert entry["lo"] <= entry["mean"] <= entry["hi"], (name, entry)
        for key in ("mean", "lo", "hi"):
            assert entry[key] is None or math.isfinite(entry[key])


def test_run_manifest(medium_run: tuple[Path, str]) -> None:
    out, _ = medium_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "git_sha" in manifest and "git_dirty" in manifest
    assert manifest["root_seed"] == 20261124
    assert manifest["seeds"] == replicate_seeds(20261124, 2)
    assert manifest["scenario"]["params"]["run"]["weeks"] == int(WEEKS)
    assert manifest["libraries"].keys() >= {"mesa", "numpy", "pandas", "scipy", "matplotlib"}
    assert manifest["command"][:3] == ["pathways-sim", "run", "medium"]
    for name in OUTPUT_FILES:
        if name == "manifest.json":  # cannot hold its own checksum
            continue
        recorded = manifest["files"][name]["sha256"]
        assert recorded == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
    assert "m.json" in manifest["files"]  # the --json summary, written inside --out


def test_same_seed_gives_identical_metrics(
    medium_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = medium_run
    assert main(_run_args(tmp_path)) == 0
    assert _metrics(tmp_path / "m.json") == _metrics(out / "m.json")


def test_workers_do_not_change_results(
    medium_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = medium_run  # run with the default: every core
    assert main(_run_args(tmp_path, "--workers", "1")) == 0
    assert _metrics(tmp_path / "m.json") == _metrics(out / "m.json")


def test_other_seed_gives_other_metrics(
    medium_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = medium_run
    assert main([*_run_args(tmp_path), "--seed", "7", "--replicates", "1"]) == 0
    assert _metrics(tmp_path / "m.json") != _metrics(out / "m.json")


def test_replicate_seeds_are_stable_prefixes() -> None:
    five = replicate_seeds(11, 5)
    assert replicate_seeds(11, 3) == five[:3]
    assert len(set(five)) == 5
    assert replicate_seeds(12, 3) != five[:3]


# --------------------------------------------------------------------------- scenarios


def test_scenarios_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [name for name, _ in list_scenarios()]
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        assert line.split()[0] == name
    medium = load_scenario("medium")
    assert medium.title is not None
    assert any(line.startswith("medium ") and medium.title in line for line in lines)


def test_scenarios_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "holistic"]) == 0
    out = capsys.readouterr().out
    sc = load_scenario("holistic")
    assert "[link_workers]" in out and "[run]" in out
    line = next(x for x in out.splitlines() if x.lstrip().startswith("caseload"))
    assert str(sc["link_workers.caseload"]) in line
    assert sc.registry["link_workers.caseload"].unit in line
    assert sc.set_by["link_workers.caseload"] in line
    assert sc.sources["link_workers.caseload"] in line
    for path in sc.values:  # every parameter is listed
        assert path.split(".", 1)[1] in out


def test_scenarios_diff(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "diff", "medium", "holistic"]) == 0
    out = capsys.readouterr().out
    a, b = load_scenario("medium"), load_scenario("holistic")
    assert "link_workers.caseload" in out
    block = out.split("link_workers.caseload", 1)[1].split("\n\n", 1)[0]
    assert str(a["link_workers.caseload"]) in block and str(b["link_workers.caseload"]) in block
    assert a.sources["link_workers.caseload"] in block
    assert b.sources["link_workers.caseload"] in block
    assert "run.weeks" not in out  # equal in both: not listed


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def bad_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "typo.yaml"
    path.write_text(
        "description: A scenario with a misspelt key.\n"
        "base: medium\n"
        "params:\n"
        "  link_workers:\n"
        "    casload: 30\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", [["run"], ["scenarios", "show"]])
def test_bad_scenario_file_is_exit_2(
    command: list[str], bad_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--out", str(tmp_path / "out")] if command == ["run"] else []
    assert main([*command, str(bad_scenario), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert str(bad_scenario) in err
    assert "params.link_workers.casload" in err
    assert "did you mean" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_scenario_name_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "diff", "medium", "holstic"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'holstic'" in err and "did you mean 'holistic'" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "medium", "--replicates", "0"],
        ["run", "medium", "--workers", "0"],
        ["run", "medium", "--seed", "-1"],
        ["run", "medium", "--weeks", "ten"],
        ["run"],
        ["frobnicate"],
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_weeks_out_of_range_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "medium", "--weeks", "100000", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--weeks" in err and "out of range" in err


def test_subprocess_bad_scenario_has_no_traceback(bad_scenario: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pathways_sim", "scenarios", "show", str(bad_scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "error: " in done.stderr and "casload" in done.stderr


def test_cli_default_seed_matches_run_module() -> None:
    from pathways_sim import cli, run

    assert cli.DEFAULT_SEED == run.DEFAULT_SEED


BAD_FILES = {
    # case: (files to write {name: text}, file run, words the message must contain)
    "unknown key": ({"s.yaml": "description: d\nparams:\n  jobs:\n    labour_demnd: 1.2\n"},
                    "s.yaml", ["s.yaml", "params.jobs.labour_demnd", "did you mean",
                               "labour_demand"]),
    "wrong type": ({"s.yaml": "description: d\nparams:\n  link_workers:\n    colocated: 3\n"},
                   "s.yaml", ["s.yaml", "params.link_workers.colocated", "true or false"]),
    "out of range": ({"s.yaml": "description: d\nparams:\n  funding:\n    share_at_risk: 1.5\n"},
                     "s.yaml", ["s.yaml", "params.funding.share_at_risk", "[0, 1]"]),
    "bad choice": ({"s.yaml": "description: d\nparams:\n  funding:\n    regime: pbr_jobs\n"},
                   "s.yaml", ["s.yaml", "params.funding.regime", "pbr_job"]),
    "unknown base": ({"s.yaml": "description: d\nbase: holistc\n"},
                     "s.yaml", ["s.yaml", "base", "holistic"]),
    "cycle": ({"a.yaml": "description: a\nbase: ./b.yaml\n",
               "b.yaml": "description: b\nbase: ./a.yaml\n"},
              "a.yaml", ["b.yaml", "a -> b -> a", "cycle"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_each_bad_input_case_exits_2_and_names_file_key_problem_allowed(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, target, words = BAD_FILES[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    code = main(["run", str(tmp_path / target), "--replicates", "1", "--weeks", "10",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err
    for word in words:
        assert word.lower() in err.lower(), (case, word, err)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_run_uses_the_shipped_calibration_by_default(medium_run: tuple[Path, str]) -> None:
    from pathways_sim.calibration.choice import default_calibration_dir
    from pathways_sim.calibration.results import load_calibrated

    cal = load_calibrated(default_calibration_dir())
    out, stdout = medium_run  # no --calibration given
    assert f"Calibration: {cal.version} (calibration/results/default" in stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    record = manifest["calibration"]
    assert record["version"] == cal.version and record["method"] == cal.method
    assert Path(record["path"]) == default_calibration_dir()
    seeds = replicate_seeds(20261124, int(REPLICATES))
    assert record["replicate_draws"] == cal.replicate_draws(seeds)
    # each replicate ran its draw's values, and the resolved scenario is the posterior point
    for draw, values in zip(record["replicate_draws"], record["replicate_values"], strict=True):
        assert values == cal.draw_values(draw)
    section, key = "jobs.base_per_week".split(".")
    assert manifest["scenario"]["params"][section][key] == pytest.approx(
        cal.point["jobs.base_per_week"])
    assert manifest["scenario"]["set_by"][section][key] == "calibrated"
    summary = json.loads((out / "m.json").read_text(encoding="utf-8"))
    assert summary["calibration"]["version"] == cal.version


def test_run_with_calibration_none_uses_the_registry_values(
    medium_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathways_sim.scenario.registry import REGISTRY

    out, _ = medium_run
    capsys.readouterr()
    assert main([*_run_args(tmp_path), "--calibration", "none"]) == 0
    assert "Calibration: none (the registry values" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["calibration"]["version"] == "none"
    assert manifest["calibration"]["replicate_draws"] == "none"
    assert manifest["scenario"]["params"]["jobs"]["base_per_week"] == REGISTRY[
        "jobs.base_per_week"].default
    assert manifest["scenario"]["set_by"]["jobs"]["base_per_week"] == "default"
    assert json.loads((tmp_path / "m.json").read_text())["calibration"]["version"] == "none"
    assert _metrics(tmp_path / "m.json") != _metrics(out / "m.json")  # the values took effect


def test_run_with_a_missing_calibration_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*_run_args(tmp_path), "--calibration", str(tmp_path / "nowhere")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: command line: --calibration") and "does not exist" in err
    assert "'none' for the registry values" in err and "Traceback" not in err
