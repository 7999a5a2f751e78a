"""The calibration commands end to end on a small fast problem, and their bad inputs.

calibrate (Optuna with resume, ABC-SMC), predict, validate and sensitivity
run through the same argument parsing and handlers ``pathways-sim`` uses
(:func:`register_calibration_commands`), with small budgets on a service of
2,000 referrals a year simulated for 39 weeks.
"""

from __future__ import annotations

import argparse
import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.calibration.cli import register_calibration_commands
from pathways_sim.calibration.results import load_calibrated
from pathways_sim.scenario import ScenarioError


def run_cli(argv: list[str]) -> tuple[int, str]:
    """Parse and run like ``pathways_sim.cli.main``: (exit status, stdout or error)."""
    parser = argparse.ArgumentParser(prog="pathways-sim")
    register_calibration_commands(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0), ""
    out = io.StringIO()
    try:
        return args.handler(args, argv, out), out.getvalue()
    except ScenarioError as exc:
        return 2, str(exc)


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("calcli")
    scenario = d / "small.yaml"
    scenario.write_text(textwrap.dedent("""\
        description: A small fast service for the calibration command tests.
        base: medium
        params:
          run: {weeks: 39, cohort_weeks: 13, follow_up_weeks: 26}
          referrals: {per_year: 2000}
        """), encoding="utf-8")
    (d / "targets.csv").write_text(
        "id,scenario,cohort,observable,window_months,k,n,n_max,likelihood,role,source\n"
        f"uptake,{scenario},all,took_up_service,6,320,500,,binomial,fit,test\n"
        f"need,{scenario},all,employment_need_at_referral,,60,500,,binomial,fit,test\n"
        f"work,{scenario},all,found_work,6,5,2000,2400,binomial_uncertain_n,fit,test\n"
        f"vol,{scenario},all,volunteering,6,20,500,,binomial,validate,test\n"
        f"volgoals,{scenario},all,volunteering_vs_work_goals,,10,100,,lower_bound,validate,t\n"
        f"rise,{scenario},all,work_interest_rise_6m,6,99,100,,upper_bound,validate,t\n",
        encoding="utf-8")
    (d / "priors.csv").write_text(textwrap.dedent("""\
        parameter,low,high,prior,default,informed_by,source
        service.uptake_base,0.05,0.6,uniform,0.35,uptake,test
        clients.aspiration_barrier,0.5,0.95,uniform,0.8,need,test
        """), encoding="utf-8")
    (d / "config.yaml").write_text(textwrap.dedent("""\
        name: small
        targets: targets.csv
        priors: priors.csv
        replicates: 1
        seed: 5
        optuna: {budget: 6, batch: 3, startup_trials: 3}
        abc: {population: 4, generations: 2, budget: 60, quantile: 0.75}
        predictive: {draws: 4, seed: 9}
        """), encoding="utf-8")
    tiny = d / "tiny_patterns.yaml"
    tiny.write_text(textwrap.dedent("""\
        title: Tiny pattern check
        description: One pattern check for tests of validate; short runs, not for conclusions.
        base: medium
        levers:
          scenario: [signposting, holistic]
        outcomes:
          stepping_stone_12m: maximize
        design: {type: full_factorial}
        replicates: 2
        seed: 1
        weeks: 60
        baseline: {scenario: signposting}
        checks:
          - {name: "holistic beats signposting", option: {scenario: holistic},
             baseline: {scenario: signposting}, metric: stepping_stone_12m, expect: increase}
        """), encoding="utf-8")
    return {"dir": d, "config": d / "config.yaml", "scenario": scenario, "patterns": tiny}


@pytest.fixture(scope="module")
def optuna_result(problem: dict[str, Path]) -> Path:
    out = problem["dir"] / "results_optuna"
    code, text = run_cli(["calibrate", "--method", "optuna", "--config", str(problem["config"]),
                          "--out", str(out), "--budget", "3", "--workers", "1"])
    assert code == 0, text
    # Interrupted at 3 trials (the budget): --resume continues the study on disk to 6.
    code, text = run_cli(["calibrate", "--method", "optuna", "--config", str(problem["config"]),
                          "--out", str(out), "--resume", "--workers", "1"])
    assert code == 0, text
    return out


