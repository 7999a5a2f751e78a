"""``calibrate`` from start to finish: fit, posterior predictive, results folder, report.

:func:`calibrate` runs one method (:mod:`~pathways_sim.calibration.optuna_fit`
or :mod:`~pathways_sim.calibration.pyabc_fit`) on the configuration's ``fit``
targets, then simulates the posterior predictive of every target (``fit``
and ``validate``), and writes the results folder
(:mod:`~pathways_sim.calibration.results`), the report
(:mod:`~pathways_sim.calibration.report`) and the manifest.

Typical use::

    from pathways_sim.calibration.config import load_config
    from pathways_sim.calibration.fit import calibrate
    from pathways_sim.sweep.executors import make_executor

    result = calibrate(load_config("default"), "optuna", make_executor(workers=2))
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.calibration.config import CalibrationConfig, default_results_dir
from pathways_sim.calibration.objective import Problem
from pathways_sim.calibration.optuna_fit import JOURNAL, problem_fingerprint, run_optuna
from pathways_sim.calibration.predict import target_predictive
from pathways_sim.calibration.pyabc_fit import DB
from pathways_sim.calibration.results import POINT_FILE, CalibrationResult
from pathways_sim.integrity import LOCK_NAME, lock_folder
from pathways_sim.manifest import build_manifest, package_version, write_manifest
from pathways_sim.scenario import ScenarioError, default_scenario
from pathways_sim.sweep.executors import Executor

__all__ = ["METHODS", "calibrate", "is_calibration_folder", "results_folder"]

METHODS = ("pyabc", "optuna")
"""Calibration methods: the posterior by ABC-SMC (pyabc, the default) or a MAP point (Optuna)."""

LIBRARIES = ("pyabc", "optuna", "SALib", "numpy", "scipy", "pandas", "mesa")
"""Library versions recorded in a calibration's manifest."""


def results_folder(config: CalibrationConfig, out: Path | None = None) -> Path:
    """Where a configuration's results go: ``out`` or ``calibration/results/<name>``."""
    return Path(out) if out is not None else default_results_dir() / config.name


