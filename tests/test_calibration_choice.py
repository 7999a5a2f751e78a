"""One model behind every command: ``--calibration DIR|none`` (issue 11, item 6).

Every command that runs the model takes the same option with the same help;
by default it uses the shipped calibration; ``none`` gives the registry values.
``run`` and ``sweep`` draw each replicate's parameters from the posterior by the
replicate's seed: the same draws in any executor, and the same draw at every
design point of a sweep (common random numbers extend to the parameters).

The posterior used here is the shipped calibration's, given four draws that
differ in ``jobs.base_per_week`` with unequal weights, so that replicates
really run different parameter sets whatever the shipped fit holds.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.calibration.choice import (
    calibration_line,
    default_calibration_dir,
    resolve_calibration,
)
from pathways_sim.calibration.config import ENV_RESULTS
from pathways_sim.calibration.results import CalibrationResult, load_calibrated
from pathways_sim.cli import build_parser, main
from pathways_sim.cli_options import CALIBRATION_HELP
from pathways_sim.run import replicate_seeds, run_one, run_replicates
from pathways_sim.scenario import ScenarioError, load_scenario
from pathways_sim.sweep import load_experiment, plan_sweep

COMMANDS = ("run", "sweep", "predict", "validate", "sensitivity", "workshop")
PARAM = "jobs.base_per_week"
DRAW_VALUES = (0.01, 0.02, 0.03, 0.05)
DRAW_WEIGHTS = (0.0, 1.0, 0.0, 3.0)  # draws 0 and 2 can never be picked


@pytest.fixture(scope="module")
def posterior(tmp_path_factory: pytest.TempPathFactory) -> CalibrationResult:
    """The shipped calibration with four weighted draws, saved to and read from a folder."""
    shipped = load_calibrated(default_calibration_dir())
    row = shipped.draws.iloc[[0]]
    draws = pd.concat([row] * len(DRAW_VALUES), ignore_index=True)
    draws["draw"] = range(len(DRAW_VALUES))
    draws["weight"] = DRAW_WEIGHTS
    draws[PARAM] = DRAW_VALUES
    shipped.draws = draws
    shipped.name = "four_draws"
    folder = tmp_path_factory.mktemp("calibration") / "four_draws"
    shipped.save(folder)
    return load_calibrated(folder)


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_the_same_calibration_option(command: str) -> None:
    options = {o: a for a in _subparser(command)._actions for o in a.option_strings}
    assert "--calibrated" not in options  # one name only
    action = options["--calibration"]
    assert action.help == CALIBRATION_HELP
    assert action.metavar == "DIR|none" and action.default is None


def test_the_default_is_the_shipped_folder_and_none_is_no_calibration() -> None:
    notes: list[str] = []
    cal = resolve_calibration(None, note=notes.append)
    assert cal is not None and cal.path == default_calibration_dir() and not notes
    assert default_calibration_dir().parts[-3:] == ("calibration", "results", "default")
    assert resolve_calibration("none") is None and resolve_calibration("NONE") is None
    assert "Calibration: none (the registry values" in calibration_line(None, draws=True)


def test_an_absent_shipped_calibration_says_so_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_RESULTS, str(tmp_path))  # an empty results folder
    notes: list[str] = []
    assert resolve_calibration(None, note=notes.append) is None
    assert len(notes) == 1 and "is absent: using the registry values" in notes[0]


def test_a_folder_that_is_not_a_calibration_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"--calibration: .*does not exist"):
        resolve_calibration(tmp_path / "nowhere")
    with pytest.raises(ScenarioError, match="is not a calibration results folder"):
        resolve_calibration(tmp_path)


def test_replicate_draws_follow_the_weights_and_the_seed_alone(
        posterior: CalibrationResult) -> None:
    seeds = replicate_seeds(3, 2000)
    draws = np.array(posterior.replicate_draws(seeds))
    assert set(draws) == {1, 3}  # zero weight: never drawn
    # 3/4 of the weight on draw 3; 2000 draws give a standard error of about 0.01
    assert abs((draws == 3).mean() - 0.75) < 0.04
    again = load_calibrated(posterior.path)  # a fresh copy, as in another process
    assert [again.replicate_draw(s) for s in seeds[:50]] == list(draws[:50])
    assert posterior.replicate_draws(seeds[10:20]) == list(draws[10:20])  # order-free


def test_run_replicates_draw_the_same_parameters_in_any_number_of_workers(
        posterior: CalibrationResult) -> None:
    scenario = load_scenario("medium").with_changes({"run.weeks": 26}, name="medium")
    one = run_replicates(scenario, 4, root_seed=11, workers=1, progress=False,
                         calibration=posterior)
    two = run_replicates(scenario, 4, root_seed=11, workers=2, progress=False,
                         calibration=posterior)
    assert one.draws == two.draws == posterior.replicate_draws(replicate_seeds(11, 4))
    assert len(set(one.draws)) == 2  # this seed gives both draws: the check has teeth
    # Equal value for value, NaN included (a ratio with nothing to divide is NaN in both).
    np.testing.assert_equal([r.metrics for r in one], [r.metrics for r in two])
    record = one.calibration_record()
    assert record is not None and record["replicate_draws"] == one.draws
    assert [v[PARAM] for v in record["replicate_values"]] == [DRAW_VALUES[d] for d in one.draws]
    # a replicate is the scenario run with its draw applied, nothing else
    i = one.draws.index(3)
    alone = run_one(posterior.apply(scenario, draw=3), one.seeds[i])
    np.testing.assert_equal(alone.metrics, one.results[i].metrics)


EXPERIMENT = """\
description: Two service models and a counterfactual, short, with a calibration.
base: medium
levers:
  scenario: [medium, holistic]