def test_calibrate_optuna_writes_a_versioned_result_that_resumes(optuna_result: Path) -> None:
    cal = load_calibrated(optuna_result)
    assert cal.method == "optuna" and cal.version.startswith("small-")
    assert len(cal.history) == 6 and cal.diagnostics["resumed_from"] == 3
    assert set(cal.point) == {"service.uptake_base", "clients.aspiration_barrier"}
    assert cal.point_nll == pytest.approx(cal.history["nll"].min())
    fit = pd.read_csv(optuna_result / "fit.csv")
    assert list(fit["target"]) == ["uptake", "need", "work", "vol", "volgoals", "rise"]
    assert (fit["ppi_lo90"] <= fit["ppi_hi90"]).all()
    assert (fit["obs_lo90"] < fit["observed"]).all() and (fit["observed"] < fit["obs_hi90"]).all()
    manifest = json.loads((optuna_result / "manifest.json").read_text())
    assert manifest["kind"] == "calibration" and len(manifest["targets_sha256"]) == 64
    assert manifest["seeds"] and "git_sha" in manifest
    assert "calibrated.json" in manifest["files"] and "report.html" in manifest["files"]
    html = (optuna_result / "report.html").read_text()
    md = (optuna_result / "report.md").read_text()
    assert html.count("data:image/png;base64,") == 3
    for section in ("## Summary", "## Observed against simulated", "## Prior against posterior",
                    "## Which parameters the data inform", "## Pattern terms",
                    "## Coverage and every miss", "## Convergence"):
        assert section in md
    assert "Optuna (a point estimate" in md and "no posterior sample" in md
    for fig in ("fit.png", "parameters.png", "convergence.png"):
        assert (optuna_result / "figures" / fig).stat().st_size > 1000


def test_calibrate_refuses_to_overwrite_without_asking(problem: dict[str, Path],
                                                       optuna_result: Path) -> None:
    code, text = run_cli(["calibrate", "--config", str(problem["config"]), "--out",
                          str(optuna_result), "--workers", "1"])
    assert code == 2 and "--resume" in text


def test_pyabc_samples_on_a_dask_cluster(problem: dict[str, Path]) -> None:
    """pyabc's MappingSampler maps over the same executors as the sweeps: a Dask cluster too."""
    out = problem["dir"] / "results_abc_dask"
    code, text = run_cli(["calibrate", "--config", str(problem["config"]), "--out", str(out),
                          "--dask-local", "2"])
    assert code == 0, text
    cal = load_calibrated(out)
    assert cal.method == "pyabc" and len(cal.draws) == 4
    assert "Dask" in cal.diagnostics["algorithm"]


def test_calibrate_pyabc_gives_weighted_posterior_draws(problem: dict[str, Path]) -> None:
    out = problem["dir"] / "results_abc"
    code, text = run_cli(["calibrate", "--method", "pyabc", "--config", str(problem["config"]),
                          "--out", str(out), "--workers", "1"])
    assert code == 0, text
    cal = load_calibrated(out)
    assert cal.method == "pyabc" and len(cal.draws) == 4
    assert (out / "pyabc_history.db").is_file()  # pyabc's history: inspect, resume
    assert cal.weights().sum() == pytest.approx(1.0)
    gens = cal.diagnostics["generations"]
    assert [g["generation"] for g in gens] == [0, 1]
    assert gens[1]["epsilon"] <= gens[0]["epsilon"]
    assert all(0 < g["acceptance_rate"] <= 1 and g["ess"] > 0 for g in gens)
    assert "| generation | epsilon |" in (out / "report.md").read_text()


def test_predict_writes_the_posterior_predictive(problem: dict[str, Path],
                                                 optuna_result: Path) -> None:
    js = problem["dir"] / "pred.json"
    code, text = run_cli(["predict", str(problem["scenario"]), "--observable", "found_work",
                          "--window-months", "6", "--draws", "3", "--calibration",
                          str(optuna_result), "--json", str(js), "--workers", "1"])
    assert code == 0, text
    out = json.loads(js.read_text())
    assert len(out["draws"]) == 3 and out["lo90"] <= out["median"] <= out["hi90"]
    assert out["calibration"].startswith("small-")
    assert all(0 <= x <= 1 for x in out["draws"])


@pytest.mark.parametrize(("extra", "message"), [
    (["--observable", "nope", "--window-months", "6"], "unknown observable"),
    (["--observable", "found_work", "--window-months", "12"], "longer than the scenario"),
])
def test_predict_bad_inputs_exit_2(problem: dict[str, Path], extra: list[str],
                                   message: str) -> None:
    code, text = run_cli(["predict", str(problem["scenario"]), *extra, "--calibration", "none",
                          "--json", str(problem["dir"] / "x.json"), "--workers", "1"])
    assert code == 2 and message in text


