"""Validation under the calibrated parameters: held-out targets and the patterns (§E4.8).

Two checks, both with the calibrated values applied wherever a scenario did
not set the parameter:

* **Targets.** The posterior predictive of every target
  (:func:`~pathways_sim.calibration.predict.target_predictive`): a target is
  *covered* when its observed share lies inside the 90% posterior predictive
  interval (a ``lower_bound`` target passes when the simulated median is at
  or above the bound, an ``upper_bound`` target when it is at or below). The
  held-out (``validate``) targets are the real test; the ``fit`` targets are
  listed for comparison.
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
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pathways_sim.calibration.config import MAX_REPLICATES, CalibrationConfig
from pathways_sim.calibration.objective import Problem
from pathways_sim.calibration.predict import target_predictive
from pathways_sim.calibration.results import CalibrationResult
from pathways_sim.calibration.targets import clopper_pearson
from pathways_sim.defaults import PREDICTIVE_SEED
from pathways_sim.run import replicate_seeds
from pathways_sim.sweep.executors import Executor, Job, run_many, run_metrics

__all__ = ["PATTERN_DRIVER_AUC", "POWER_FACTOR", "Validation", "describe_pattern_draws",
           "at_experiment", "checks_experiment", "draw_share_interval", "draws_cells",
           "experiment_replicates", "experiment_shortfalls", "replicate_counts",
           "replicates_note", "shortfalls_heading",
           "pattern_draw_headers", "pattern_source", "percent_interval",
           "explain_draw_failures", "explain_power", "failure_drivers", "power_follow_up",
           "validate", "validate_patterns", "validate_targets"]

POWER_FACTOR = 4
"""The follow-up of a check short of 90% of draws tests it in every draw with this many times
its replicates (:func:`power_follow_up`): the interval of a mean difference halves."""

PATTERN_DRIVER_AUC = 0.75
"""How well a parameter must separate a check's failing draws from its passing ones to be
named as what the failures depend on: the rank AUC (the chance a failing draw's value is
above a passing draw's) at least this, or at most 1 minus it."""


@dataclass
class Validation:
    """What validation found.

    Attributes:
        targets: One row per target (see :func:`target_predictive`), ``role`` fit or validate.
        patterns: One row per pattern check (see :func:`evaluate_checks`), or None.
        pattern_draws: One row per posterior draw and check (:func:`validate_patterns`),
            or None.
        calibration: The calibration's version (None: registry defaults).
        calibration_record: Its version, path and method
            (:func:`pathways_sim.calibration.choice.describe`).
    """

    targets: pd.DataFrame
    patterns: pd.DataFrame | None
    calibration: str | None
    calibration_record: dict[str, Any] | None = None
    pattern_draws: pd.DataFrame | None = None

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
            if "experiment" in self.patterns:
                out["patterns_experiment"] = checks_experiment(self.patterns)
            if "replicates" in self.patterns:
                out["pattern_replicates"] = int(self.patterns["replicates"].max())
            base = experiment_replicates(self.patterns)
            if base:
                # The checks decided again on the experiment's own replicates (the first
                # ones of the runs): what the patterns experiment alone would have said.
                out["experiment_replicates"] = base
                out["patterns_passed_at_experiment_replicates"] = int(
                    (self.patterns["experiment_result"] == "PASS").sum())
            if "draws" in self.patterns and int(self.patterns["draws"].max()) > 0:
                share = self.patterns["draws_passed"] / self.patterns["draws"]
                out["pattern_draws"] = int(self.patterns["draws"].max())
                out["patterns_in_90pct_of_draws"] = int((share >= 0.9).sum())
                # Below 90% even at the top of the pass share's 90% interval: the draws
                # show the check failing more often than 1 in 10, not only by chance.
                out["patterns_clearly_below_90pct"] = int(
                    (self.patterns["draws_share_hi90"] < 0.9).sum())
                if base:
                    at_base = self.patterns["experiment_draws_passed"] / self.patterns["draws"]
                    out["patterns_in_90pct_of_draws_at_experiment_replicates"] = int(
                        (at_base >= 0.9).sum())
                if self.pattern_draws is not None and "draw" in self.pattern_draws:
                    # Draws are resampled with replacement: a repeated draw repeats its
                    # result (same seeds), so the intervals assume distinct draws.
                    out["pattern_draws_distinct"] = int(self.pattern_draws["draw"].nunique())
                if "power_draws_passed" in self.patterns:
                    # The follow-up: each check short of 90% counted at its share with
                    # more replicates in every draw, the others at their own.
                    powered = self.patterns["power_draws_passed"] / self.patterns["draws"]
                    out["patterns_in_90pct_of_draws_powered"] = int((powered >= 0.9).sum())
                    out["power_replicates"] = int(self.patterns["power_replicates"].max())
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
        if self.pattern_draws is not None and len(self.pattern_draws):
            files.append(out / "validation_pattern_draws.csv")
            self.pattern_draws.to_csv(files[-1], index=False)
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
                   f"< {r.observed:.3f}" if r.likelihood == "upper_bound" else
                   f"{r.observed:{f}} ({r.obs_lo90:{f}}-{r.obs_hi90:{f}})")
            lines.append(f"| {r.target} | {r.role} | {obs} | {r.sim_median:{f}} | "
                         f"{r.ppi_lo90:{f}}-{r.ppi_hi90:{f}} | {'yes' if r.inside else 'no'} |")
        if self.patterns is not None:
            ndraws = int(self.patterns["draws"].max()) if "draws" in self.patterns else 0
            base = experiment_replicates(self.patterns)
            n = s["patterns"]
            head = (f"{pattern_source(self.patterns)} passed at the point"
                    f"{replicates_note(self.patterns)}: {s['patterns_passed']}/{n}"
                    + (f"; in at least 90% of {ndraws} posterior draws: "
                       f"{s['patterns_in_90pct_of_draws']}/{n}" if ndraws else ""))
            if base:
                head += (f" ({s['pattern_replicates']} replicates per design point; on the "
                         f"experiment's own {base}, the first of them: "
                         f"{s['patterns_passed_at_experiment_replicates']}/{n} at the point"
                         + (f", {s['patterns_in_90pct_of_draws_at_experiment_replicates']}/{n}"
                            " in 90% of the draws" if ndraws else "") + ")")
            lines += ["", head + ".", ""]
            if ndraws:
                lines += [describe_pattern_draws(self.patterns,
                                                 s.get("pattern_draws_distinct")), ""]
            power = int(s.get("power_replicates", 0))
            header = pattern_draw_headers(self.patterns, power)
            lines += ["| check | difference | 90% interval | result | "
                      + "".join(f"{h} | " for h in header) + "reason |",
                      "|---|---|---|---|" + "---|" * len(header) + "---|"]
            for r in self.patterns.itertuples(index=False):
                cells = draws_cells(r, power, base) if header else []
                lines.append(f"| {r.name} | {r.diff:.4g} | {r.lo:.4g} to {r.hi:.4g} | "
                             f"{r.result} | " + "".join(f"{c} | " for c in cells)
                             + f"{r.reason} |")
            misses = [r for r in self.patterns.itertuples(index=False)
                      if getattr(r, "draws", 0) and r.draws_passed < 0.9 * r.draws]
            if misses:
                lines += ["", "Checks passing in fewer than 90% of the draws, and what their "
                          "failures depend on:", ""]
                lines += [f"- **{r.name}**: {r.draws_explanation}" for r in misses]
            own = experiment_shortfalls(self.patterns)
            if own:
                lines += ["", shortfalls_heading(base), ""]
                lines += [f"- **{name}**: {text}" for name, text in own]
        return "\n".join(lines) + "\n"


