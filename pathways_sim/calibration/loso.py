"""Leave-one-site-out cross-validation: does the model predict a service it was not fitted on?

For each site of the configuration (:mod:`pathways_sim.calibration.sites`) in turn:

1. drop every target of the site (fitted and held out) from the configuration;
2. refit the posterior with pyabc on the other sites' fit targets (the left-out
   site then has no fitted client-mix deviation), with the configuration's settings
   but no final large generation (the refit serves predictive draws, not a large
   posterior sample), and optionally a smaller population and a time limit;
3. predict each of the site's targets with that posterior: parameter draws, a
   fresh deviation of the site's client mix from the between-site prior (the
   way a new service is predicted), simulation noise, and the sampling noise
   of the reported cohort (:func:`~pathways_sim.calibration.predict.target_predictive`);
4. a target is covered when its observed share lies inside the 90% posterior
   predictive interval (a pattern bound: when the simulated median meets it).

A site with no fitted target (its only figures held out) needs no refit: the full
posterior never saw it, so its prediction is the full fit's.

Each refit is kept in ``loso/<site>/`` of the full fit's results folder (pyabc's
history database, draws, diagnostics), so an interrupted cross-validation resumes
where it stopped; the table and summary go through
:mod:`pathways_sim.calibration.loso_io` (``loso/loso_targets.csv``,
``loso/loso_summary.json``), which the calibration report reads.

Typical use::

    table, summary = leave_one_site_out(config, full_result, executor, folder)
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pathways_sim.calibration.config import CalibrationConfig
from pathways_sim.calibration.loso_io import FOLDER, write_loso
from pathways_sim.calibration.objective import Problem
from pathways_sim.calibration.optuna_fit import problem_fingerprint
from pathways_sim.calibration.predict import target_predictive
from pathways_sim.calibration.pyabc_fit import DB, FINGERPRINT, pyabc_fingerprint, run_pyabc
from pathways_sim.calibration.results import POINT_FILE, CalibrationResult, load_calibrated
from pathways_sim.sweep.executors import Executor

__all__ = ["leave_one_site_out", "site_targets"]


def site_targets(config: CalibrationConfig, site: str) -> tuple:
    """The targets (fit and held out) read from the site's scenarios."""
    return tuple(t for t in config.targets if config.sites.site_of(t.scenario) == site)


def _refit(config: CalibrationConfig, site: str, executor: Executor, folder: Path,
           settings: Any, log: Callable[[str], None]) -> CalibrationResult:
    """The posterior without the site (loaded when an identical refit is on disk)."""
    kept = tuple(t for t in config.targets if config.sites.site_of(t.scenario) != site)
    cfg = dataclasses.replace(config, name=f"{config.name}-without-{site}", targets=kept,
                              abc=settings)
    problem = Problem(cfg)
    fingerprint = problem_fingerprint(problem)
    expected = pyabc_fingerprint(problem, settings)
    if (folder / POINT_FILE).is_file():
        done = load_calibrated(folder)
        if done.diagnostics.get("pyabc_fingerprint") == expected:
            log(f"loso: {site}: the refit in {folder} is done; using it")
            return done
    stamp = folder / FINGERPRINT
    if folder.is_dir() and (not stamp.is_file()
                            or stamp.read_text(encoding="utf-8").strip() != expected):
        # A refit of another problem or other settings: this folder is the cross-validation's
        # own cache, so start that site again.
        log(f"loso: {site}: {folder} holds a refit with other settings; starting it again")
        shutil.rmtree(folder)
    resume = (folder / DB).is_file()
    fit = run_pyabc(problem, executor, folder, resume=resume,
                    log=lambda line: log(f"loso: {site}: {line}"))
    result = CalibrationResult(
        name=cfg.name, method="pyabc", priors=problem.priors, point=fit.point,
        draws=fit.draws, history=fit.particles, diagnostics=fit.diagnostics,
        config=cfg.to_dict(), fingerprint=fingerprint)
    result.save(folder)
    return result


def leave_one_site_out(config: CalibrationConfig, full: CalibrationResult | None,
                       executor: Executor, folder: Path, *, population: int | None = None,
                       max_minutes: float | None = None, draws: int | None = None,
                       log: Callable[[str], None] = print) -> tuple[pd.DataFrame, dict]:
    """Refit without each site and predict its targets; write ``loso/`` into ``folder``.

    Args:
        config: The configuration of the full fit (its sites, targets and settings).
        full: The full fit (used for sites with no fitted target), or None.
        executor: An open executor.
        folder: The full fit's results folder (``loso/`` is written in it).
        population: Particles per generation of each refit (default the config's).
        max_minutes: Time limit of each refit (default the config's).
        draws: Posterior predictive draws per site (default the config's).
        log: Where progress lines go.

    Returns:
        ``(table, summary)``: one row per target of every site (``site``, ``target``,
        ``scenario``, ``observed``, ``median``, ``lo90``, ``hi90``, ``inside``) and the
        summary written beside it.
    """
    started = time.perf_counter()
    # A refit serves the site's predictive draws, not a large posterior sample: no final
    # generation at the last tolerance (its population is the last shrinking one's).
    settings = dataclasses.replace(
        config.abc, final_population=None,
        **({"population": population} if population else {}),
        **({"max_minutes": max_minutes} if max_minutes else {}))
    pred = config.predictive
    k = draws or pred.draws
    rows = []
    per_site: dict[str, Any] = {}
    for site in config.sites.names:
        held = site_targets(config, site)
        if not held:
            continue
        t0 = time.perf_counter()
        fitted = [t for t in held if t.role == "fit"]
        if fitted:
            result = _refit(config, site, executor, folder / FOLDER / site, settings, log)
            how = "refitted without the site"
        else:
            if full is None:
                continue
            result = full
            how = "no fitted target: the full fit never saw it"
        problem = Problem(config, targets=held, replicates=1)
        table, _ = target_predictive(problem, result, executor, k, pred.seed)
        for r in table.itertuples(index=False):
            rows.append({"site": site, "target": r.target, "scenario": r.scenario,
                         "observed": r.observed, "median": r.ppi_median, "lo90": r.ppi_lo90,
                         "hi90": r.ppi_hi90, "inside": bool(r.inside)})
        covered = int(table["inside"].sum())
        per_site[site] = {"how": how, "minutes": round((time.perf_counter() - t0) / 60, 2),
                          "ess": result.diagnostics.get("final_ess")}
        log(f"loso: {site}: {covered}/{len(table)} targets covered ({how}; "
            f"{per_site[site]['minutes']:.1f} min)")
    out = pd.DataFrame(rows, columns=["site", "target", "scenario", "observed", "median",
                                      "lo90", "hi90", "inside"])
    summary = {"minutes": round((time.perf_counter() - started) / 60, 2),
               "calibration": None if full is None else full.version,
               "population": settings.population, "max_minutes": settings.max_minutes,
               "draws": k, "per_site": per_site}
    write_loso(folder, out, summary)
    from pathways_sim.calibration.loso_io import read_loso

    loso = read_loso(folder)
    return out, (loso.summary if loso is not None else summary)
