"""The calibration commands of ``pathways-sim``: calibrate, predict, validate, sensitivity.

``pathways_sim.cli`` calls :func:`register_calibration_commands` with its
sub-parsers; each command's handler has the CLI's signature
``handler(args, argv, stdout) -> exit status``. Bad input raises
:class:`~pathways_sim.scenario.ScenarioError` (the CLI prints ``error: ...``
and exits with status 2); a failed simulation or executor returns 1.

Commands::

    pathways-sim calibrate [--method pyabc|optuna] [--budget N] [--config PATH]
                           [--workers N | --scheduler ADDRESS | --dask-local N]
                           [--resume | --overwrite] [--out DIR] [--json PATH] [--quiet]
    pathways-sim predict SCENARIO --observable NAME --window-months M [--json PATH]
                         [--cohort all|working_age|not_in_work] [--draws K]
                         [--calibration DIR|none] [--seed S] [--workers N] [--quiet]
    pathways-sim validate [--calibration DIR|none] [--config PATH] [--draws K]
                          [--patterns EXPERIMENT | --no-patterns] [--pattern-replicates N]
                          [--out DIR] [--workers N] [--json PATH] [--quiet]
    pathways-sim sensitivity [--method sobol|morris] [--budget N] [--calibration DIR|none]
                             [--scenario NAME] [--replicates R] [--out DIR] [--overwrite]
                             [--seed S] [--workers N] [--json PATH] [--quiet]

The options shared by every command (``--seed``, ``--workers``, ``--quiet``,
``--json``, ``--overwrite``, ``--calibration``) come from :mod:`pathways_sim.cli_options`;
which calibration a command uses is decided by
:func:`pathways_sim.calibration.choice.resolve_calibration`, as for every command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pathways_sim.cli_options import (
    add_calibration,
    add_json,
    add_overwrite,
    add_quiet,
    add_seed,
    add_workers,
    int_at_least,
    json_to_stdout,
    workers_of,
    write_json,
)
from pathways_sim.outdir import OutputError, check_output_file, check_output_folder
from pathways_sim.scenario import ScenarioError

__all__ = [
    "cmd_calibrate",
    "cmd_predict",
    "cmd_sensitivity",
    "cmd_validate",
    "register_calibration_commands",
]

PROG = "pathways-sim"
EXIT_OK, EXIT_FAILURE = 0, 1


_int_at_least = int_at_least

MAX_PATTERN_REPLICATES = 100
"""``--pattern-replicates`` at most: the config's ``predictive.pattern_replicates`` limit
(``pathways_sim.calibration.config.MAX_REPLICATES``; not imported here, so that the CLI starts
without loading the calibration; a test keeps the two equal)."""


def _months(text: str) -> float | None:
    if text.lower() in ("all", "none", "cumulative"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"window-months must be a number of months or "
                                         f"'all', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"window-months must be >= 0, got {value}")
    return value


def _executor_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    add_workers(where)
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on the Dask cluster of this scheduler (tcp://host:8786)")
    where.add_argument("--dask-local", type=_int_at_least(1, "dask-local"), default=None,
                       metavar="N", help="run on a Dask LocalCluster of N worker processes")


def register_calibration_commands(subparsers: Any) -> None:
    """Add ``calibrate``, ``predict``, ``validate`` and ``sensitivity`` to the CLI.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers`` returned; each
            command sets ``handler`` (``handler(args, argv, stdout) -> int``).
    """
    cal = subparsers.add_parser(
        "calibrate", help="fit the calibrated parameters to the reported counts",
        description="Fit the priors' parameters to the fit targets (calibration/targets.csv): "
        "a posterior by ABC-SMC (pyabc) or a MAP point with Optuna; writes the calibrated "
        "parameter set, its posterior predictive and a report to calibration/results/<name>/.")
    cal.add_argument("--method", choices=("pyabc", "optuna"), default="pyabc",
                     help="pyabc: posterior draws by ABC-SMC (default); optuna: a maximum a "
                     "posteriori point (quick)")
    cal.add_argument("--budget", type=_int_at_least(1, "budget"), default=None, metavar="N",
                     help="pyabc parameter sets simulated, or Optuna trials (default: the "
                     "config's)")
    cal.add_argument("--config", default="default", metavar="PATH",
                     help="calibration config: a name in calibration/configs/ or a .yaml path "
                     "(default 'default')")
    cal.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="results folder (default calibration/results/<config name>)")
    again = cal.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the fit stored in the results folder")
    again.add_argument("--overwrite", action="store_true",
                       help="delete an earlier calibration results folder and start again")
    _executor_options(cal)
    add_json(cal, "the calibrated parameters")
    add_quiet(cal)
    cal.set_defaults(handler=cmd_calibrate)

    pred = subparsers.add_parser(
        "predict", help="posterior predictive distribution of an observable in a scenario",
        description="Run a scenario once per posterior draw (each with its own seed) under "
        "the calibrated parameters and write the distribution of an observable's share k/n.")
    pred.add_argument("scenario", metavar="SCENARIO", help="scenario name or path")
    pred.add_argument("--observable", required=True, metavar="NAME",
                      help="an observable (pathways_sim.outcomes.observables.OBSERVABLES)")
    pred.add_argument("--window-months", required=True, type=_months, metavar="M",
                      help="months from each client's referral ('all': whole follow-up)")
    pred.add_argument("--cohort", choices=("all", "working_age", "not_in_work"), default="all")
    pred.add_argument("--draws", type=_int_at_least(1, "draws"), default=40, metavar="K",
                      help="posterior draws, one run each (default 40)")
    add_seed(pred, "root seed of the draws' seeds")
    add_json(pred, "{median, lo90, hi90, draws}")
    add_calibration(pred)
    _executor_options(pred)
    add_quiet(pred)
    pred.set_defaults(handler=cmd_predict)

    val = subparsers.add_parser(
        "validate", help="held-out targets' coverage and the patterns (docs/evidence.md §E4.8)",
        description="Under the calibrated parameters: is each target's observed share inside "
        "its 90% posterior predictive interval (held-out targets first), and do the "
        "patterns experiment's checks pass?")
    add_calibration(val)
    val.add_argument("--config", default=None, metavar="PATH",
                     help="calibration config for the targets (default: the calibration's own "
                     "config file, else 'default')")
    val.add_argument("--draws", type=_int_at_least(2, "draws"), default=None, metavar="K",
                     help="posterior predictive draws (default the config's)")
    pat = val.add_mutually_exclusive_group()
    pat.add_argument("--patterns", default="patterns", metavar="EXPERIMENT",
                     help="experiment whose checks are the patterns (default 'patterns')")
    pat.add_argument("--no-patterns", action="store_true", help="skip the pattern checks")
    val.add_argument("--pattern-replicates",
                     type=_int_at_least(2, "pattern-replicates", MAX_PATTERN_REPLICATES),
                     default=None, metavar="N",
                     help=f"replicates per pattern design point, 2 to {MAX_PATTERN_REPLICATES} "
                          "(default the calibration config's predictive.pattern_replicates "
                          "or the experiment's, whichever is more); "
                          "with more than the experiment's, each check is also decided on "
                          "its own replicates, the first ones")
    val.add_argument("--pattern-draws", type=_int_at_least(0, "pattern-draws"), default=None,
                     metavar="K", help="also run the pattern checks under K posterior draws "
                     "and report the share of draws each check passes in, with its 90%% "
                     "interval and, for a check below 90%%, the parameters its failing draws "
                     "depend on (default: the predictive draws, the same parameter sets as "
                     "the targets' intervals, for a posterior; 0 for a point estimate)")
    val.add_argument("--power-replicates",
                     type=_int_at_least(0, "power-replicates", MAX_PATTERN_REPLICATES),
                     default=None, metavar="N",
                     help="for a check passing in fewer than 90%% of the draws, test it "
                     "again in every draw with N replicates (the first ones its own) and "
                     "report that share: a small effect too few replicates miss, or one the "
                     "posterior lacks (default 4 times the pattern replicates, at most "
                     f"{MAX_PATTERN_REPLICATES}; 0 to skip)")
    val.add_argument("--leave-one-site-out", action="store_true",
                     help="cross-validation: refit without each site (calibration config "
                     "'sites') in turn and predict its targets; writes loso/ into the "
                     "calibration's folder (resumable: finished refits are kept)")
    val.add_argument("--population", type=_int_at_least(2, "population"), default=None,
                     metavar="N", help="with --leave-one-site-out: particles per generation "
                     "of each refit (default the config's abc.population)")
    val.add_argument("--max-minutes", type=float, default=None, metavar="M",
                     help="with --leave-one-site-out: time limit of each refit (default the "
                     "config's abc.max_minutes)")
    val.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="where to write validation.md/.json/.csv (default: the "
                     "calibration's folder, or output/validation); earlier validation files "
                     "there are replaced, nothing else is touched")
    _executor_options(val)
    add_json(val, "the validation summary and tables")
    add_quiet(val)
    val.set_defaults(handler=cmd_validate)

    sens = subparsers.add_parser(
        "sensitivity", help="global sensitivity of key outcomes to the calibrated parameters",
        description="Sobol or Morris sensitivity (SALib) of found_work_12m, "
        "stepping_stone_12m and support_ratio_near_far to the calibrated parameters over "
        "their prior ranges, on a reference scenario; writes a table and a plot.")
    sens.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    sens.add_argument("--budget", type=_int_at_least(1, "budget"), default=None, metavar="N",
                      help="model runs (default 512 for sobol, 280 for morris)")
    sens.add_argument("--scenario", default="medium", metavar="NAME",
                      help="reference scenario (default medium)")
    sens.add_argument("--replicates", type=_int_at_least(1, "replicates"), default=1,
                      metavar="R", help="runs averaged per sample (default 1)")
    sens.add_argument("--config", default="default", metavar="PATH",
                      help="config whose priors give the ranges when there is no calibration")
    add_seed(sens, "root seed of the runs' seeds")
    sens.add_argument("--out", type=Path, default=None, metavar="DIR",
                      help="output folder (default output/sensitivity/<method>); it must be "
                      "new or empty unless --overwrite")
    add_overwrite(sens)
    add_calibration(sens)
    _executor_options(sens)
    add_json(sens, "the indices")
    add_quiet(sens)
    sens.set_defaults(handler=cmd_sensitivity)


# --------------------------------------------------------------------------- helpers


def _executor(args: argparse.Namespace) -> Any:
    from pathways_sim.sweep.executors import make_executor

    return make_executor(workers=workers_of(args), scheduler=args.scheduler,
                         dask_local=args.dask_local)


def _check_folder(out: Path, overwrite: bool = False, resume: bool = False,
                  hint: str | None = None) -> None:
    """:func:`check_output_folder`; bad input (exit 2) as a ScenarioError, like every input."""
    try:
        check_output_folder(out, overwrite=overwrite, resume=resume, hint=hint)
    except OutputError as exc:
        if exc.exit_code == 2:
            raise ScenarioError(exc.path, None, exc.problem) from None
        raise


def _check_json(args: argparse.Namespace) -> None:
    if args.json is not None and not json_to_stdout(args):
        try:
            check_output_file(args.json)
        except OutputError as exc:
            if exc.exit_code == 2:
                raise ScenarioError(exc.path, None, exc.problem) from None
            raise


class _Counted:
    """An executor that shows the progress of each batch of jobs handed to it.

    ``validate`` runs a batch of posterior predictive runs, then a batch of
    pattern runs; each batch gets the sweep's progress display
    (:class:`~pathways_sim.sweep.progress.Progress`: a bar on a terminal, a
    line every 10% or 30 s elsewhere, nothing with ``--quiet``).
    """

    def __init__(self, inner: Any, label: str, enabled: bool) -> None:
        self.inner, self.label, self.enabled = inner, label, enabled
        self._batch = 0

    @property
    def workers(self) -> int:
        return int(self.inner.workers)  # a Dask cluster knows its size once open

    @property
    def description(self) -> str:
        return str(self.inner.description)

    def __enter__(self) -> _Counted:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.__exit__(*exc)

    def imap_unordered(self, fn: Any, items: Any) -> Any:
        from pathways_sim.sweep.progress import Progress

        items = list(items)
        self._batch += 1
        label = self.label if self._batch == 1 else f"{self.label}, batch {self._batch}"
        bar = Progress(label, len(items), enabled=self.enabled)
        try:
            for result in self.inner.imap_unordered(fn, items):
                bar.update(1, failed=int(getattr(result, "error", None) is not None))
                yield result
        finally:
            bar.close()


def _calibration(args: argparse.Namespace) -> Any:
    """The calibration of ``--calibration`` (the shipped one by default; None: registry)."""
    from pathways_sim.calibration.choice import resolve_calibration

    note = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    return resolve_calibration(args.calibration, note=note)


def _run(fn: Any, *a: Any, **kw: Any) -> Any:
    """Call ``fn``; turn executor and simulation failures into (message, status 1)."""
    from pathways_sim.calibration.objective import CalibrationError
    from pathways_sim.sweep.executors import ExecutorError

    try:
        return fn(*a, **kw), None
    except (ExecutorError, CalibrationError, RuntimeError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        return None, str(exc)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILURE


# --------------------------------------------------------------------------- handlers


def cmd_calibrate(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim calibrate``: fit, posterior predictive, results folder and report."""
    from pathways_sim.calibration.config import load_config
    from pathways_sim.calibration.fit import calibrate, is_calibration_folder, results_folder
    from pathways_sim.integrity import lock_folder
    from pathways_sim.outdir import describe_os_error, is_disk_full, staged_folder

    config = load_config(args.config)
    folder = results_folder(config, args.out)
    # Before any simulation: the folder must be writable, and a non-empty one is
    # continued (--resume) or replaced (--overwrite).
    _check_folder(folder, resume=args.resume or args.overwrite,
                  hint="--resume to continue it, --overwrite to start again, or another --out")
    _check_json(args)
    replacing = (args.overwrite and not args.resume and folder.is_dir()
                 and any(folder.iterdir()))
    if replacing and not is_calibration_folder(folder):
        raise ScenarioError(str(folder), None, "exists and is not a calibration results "
                            "folder; not overwriting it", "another --out")
    resume_cmd = shlex.join([PROG, "calibrate", *(a for a in argv[1:] if a != "--overwrite"),
                             *([] if args.resume else ["--resume"])])
    kept = (f"the earlier calibration in {folder} is unchanged (the new fit was discarded); "
            "run the command again" if replacing else
            f"finished trials/generations are kept in {folder}; continue with: {resume_cmd}")

    def log(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    class _Failed(Exception):
        pass

    try:
        # --overwrite fits into a sibling folder, swapped in only once the fit is complete:
        # a failed or interrupted fit leaves the earlier calibration as it was. The folder
        # being replaced stays locked meanwhile, so no other calibrate writes to it.
        with (lock_folder(folder, [PROG, *argv]) if replacing else contextlib.nullcontext(),
              staged_folder(folder) if replacing else contextlib.nullcontext(folder) as target):
            result, err = _run(calibrate, config, args.method, _executor(args),
                               budget=args.budget, out=target, resume=args.resume,
                               overwrite=args.overwrite and not replacing,
                               command=[PROG, *argv], log=log)
            if err:
                raise _Failed(err)
    except _Failed as exc:
        return _fail(f"{exc}\n{kept}")
    except KeyboardInterrupt as exc:  # Ctrl-C, or interrupt.Terminated (SIGTERM)
        from pathways_sim.interrupt import exit_code

        print(f"interrupted: {kept}", file=sys.stderr)
        return exit_code(exc)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        return _fail(f"{describe_os_error(exc)}; free some space; {kept}")
    if replacing:
        result.path = folder
    assert result is not None and result.path is not None
    summary = result.summary()
    if args.json is not None:
        write_json({"version": result.version, "method": result.method,
                    "folder": str(result.path),
                    "parameters": json.loads(summary.to_json(orient="records"))},
                   args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(f"Calibrated parameters ({result.version}):", file=stdout)
    for r in summary.itertuples(index=False):
        interval = "" if result.method == "optuna" else f"  90% {r.lo90:.4g}-{r.hi90:.4g}"
        print(f"  {r.parameter:<32} {r.point:.4g}{interval}  (prior {r.low:g}-{r.high:g})",
              file=stdout)
    print(f"Report: {result.path / 'report.html'} and {result.path / 'report.md'}", file=stdout)
    return EXIT_OK


def cmd_predict(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim predict``: posterior predictive of one observable in one scenario."""
    from pathways_sim.calibration.predict import predict_observable
    from pathways_sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    result = _calibration(args)
    _check_json(args)
    executor = _Counted(_executor(args), "predict", enabled=not args.quiet)

    def go() -> dict[str, Any]:
        with executor:
            return predict_observable(scenario, args.observable, args.window_months,
                                      args.cohort, result, executor, args.draws, args.seed)

    out, err = _run(go)
    if err:
        return _fail(err)
    assert out is not None
    out["command"] = [PROG, *argv]
    if args.json is not None:
        write_json(out, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    window = "whole follow-up" if args.window_months is None else f"{args.window_months:g} months"
    print(f"{args.observable} ({args.cohort}, {window}) in {scenario.name} under "
          f"{out['calibration'] or 'the registry defaults'}, {args.draws} draws, root seed "
          f"{args.seed}:", file=stdout)
    print(f"  median  {out['median']:.4g}", file=stdout)
    print(f"  90% interval  {out['lo90']:.4g} - {out['hi90']:.4g}", file=stdout)
    if args.json is not None:
        print(f"Written to {args.json}", file=stdout)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim validate``: target coverage and pattern checks under a calibration."""
    from pathways_sim.calibration.config import load_config
    from pathways_sim.calibration.validate import validate
    from pathways_sim.integrity import lock_folder

    result = _calibration(args)
    if args.config is not None:
        config = load_config(args.config)
    elif result is not None and result.config.get("file") and Path(
            result.config["file"]).is_file():
        config = load_config(result.config["file"])
    else:
        config = load_config("default")
    patterns = None if args.no_patterns else args.patterns
    out = Path(args.out or (result.path if result is not None and result.path is not None
                            else Path("output") / "validation"))
    # validate adds its own files to the folder (by default the calibration's), so a
    # non-empty folder is fine; it must be writable before the runs start.
    _check_folder(out, resume=True)
    _check_json(args)
    executor = _Counted(_executor(args), "validate", enabled=not args.quiet)
    # One writer at a time: the folder's lock from before the runs until the files are
    # written, so a calibrate --resume cannot rewrite the calibration meanwhile (it is
    # refused, naming this process), and validate is refused while a calibrate writes.
    started = time.monotonic()
    with lock_folder(out, [PROG, *argv]):
        if args.leave_one_site_out:
            return _leave_one_site_out(args, argv, config, result, out, executor, stdout,
                                       started)
        report, err = _run(validate, config, result, executor, draws=args.draws,
                           patterns=patterns, pattern_replicates=args.pattern_replicates,
                           pattern_draws=args.pattern_draws,
                           power_replicates=args.power_replicates)
        if err:
            return _fail(err)
        assert report is not None
        files = report.write(out)
        _record_step(out, result, argv, files, started)
        summary = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    if args.json is not None:
        write_json(summary, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(report.markdown(), file=stdout)
    print(f"Written to {out}/validation.md (.json, .csv)", file=stdout)
    return EXIT_OK


def _record_step(out: Path, result: Any, argv: Sequence[str], files: Sequence[Path],
                 started: float | None = None) -> None:
    """In a calibration's own folder: re-render its report and record the step in its manifest
    (with its duration since ``started``, a :func:`time.monotonic` reading, when given)."""
    if result is None or result.path is None or Path(result.path).resolve() != out.resolve():
        return
    from pathways_sim.calibration.fit import record_step

    seconds = None if started is None else time.monotonic() - started
    record_step(out, result, [PROG, *argv], files, seconds=seconds)


def _leave_one_site_out(args: argparse.Namespace, argv: Sequence[str], config: Any,
                        result: Any, out: Path, executor: Any, stdout: TextIO,
                        started: float | None = None) -> int:
    """``validate --leave-one-site-out``: refit without each site, predict it, write loso/."""
    from pathways_sim.calibration.loso import leave_one_site_out

    if not config.sites:
        return _fail(ScenarioError(str(config.file), "sites", "the configuration has no sites "
                                   "to leave out", "a 'sites:' mapping and 'site_parameters'"))
    if result is not None and result.config.get("sites") not in (None, config.sites.to_dict()):
        return _fail(ScenarioError(str(config.file), "sites", "differ from the sites of the "
                                   f"calibration {result.version} (its config.json)",
                                   "the configuration the calibration was fitted with"))

    def go() -> Any:
        with executor:
            return leave_one_site_out(
                config, result, executor, out, population=args.population,
                max_minutes=args.max_minutes, draws=args.draws,
                log=(lambda line: None) if args.quiet else
                (lambda line: print(line, file=sys.stderr)))

    res, err = _run(go)
    if err:
        return _fail(err)
    table, summary = res
    from pathways_sim.calibration.loso_io import FOLDER, SUMMARY, TARGETS

    _record_step(out, result, argv, [out / FOLDER / TARGETS, out / FOLDER / SUMMARY], started)
    if args.json is not None:
        write_json({"summary": summary, "targets": json.loads(table.to_json(orient="records"))},
                   args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(f"Leave-one-site-out: {summary['covered']}/{summary['targets']} targets inside their "
          f"90% predictive interval ({summary['minutes']:.1f} min)", file=stdout)
    for site, s in summary["sites"].items():
        print(f"  {site}: {s['covered']}/{s['targets']}", file=stdout)
    print(f"Written to {out}/{FOLDER}/", file=stdout)
    return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim sensitivity``: Sobol or Morris indices over the priors' ranges."""
    from pathways_sim.calibration.config import load_config
    from pathways_sim.calibration.sensitivity import run_sensitivity
    from pathways_sim.outdir import staged_folder
    from pathways_sim.scenario import load_scenario

    result = _calibration(args)
    priors = result.priors if result is not None else load_config(args.config).priors
    scenario = load_scenario(args.scenario)
    out = Path(args.out or Path("output") / "sensitivity" / args.method)
    _check_folder(out, overwrite=args.overwrite)
    _check_json(args)
    executor = _Counted(_executor(args), "sensitivity", enabled=not args.quiet)

    def go() -> Any:
        # Into a sibling folder when replacing an earlier output, swapped in at the end.
        with executor, staged_folder(out) as folder:
            return run_sensitivity(scenario, priors, executor, method=args.method,
                                   budget=args.budget, calibration=result,
                                   replicates=args.replicates, seed=args.seed, out=folder,
                                   command=[PROG, *argv])

    sens, err = _run(go)
    if err:
        return _fail(err)
    assert sens is not None
    if args.json is not None:
        write_json(json.loads((out / "sensitivity.json").read_text(encoding="utf-8")),
                   args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(sens.text(), file=stdout)
    print(f"Written to {out} (sensitivity.csv, sensitivity.png, sensitivity.md)", file=stdout)
    return EXIT_OK