def describe_pattern_draws(patterns: pd.DataFrame, distinct: int | None = None) -> str:
    """What the pattern checks' draw columns mean and how many checks reach 90% of the
    draws, for validation.md and the calibration report alike ("" without draws).

    Args:
        patterns: :func:`validate_patterns`' table (or its CSV, of any version).
        distinct: Distinct draws among them, when known.
    """
    ndraws = int(patterns["draws"].max()) if "draws" in patterns else 0
    if not ndraws:
        return ""
    n = len(patterns)
    reached = int((patterns["draws_passed"] / patterns["draws"] >= 0.9).sum())
    base = experiment_replicates(patterns)
    runs = "each run with the experiment's seeds"
    counts = replicate_counts(patterns)
    if counts:
        ran, own = counts
        runs = (f"each run with {ran} replicates, the experiment's seeds extended from its {own}"
                if ran > own else f"each run with the experiment's {own} replicates"
                if ran == own else f"each run with {ran} replicates, the first of the "
                f"experiment's {own}")
    text = (f"Under {ndraws} posterior draws (parameter sets resampled from the posterior "
            f"with the predictive intervals' seed, {runs}"
            + (f"; {distinct} of them distinct: a repeated draw repeats its result, so the "
               "intervals are narrower than they should be" if distinct is not None
               and distinct < ndraws else "")
            + f"), {reached} of {n} checks pass in at least 90% of the draws.")
    if "draws_share_hi90" in patterns:
        below = int((patterns["draws_share_hi90"] < 0.9).sum())
        text += (" Beside each count is the pass share's exact 90% interval (Clopper-Pearson, "
                 f"given the seeds); {_count(below, 'check')} "
                 f"{'fails' if below == 1 else 'fail'} in more than 1 draw in 10 beyond the "
                 "chance of which draws were sampled (the interval wholly below 90%).")
    if base:
        share = patterns["experiment_draws_passed"] / patterns["draws"]
        at_base = int((share >= 0.9).sum())
        short = [f"{r.name} ({int(r.experiment_draws_passed)}/{ndraws}, "
                 f"{int(r.draws_passed)}/{ndraws} with all {int(r.replicates)})"
                 for r, low in zip(patterns.itertuples(index=False), share < 0.9, strict=True)
                 if low]
        text += (f" Decided on the experiment's own {base} replicates alone (the first {base} "
                 f"of these runs, in the column 'at the experiment's {base} replicates'), "
                 f"{at_base} of {n} checks pass in at least 90% of the draws"
                 + (f" (short of it: {'; '.join(short)})" if short else "")
                 + ": fewer replicates separate only larger effects from 0, so where a check's "
                 "effect is small in part of the posterior it passes in fewer draws there.")
    power = int(patterns["power_replicates"].max()) if "power_replicates" in patterns else 0
    if power:
        powered = int((patterns["power_draws_passed"] / patterns["draws"] >= 0.9).sum())
        base = (f" (the first {int(patterns['replicates'].max())} being the runs already made)"
                if "replicates" in patterns else "")
        text += (" A check passing in fewer than 90% of the draws (at least one of them a FAIL; "
                 "draws without data do not count) is tested again, that check alone, in "
                 f"every draw with {power} replicates{base}, in the column 'at {power} "
                 "replicates': a small effect that fewer replicates cannot resolve passes "
                 "there, an absent one does not. Counting each such check at that share and "
                 f"the others at their own, {powered} of {n} checks pass in at least 90% of the "
                 "draws (observed shares: the interval of a share near 90% reaches below it).")
    return text


