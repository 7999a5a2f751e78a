"""Tests of sweeps: experiment files, designs, executors, the results store and resume.

Runs are short (60 weeks) and few (a 15-run experiment), so the whole file
stays well within its time budget; one test kills a real sweep process with
SIGKILL and resumes it, one runs the shipped ``smoke`` experiment through
the command line.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pathways_sim.cli import main
from pathways_sim.outcomes import METRICS, STATES
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import ScenarioError, load_scenario
from pathways_sim.sweep import (
    DaskExecutor,
    InProcessExecutor,
    Job,
    LocalPoolExecutor,
    SweepError,
    load_experiment,
    load_sweep,
    plan_sweep,
    run_many,
    run_metrics,
    run_sweep,
)
from pathways_sim.sweep.design import compose, design_matrix
from pathways_sim.sweep.experiment import list_experiments
from pathways_sim.sweep.progress import Progress
from pathways_sim.sweep.runner import FAIL_ENV

ROOT = Path(__file__).resolve().parents[1]

# 2 options + 1 baseline + 2 counterfactuals (one per service model) = 5 points x 3 = 15 runs.
TINY = """\
description: A tiny experiment for tests.
base: medium
levers:
  scenario: [medium, holistic]
outcomes: {found_work_12m: maximize, cost_per_job_24m: minimize}
design: {type: full_factorial}
replicates: 3
seed: 7
weeks: 60
baseline: {scenario: medium}
counterfactual: no_service
"""
TINY_RUNS = 15


def write(folder: Path, text: str, name: str = "exp") -> Path:
    """Write an experiment file and return its path."""
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def assert_same_results(a: Path, b: Path) -> None:
    """Two results folders hold equal tables (sorted by run id)."""
    sa, sb = load_sweep(a), load_sweep(b)
    assert sa.complete and sb.complete
    for table in ("design", "outcomes", "weekly", "errors"):
        pd.testing.assert_frame_equal(getattr(sa, table), getattr(sb, table), obj=table)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny experiment's file."""
    return write(tmp_path_factory.mktemp("experiments"), TINY, "tiny")


