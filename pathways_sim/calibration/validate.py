"""Validation under the calibrated parameters: held-out targets and the patterns (§E4.8).

Two checks, both with the calibrated values applied wherever a scenario did
not set the parameter:

* **Targets.** The posterior predictive of every target
  (:func:`~pathways_sim.calibration.predict.target_predictive`): a target is
  *covered* when its observed share lies inside the 90% posterior predictive
  interval (a ``lower_bound`` target passes when the simulated median is at
  or above the bound). The held-out (``validate``) targets are the real test;
  the ``fit`` targets are listed for comparison.
* **Patterns.** The ``patterns`` experiment (``experiments/patterns.yaml``:
  the report's eight qualitative findings as paired comparisons) planned
  through :mod:`pathways_sim.sweep`, every design point's scenario given the
  calibrated values, run with the experiment's common seeds on the shared
  executors, and each check tested with
  :func:`~pathways_sim.sweep.analysis.evaluate_checks` (PASS when the 90%
  t-interval of the paired differences excludes 0 on the expected side).

Typical use::

    report = validate(config, load_calibrated("calibration/results/default"), executor)
    report.targets, report.patterns
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pathways_sim.calibration.config import CalibrationConfig
from pathways_sim.calibration.objective import Problem, apply_values
from pathways_sim.calibration.predict import target_predictive
from pathways_sim.calibration.results import CalibrationResult
from pathways_sim.run import replicate_seeds
from pathways_sim.sweep.executors import Executor, Job, run_many, run_metrics

__all__ = ["Validation", "validate", "validate_patterns", "validate_targets"]


@dataclass
class Validation:
    """What validation found.

    Attributes:
        targets: One row per target (see :func:`target_predictive`), ``role`` fit or validate.
        patterns: One row per pattern check (see :func:`evaluate_checks`), or None.
        calibration: The calibration's version (None: registry defaults).
        calibration_record: Its version, path and method
            (:func:`pathways_sim.calibration.choice.describe`).
    """

    targets: pd.DataFrame
    patterns: pd.DataFrame | None
    calibration: str | None
    calibration_record: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """Counts of covered targets and passed patterns."""
        held = self.targets[self.targets["role"] == "validate"]
        fit = self.targets[self.targets["role"] == "fit"]
        out: dict[str, Any] = {
            "calibration": self.calibration,
            "calibration_record": self.calibration_record,
            "validate_targets_covered": int(held["inside"].sum()),
            "validate_targets": len(held),
            "fit_targets_covered": int(fit["inside"].sum()),
            "fit_targets": len(fit),
        }
        if self.patterns is not None:
            out["patterns_passed"] = int((self.patterns["result"] == "PASS").sum())
            out["patterns"] = len(self.patterns)
        return out

    def write(self, out: Path) -> list[Path]:
        """Write ``validation_targets.csv``, ``validation_patterns.csv``, ``validation.json``
        and ``validation.md`` into ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        files = [out / "validation_targets.csv"]
        self.targets.to_csv(files[0], index=False)
        if self.patterns is not None:
            files.append(out / "validation_patterns.csv")
            self.patterns.to_csv(files[-1], index=False)
        files.append(out / "validation.json")
        doc = {"summary": self.summary(),
               "targets": json.loads(self.targets.to_json(orient="records")),
               "patterns": None if self.patterns is None else json.loads(
                   self.patterns.to_json(orient="records"))}
        files[-1].write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        files.append(out / "validation.md")
        files[-1].write_text(self.markdown(), encoding="utf-8")
        return files

    def markdown(self) -> str:
        """The validation as Markdown tables."""
        s = self.summary()
        lines = [f"# Validation ({self.calibration or 'registry defaults'})", "",
                 f"Held-out targets inside their 90% posterior predictive interval: "
                 f"{s['validate_targets_covered']}/{s['validate_targets']} (fit targets: "
                 f"{s['fit_targets_covered']}/{s['fit_targets']}).", ""]
        lines += ["| target | role | observed (90% CI) | simulated median | 90% PPI | covered |",
                  "|---|---|---|---|---|---|"]
        for r in self.targets.itertuples(index=False):
            f = _share_format(r.observed)
            obs = (f"> {r.observed:.3f}" if r.likelihood == "lower_bound" else
                   f"{r.observed:{f}} ({r.obs_lo90:{f}}-{r.obs_hi90:{f}})")
            lines.append(f"| {r.target} | {r.role} | {obs} | {r.sim_median:{f}} | "
                         f"{r.ppi_lo90:{f}}-{r.ppi_hi90:{f}} | {'yes' if r.inside else 'no'} |")
        if self.patterns is not None:
            lines += ["", f"Patterns (docs/evidence.md §E4.8) passed: {s['patterns_passed']}/"
                      f"{s['patterns']}.", "",
                      "| check | difference | 90% interval | result | reason |",
                      "|---|---|---|---|---|"]
            for r in self.patterns.itertuples(index=False):
                lines.append(f"| {r.name} | {r.diff:.4g} | {r.lo:.4g} to {r.hi:.4g} | "
                             f"{r.result} | {r.reason} |")
        return "\n".join(lines) + "\n"