def test_bad_calibrated_folder_and_config_exit_2(problem: dict[str, Path]) -> None:
    code, text = run_cli(["validate", "--calibration", str(problem["dir"]), "--no-patterns"])
    assert code == 2 and "not a calibration results folder" in text
    code, text = run_cli(["calibrate", "--config", "no_such_config"])
    assert code == 2 and "unknown calibration config 'no_such_config'" in text
    code, _ = run_cli(["calibrate", "--method", "grid"])
    assert code == 2


def test_validate_checks_held_out_targets_and_patterns(problem: dict[str, Path],
                                                       optuna_result: Path) -> None:
    out = problem["dir"] / "validation"
    code, text = run_cli(["validate", "--calibration", str(optuna_result), "--config",
                          str(problem["config"]), "--draws", "4", "--patterns",
                          str(problem["patterns"]), "--out", str(out), "--workers", "2"])
    assert code == 0, text
    doc = json.loads((out / "validation.json").read_text())
    assert doc["summary"]["validate_targets"] == 3 and doc["summary"]["patterns"] == 1
    roles = [t["role"] for t in doc["targets"]]
    assert roles[:3] == ["validate"] * 3  # held-out targets first
    rise = next(t for t in doc["targets"] if t["target"] == "rise")
    assert rise["inside"] == (rise["sim_median"] <= 0.99)  # an upper bound: met at or below
    assert "| rise | validate | < 0.990 |" in (out / "validation.md").read_text()
    assert doc["patterns"][0]["result"] in ("PASS", "FAIL")
    assert "Held-out targets" in text


def test_validate_runs_the_patterns_under_posterior_draws_too(problem: dict[str, Path]) -> None:
    """A pattern the posterior carries passes in at least 90% of its draws, not only at the
    point: validate counts the draws each check passes in."""
    fit = problem["dir"] / "results_abc_patterns"
    code, text = run_cli(["calibrate", "--config", str(problem["config"]), "--out", str(fit),
                          "--workers", "2"])
    assert code == 0, text
    code, text = run_cli(["validate", "--calibration", str(fit), "--config",
                          str(problem["config"]), "--draws", "2", "--patterns",
                          str(problem["patterns"]), "--pattern-draws", "3",
                          "--pattern-replicates", "2", "--workers", "2"])
    assert code == 0, text
    doc = json.loads((fit / "validation.json").read_text())
    row = doc["patterns"][0]
    assert row["draws"] == 3 and 0 <= row["draws_passed"] <= 3
    assert doc["summary"]["pattern_draws"] == 3
    # A check failing in more than 1 draw in 10 is tested again with 4 x 2 replicates.
    short = row["draws_passed"] < 0.9 * 3
    assert row["power_replicates"] == (8 if short else 0)
    assert 0 <= row["power_draws_passed"] <= 3
    if not short:
        assert row["power_draws_passed"] == row["draws_passed"]
    assert "draws passed" in (fit / "validation.md").read_text()
    # validate in the calibration's own folder re-renders the report and records the step.
    manifest = json.loads((fit / "manifest.json").read_text())
    assert "validation.json" in manifest["files"] and manifest["steps"][-1]["command"][1] == (
        "validate")
    assert manifest["steps"][-1]["seconds"] > 0  # how long it took, for the docs' timings


