"""Global sensitivity of key outcomes to the calibrated parameters (SALib).

Which calibrated parameters matter for the outcomes commissioners ask about?
Each parameter is varied over its prior range (uniform in the unit cube of
the priors, so a log-uniform prior is sampled in log) on a reference
scenario (``medium`` by default), and three outcomes are read:
``found_work_12m``, ``stepping_stone_12m`` and ``support_ratio_near_far``.

* ``sobol``: Saltelli sampling and Sobol indices without second-order terms
  (``N * (d + 2)`` runs, ``N`` a power of 2): ``S1`` the share of the
  outcome's variance a parameter explains alone, ``ST`` with its
  interactions, each with a bootstrap 95% interval.
* ``morris``: elementary effects on ``r`` trajectories (``r * (d + 1)``
  runs): ``mu_star`` the mean absolute effect of moving a parameter across
  its whole prior range, ``sigma`` its spread (non-linearity, interactions).
  Cheaper; a screening method.

The reference run is cut to what the outcomes need: a year of referrals
followed 12 months (``run.weeks`` 104, ``run.follow_up_weeks`` 52), so
``support_ratio_near_far`` counts sessions over 12 months of follow-up. Every
sample uses the same replicate seeds (common random numbers), so differences
between samples come from the parameters; simulation noise that remains shows
as a floor under the indices (``--replicates`` averages it down).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.calibration.choice import describe as describe_calibration
from pathways_sim.calibration.priors import Prior
from pathways_sim.calibration.results import CalibrationResult
from pathways_sim.defaults import DEFAULT_SEED
from pathways_sim.manifest import build_manifest, package_version, write_manifest
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import Scenario, ScenarioError
from pathways_sim.sweep.executors import Executor, Job, run_many, run_metrics

__all__ = ["OUTPUTS", "Sensitivity", "run_sensitivity"]

OUTPUTS = ("found_work_12m", "stepping_stone_12m", "support_ratio_near_far")
"""Outcomes whose sensitivity is measured."""

DEFAULT_BUDGET = {"sobol": 512, "morris": 280}
"""Default model runs per method."""

REFERENCE_RUN = {"run.weeks": 104, "run.follow_up_weeks": 52, "run.cohort_weeks": 52}
"""Run settings of the reference scenario: a year of referrals followed 12 months."""


@dataclass
class Sensitivity:
    """Sensitivity indices.

    Attributes:
        method: ``sobol`` or ``morris``.
        table: One row per output and parameter with the method's indices.
        samples: The unit-cube samples, parameter values and outputs.
        runs: Model runs made.
        scenario: The reference scenario's name.
    """

    method: str
    table: pd.DataFrame
    samples: pd.DataFrame
    runs: int
    scenario: str

    def text(self) -> str:
        """The indices as aligned text, one block per output, largest first."""
        key = "ST" if self.method == "sobol" else "mu_star"
        lines = [f"{self.method} sensitivity on {self.scenario} ({self.runs} runs)"]
        for out, df in self.table.groupby("output", sort=False):
            lines.append(f"\n{out}")
            cols = ["S1", "S1_conf", "ST", "ST_conf"] if self.method == "sobol" else [
                "mu_star", "mu_star_conf", "sigma"]
            lines.append(f"  {'parameter':<34}" + "".join(f"{c:>13}" for c in cols))
            for r in df.sort_values(key, ascending=False).itertuples(index=False):
                lines.append(f"  {r.parameter:<34}" + "".join(
                    f"{getattr(r, c):>13.4g}" for c in cols))
        return "\n".join(lines)

    def markdown(self) -> str:
        """The indices as Markdown tables."""
        key = "ST" if self.method == "sobol" else "mu_star"
        cols = ["S1", "S1_conf", "ST", "ST_conf"] if self.method == "sobol" else [
            "mu_star", "mu_star_conf", "sigma"]
        lines = [f"# Sensitivity ({self.method}) on {self.scenario}", "",
                 f"{self.runs} model runs; parameters over their prior ranges.", ""]
        for out, df in self.table.groupby("output", sort=False):
            lines += [f"## {out}", "", "| parameter | " + " | ".join(cols) + " |",
                      "|---|" + "---|" * len(cols)]
            for r in df.sort_values(key, ascending=False).itertuples(index=False):
                lines.append(f"| {r.parameter} | " + " | ".join(
                    f"{getattr(r, c):.3g}" for c in cols) + " |")
            lines.append("")
        return "\n".join(lines)


def _plan(method: str, d: int, budget: int) -> tuple[int, int]:
    """(N or r, runs) for a budget of model runs."""
    if method == "sobol":
        n = 1
        while 2 * n * (d + 2) <= budget:
            n *= 2
        if n * (d + 2) > budget or n < 2:
            raise ScenarioError("command line", "--budget", f"{budget} runs are too few for "
                                f"Sobol indices of {d} parameters",
                                f"at least {2 * (d + 2)} (N x (d + 2), N >= 2)")
        return n, n * (d + 2)
    r = budget // (d + 1)
    if r < 2:
        raise ScenarioError("command line", "--budget", f"{budget} runs are too few for "
                            f"Morris screening of {d} parameters", f"at least {2 * (d + 1)}")
    return r, r * (d + 1)


def _plot(table: pd.DataFrame, method: str, path: Path, scenario: str) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from pathways_sim.report.plots import OKABE_ITO

    outs = list(dict.fromkeys(table["output"]))
    params = list(dict.fromkeys(table["parameter"]))
    fig = Figure(figsize=(4.2 * len(outs), 0.35 * len(params) + 1.8), dpi=120,
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(outs), sharey=True, squeeze=False)[0]
    y = np.arange(len(params))
    for ax, out in zip(axes, outs, strict=True):
        df = table[table["output"] == out].set_index("parameter").reindex(params)
        if method == "sobol":
            ax.barh(y + 0.2, df["ST"], 0.4, xerr=df["ST_conf"], color=OKABE_ITO[3],
                    label="total (ST)")
            ax.barh(y - 0.2, df["S1"], 0.4, xerr=df["S1_conf"], color=OKABE_ITO[0],
                    label="first order (S1)")
            ax.set_xlabel("Sobol index (share of variance)")
        else:
            ax.barh(y, df["mu_star"], 0.6, xerr=df["mu_star_conf"], color=OKABE_ITO[3],
                    label="mu* (mean |effect|)")
            ax.set_xlabel("Effect of the whole prior range")
        ax.set_title(out.replace("_", " "), fontsize=12)
        ax.axvline(0, color="#555555", lw=0.8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, params, fontsize=9)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=9)
    fig.suptitle(f"Global sensitivity ({method}) on {scenario}: calibrated parameters over "
                 "their prior ranges", fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def run_sensitivity(scenario: Scenario, priors: Sequence[Prior], executor: Executor,
                    method: str = "sobol", budget: int | None = None,
                    calibration: CalibrationResult | None = None, replicates: int = 1,
                    seed: int = DEFAULT_SEED, out: Path | None = None,
                    command: Sequence[str] = ("pathways-sim", "sensitivity")) -> Sensitivity:
    """Sensitivity indices of :data:`OUTPUTS` to the priors' parameters.

    Args:
        scenario: The reference scenario (its run is cut to :data:`REFERENCE_RUN`).
        priors: The parameters and their ranges.
        executor: An open executor.
        method: ``sobol`` or ``morris``.
        budget: Model runs at most (default :data:`DEFAULT_BUDGET`); the
            design uses as many as fit, times ``replicates``.
        calibration: The calibration whose priors these are (recorded only).
        replicates: Runs averaged per sample (common seeds across samples).
        seed: Root seed of the sample and of the replicate seeds.
        out: Folder for sensitivity.csv/.md/.png, samples.parquet and a manifest.
        command: The command line, for the manifest.

    Returns:
        The indices.

    Raises:
        ScenarioError: Unknown method, or a budget too small for the design.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in DEFAULT_BUDGET:
        raise ScenarioError("command line", "--method", f"unknown method {method!r}",
                            "sobol or morris")
    d = len(priors)
    names = [p.parameter for p in priors]
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
    size, _ = _plan(method, d, (budget or DEFAULT_BUDGET[method]) // max(replicates, 1))
    if method == "sobol":
        u = sobol_sample.sample(problem, size, calc_second_order=False, seed=seed)
    else:
        u = morris_sample.sample(problem, size, num_levels=4, seed=seed)
    base = scenario.with_changes(REFERENCE_RUN, name=scenario.name)
    seeds = replicate_seeds(seed, replicates)
    values = np.array([[p.from_unit(x) for p, x in zip(priors, row, strict=True)] for row in u])

    def jobs() -> Any:
        for i, row in enumerate(values):
            sc = base.with_changes({n: {"value": float(v), "source": "sensitivity sample"}
                                    for n, v in zip(names, row, strict=True)}, name=base.name)
            for r, s in enumerate(seeds):
                yield Job((i, r), sc, int(s))

    y = np.full((len(u), replicates, len(OUTPUTS)), np.nan)
    for res in run_many(jobs(), executor, task=run_metrics):
        if not res.ok:
            raise RuntimeError(f"a sensitivity run failed: {res.error}\n{res.traceback}")
        i, r = res.key
        y[i, r] = [res.value[o] for o in OUTPUTS]
    ym = np.nanmean(y, axis=1)
    rows = []
    for j, out_name in enumerate(OUTPUTS):
        col = ym[:, j]
        col = np.where(np.isfinite(col), col, np.nanmean(col))
        if method == "sobol":
            si = sobol_analyze.analyze(problem, col, calc_second_order=False, seed=seed)
            for k, n in enumerate(names):
                rows.append({"output": out_name, "parameter": n, "S1": si["S1"][k],
                             "S1_conf": si["S1_conf"][k], "ST": si["ST"][k],
                             "ST_conf": si["ST_conf"][k]})
        else:
            si = morris_analyze.analyze(problem, u, col, num_levels=4, seed=seed)
            for k, n in enumerate(names):
                rows.append({"output": out_name, "parameter": n, "mu_star": si["mu_star"][k],
                             "mu_star_conf": si["mu_star_conf"][k], "sigma": si["sigma"][k],
                             "mu": si["mu"][k]})
    table = pd.DataFrame(rows)
    samples = pd.DataFrame(u, columns=[f"u.{n}" for n in names])
    for k, n in enumerate(names):
        samples[n] = values[:, k]
    for j, o in enumerate(OUTPUTS):
        samples[o] = ym[:, j]
    result = Sensitivity(method, table, samples, len(u) * replicates, scenario.name)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        files = [out / "sensitivity.csv", out / "sensitivity.md", out / "samples.parquet"]
        table.to_csv(files[0], index=False)
        files[1].write_text(result.markdown(), encoding="utf-8")
        samples.to_parquet(files[2], index=False)
        files.append(_plot(table, method, out / "sensitivity.png", scenario.name))
        manifest = build_manifest(base, seed, seeds, list(command), extra={
            "kind": "sensitivity", "method": method, "runs": result.runs,
            "priors": [p.to_dict() for p in priors], "outputs": list(OUTPUTS),
            "calibration": (None if calibration is None else calibration.version),
            "calibration_record": describe_calibration(calibration),
            "salib": package_version("SALib")})
        write_manifest(out / "manifest.json", manifest, files)
        (out / "sensitivity.json").write_text(json.dumps(
            json.loads(table.to_json(orient="records")), indent=2) + "\n", encoding="utf-8")
    return result