outcomes: {found_work_12m: maximize}
design: {type: full_factorial}
replicates: 4
seed: 11
weeks: 26
baseline: {scenario: medium}
counterfactual: no_service
"""


def _experiment(folder: Path, calibration: str | None) -> Path:
    path = folder / "calibrated.yaml"
    extra = "" if calibration is None else f"calibration: {calibration}\n"
    path.write_text(textwrap.dedent(EXPERIMENT) + extra, encoding="utf-8")
    return path


def test_design_points_of_a_sweep_share_each_replicates_draw(
        posterior: CalibrationResult, tmp_path: Path) -> None:
    exp = load_experiment(_experiment(tmp_path, str(posterior.path)))
    plan = plan_sweep(exp, exp.calibration_result())
    assert plan.calibration is not None and plan.calibration.version == posterior.version
    assert list(plan.draws) == posterior.replicate_draws(plan.seeds)
    for r, draw in enumerate(plan.draws):
        values = {plan.scenario_of(p.point_id, r).values[PARAM] for p in plan.points}
        assert values == {DRAW_VALUES[draw]}, r  # every point, the replicate's own draw
    assert plan.fingerprint() != plan_sweep(exp).fingerprint()  # resume tells them apart


def test_a_sweep_records_its_draws_and_runs_them_in_worker_processes(
        posterior: CalibrationResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathways_sim.sweep import load_sweep

    path = _experiment(tmp_path, "none")  # the flag overrides the file
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet",
                 "--calibration", str(posterior.path), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    exp = load_experiment(path)
    plan = plan_sweep(exp, posterior)
    for record in (manifest["calibration"], doc["calibration"]):
        assert record["version"] == posterior.version and record["method"] == posterior.method
        assert record["replicate_draws"] == list(plan.draws)
    # a run in a worker process equals the same run here, with its draw applied
    joined = load_sweep(out).joined()
    row = joined[(joined["point_id"] == 1) & (joined["replicate"] == 2)].iloc[0]
    alone = run_one(plan.scenario_of(1, 2), plan.seeds[2])
    assert row["found_work_12m"] == pytest.approx(alone.metrics["found_work_12m"], abs=0)


def test_an_experiments_calibration_key_is_strict(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = _experiment(tmp_path, "calibration/results/no_such_fit")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: calibration: ") and "does not exist" in err
    assert "'none' for the registry values" in err and "Traceback" not in err
    path.write_text(textwrap.dedent(EXPERIMENT) + "calibration: [none]\n", encoding="utf-8")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    assert "calibration: must be a folder or 'none'" in capsys.readouterr().err
    path.write_text(textwrap.dedent(EXPERIMENT) + "calibrated: none\n", encoding="utf-8")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    assert "did you mean 'calibration'" in capsys.readouterr().err
    # none, and the shipped folder relative to the repository, are accepted
    exp = load_experiment(_experiment(tmp_path, "none"))
    assert exp.calibration == "none" and exp.calibration_result() is None
    exp = load_experiment(_experiment(tmp_path, "calibration/results/default"))
    cal = exp.calibration_result()
    assert cal is not None and cal.path == default_calibration_dir()


def test_the_workshop_runs_the_posterior_point_and_names_it(
        posterior: CalibrationResult) -> None:
    from pathways_sim.viz.session import Session

    session = Session("medium", seed=3, replicates=2, calibration=posterior)
    side = session.side("A")
    assert side.scenario.values[PARAM] == posterior.point[PARAM]
    assert side.scenario.set_by[PARAM] == "calibrated"
    assert session.model_line.startswith(f"Calibration: {posterior.version} (")
    assert "posterior point" in session.model_line
    session.load_scenario("holistic")
    assert session.side("A").scenario.values[PARAM] == posterior.point[PARAM]
    plain = Session("medium", seed=3, replicates=2)
    assert plain.side("A").scenario.set_by[PARAM] == "default"
    assert plain.model_line.startswith("Calibration: none")


def test_the_sweep_brief_says_which_calibration(posterior: CalibrationResult) -> None:
    from pathways_sim.report.brief import calibration_text

    record = posterior.record([1, 3])
    text = calibration_text({"calibration": record})
    assert posterior.version in text and "include parameter uncertainty" in text
    assert "4 draws" in text
    none = calibration_text({"calibration": {"version": "none"}})
    assert "registry" in none and "chance alone" in none
    assert "does not say" in calibration_text({})