def checks_experiment(patterns: pd.DataFrame) -> str:
    """The experiment the checks came from (``patterns`` for a table written before it was
    recorded, or with none)."""
    if "experiment" not in patterns or not len(patterns):
        return "patterns"
    name = patterns["experiment"].iloc[0]
    return "patterns" if pd.isna(name) or not str(name).strip() else str(name)


def pattern_source(patterns: pd.DataFrame) -> str:
    """What the checks are: the shipped patterns experiment (docs/evidence.md §E4.8), or the
    experiment ``validate --patterns`` named."""
    name = checks_experiment(patterns)
    return ("Patterns (docs/evidence.md §E4.8)" if name == "patterns"
            else f"Checks of the experiment {name}")


def replicate_counts(patterns: pd.DataFrame) -> tuple[int, int] | None:
    """``(replicates run, the experiment's own)``, or None for a table without them."""
    if "replicates" not in patterns or "experiment_replicates" not in patterns:
        return None
    return int(patterns["replicates"].max()), int(patterns["experiment_replicates"].max())


def replicates_note(patterns: pd.DataFrame) -> str:
    """``' with N replicates per design point, fewer than the experiment's M'`` when the
    checks ran with fewer than the experiment's replicates, else ``''`` (more are said with
    both counts; as many need no note)."""
    counts = replicate_counts(patterns)
    if counts is None or counts[0] >= counts[1]:
        return ""
    return (f" with {counts[0]} replicates per design point, fewer than the experiment's "
            f"{counts[1]}")


def shortfalls_heading(base: int) -> str:
    """The heading of :func:`experiment_shortfalls`' list (validation.md and the report)."""
    return (f"Checks passing in fewer than 90% of the draws on the experiment's own {base} "
            "replicates, and what those failures depend on:")


def experiment_shortfalls(patterns: pd.DataFrame) -> list[tuple[str, str]]:
    """``(check, explanation)`` of each check short of 90% of the draws on the experiment's
    own replicates (none for a table without them)."""
    if "experiment_explanation" not in patterns:
        return []
    return [(str(r.name), str(r.experiment_explanation))
            for r in patterns.itertuples(index=False)
            if isinstance(r.experiment_explanation, str) and r.experiment_explanation]


def experiment_replicates(patterns: pd.DataFrame) -> int:
    """The experiment's own replicates when the checks ran with more (0 otherwise, or for a
    table written before they were counted apart)."""
    if "experiment_replicates" not in patterns or "experiment_result" not in patterns:
        return 0
    return int(patterns["experiment_replicates"].max())


def pattern_draw_headers(patterns: pd.DataFrame, power: int) -> list[str]:
    """Headers of the columns :func:`draws_cells` fills, between a check's result and its
    reason (none for a table with neither draws nor a count at the experiment's replicates)."""
    ndraws = int(patterns["draws"].max()) if "draws" in patterns else 0
    base = experiment_replicates(patterns)
    out = ["draws passed (90% interval)"] if ndraws else []
    if base:
        out.append(f"at the experiment's {base} replicates"
                   + (": point; draws passed" if ndraws else ""))
    if ndraws and power:
        out.append(f"at {power} replicates")
    return out


