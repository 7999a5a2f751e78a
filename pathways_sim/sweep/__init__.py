"""Sweeps: many runs of an experiment file, on a process pool or a Dask cluster.

The flow, one module per concept:

* :mod:`~pathways_sim.sweep.experiment`: read and validate an experiment file
  (levers, uncertainties, outcomes, design, baseline, counterfactual, checks);
* :mod:`~pathways_sim.sweep.design`: the design points, their scenarios, runs and seeds;
* :mod:`~pathways_sim.sweep.executors`: one way to run many simulations
  (:func:`~pathways_sim.sweep.executors.run_many`), shared with calibration;
* :mod:`~pathways_sim.sweep.store`: the results folder (Parquet parts, index, resume);
* :mod:`~pathways_sim.sweep.runner`: :func:`~pathways_sim.sweep.runner.run_sweep`
  ties them together;
* :mod:`~pathways_sim.sweep.results`: :func:`~pathways_sim.sweep.results.load_sweep`
  reads a results folder into pandas.

Typical use::

    from pathways_sim.sweep import load_experiment, make_executor, run_sweep, load_sweep

    exp = load_experiment("smoke")
    run_sweep(exp, "output/sweeps/smoke", make_executor(workers=4))
    sw = load_sweep("output/sweeps/smoke")
"""

from pathways_sim.sweep.design import DesignPoint, SweepPlan, plan_sweep
from pathways_sim.sweep.executors import (
    DaskExecutor,
    ExecutorError,
    InProcessExecutor,
    Job,
    JobResult,
    LocalPoolExecutor,
    make_executor,
    run_many,
    run_metrics,
)
from pathways_sim.sweep.experiment import Experiment, load_experiment
from pathways_sim.sweep.results import Sweep, load_sweep
from pathways_sim.sweep.runner import SweepSummary, run_sweep
from pathways_sim.sweep.store import SweepError

__all__ = [
    "DaskExecutor",
    "DesignPoint",
    "Experiment",
    "ExecutorError",
    "InProcessExecutor",
    "Job",
    "JobResult",
    "LocalPoolExecutor",
    "Sweep",
    "SweepError",
    "SweepPlan",
    "SweepSummary",
    "load_experiment",
    "load_sweep",
    "make_executor",
    "plan_sweep",
    "run_many",
    "run_metrics",
    "run_sweep",
]