def test_validate_takes_the_pattern_replicates_from_the_config(problem: dict[str, Path]) -> None:
    """The config's predictive.pattern_replicates (3) above the experiment's (2): every
    check runs with 3 replicates and is also decided on the experiment's own 2, the first
    ones, at the point and in every draw; validation.md and the JSON give both counts."""
    config = problem["dir"] / "config_pattern_replicates.yaml"
    text = problem["config"].read_text()
    assert "predictive: {draws: 4, seed: 9}" in text
    config.write_text(text.replace("predictive: {draws: 4, seed: 9}",
                                   "predictive: {draws: 4, seed: 9, pattern_replicates: 3}"))
    fit = problem["dir"] / "results_abc_pattern_replicates"
    code, text = run_cli(["calibrate", "--config", str(config), "--out", str(fit),
                          "--workers", "2"])
    assert code == 0, text
    code, text = run_cli(["validate", "--calibration", str(fit), "--config", str(config),
                          "--draws", "2", "--patterns", str(problem["patterns"]),
                          "--pattern-draws", "2", "--power-replicates", "0",
                          "--workers", "2"])
    assert code == 0, text
    doc = json.loads((fit / "validation.json").read_text())
    s = doc["summary"]
    assert (s["pattern_replicates"], s["experiment_replicates"]) == (3, 2)
    row = doc["patterns"][0]
    assert row["replicates"] == 3 and row["experiment_replicates"] == 2
    assert row["experiment_result"] in ("PASS", "FAIL")
    assert 0 <= row["experiment_draws_passed"] <= 2
    md = (fit / "validation.md").read_text()
    assert "at the experiment's 2 replicates" in md
    # a --patterns file of one's own is named, not passed off as the shipped patterns
    assert s["patterns_experiment"] == str(problem["patterns"])
    assert f"Checks of the experiment {problem['patterns']} passed at the point" in md
    assert f"the `{problem['patterns']}` experiment at the point" in (fit / "report.md").read_text()
    draws = pd.read_csv(fit / "validation_pattern_draws.csv")
    # The count on the experiment's own replicates is what a validation with just those
    # replicates says, draw for draw (the same seeds, the first ones).
    alone = problem["dir"] / "validation_at_2"
    code, text = run_cli(["validate", "--calibration", str(fit), "--config", str(config),
                          "--draws", "2", "--patterns", str(problem["patterns"]),
                          "--pattern-draws", "2", "--pattern-replicates", "2",
                          "--power-replicates", "0", "--out", str(alone), "--workers", "2"])
    assert code == 0, text
    two = pd.read_csv(alone / "validation_pattern_draws.csv")
    assert list(draws["experiment_result"]) == list(two["result"])
    assert np.allclose(draws["experiment_diff"], two["diff"], equal_nan=True)
    assert [r["experiment_result"] for r in doc["patterns"]] == [
        r["result"] for r in json.loads((alone / "validation.json").read_text())["patterns"]]
    code, _ = run_cli(["validate", "--calibration", str(fit), "--pattern-replicates", "101"])
    assert code == 2  # the config key's limit (argparse's message: "at most 100")
    assert run_cli(["validate", "--calibration", str(fit), "--power-replicates", "101"])[0] == 2


@pytest.mark.parametrize(("method", "budget", "rows"), [("morris", "9", 6), ("sobol", "8", 6)])
def test_sensitivity_writes_indices_table_and_plot(problem: dict[str, Path], optuna_result: Path,
                                                   method: str, budget: str, rows: int) -> None:
    out = problem["dir"] / f"sens_{method}"
    code, text = run_cli(["sensitivity", "--method", method, "--budget", budget,
                          "--calibration", str(optuna_result), "--scenario",
                          str(problem["scenario"]), "--out", str(out), "--workers", "1"])
    assert code == 0, text
    table = pd.read_csv(out / "sensitivity.csv")
    assert len(table) == rows
    assert set(table["output"]) == {"found_work_12m", "stepping_stone_12m",
                                    "support_ratio_near_far"}
    assert (out / "sensitivity.png").stat().st_size > 1000
    assert json.loads((out / "manifest.json").read_text())["kind"] == "sensitivity"


def test_sensitivity_budget_too_small_exits_2(problem: dict[str, Path]) -> None:
    code, text = run_cli(["sensitivity", "--method", "sobol", "--budget", "3", "--calibration",
                          "none", "--config", str(problem["config"]), "--scenario",
                          str(problem["scenario"])])
    assert code == 2 and "too few" in text


def test_pathways_sim_cli_exposes_the_calibration_commands(capsys: pytest.CaptureFixture) -> None:
    from pathways_sim import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._subparsers._group_actions  # noqa: SLF001
                    if isinstance(a, argparse._SubParsersAction)).choices  # noqa: SLF001
    if "calibrate" not in commands:
        pytest.skip("pathways_sim.cli does not call register_calibration_commands yet")
    assert {"calibrate", "predict", "validate", "sensitivity"} <= set(commands)
    assert cli.main(["calibrate", "--config", "no_such_config"]) == 2
    assert "unknown calibration config" in capsys.readouterr().err


def test_calibrate_on_a_dask_cluster_gives_the_local_pool_fit(problem: dict[str, Path]) -> None:
    fits = {}
    for name, executor in (("pool", ["--workers", "2"]), ("dask", ["--dask-local", "2"])):
        out = problem["dir"] / f"results_{name}"
        code, text = run_cli(["calibrate", "--method", "optuna", "--config",
                              str(problem["config"]), "--out", str(out), *executor])
        assert code == 0, text
        fits[name] = load_calibrated(out)
    pool, dask = fits["pool"], fits["dask"]
    assert dask.point == pool.point and dask.point_nll == pool.point_nll
    assert dask.history["nll"].tolist() == pool.history["nll"].tolist()