def draws_cells(row: Any, power: int, base: int = 0) -> list[str]:
    """One check's columns of :func:`pattern_draw_headers`: passed of drawn with its
    interval (when the table has intervals); with ``base``, its result at the point and
    draws passed on the experiment's own ``base`` replicates; then, with a follow-up, its
    share at ``power`` replicates ("-" where the check was not followed up)."""
    ndraws = int(getattr(row, "draws", 0) or 0)
    cells = []
    if ndraws:
        cell = f"{int(row.draws_passed)}/{ndraws}"
        if hasattr(row, "draws_share_lo90"):
            cell += f" ({percent_interval(row.draws_share_lo90, row.draws_share_hi90)})"
        cells.append(cell)
    if base:
        cell = str(row.experiment_result)
        if ndraws:
            cell += (f"; {int(row.experiment_draws_passed)}/{ndraws} ("
                     f"{percent_interval(row.experiment_share_lo90, row.experiment_share_hi90)})")
        cells.append(cell)
    if not ndraws:
        return cells
    if power:
        cells.append(f"{int(row.power_draws_passed)}/{int(row.draws)} "
                     f"({percent_interval(row.power_share_lo90, row.power_share_hi90)})"
                     if row.power_replicates else "-")
    return cells


def percent_interval(lo: float, hi: float) -> str:
    """A share's interval in whole percent, rounded outwards (``'89-100%'``): never shown
    narrower than it is, so an interval reaching below 90% never reads as starting at 90."""
    return f"{math.floor(100 * lo + 1e-9):.0f}-{math.ceil(100 * hi - 1e-9):.0f}%"


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


def _pattern_runs(points: Sequence[Any], seeds: Sequence[int],
                  scenarios: list[dict[str, Any]], executor: Executor) -> list[pd.DataFrame]:
    """Run the design points in each scenario set (point id -> scenario; a point missing
    from a set is not run in it) with the seeds; one frame per set."""
    jobs = (Job((k, p.point_id, r), resolved[p.point_id], int(s))
            for k, resolved in enumerate(scenarios)
            for p in points if p.point_id in resolved for r, s in enumerate(seeds))
    rows: list[list[dict[str, Any]]] = [[] for _ in scenarios]
    for res in run_many(jobs, executor, task=run_metrics):
        if not res.ok:
            raise RuntimeError(f"a pattern run failed: {res.error}\n{res.traceback}")
        k, point_id, r = res.key
        rows[k].append({"point_id": point_id, "replicate": r, **res.value})
    return [pd.DataFrame(r) for r in rows]