def _share_format(x: float) -> str:
    """Four decimals for shares below 1%, three above."""
    return ".4f" if x < 0.01 else ".3f"


def validate_targets(config: CalibrationConfig, result: CalibrationResult | None,
                     executor: Executor, draws: int | None = None,
                     seed: int | None = None) -> pd.DataFrame:
    """Posterior predictive coverage of every target (fit and validate).

    Args:
        config: The configuration (targets, scales, design effect).
        result: The calibration (None: the registry defaults).
        executor: An open executor.
        draws: Posterior draws (default the config's predictive draws).
        seed: Root seed of the draws (default the config's predictive seed).

    Returns:
        The table of :func:`target_predictive`, held-out targets first.
    """
    problem = Problem(config, targets=config.targets, replicates=1)
    pred = config.predictive
    table, _ = target_predictive(problem, result, executor, draws or pred.draws,
                                 pred.seed if seed is None else seed)
    return table.sort_values("role", key=lambda r: r != "validate", kind="stable").reset_index(
        drop=True)


def validate_patterns(result: CalibrationResult | None, executor: Executor,
                      experiment: str = "patterns",
                      replicates: int | None = None) -> pd.DataFrame:
    """The experiment's checks (docs/evidence.md §E4.8 patterns) under the calibrated parameters.

    Args:
        result: The calibration (None: the registry defaults).
        executor: An open executor.
        experiment: Experiment name or path (default ``patterns``).
        replicates: Replicates per design point (default the experiment's).

    Returns:
        One row per check (:func:`~pathways_sim.sweep.analysis.evaluate_checks`).
    """
    from pathways_sim.sweep.analysis import evaluate_checks
    from pathways_sim.sweep.design import plan_sweep
    from pathways_sim.sweep.experiment import load_experiment

    exp = load_experiment(experiment)
    plan = plan_sweep(exp)
    seeds = plan.seeds if replicates is None else tuple(replicate_seeds(exp.seed, replicates))
    values = None if result is None else result.point
    source = None if result is None else f"calibrated: {result.version}"

    def scenario(point: Any) -> Any:
        if values is None:
            return point.scenario
        return apply_values(point.scenario, values, source=source or "calibrated")

    resolved = {p.point_id: scenario(p) for p in plan.points}
    jobs = (Job((p.point_id, r), resolved[p.point_id], int(s))
            for p in plan.points for r, s in enumerate(seeds))
    rows = []
    for res in run_many(jobs, executor, task=run_metrics):
        if not res.ok:
            raise RuntimeError(f"a pattern run failed: {res.error}\n{res.traceback}")
        rows.append({"point_id": res.key[0], "replicate": res.key[1], **res.value})
    joined = pd.DataFrame(rows)
    points = [{"point_id": p.point_id, "role": p.role, "factors": dict(p.factors)}
              for p in plan.points]
    return evaluate_checks(joined, [c.to_dict() for c in exp.checks], points,
                           [f.name for f in exp.uncertainties])


def validate(config: CalibrationConfig, result: CalibrationResult | None, executor: Executor,
             draws: int | None = None, patterns: str | None = "patterns",
             pattern_replicates: int | None = None) -> Validation:
    """Target coverage and pattern checks under the calibrated parameters.

    Args:
        config: The configuration.
        result: The calibration (None: the registry defaults).
        executor: An executor (opened here).
        draws: Posterior predictive draws (default the config's).
        patterns: Experiment of pattern checks, or None to skip them.
        pattern_replicates: Replicates per pattern design point (default the experiment's).

    Returns:
        The validation.
    """
    with executor:
        targets = validate_targets(config, result, executor, draws)
        pats = None if patterns is None else validate_patterns(result, executor, patterns,
                                                               pattern_replicates)
    from pathways_sim.calibration.choice import describe

    return Validation(targets, pats, None if result is None else result.version,
                      describe(result))