@pytest.fixture(scope="module")
def reference(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny experiment swept in this process, in parts of 2 runs."""
    out = tmp_path_factory.mktemp("reference") / "sweep"
    run_sweep(load_experiment(tiny), out, InProcessExecutor(), chunk_size=2, progress=False)
    return out


# --------------------------------------------------------------------------- validation

BASE = """\
description: Validation case.
base: medium
levers:
  scenario: [medium, holistic]
  funding.regime: [block, pbr_job]
uncertainties:
  jobs.labour_demand: {low: 0.8, high: 1.2, values: [0.8, 1.2]}
outcomes: {found_work_24m: maximize}
design: {type: full_factorial}
replicates: 2
"""

# (name, text replacing/adding lines of BASE, key, problem contains, allowed contains)
BAD = [
    ("unknown top-level key", BASE + "levrs: {}\n", "levrs", "did you mean 'levers'",
     "uncertainties"),
    ("missing key", BASE.replace("replicates: 2\n", ""), "replicates", "missing required key",
     "required: description"),
    ("repeated key", BASE + "replicates: 3\n", None, "duplicate key 'replicates'", "valid YAML"),
    ("unknown parameter", BASE.replace("funding.regime", "link_workers.casload"),
     "levers.link_workers.casload", "did you mean 'caseload'", "keys of link_workers"),
    ("unknown section", BASE.replace("funding.regime", "fundng.regime"),
     "levers.fundng.regime", "unknown parameter 'fundng.regime'", "sections:"),
    ("wrong type", BASE.replace("[block, pbr_job]", "[block, 3]"), "levers.funding.regime[1]",
     "wrong type", "one of 'block'"),
    ("not a choice", BASE.replace("[block, pbr_job]", "[block, pbr_jobs]"),
     "levers.funding.regime[1]", "did you mean 'pbr_job'", "'pbr_stepping_stones'"),
    ("out of range", BASE.replace("funding.regime: [block, pbr_job]",
                                  "link_workers.caseload: [0, 10]"),
     "levers.link_workers.caseload[0]", "out of range", "an integer in [1, 1000]"),
    ("repeated value", BASE.replace("[block, pbr_job]", "[block, block]"),
     "levers.funding.regime", "listed twice", "each value once"),
    ("unknown scenario", BASE.replace("[medium, holistic]", "[medium, holstic]"),
     "levers.scenario[1]", "did you mean 'holistic'", "scenario names:"),
    ("unknown base", BASE.replace("base: medium", "base: mediun"), "base",
     "did you mean 'medium'", "scenario names:"),
    ("range out of range", BASE.replace("{low: 0.8, high: 1.2, values: [0.8, 1.2]}",
                                        "{low: 0.8, high: 9.0, values: [0.8]}"),
     "uncertainties.jobs.labour_demand.high", "out of range", "a number in [0, 5]"),
    ("range without values", BASE.replace(", values: [0.8, 1.2]", ""),
     "uncertainties.jobs.labour_demand", "needs 'values:' in a full_factorial design",
     "latin_hypercube"),
    ("value outside range", BASE.replace("values: [0.8, 1.2]", "values: [0.8, 1.3]"),
     "uncertainties.jobs.labour_demand.values[1]", "outside the range", "values in [0.8, 1.2]"),
    ("range of a choice", BASE.replace("[block, pbr_job]", "{low: 0, high: 1}"),
     "levers.funding.regime", "a range needs a numeric parameter", "a list of values"),
    ("low not below high", BASE.replace("{low: 0.8, high: 1.2, values: [0.8, 1.2]}",
                                        "{low: 1.2, high: 0.8}"),
     "uncertainties.jobs.labour_demand", "must be below high", "low < high"),
    ("unknown range key", BASE.replace("values: [0.8, 1.2]", "valeus: [0.8, 1.2]"),
     "uncertainties.jobs.labour_demand.valeus", "did you mean 'values'", "a list of values"),
    ("lever and uncertainty", BASE.replace("funding.regime: [block, pbr_job]",
                                           "jobs.labour_demand: [1.0]"),
     "uncertainties.jobs.labour_demand", "also a lever", "either a lever or an uncertainty"),
    ("unknown design", BASE.replace("full_factorial", "factorial"), "design.type",
     "did you mean 'full_factorial'", "latin_hypercube"),
    ("sobol not a power of 2", BASE.replace("{type: full_factorial}",
                                            "{type: sobol, samples: 12}"),
     "design.samples", "not a power of 2", "a power of 2"),
    ("samples missing", BASE.replace("{type: full_factorial}", "{type: latin_hypercube}"),
     "design.samples", "needs samples", "latin_hypercube, samples: N"),
    ("unknown metric", BASE.replace("found_work_24m", "found_work_25m"),
     "outcomes.found_work_25m", "did you mean 'found_work_24m'", "metrics: cohort_size"),
    ("unknown direction", BASE.replace("maximize", "maximise"), "outcomes.found_work_24m",
     "did you mean 'maximize'", "maximize, minimize, info"),
    ("zero replicates", BASE.replace("replicates: 2", "replicates: 0"), "replicates",
     "out of range", "an integer >= 1"),
    ("weeks out of range", BASE + "weeks: 5000\n", "weeks", "out of range",
     "an integer in [1, 1040]"),
    ("unknown counterfactual", BASE + "counterfactual: no_servce\n", "counterfactual",
     "did you mean 'no_service'", "scenario names:"),
    ("baseline fixes an uncertainty", BASE + "baseline: {jobs.labour_demand: 1.0}\n",
     "baseline.jobs.labour_demand", "is an uncertainty", "levers: scenario, funding.regime"),
    ("baseline unknown lever", BASE + "baseline: {funding.regim: block}\n",
     "baseline.funding.regim", "did you mean 'funding.regime'", "levers: scenario"),
    ("baseline bad value", BASE + "baseline: {funding.regime: blok}\n",
     "baseline.funding.regime", "did you mean 'block'", "one of 'block'"),
    ("check value not a lever value", BASE + textwrap.dedent("""\
        checks:
          - {name: a, option: {scenario: light, funding.regime: block},
             baseline: {scenario: medium, funding.regime: block},
             metric: found_work_24m, expect: increase}
        """), "checks[0].option.scenario", "'light' is not a value of lever 'scenario'",
     "'medium', 'holistic'"),
    ("check ambiguous point", BASE + textwrap.dedent("""\
        checks:
          - {name: a, option: {scenario: holistic}, baseline: {scenario: medium},
             metric: found_work_24m, expect: increase}
        """), "checks[0].option", "lever 'funding.regime' is not given",
     "funding.regime in 'block', 'pbr_job'"),
    ("check bad expectation", BASE + textwrap.dedent("""\
        checks:
          - {name: a, option: {scenario: holistic, funding.regime: block},
             baseline: {scenario: medium, funding.regime: block},
             metric: found_work_24m, expect: increases}
        """), "checks[0].expect", "did you mean 'increase'", "increase, decrease"),
    ("check unknown key", BASE + textwrap.dedent("""\
        checks:
          - {name: a, option: {scenario: holistic, funding.regime: block},
             baseline: {scenario: medium, funding.regime: block},
             metric: found_work_24m, expect: increase, metrc: x}
        """), "checks[0].metrc", "did you mean 'metric'", "baseline_metric"),
    ("checks in a sampled design", BASE.replace(
        "{type: full_factorial}", "{type: latin_hypercube, samples: 4}") + textwrap.dedent("""\
        checks:
          - {name: a, option: {scenario: holistic}, baseline: {scenario: medium},
             metric: found_work_24m, expect: increase}
        """), "checks", "latin_hypercube design has none", "full_factorial"),
]


@pytest.mark.parametrize(("text", "key", "problem", "allowed"),
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_experiment_names_file_key_problem_and_allowed(tmp_path, text, key, problem,
                                                           allowed):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_experiment(path)
    exc = err.value
    assert exc.file == str(path)
    assert exc.key == key
    assert problem in exc.problem
    assert exc.allowed is not None and allowed in exc.allowed
    assert str(exc).startswith(f"{path}: ")


def test_unknown_experiment_name_suggests_a_shipped_one():
    with pytest.raises(ScenarioError, match="did you mean 'smoke'"):
        load_experiment("smok")


def test_bad_experiment_exits_2_from_the_cli(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("maximize", "maximise"))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: outcomes.found_work_24m: unknown direction")
    assert not (tmp_path / "out").exists()


def test_every_shipped_experiment_validates_and_plans():
    names = list_experiments()
    expected = {"smoke", "patterns", "pbr_regimes", "measurement_window", "jcp_partnership",
                "link_worker_training", "scale_up", "national_rollout"}
    assert expected <= set(names)
    for name in names:
        exp = load_experiment(name)
        assert len(exp.description) > 80, name
        plan = plan_sweep(exp)
        assert plan.total_runs == len(plan.points) * exp.replicates
        # Every check names one option (or baseline) point.
        points = [dict(p.factors) for p in plan.points if p.role in ("option", "baseline")]
        for check in exp.checks:
            for side in (check.option, check.baseline):
                assert any(all(f.get(k) == v for k, v in side.items()) for f in points), (
                    name, check.name)
    smoke = plan_sweep(load_experiment("smoke"))
    assert smoke.total_runs <= 40
    assert len(load_experiment("patterns").checks) >= 8


# --------------------------------------------------------------------------- designs


def test_full_factorial_crosses_levers_and_uncertainties(tmp_path):
    exp = load_experiment(write(tmp_path, BASE))
    rows = design_matrix(exp)
    assert len(rows) == 2 * 2 * 2
    assert rows[0] == {"scenario": "medium", "funding.regime": "block", "jobs.labour_demand": 0.8}
    assert rows[1]["jobs.labour_demand"] == 1.2  # the last factor varies fastest
    assert len({tuple(r.values()) for r in rows}) == len(rows)


SAMPLED = """\
description: Sampled design.
base: medium
levers:
  scenario: [light, medium, holistic]
  link_workers.caseload: {low: 40, high: 100}
uncertainties:
  jobs.labour_demand: {low: 0.8, high: 1.2}
outcomes: {found_work_24m: maximize}
design: {type: latin_hypercube, samples: 20}
replicates: 2
seed: 11
"""


@pytest.mark.parametrize("design", ["latin_hypercube, samples: 20", "sobol, samples: 16"])
def test_sampled_designs_stay_in_range_and_are_reproducible(tmp_path, design):
    text = SAMPLED.replace("latin_hypercube, samples: 20", design)
    exp = load_experiment(write(tmp_path, text))
    rows = design_matrix(exp)
    assert len(rows) == exp.design.samples
    caseload = [r["link_workers.caseload"] for r in rows]
    demand = np.array([r["jobs.labour_demand"] for r in rows])
    assert all(isinstance(c, int) and 40 <= c <= 100 for c in caseload)
    assert ((demand >= 0.8) & (demand <= 1.2)).all()
    assert {r["scenario"] for r in rows} == {"light", "medium", "holistic"}
    assert design_matrix(exp) == rows  # same seed, same points
    other = load_experiment(write(tmp_path, text.replace("seed: 11", "seed: 12"), "other"))
    assert design_matrix(other) != rows
    if exp.design.type == "latin_hypercube":
        # One sample in each of the 20 equal strata of a range.
        strata = np.floor((demand - 0.8) / 0.4 * 20).astype(int)
        assert sorted(strata) == list(range(20))
    # Every point resolves to a valid scenario with its values.
    plan = plan_sweep(exp)
    for point, row in zip(plan.points, rows, strict=False):
        assert point.scenario["link_workers.caseload"] == row["link_workers.caseload"]


def test_categorical_and_integer_levels():
    from pathways_sim.sweep.experiment import Factor

    cat = Factor("funding.regime", "levers", "choice", ("a", "b", "c"))
    assert [cat.level(u) for u in (0.0, 0.33, 0.34, 0.99, 0.9999999)] == ["a", "a", "b", "c",
                                                                           "c"]
    ints = Factor("link_workers.caseload", "levers", "int", None, 1, 3)
    assert [ints.level(u) for u in (0.0, 0.3, 0.34, 0.66, 0.67, 0.999)] == [1, 1, 2, 2, 3, 3]


def test_baselines_and_counterfactuals_pair_each_option_in_its_own_world(tmp_path):
    text = BASE + "baseline: {scenario: medium, funding.regime: block}\n" \
                  "counterfactual: true\nreplicates_placeholder: 0\n"
    text = text.replace("replicates_placeholder: 0\n", "")
    exp = load_experiment(write(tmp_path, text))
    plan = plan_sweep(exp)
    options = [p for p in plan.points if p.role == "option"]
    baselines = {p.point_id: p for p in plan.points if p.role == "baseline"}
    cfs = {p.point_id: p for p in plan.points if p.role == "counterfactual"}
    assert len(options) == 8 and len(baselines) == 2  # one baseline per labour demand
    # Counterfactuals: one per service model and labour demand (the regime lever is
    # overridden by no_service, so pbr and block options share theirs).
    assert len(cfs) == 4
    for opt in options:
        base = baselines[opt.baseline_point]
        cf = cfs[opt.counterfactual_point]
        demand = opt.factors["jobs.labour_demand"]
        assert base.factors["jobs.labour_demand"] == demand == cf.factors["jobs.labour_demand"]
        assert base.scenario["jobs.labour_demand"] == demand == cf.scenario["jobs.labour_demand"]
        assert base.scenario["funding.regime"] == "block"
        assert cf.scenario["link_workers.count"] == 0
        assert cf.scenario["referrals.per_year"] == opt.scenario["referrals.per_year"]
    # Common random numbers: replicate r has the same seed at every point.
    design = plan.design_table().to_pandas()
    seeds = replicate_seeds(exp.seed, exp.replicates)
    assert (design["seed"] == design["replicate"].map(dict(enumerate(seeds)))).all()
    assert design.groupby("replicate")["seed"].nunique().eq(1).all()


def test_a_scenario_lever_is_composed_on_the_base():
    pbr = load_scenario("pbr_job_outcomes")
    composed = compose(pbr, load_scenario("holistic"))
    assert composed["funding.regime"] == "pbr_job"  # kept from the base
    assert composed["link_workers.count"] == 20  # added by holistic
    assert composed["service.model"] == "holistic"
    # medium (in both chains) is not applied again, so it cannot undo the base.
    assert composed.chain[-1].endswith("holistic.yaml")
    assert compose(pbr, load_scenario("medium")).values == pbr.values


# --------------------------------------------------------------------------- executors


def test_run_many_returns_results_and_captures_errors():
    sc = load_scenario("medium").with_changes({"run.weeks": 30})

    def boom(job: Job) -> None:
        raise ValueError(f"no luck {job.key}")

    with InProcessExecutor() as ex:
        results = list(run_many([Job(0, sc, 1)], ex, task=run_metrics))
        failed = list(run_many([Job("a", sc, 1)], ex, task=boom))
    assert results[0].ok and set(results[0].value) == set(METRICS)
    assert not failed[0].ok and failed[0].key == "a"
    assert failed[0].error == "ValueError: no luck a"
    assert "Traceback" in failed[0].traceback


def test_local_pool_gives_the_in_process_results(tiny, reference, tmp_path):
    out = tmp_path / "pool"
    summary = run_sweep(load_experiment(tiny), out, LocalPoolExecutor(2), chunk_size=2,
                        progress=False)
    assert summary.ran == TINY_RUNS and summary.failed == 0
    assert_same_results(reference, out)
    for part in sorted((reference / "parts").rglob("*.parquet")):  # bit-identical files
        assert part.read_bytes() == (out / part.relative_to(reference)).read_bytes()


def test_dask_local_cluster_gives_the_in_process_results(tiny, reference, tmp_path):
    out = tmp_path / "dask"
    run_sweep(load_experiment(tiny), out, DaskExecutor(n_workers=2, processes=True),
              chunk_size=2, progress=False)
    assert_same_results(reference, out)


def test_cli_runs_on_a_dask_scheduler_by_address(tiny, reference, tmp_path):
    import logging

    from distributed import LocalCluster

    # Threads keep the test quick; the runs are the same as in worker processes.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        out = tmp_path / "by-address"
        assert main(["sweep", str(tiny), "--out", str(out), "--scheduler",
                     cluster.scheduler_address, "--chunk-size", "2"]) == 0
    assert_same_results(reference, out)


# --------------------------------------------------------------------------- store, resume


def test_results_folder_is_tidy_and_readable_without_the_package(reference):
    sw = load_sweep(reference)
    assert list(sw.design.columns) == ["run_id", "point_id", "replicate", "seed", "role",
                                       "baseline_point", "counterfactual_point", "scenario"]
    assert sw.design["role"].value_counts().to_dict() == {"option": 6, "counterfactual": 6,
                                                          "baseline": 3}
    assert list(sw.outcomes.columns) == ["run_id", *METRICS]
    assert list(sw.weekly.columns) == ["run_id", "week", *STATES]
    assert len(sw.outcomes) == TINY_RUNS and len(sw.weekly) == TINY_RUNS * 60
    assert sw.errors.empty
    plain = pd.read_parquet(reference / "parts" / "outcomes").sort_values("run_id")
    pd.testing.assert_frame_equal(plain.reset_index(drop=True), sw.outcomes)
    manifest = sw.manifest
    assert manifest["sweep"]["status"] == "complete"
    assert manifest["seeds"] == replicate_seeds(7, 3)
    assert len(manifest["plan"]["points"]) == 5
    assert manifest["plan"]["points"][1]["changes"]["link_workers.count"] == 20
    assert "design.parquet" in manifest["files"]
    index = json.loads((reference / "index.json").read_text())
    assert index["completed_run_ids"] == [[0, TINY_RUNS - 1]]


def test_killed_sweep_resumes_to_the_uninterrupted_results(tiny, reference, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "pathways_sim", "sweep", str(tiny), "--out", str(out),
           "--workers", "1", "--chunk-size", "2"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    index = out / "index.json"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if index.is_file() and json.loads(index.read_text())["runs_done"] >= 2:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = json.loads(index.read_text())
    assert 2 <= done["runs_done"] < TINY_RUNS and not done["complete"]
    # A part written just before the kill but missing from the index is run again.
    stray = out / "parts" / "outcomes" / "outcomes-00006.parquet"
    shutil.copy(out / "parts" / "outcomes" / "outcomes-00000.parquet", stray)

    assert main(["sweep", str(tiny), "--out", str(out), "--workers", "1"]) == 2  # no --resume
    assert main(["sweep", str(tiny), "--out", str(out), "--workers", "1", "--resume"]) == 0
    assert_same_results(reference, out)
    sessions = load_sweep(out).manifest["sweep"]["sessions"]
    assert [s["resume"] for s in sessions] == [False, True]


def test_resume_refuses_a_changed_experiment(tiny, reference, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    changed = write(tmp_path, TINY.replace("seed: 7", "seed: 8"), "tiny")
    with pytest.raises(SweepError, match="the experiment changed"):
        run_sweep(load_experiment(changed), out, resume=True, progress=False)
    assert main(["sweep", str(changed), "--out", str(out), "--resume"]) == 2
    assert "error: " in capsys.readouterr().err
    # Resuming a complete sweep runs nothing and changes nothing.
    summary = run_sweep(load_experiment(tiny), out, resume=True, progress=False)
    assert summary.ran == 0 and summary.skipped == TINY_RUNS
    assert_same_results(reference, out)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tiny, reference, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv(FAIL_ENV, "1,4")
    out = tmp_path / "failing"
    summary = run_sweep(load_experiment(tiny), out, LocalPoolExecutor(2), chunk_size=2,
                        progress=False)
    assert summary.failed == 2 and summary.ran == TINY_RUNS
    sw = load_sweep(out)
    assert sw.errors["run_id"].tolist() == [1, 4]
    assert sw.errors["error"].str.contains(FAIL_ENV).all()
    assert sw.errors["traceback"].str.contains("RuntimeError").all()
    expected = load_sweep(reference).outcomes
    expected = expected[~expected["run_id"].isin([1, 4])].reset_index(drop=True)
    pd.testing.assert_frame_equal(sw.outcomes, expected)
    assert sw.manifest["sweep"]["failed_run_ids"] == [1, 4]
    assert sw.manifest["sweep"]["sessions"][0]["test_hook_fail_run_ids"] == [1, 4]


# --------------------------------------------------------------------------- progress, CLI


def test_progress_without_a_terminal_logs_about_every_tenth():
    stream = StringIO()
    bar = Progress("exp", 100, stream=stream)
    for i in range(100):
        bar.update(1, failed=int(i == 5))
    bar.close()
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 11
    assert lines[-1].startswith("exp: 100/100 runs (100%), 1 failed")
    assert "ETA" in lines[0]


def test_smoke_experiment_runs_end_to_end_through_the_cli(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["sweep", "smoke", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Sweep smoke: 21 runs" in text and "0 failed" in text
    sw = load_sweep(out)
    assert sw.complete and len(sw.outcomes) == 21 and sw.errors.empty
    joined = sw.joined()
    assert set(joined["role"]) == {"option", "baseline", "counterfactual"}
    cf = joined[joined["role"] == "counterfactual"]
    assert (cf["engaged"] == 0).all()  # no Link Workers in the counterfactual
    assert not math.isnan(joined.loc[joined["role"] == "option", "found_work_12m"].mean())

    code = main(["report", str(out)])
    err = capsys.readouterr().err
    try:
        import pathways_sim.report.brief  # noqa: F401
    except ModuleNotFoundError:
        assert code == 1 and "not available" in err
    assert main(["report", str(tmp_path / "nowhere")]) == 2