def validate_patterns(result: CalibrationResult | None, executor: Executor,
                      experiment: str = "patterns", replicates: int | None = None,
                      at_least: int | None = None,
                      draws: int = 0, seed: int = PREDICTIVE_SEED,
                      power_replicates: int | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The experiment's checks (docs/evidence.md §E4.8 patterns) under the calibration.

    Each check is tested at the calibration's point (the posterior mean) and, with
    ``draws``, under that many parameter sets resampled from the posterior (with ``seed``,
    the same sets as the predictive intervals drawn with that seed and number): the share
    of draws in which the check passes says whether the pattern holds across the
    posterior, not only at one point (the issue asks for 90% of draws).

    Args:
        result: The calibration (None: the registry defaults).
        executor: An open executor.
        experiment: Experiment name or path (default ``patterns``).
        replicates: Replicates per design point (default the experiment's).
        at_least: Without ``replicates``: at least this many (the config's
            ``predictive.pattern_replicates``), never fewer than the experiment's.
        draws: Posterior draws whose checks are also run (0: the point only).
        seed: Root seed of the draws' resampling.
        power_replicates: With draws, the follow-up of a check passing in fewer than 90%
            of them (:func:`power_follow_up`): every draw tested again with this many
            replicates (default :data:`POWER_FACTOR` times the check's, at most
            ``MAX_REPLICATES``; 0: none).

    Returns:
        ``(table, per_draw)``. ``table``: one row per check
        (:func:`~pathways_sim.sweep.analysis.evaluate_checks`) at the point, plus
        ``draws_passed`` and ``draws`` (the draws in which the check passed, and the draws
        run; 0 without draws), ``replicates`` (each draw's, per design point),
        ``draws_share_lo90``/``draws_share_hi90`` (the pass share's exact 90% interval,
        :func:`draw_share_interval`) and ``draws_explanation``
        (for a check passing in fewer than 90% of draws, :func:`explain_draw_failures`),
        and the follow-up's ``power_replicates`` (0 where not run), ``power_draws_passed``
        and its interval ``power_share_lo90``/``_hi90`` (:func:`power_follow_up`).
        ``per_draw``: one row per draw and check: ``draw`` (the row of the posterior
        draws), ``check``, ``diff``, ``lo``, ``hi``, ``result``, ``reason``, the
        follow-up's ``power_diff``, ``power_lo``, ``power_hi``, ``power_result``,
        ``power_reason`` (empty
        where the draw was not rerun), then the draw's parameter values (empty without
        draws).
    """
    from pathways_sim.sweep.analysis import evaluate_checks
    from pathways_sim.sweep.design import plan_sweep
    from pathways_sim.sweep.experiment import load_experiment

    exp = load_experiment(experiment)
    plan = plan_sweep(exp)
    if replicates is None and at_least is not None and at_least > len(plan.seeds):
        replicates = at_least
    seeds = plan.seeds if replicates is None else tuple(replicate_seeds(exp.seed, replicates))
    sets: list[dict[str, Any]] = [{p.point_id: (p.scenario if result is None
                                                else result.apply(p.scenario))
                                   for p in plan.points}]
    rows: list[int] = []
    if result is not None and draws > 0 and len(result.draws) > 1:
        rows = [int(i) for i in result.sample_indices(draws, seed)]
        for i in rows:
            sets.append({p.point_id: result.apply(p.scenario, draw=i) for p in plan.points})
    frames = _pattern_runs(plan.points, seeds, sets, executor)
    points = [{"point_id": p.point_id, "role": p.role, "factors": dict(p.factors)}
              for p in plan.points]
    checks = [c.to_dict() for c in exp.checks]
    names = [f.name for f in exp.uncertainties]
    table = evaluate_checks(frames[0], checks, points, names)
    long: list[pd.DataFrame] = []
    for i, frame in zip(rows, frames[1:], strict=True):
        got = evaluate_checks(frame, checks, points, names)
        got = got[["name", "diff", "lo", "hi", "result", "reason"]].rename(
            columns={"name": "check"})
        got.insert(0, "draw", i)
        got["_k"] = np.arange(len(got))  # the check's position: names need not be unique
        for par, value in result.draw_values(i).items():  # type: ignore[union-attr]
            got[par] = value
        long.append(got)
    per_draw = pd.concat(long, ignore_index=True) if long else pd.DataFrame(
        columns=["draw", "check", "diff", "lo", "hi", "result", "reason", "_k"])
    mine = [per_draw[per_draw["_k"] == k] for k in range(len(table))]
    passed = np.array([int((m["result"] == "PASS").sum()) for m in mine], dtype=int)
    table["draws_passed"] = passed
    table["draws"] = len(rows)
    table["replicates"] = len(seeds)
    table["experiment"] = str(experiment)
    bounds = [draw_share_interval(k, len(rows)) for k in passed]
    table["draws_share_lo90"] = [b[0] for b in bounds]
    table["draws_share_hi90"] = [b[1] for b in bounds]
    at_experiment(table, per_draw, frames, len(plan.seeds), len(seeds), checks, points, names)
    if "experiment_draws_passed" in table:  # what the shortfalls on its own depend on
        params = [] if result is None else list(result.parameters)
        own = per_draw.drop(columns=["diff", "lo", "hi", "result", "reason"]).rename(
            columns=lambda c: c.removeprefix("experiment_"))
        table["experiment_explanation"] = [
            explain_draw_failures(own[own["_k"] == k], params)
            if k_passed < 0.9 * len(rows) else ""
            for k, k_passed in enumerate(table["experiment_draws_passed"])]
    params = [] if result is None else list(result.parameters)
    table["draws_explanation"] = [
        explain_draw_failures(m, params) if len(rows) and k < 0.9 * len(rows) else ""
        for m, k in zip(mine, passed, strict=True)]
    if power_replicates is None:  # at most the limit the replicates themselves have
        power_replicates = min(POWER_FACTOR * len(seeds), MAX_REPLICATES)
    power_follow_up(table, per_draw,
                    {i: (sc, fr) for i, sc, fr in zip(rows, sets[1:], frames[1:], strict=True)},
                    plan.points, checks, points, names, executor,
                    replicates=power_replicates, exp_seed=exp.seed, base=len(seeds))
    per_draw = per_draw.drop(columns="_k")
    return table, per_draw


def at_experiment(table: pd.DataFrame, per_draw: pd.DataFrame, frames: Sequence[pd.DataFrame],
                  base: int, replicates: int, checks: Sequence[Mapping[str, Any]],
                  points: Sequence[Mapping[str, Any]], names: Sequence[str]) -> None:
    """With more replicates than the experiment's, the checks on its own replicates too.

    The experiment's seeds are the first ``base`` of the ``replicates`` (seeds extend, they
    do not change), so each check is decided again on those runs alone: at the point
    (``experiment_result``) and in every draw (``per_draw``'s ``experiment_diff``,
    ``_lo``, ``_hi``, ``_result``, ``_reason``; ``experiment_draws_passed`` with its interval
    ``experiment_share_lo90``/``_hi90``),
    in place. ``experiment_replicates`` is ``base`` in any case; nothing else is added when the
    checks ran with the experiment's replicates or fewer: then there is nothing to add.

    Args:
        table: The checks at the point (``validate_patterns``' table).
        per_draw: One row per draw and check, with ``_k`` (the check's position).
        frames: The runs: the point's, then each draw's (``replicate`` column).
        base: The experiment's replicates.
        replicates: The replicates run.
        checks, points, names: As for :func:`~pathways_sim.sweep.analysis.evaluate_checks`.
    """
    from pathways_sim.sweep.analysis import evaluate_checks

    table["experiment_replicates"] = base
    if replicates <= base:
        return
    first = [f[f["replicate"] < base] for f in frames]
    table["experiment_result"] = evaluate_checks(first[0], checks, points, names)[
        "result"].to_numpy()
    ndraws = len(frames) - 1
    if not ndraws:
        return
    cols = ["diff", "lo", "hi", "result", "reason"]
    got = pd.concat([evaluate_checks(f, checks, points, names)[cols] for f in first[1:]],
                    ignore_index=True)
    # per_draw holds the draws in order, each with every check in order: the experiment's
    # columns go beside the draw's own, before its parameter values.
    at = int(per_draw.columns.get_loc("reason")) + 1
    for j, col in enumerate(cols):
        per_draw.insert(at + j, f"experiment_{col}", got[col].to_numpy())
    results = got["result"].to_numpy().reshape(ndraws, len(table))
    passed = (results == "PASS").sum(axis=0).astype(int)
    table["experiment_draws_passed"] = passed
    bounds = [draw_share_interval(k, ndraws) for k in passed]
    table["experiment_share_lo90"] = [b[0] for b in bounds]
    table["experiment_share_hi90"] = [b[1] for b in bounds]


def power_follow_up(table: pd.DataFrame, per_draw: pd.DataFrame,
                    draws: dict[int, tuple[dict[str, Any], pd.DataFrame]],
                    plan_points: Sequence[Any], checks: Sequence[dict[str, Any]],
                    points: Sequence[dict[str, Any]], names: Sequence[str],
                    executor: Executor, *, replicates: int, exp_seed: int, base: int) -> None:
    """A check short of 90% of the draws, tested again in every draw with more replicates
    (in place).

    A check passes in a draw when the 90% interval of its paired differences excludes 0;
    with ``base`` replicates a small but real difference often does not. For each check
    that fails (not for want of data) in more than 1 draw in 10, its own two sides (option
    and baseline points) run ``replicates - base`` more replicates in **every** draw (the
    experiment's seeds extended; the first ``base`` runs are the ones already made), and
    the check is tested again on all ``replicates``: ``power_draws_passed`` is the number
    of draws passing then, a share with its exact interval like ``draws_passed``. The
    check as defined (its experiment's replicates) is unchanged; the follow-up says
    whether a shortfall is a small effect the check cannot resolve or a posterior that
    lacks the effect in part.

    Args:
        table: :func:`validate_patterns`' table (columns added).
        per_draw: Its per-draw rows with ``_k``, the check's position (columns added).
        draws: Draw row -> (that draw's scenario of every design point, its first runs);
            a draw resampled twice is one entry.
        plan_points: The experiment's design points.
        checks, points, names: As for :func:`~pathways_sim.sweep.analysis.evaluate_checks`.
        executor: An open executor.
        replicates: Replicates of the follow-up (none unless above ``base``).
        exp_seed: The experiment's root seed.
        base: The replicates already run.
    """
    from pathways_sim.sweep.analysis import evaluate_checks

    for col in ("power_diff", "power_lo", "power_hi"):
        per_draw[col] = np.nan
    per_draw["power_result"] = ""
    per_draw["power_reason"] = ""
    table["power_replicates"] = 0
    table["power_draws_passed"] = table["draws_passed"]
    ndraws = int(table["draws"].max()) if len(table) and "draws" in table else 0
    weak = []
    for k in range(len(table)):
        ids = set(table["option_points"].iat[k]) | set(table["baseline_points"].iat[k])
        failed = per_draw[(per_draw["_k"] == k) & (per_draw["result"] == "FAIL")]
        if ndraws and ids and table["draws_passed"].iat[k] < 0.9 * ndraws and len(failed):
            weak.append((k, ids))
    if replicates > base and weak:
        extra = tuple(replicate_seeds(exp_seed, replicates))[base:]
        need = set().union(*(ids for _, ids in weak))
        order = sorted(draws)
        more = _pattern_runs(plan_points, extra,
                             [{pid: draws[d][0][pid] for pid in need} for d in order],
                             executor)
        runs = {}
        for d, frame in zip(order, more, strict=True):
            frame = frame.assign(replicate=frame["replicate"] + base)
            runs[d] = pd.concat([draws[d][1], frame], ignore_index=True)
        for k, _ in weak:
            mask = per_draw["_k"] == k
            for i in per_draw.index[mask]:
                got = evaluate_checks(runs[int(per_draw.at[i, "draw"])], [checks[k]], points,
                                      names).iloc[0]
                per_draw.loc[i, ["power_diff", "power_lo", "power_hi"]] = (
                    got["diff"], got["lo"], got["hi"])
                per_draw.at[i, "power_result"] = got["result"]
                per_draw.at[i, "power_reason"] = got["reason"]
            row = table.index[k]
            table.loc[row, "power_replicates"] = replicates
            table.loc[row, "power_draws_passed"] = int(
                (per_draw.loc[mask, "power_result"] == "PASS").sum())
            table.loc[row, "draws_explanation"] = (
                table["draws_explanation"].iat[k] + " "
                + explain_power(per_draw[mask], replicates, base))
    bounds = [draw_share_interval(int(k), ndraws) for k in table["power_draws_passed"]]
    table["power_share_lo90"] = [b[0] for b in bounds]
    table["power_share_hi90"] = [b[1] for b in bounds]


def explain_power(rows: pd.DataFrame, replicates: int, base: int) -> str:
    """A plain sentence on one check tested again in every draw with more replicates."""
    n = len(rows)
    ok = rows["power_result"] == "PASS"
    lo, hi = draw_share_interval(int(ok.sum()), n)
    text = (f"With {replicates} replicates in every draw (the first {base} the runs already "
            "made) "
            f"it passes in {int(ok.sum())} of {n} draws ({percent_interval(lo, hi)})")
    if ok.any():  # the passing draw nearest to no difference: how small a passing effect is
        weakest = rows.loc[ok, "power_diff"]
        text += f" (the smallest passing difference {weakest.loc[weakest.abs().idxmin()]:.2g})"
    still = rows[~ok]
    if still.empty:
        return text + (f": clearly on the pattern's side in every draw, so its misses at {base} "
                       "replicates were an effect too small for them, not an opposite one "
                       "(each draw's test still passes a zero effect 1 time in 20).")
    wrong = int(still["power_reason"].str.contains("other side").sum())
    text += (f"; in the other {len(still)} the difference is {still['power_diff'].min():.2g} "
             f"to {still['power_diff'].max():.2g}, "
             + (f"in {wrong} of them clearly the opposite of the pattern" if wrong
                else "never clearly the opposite"))
    if ok.sum() >= 0.9 * n:
        return text + (f": mostly a small effect that {base} replicates cannot resolve; "
                       "where it still fails it is too small to see or absent.")
    return text + (": in part of the posterior the effect is too small to see or absent, "
                   "whatever the replicates.")


def _count(n: int, noun: str) -> str:
    """``'1 check'``, ``'2 checks'``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def draw_share_interval(passed: int, draws: int) -> tuple[float, float]:
    """The exact (Clopper-Pearson) 90% interval of a pass share ``passed / draws``.

    Twenty draws cannot tell a check passing in 90% of the posterior from one passing in
    75%: 18 of 20 has the interval 72-98%. ``(nan, nan)`` without draws.
    """
    if draws <= 0:
        return float("nan"), float("nan")
    return clopper_pearson(int(passed), int(draws))


def failure_drivers(per_draw: pd.DataFrame, parameters: Sequence[str],
                    threshold: float = PATTERN_DRIVER_AUC) -> pd.DataFrame:
    """The parameters on which one check's failing draws differ from its passing ones.

    For each parameter, the rank AUC: the chance that a failing draw's value is above a
    passing draw's (the Mann-Whitney statistic over the product of the two counts; 0.5:
    no difference). Kept where it is at least ``threshold`` or at most ``1 - threshold``,
    strongest first. Descriptive: with tens of draws and tens of parameters one of them
    can separate by chance, so a driver is a lead to check, not a finding.

    Args:
        per_draw: The rows of one check in :func:`validate_patterns`' ``per_draw``.
        parameters: The parameter columns to compare.
        threshold: The AUC a parameter must reach (or 1 minus it) to be kept.

    Returns:
        ``parameter``, ``auc``, ``failing_median``, ``passing_median`` (empty when there
        are fewer than 2 failing or 2 passing draws).
    """
    cols = ["parameter", "auc", "failing_median", "passing_median"]
    ok = per_draw["result"] == "PASS"
    fail, good = per_draw[~ok], per_draw[ok]
    if len(fail) < 2 or len(good) < 2:
        return pd.DataFrame(columns=cols)
    rows = []
    for par in parameters:
        if par not in per_draw:
            continue
        u = stats.mannwhitneyu(fail[par], good[par], alternative="two-sided").statistic
        auc = float(u) / (len(fail) * len(good))
        if auc >= threshold or auc <= 1.0 - threshold:
            rows.append((par, auc, float(fail[par].median()), float(good[par].median())))
    out = pd.DataFrame(rows, columns=cols)
    return out.reindex(out["auc"].sub(0.5).abs().sort_values(ascending=False).index
                       ).reset_index(drop=True)


def explain_draw_failures(per_draw: pd.DataFrame, parameters: Sequence[str]) -> str:
    """A plain sentence on one check's failing draws: how they fail (the interval on the
    wrong side, or including 0), by how much, and the parameters they depend on
    (:func:`failure_drivers`)."""
    fail = per_draw[per_draw["result"] != "PASS"]
    if fail.empty:
        return ""
    good = per_draw[per_draw["result"] == "PASS"]
    nodata = int((fail["result"] == "NO DATA").sum())
    wrong = int(fail["reason"].str.contains("other side").sum())
    unclear = len(fail) - nodata - wrong
    how = []
    if wrong:
        how.append(f"in {wrong} the interval is on the wrong side of 0 (the draw contradicts "
                   "the pattern)")
    if unclear:
        how.append(f"in {unclear} it includes 0 (no clear difference)" if wrong or nodata
                   else "in each the interval includes 0 (no clear difference, never the "
                   "opposite)")
    if nodata:
        how.append(f"in {nodata} there were too few runs with the metric to test")
    text = f"fails in {len(fail)} of {len(per_draw)} draws: " + ", ".join(how)
    tested = fail[fail["result"] != "NO DATA"]
    if len(tested):
        text += f"; the difference is {tested['diff'].median():.3g} in the failing draws (median)"
        if len(good):
            text += f" against {good['diff'].median():.3g} in the passing ones"
    text += "."
    if len(good) < 2 or len(fail) < 2:
        return text + (" Too few passing draws to compare parameters: the posterior as a whole "
                       "lacks the pattern." if len(good) < 2 else
                       " Too few failing draws to compare parameters.")
    drivers = failure_drivers(per_draw, parameters)
    if drivers.empty:
        return text + (" No parameter separates the failing draws from the passing ones "
                       f"(rank AUC within {1 - PATTERN_DRIVER_AUC:.2f}-"
                       f"{PATTERN_DRIVER_AUC:.2f})"
                       + (": the failures look like simulation noise around a small effect."
                          if not wrong else "."))
    parts = [f"`{r.parameter}` ({'lower' if r.auc < 0.5 else 'higher'} in the failing draws: "
             f"median {r.failing_median:.3g} against {r.passing_median:.3g}, rank AUC "
             f"{r.auc:.2f})" for r in drivers.head(3).itertuples()]
    return (text + " The failing draws differ most in " + "; ".join(parts)
            + f" (descriptive: among {len(parameters)} parameters one can separate this well "
            "by chance; a lead to check, not a finding).")


def validate(config: CalibrationConfig, result: CalibrationResult | None, executor: Executor,
             draws: int | None = None, patterns: str | None = "patterns",
             pattern_replicates: int | None = None,
             pattern_draws: int | None = None,
             power_replicates: int | None = None) -> Validation:
    """Target coverage and pattern checks under the calibrated parameters.

    Args:
        config: The configuration.
        result: The calibration (None: the registry defaults).
        executor: An executor (opened here).
        draws: Posterior predictive draws (default the config's).
        patterns: Experiment of pattern checks, or None to skip them.
        pattern_replicates: Replicates per pattern design point (default the config's
            ``predictive.pattern_replicates`` or the experiment's, whichever is more; with
            more than the experiment's, the checks are also decided on its own, the first
            ones: :func:`at_experiment`).
        pattern_draws: Posterior draws whose pattern checks are also run (default, for a
            posterior, the predictive draws: the same parameter sets as the targets'
            intervals; 0 for a point estimate).
        power_replicates: Replicates of the follow-up of a check short of 90% of the
            draws (:func:`power_follow_up`; default :data:`POWER_FACTOR` times the
            check's, at most ``MAX_REPLICATES``; 0: none).

    Returns:
        The validation.
    """
    posterior = result is not None and len(result.draws) > 1
    if pattern_draws is None:
        pattern_draws = (draws or config.predictive.draws) if posterior else 0
    pats = per_draw = None
    with executor:
        targets = validate_targets(config, result, executor, draws)
        if patterns is not None:
            pats, per_draw = validate_patterns(
                result, executor, patterns, pattern_replicates,
                at_least=config.predictive.pattern_replicates, draws=pattern_draws,
                seed=config.predictive.seed, power_replicates=power_replicates)
    from pathways_sim.calibration.choice import describe

    return Validation(targets, pats, None if result is None else result.version,
                      describe(result), per_draw)
