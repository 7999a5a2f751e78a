"""Early rejection in the pyabc fit: the same particles as running every scenario, sooner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.calibration.config import load_config
from pathways_sim.calibration.objective import ObserveTask, Problem
from tests.small_calibration import PRIORS_TABLE, TARGET_HEADER, write_small_scenario


def two_scenario_calibration(folder: Path, *, early: bool, generations: int = 3) -> Path:
    """Two target scenarios (uptake in one, volunteering in the other), one prior; the last
    generation is a final one at the last tolerance (as in the shipped config)."""
    a = write_small_scenario(folder / "small_a.yaml")
    b = write_small_scenario(folder / "small_b.yaml")
    (folder / "targets.csv").write_text(
        TARGET_HEADER
        + f"uptake,{a},all,took_up_service,6,320,500,,binomial,fit,test\n"
        + f"vol,{b},all,volunteering,6,20,500,,binomial,fit,test\n", encoding="utf-8")
    (folder / "priors.csv").write_text(PRIORS_TABLE, encoding="utf-8")
    config = folder / f"config_{'on' if early else 'off'}.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: two
        targets: targets.csv
        priors: priors.csv
        replicates: 1
        seed: 5
        abc: {{population: 6, generations: {generations}, budget: 400, final_population: 8,
               early_rejection: {'true' if early else 'false'}}}
        """), encoding="utf-8")
    return config


def test_simulate_stops_once_the_targets_run_so_far_exceed_the_bound(tmp_path) -> None:
    problem = Problem(load_config(two_scenario_calibration(tmp_path, early=True)))
    values = {"service.uptake_base": 0.05}  # far from the uptake target: a large deviance
    full = problem.simulate(values, [11])
    assert full.skipped == 0 and full.deviance[0] > 10
    stopped = problem.simulate(values, [11], stop_above=1.0)
    assert stopped.skipped == 1
    assert stopped.deviance[0] == full.deviance[0]  # the first scenario's run is the same
    assert np.isnan(stopped.deviance[1]) and stopped.n_sim[1].sum() == 0
    # Equal to the bound is not above it: the second scenario still runs.
    assert problem.simulate(values, [11], stop_above=float(full.deviance[0])).skipped == 0
    # Not above the bound (here the sum of both): every scenario runs, as without a bound.
    bound = float(full.deviance.sum())
    kept = problem.simulate(values, [11], stop_above=bound)
    assert kept.skipped == 0
    np.testing.assert_array_equal(kept.k_sim, full.k_sim)
    np.testing.assert_array_equal(kept.deviance, full.deviance)


def test_early_rejection_gives_the_same_fit_with_fewer_runs(tmp_path, monkeypatch) -> None:
    """The posterior, tolerances and proposals are identical with and without early
    rejection; only the scenario runs of rejected particles are saved."""
    from pathways_sim.calibration.pyabc_fit import run_pyabc
    from pathways_sim.sweep.executors import make_executor

    runs = {"n": 0}
    original = ObserveTask.__call__

    def counted(self, job):  # in process (one worker): the count is this test's
        runs["n"] += 1
        return original(self, job)

    monkeypatch.setattr(ObserveTask, "__call__", counted)
    fits, counts = {}, {}
    for early in (False, True):
        problem = Problem(load_config(two_scenario_calibration(tmp_path, early=early)))
        runs["n"] = 0
        with make_executor(workers=1) as ex:
            fits[early] = run_pyabc(problem, ex, tmp_path / f"e{early}", log=lambda _: None)
        counts[early] = runs["n"]
    on, off = fits[True], fits[False]
    pd.testing.assert_frame_equal(on.draws, off.draws)
    pd.testing.assert_frame_equal(on.particles, off.particles)
    keys = ("generation", "epsilon", "accepted", "proposed")
    gens = [{k: g[k] for k in keys} for g in on.diagnostics["generations"]]
    assert gens == [{k: g[k] for k in keys} for g in off.diagnostics["generations"]]
    assert len(gens) == 3 and gens[-1]["accepted"] == 8  # the final generation compared too
    assert gens[-1]["epsilon"] == gens[-2]["epsilon"]
    assert "early rejection" in on.diagnostics["algorithm"]
    assert "early rejection" not in off.diagnostics["algorithm"]
    # Every proposal after the first generation whose first target alone exceeds the
    # tolerance skips the second scenario: here a good share of them.
    assert counts[True] < counts[False], counts
    proposed = sum(g["proposed"] for g in off.diagnostics["generations"])
    assert counts[False] >= 2 * proposed  # both scenarios of every proposal (and calibration)


def test_early_rejection_must_be_true_or_false(tmp_path) -> None:
    from pathways_sim.scenario import ScenarioError

    config = two_scenario_calibration(tmp_path, early=True)
    config.write_text(config.read_text().replace("early_rejection: true",
                                                 "early_rejection: sometimes"))
    with pytest.raises(ScenarioError, match=r"abc\.early_rejection.*true or false"):
        load_config(config)


def test_resume_refuses_more_shrinking_generations_after_a_final_one(tmp_path) -> None:
    """A history that ends with its final generation cannot grow more shrinking ones: a
    larger abc.generations would otherwise run a second final generation at the old
    tolerance and report the new count as done."""
    from pathways_sim.calibration.pyabc_fit import run_pyabc
    from pathways_sim.scenario import ScenarioError
    from pathways_sim.sweep.executors import make_executor

    folder = tmp_path / "fit"
    with make_executor(workers=1) as ex:
        first = run_pyabc(Problem(load_config(two_scenario_calibration(tmp_path, early=True))),
                          ex, folder, log=lambda _: None)
        assert len(first.diagnostics["generations"]) == 3
        # The same settings: nothing left to run, the same posterior.
        again = run_pyabc(Problem(load_config(two_scenario_calibration(tmp_path, early=True))),
                          ex, folder, resume=True, log=lambda _: None)
        pd.testing.assert_frame_equal(again.draws, first.draws)
        more = Problem(load_config(two_scenario_calibration(tmp_path, early=True,
                                                            generations=4)))
        with pytest.raises(ScenarioError, match="ends with its final generation after 2 "
                                                "shrinking ones.*asks for 3"):
            run_pyabc(more, ex, folder, resume=True, log=lambda _: None)