def is_calibration_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a calibration (finished or not) or nothing at all."""
    return (folder / POINT_FILE).exists() or (folder / JOURNAL).exists() or (
        folder / DB).exists() or not any(
        p.name != LOCK_NAME for p in folder.iterdir())


def _clear(folder: Path) -> None:
    """Remove an earlier results folder (only one that looks like ours)."""
    if not folder.exists():
        return
    if not is_calibration_folder(folder):
        raise ScenarioError(str(folder), None, "exists and is not a calibration results "
                            "folder; not overwriting it", "another --out")
    for child in folder.iterdir():  # all but the lock this calibration holds
        if child.name == LOCK_NAME:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


@contextlib.contextmanager
def _marks_interrupted(folder: Path, config: CalibrationConfig, problem: Problem, method: str,
                       budget: int | None, resume: bool, command: Sequence[str],
                       executor: str, started: float) -> Iterator[None]:
    """On Ctrl-C or SIGTERM inside, write a manifest whose status is "interrupted".

    The journal (Optuna) or saved generations (ABC) in the folder are what
    ``--resume`` continues; the manifest says the fit did not finish. Best
    effort: a failure to write it must not hide the interrupt.
    """
    try:
        yield
    except KeyboardInterrupt:  # includes pathways_sim.interrupt.Terminated (SIGTERM)
        if folder.is_dir():
            manifest = build_manifest(
                default_scenario(), config.seed, list(problem.seeds), list(command),
                extra={
                    "kind": "calibration",
                    "calibration": {"name": config.name, "version": None, "method": method,
                                    "budget": budget, "resumed": resume,
                                    "fingerprint": problem_fingerprint(problem),
                                    "status": "interrupted"},
                    "config": config.to_dict(),
                    "executor": executor,
                    "seconds": round(time.perf_counter() - started, 1),
                },
            )
            manifest["scenario"] = None
            with contextlib.suppress(OSError):
                write_manifest(folder / "manifest.json", manifest, [])
        raise


def calibrate(config: CalibrationConfig, method: str, executor: Executor,
              budget: int | None = None, out: Path | None = None, *,
              command: Sequence[str] = ("pathways-sim", "calibrate"),
              **options: Any) -> CalibrationResult:
    """Fit the configuration's ``fit`` targets and write the results folder, holding its lock.

    Only one process writes to a results folder at a time: a second
    ``calibrate`` into a folder a live one holds is refused at once
    (:class:`~pathways_sim.integrity.FolderBusy`, naming that process); the
    lock of a process that died is taken over.

    Args:
        config: The configuration.
        method: ``pyabc`` or ``optuna``.
        executor: An executor (opened here).
        budget: Trials or simulated parameter sets; default the config's.
        out: Results folder (default ``calibration/results/<name>``).
        command: The command line, for the manifest and the lock.
        **options: ``resume``, ``overwrite``, ``report`` and ``log``, as
            described below.

    Raises:
        FolderBusy: Another process is writing to the results folder.
    """
    with lock_folder(results_folder(config, out), command):
        return _calibrate(config, method, executor, budget, out, command=command, **options)


def _calibrate(config: CalibrationConfig, method: str, executor: Executor,
               budget: int | None = None, out: Path | None = None, resume: bool = False,
               overwrite: bool = False, command: Sequence[str] = ("pathways-sim", "calibrate"),
               report: bool = True, log: Callable[[str], None] = print) -> CalibrationResult:
    """Fit the configuration's ``fit`` targets and write the results folder (lock held).

    Args:
        config: The configuration.
        method: ``pyabc`` (posterior by ABC-SMC) or ``optuna`` (MAP point estimate).
        executor: An executor (opened here).
        budget: Trials (Optuna) or simulated parameter sets (pyabc); default the config's.
        out: Results folder (default ``calibration/results/<name>``).
        resume: Continue the fit stored in the folder.
        overwrite: Delete an earlier results folder first.
        command: The command line, for the manifest.
        report: Write the HTML and Markdown report.
        log: Where progress lines go.

    Returns:
        The calibration result (also saved in the folder).

    Raises:
        ScenarioError: Bad method, an existing folder without ``resume`` or
            ``overwrite``, or a study made for another problem.
    """
    if method not in METHODS:
        raise ScenarioError("command line", "--method", f"unknown method {method!r}",
                            "one of " + ", ".join(METHODS))
    folder = results_folder(config, out)
    if overwrite and not resume:
        _clear(folder)
    elif not resume and (folder / POINT_FILE).exists():
        raise ScenarioError(str(folder), None, "holds a calibration already",
                            "--resume to continue it, --overwrite to start again, or "
                            "another --out")
    problem = Problem(config)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    # On Ctrl-C or SIGTERM: the executor's workers stop, then the manifest says "interrupted".
    with _marks_interrupted(folder, config, problem, method, budget, resume, command,
                            executor.description, started), executor:
        runs = (f"{config.abc.replicates} run(s) of each scenario per particle, population "
                f"{config.abc.population}" if method == "pyabc" else
                f"{len(problem.seeds)} replicates per scenario")
        log(f"calibrate ({method}): {len(problem.targets)} fit targets in "
            f"{len(problem.groups)} scenarios, {len(problem.priors)} parameters "
            f"({len(problem.fitted_sites)} sites' client mix among them), {runs}, on "
            f"{executor.description}")
        if method == "optuna":
            fit = run_optuna(problem, executor, folder, budget=budget, resume=resume, log=log)
            point = fit.best_values
            draws = pd.DataFrame([{"draw": 0, "weight": 1.0, **point}])
            history = fit.trials
            diagnostics = {
                "method": "optuna", "trials": len(history), "best_trial": int(
                    history.loc[history["nll"].idxmin(), "trial"]) if len(history) else None,
                "best_nll": fit.best_nll, "resumed_from": fit.resumed_from,
                "sampler": "TPE (multivariate, constant liar)",
                "objective": "negative log posterior: NLL + the site deviations' "
                             "normal prior (a MAP point)",
                "note": "a point estimate: the posterior draws are the point alone, so "
                        "predictive intervals hold simulation and sampling noise, not "
                        "parameter uncertainty (use --method pyabc for that)",
            }
            point_nll = fit.best_nll
        else:
            from pathways_sim.calibration.pyabc_fit import run_pyabc

            abc = run_pyabc(problem, executor, folder, budget=budget, resume=resume, log=log)
            point, draws, history = abc.point, abc.draws, abc.particles
            diagnostics = abc.diagnostics
            [ev] = problem.evaluate([point], executor)
            point_nll = ev.nll
        timings["fit_seconds"] = time.perf_counter() - started
        result = CalibrationResult(
            name=config.name, method=method, priors=problem.priors, point=point,
            draws=draws, history=history, diagnostics=diagnostics, config=config.to_dict(),
            fingerprint=problem_fingerprint(problem), point_nll=point_nll)
        t0 = time.perf_counter()
        everything = Problem(config, targets=config.targets, replicates=1)
        pred = config.predictive
        log(f"posterior predictive: {pred.draws} draws of {len(everything.targets)} targets")
        result.fit, result.predictive = target_predictive(everything, result, executor,
                                                          pred.draws, pred.seed)
        timings["predictive_seconds"] = time.perf_counter() - t0
    result.diagnostics = {**result.diagnostics, **{k: round(v, 2) for k, v in timings.items()}}
    files = result.save(folder)
    if report:
        from pathways_sim.calibration.report import write_report

        files += write_report(result, folder)
    total = time.perf_counter() - started
    manifest = build_manifest(
        default_scenario(), config.seed, list(problem.seeds), list(command),
        extra={
            "kind": "calibration",
            "calibration": {"name": config.name, "version": result.version, "method": method,
                            "budget": budget, "resumed": resume,
                            "fingerprint": result.fingerprint, "status": "complete"},
            "targets_sha256": config.to_dict()["targets_sha256"],
            "priors_sha256": config.to_dict()["priors_sha256"],
            "config": config.to_dict(),
            "predictive_seeds_root": config.predictive.seed,
            "calibration_libraries": {lib: package_version(lib) for lib in LIBRARIES},
            "executor": executor.description,
            "seconds": round(total, 1),
            "timings": {k: round(v, 2) for k, v in timings.items()},
        },
    )
    # The default scenario is only a placeholder for build_manifest's required field.
    manifest["scenario"] = None
    write_manifest(folder / "manifest.json", manifest, files)
    inside = result.fit["inside"] if result.fit is not None else pd.Series(dtype=bool)
    fit_rows = result.fit[result.fit["role"] == "fit"] if result.fit is not None else None
    log(f"done in {total:.0f} s: point NLL {point_nll:.1f}; "
        f"{int(np.sum(fit_rows['inside'])) if fit_rows is not None else 0}/"
        f"{len(fit_rows) if fit_rows is not None else 0} fit targets inside their 90% "
        f"predictive interval ({int(inside.sum())}/{len(inside)} of all); results in {folder}")
    return result


def record_step(folder: Path, result: CalibrationResult, command: Sequence[str],
                files: Sequence[Path], seconds: float | None = None) -> None:
    """After ``validate`` (or its leave-one-site-out) wrote into a calibration's folder:
    re-render the report (it reads the validation and ``loso/`` files) and record the
    step in the manifest, with the checksums of every file it now describes.

    Args:
        folder: The calibration's results folder (holding ``manifest.json``).
        result: The calibration.
        command: The command line of the step.
        files: The files the step wrote.
        seconds: How long the step took (wall clock), when known: recorded as ``seconds``.
    """
    import json
    from datetime import UTC, datetime

    from pathways_sim.calibration.report import write_report

    manifest_file = folder / "manifest.json"
    if not manifest_file.is_file():
        return
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    before = [folder / name for name in manifest.pop("files", {})]
    report_files = write_report(result, folder)
    steps = list(manifest.get("steps", []))
    step: dict[str, Any] = {"command": list(command),
                            "timestamp_utc": datetime.now(UTC).isoformat(timespec="seconds")}
    if seconds is not None:
        step["seconds"] = round(float(seconds), 1)
    step["files"] = sorted(str(Path(f).resolve().relative_to(folder.resolve())) for f in files)
    steps.append(step)
    manifest["steps"] = steps
    keep: dict[str, Path] = {}
    for f in [*before, *files, *report_files]:
        p = Path(f)
        if p.is_file():
            keep[str(p.resolve())] = p
    write_manifest(manifest_file, manifest, list(keep.values()))
