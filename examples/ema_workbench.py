"""Run pathways-sim through the EMA Workbench, as a plain Python function.

The EMA Workbench (https://emaworkbench.readthedocs.io) explores a model
over *uncertainties* and *levers* and collects its *outcomes*; it can call
any Python function. Here the function is :func:`simulate`: it starts from a
shipped scenario, applies the parameter values the Workbench chose with
:meth:`Scenario.with_changes`, runs one replicate with
:func:`pathways_sim.run.run_one` and returns the outcome metrics.

Install the Workbench with the project's extra, then run::

    pip install -e ".[ema]"            # ema_workbench>=3,<4
    python examples/ema_workbench.py --scenarios 8 --policies 3

Each EMA parameter is named with a Python identifier (``labour_demand``) and
maps to our registry path with ``variable_name`` (``jobs.labour_demand``), so
:func:`simulate` receives registry paths as keyword arguments. The base
scenario is itself a lever (``service``, passed as ``base``). Every
experiment runs with the same seed (a ``Constant``), so two policies in the
same EMA scenario meet the same clients and random draws (common random
numbers); for replicates, wrap :func:`simulate` in a ``ReplicatorModel`` with
``replications = [{"seed": s} for s in replicate_seeds(root, n)]``.

For designs, pairing, a results store, resume and a Dask cluster, use our
own ``pathways-sim sweep`` (docs/sweeps.md); this example shows that the
model is an ordinary function any exploratory-modelling tool can drive.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.run import DEFAULT_SEED, run_one
from pathways_sim.scenario import load_scenario
from pathways_sim.sweep.discovery import NotEnoughVariation, feature_scores

OUTCOMES = {
    "found_work_24m": "maximize",
    "stepping_stone_12m": "maximize",
    "cost_per_job_24m": "minimize",
    "support_ratio_near_far": "info",
}
"""Metrics returned to the Workbench, with their directions."""


def simulate(base: str = "medium", seed: int = DEFAULT_SEED, weeks: int | None = None,
             **params: Any) -> dict[str, float]:
    """One run of the model: a scenario with some parameters changed -> outcome metrics.

    Args:
        base: Shipped scenario to start from (e.g. ``"holistic"``).
        seed: Seed of the run (fixes every random draw).
        weeks: Weeks to simulate (None: the scenario's ``run.weeks``).
        **params: Registry path -> value (e.g. ``{"jobs.labour_demand": 1.2}``);
            values are validated against the parameter registry.

    Returns:
        Metric name -> value for each metric of :data:`OUTCOMES`.
    """
    changes = {path: {"value": _plain(value), "source": "EMA Workbench experiment"}
               for path, value in params.items()}
    scenario = load_scenario(base).with_changes(changes, name=f"{base}+ema")
    result = run_one(scenario, int(seed), weeks=weeks)
    return {m: float(result.metrics[m]) for m in OUTCOMES}


def ema() -> ModuleType:
    """The ``ema_workbench`` package, never this file.

    Run as ``python examples/ema_workbench.py``, this file's folder comes first
    on ``sys.path`` and its name shadows the package, so the import skips it.

    Raises:
        ImportError: The EMA Workbench is not installed.
    """
    here = Path(__file__).resolve().parent
    cached = sys.modules.get("ema_workbench")
    if cached is not None and Path(getattr(cached, "__file__", "") or "").parent != here:
        return cached
    sys.modules.pop("ema_workbench", None)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    try:
        with warnings.catch_warnings():
            # the Workbench warns at import about an optional evaluator we do not use
            warnings.filterwarnings("ignore", message="ipyparallel not installed")
            return importlib.import_module("ema_workbench")
    finally:
        sys.path[:] = saved


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (the registry checks types)."""
    return value.item() if isinstance(value, np.generic) else value


def build_model(seed: int = DEFAULT_SEED, weeks: int | None = None,
                scale: float | None = None) -> Any:
    """The EMA Workbench model of :func:`simulate`.

    Args:
        seed: Seed of every experiment (common random numbers).
        weeks: Weeks of every run (None: the scenario's).
        scale: ``run.scale`` of every run (None: the scenario's), to make
            quick demonstration runs.

    Returns:
        An ``ema_workbench.Model`` with uncertainties, levers, constants and outcomes.
    """
    w = ema()
    CategoricalParameter, Constant, RealParameter = (  # noqa: N806 - the Workbench's names
        w.CategoricalParameter, w.Constant, w.RealParameter)
    model = w.Model("pathways", function=simulate)
    model.uncertainties = [
        RealParameter("labour_demand", 0.7, 1.3, variable_name="jobs.labour_demand"),
        RealParameter("distance_shift", -0.1, 0.2, variable_name="clients.distance_shift"),
    ]
    model.levers = [
        CategoricalParameter("service", ["medium", "holistic"], variable_name="base"),
        RealParameter("work_awareness", 0.2, 0.8,
                      variable_name="link_workers.work_awareness"),
    ]
    constants = [Constant("seed", int(seed))]
    if weeks is not None:
        constants.append(Constant("weeks", int(weeks)))
    if scale is not None:
        constants.append(Constant("scale", float(scale), variable_name="run.scale"))
    model.constants = constants
    out = w.ScalarOutcome
    kinds = {"maximize": out.MAXIMIZE, "minimize": out.MINIMIZE, "info": out.INFO}
    model.outcomes = [out(m, kind=kinds[d]) for m, d in OUTCOMES.items()]
    return model


def run(scenarios: int = 8, policies: int = 2, seed: int = DEFAULT_SEED,
        weeks: int | None = None, scale: float | None = None,
        sample_seed: int = 42) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Run ``scenarios x policies`` experiments with the Workbench's SequentialEvaluator.

    Args:
        scenarios: Latin hypercube samples of the uncertainties.
        policies: Latin hypercube samples of the levers.
        seed: Seed of every model run.
        weeks: Weeks of every run (None: the scenario's, 156).
        scale: ``run.scale`` of every run (None: the scenario's).
        sample_seed: Seed of the Workbench's samplers (reproducible designs).

    Returns:
        The Workbench's ``(experiments, outcomes)``: a DataFrame of inputs (one
        row per experiment) and a dict metric -> array.
    """
    model = build_model(seed, weeks, scale)
    with ema().SequentialEvaluator(model) as evaluator:
        return evaluator.perform_experiments(
            scenarios=scenarios, policies=policies,
            uncertainty_sampling_kwargs={"rng": sample_seed},
            lever_sampling_kwargs={"rng": sample_seed + 1},
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the experiments, print them and score the inputs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=8, help="uncertainty samples")
    parser.add_argument("--policies", type=int, default=2, help="lever samples")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of every run")
    parser.add_argument("--weeks", type=int, default=None, help="weeks of every run")
    parser.add_argument("--scale", type=float, default=None, help="run.scale of every run")
    args = parser.parse_args(argv)
    try:
        ema()
    except ImportError:
        print("the EMA Workbench is not installed: pip install -e '.[ema]'", file=sys.stderr)
        return 1
    experiments, outcomes = run(args.scenarios, args.policies, args.seed, args.weeks,
                                args.scale)
    inputs = ["labour_demand", "distance_shift", "service", "work_awareness"]
    table = experiments[inputs].assign(**{m: outcomes[m] for m in OUTCOMES})
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))
        print("\nWhich inputs drive found_work_24m (pathways_sim.sweep.discovery):")
        x = experiments[inputs].astype({"service": str})
        try:
            scores = feature_scores(x, outcomes["found_work_24m"])
        except NotEnoughVariation as exc:  # e.g. no job in any run of a very short sweep
            print(f"  not enough variation: {exc}")
        else:
            print(scores.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
