"""The ``pathways-sim`` command line (the only module that reads command-line arguments).

Commands::

    pathways-sim run SCENARIO [--replicates N] [--seed S] [--weeks W] [--out DIR]
                              [--json PATH] [--workers N]
    pathways-sim scenarios list
    pathways-sim scenarios show NAME
    pathways-sim scenarios diff A B
    pathways-sim sweep EXPERIMENT [--out DIR] [--workers N | --scheduler ADDRESS |
                                  --dask-local N] [--resume] [--chunk-size K]
    pathways-sim report SWEEP_DIR [--out DIR]
    pathways-sim workshop [SCENARIO] [--host H] [--port P] [--seed S] [--open]
    pathways-sim animate SCENARIO --out FILE [--compare SCENARIO] [--seed S] [--weeks W]
                         [--every K] [--fps F] [--width PX] [--no-fan]

``SCENARIO``/``NAME`` is a scenario name (a file in ``scenarios/``) or a path
to a scenario file. A bad scenario file, an unknown scenario name or an
out-of-range override prints ``error: <message>`` to stderr and exits with
status 2, without a traceback; bad options are reported by argparse (also
status 2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pathways_sim.calibration.cli import register_calibration_commands
from pathways_sim.interrupt import describe as describe_interrupt
from pathways_sim.interrupt import exit_code as interrupt_exit_code
from pathways_sim.interrupt import handling_signals
from pathways_sim.manifest import build_manifest, package_version, write_manifest
from pathways_sim.scenario import (
    Scenario,
    ScenarioError,
    diff_scenarios,
    list_scenarios,
    load_scenario,
)

if TYPE_CHECKING:  # the model, pandas and matplotlib load only when a run needs them
    import pandas as pd

    from pathways_sim.run import ReplicateSet

PROG = "pathways-sim"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DEFAULT_REPLICATES = 10
DEFAULT_OUT = Path("output")
DEFAULT_SEED = 20261124  # the same as pathways_sim.run.DEFAULT_SEED (checked in tests)


# --------------------------------------------------------------------------- argument types


def _int_at_least(minimum: int, what: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {value}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pathways-sim`` command.

    Returns:
        The parser; ``args.handler`` is the function running the chosen command.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Agent-based simulation of pathways to work through UK social prescribing.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {package_version('pathways-sim')}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run replicates of a scenario and write outcome tables, figures and a manifest",
        description="Run replicates of a scenario; print a table of outcome metrics (mean and "
        "90% interval across replicates) and write outputs to --out.",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario name or path to a .yaml file")
    run.add_argument(
        "--replicates",
        type=_int_at_least(1, "replicates"),
        default=DEFAULT_REPLICATES,
        metavar="N",
        help=f"number of replicates (default {DEFAULT_REPLICATES})",
    )
    run.add_argument(
        "--seed",
        type=_int_at_least(0, "seed"),
        default=DEFAULT_SEED,
        metavar="S",
        help=f"root seed; replicate seeds are derived from it (default {DEFAULT_SEED})",
    )
    run.add_argument(
        "--weeks",
        type=_int_at_least(1, "weeks"),
        default=None,
        metavar="W",
        help="weeks to simulate, overriding the scenario's run.weeks",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default output/<scenario>)",
    )
    run.add_argument(
        "--calibrated",
        default=None,
        metavar="PATH",
        help="apply a calibration's point estimate (a folder written by 'pathways-sim "
        "calibrate', e.g. calibration/results/default) where the scenario file does not set "
        "the parameter; default: the registry defaults",
    )
    run.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the summary as JSON"
    )
    run.add_argument(
        "--workers",
        type=_int_at_least(1, "workers"),
        default=1,
        metavar="N",
        help="worker processes (default 1; results do not depend on it)",
    )
    run.set_defaults(handler=cmd_run)

    scen = commands.add_parser(
        "scenarios", help="list, show or compare scenarios", description="Inspect scenarios."
    )
    scen_cmds = scen.add_subparsers(dest="scenarios_command", required=True, metavar="ACTION")
    lst = scen_cmds.add_parser("list", help="list the scenarios available by name")
    lst.set_defaults(handler=cmd_scenarios_list)
    show = scen_cmds.add_parser(
        "show", help="every parameter of a resolved scenario with unit, setter and source"
    )
    show.add_argument("name", metavar="NAME", help="scenario name or path")
    show.set_defaults(handler=cmd_scenarios_show)
    diff = scen_cmds.add_parser("diff", help="parameters that differ between two scenarios")
    diff.add_argument("a", metavar="A", help="first scenario name or path")
    diff.add_argument("b", metavar="B", help="second scenario name or path")
    diff.set_defaults(handler=cmd_scenarios_diff)

    sweep = commands.add_parser(
        "sweep",
        help="run every design point of an experiment file into a results folder",
        description="Run an experiment (experiments/<name>.yaml): every design point x "
        "replicate, on a local process pool or a Dask cluster, streaming Parquet parts to "
        "--out. An interrupted sweep keeps every finished part; --resume runs what is missing.",
    )
    sweep.add_argument("experiment", metavar="EXPERIMENT",
                       help="experiment name (experiments/<name>.yaml) or path to a .yaml file")
    sweep.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="results folder (default output/sweeps/<experiment>)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_int_at_least(1, "workers"), default=None, metavar="N",
                       help="local worker processes (default: every core; 1 runs in process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on the Dask cluster of this scheduler (e.g. tcp://host:8786)")
    where.add_argument("--dask-local", type=_int_at_least(1, "dask-local"), default=None,
                       metavar="N", help="run on a Dask LocalCluster of N worker processes")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep in --out (same experiment), running only "
                       "what is missing")
    sweep.add_argument("--chunk-size", type=_int_at_least(1, "chunk-size"), default=None,
                       metavar="K", help="runs per Parquet part (default: about 50 parts, "
                       "10-200 runs each)")
    sweep.set_defaults(handler=cmd_sweep)

    report = commands.add_parser(
        "report", help="write the report of a sweep's results folder",
        description="Write plots and a brief of a sweep's results folder.",
    )
    report.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR",
                        help="the results folder of a sweep (its --out)")
    report.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="report folder (default SWEEP_DIR/report)")
    report.set_defaults(handler=cmd_report)
    register_calibration_commands(commands)
    add_viz_commands(commands)
    return parser


# --------------------------------------------------------------------------- formatting


def format_number(x: Any) -> str:
    """A metric value for a table: about 3 significant digits, thousands separated.

    Args:
        x: A number (NaN and None print as ``n/a``).

    Returns:
        The formatted value.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    v = float(x)
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.3g}"


def format_value(value: Any) -> str:
    """A parameter value as it would be written in a scenario file."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str], right: Sequence[int] = ()) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def metric_table_text(table: pd.DataFrame) -> str:
    """The metric table as aligned text: metric, mean, 90% interval, unit.

    Args:
        table: From :meth:`ReplicateSet.table` (columns metric, mean, lo, hi, unit).

    Returns:
        The table, one line per metric.
    """
    rows = []
    for r in table.itertuples(index=False):
        interval = (
            "n/a"
            if math.isnan(r.lo) or math.isnan(r.hi)
            else f"{format_number(r.lo)} – {format_number(r.hi)}"
        )
        rows.append((r.metric, format_number(r.mean), interval, r.unit))
    return _table(rows, ("metric", "mean", "90% interval", "unit"), right=(1, 2))


def _clean(x: Any) -> Any:
    """A float for JSON: NaN and infinities become None."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def summary_json(
    name: str, reps: ReplicateSet, table: pd.DataFrame | None = None
) -> dict[str, Any]:
    """The ``--json`` summary of a run.

    Args:
        name: The scenario name as requested.
        reps: The replicates.
        table: Their metric table (computed when None).

    Returns:
        ``{"scenario", "seed", "replicates", "weeks", "cohort", "metrics": {name:
        {"mean", "lo", "hi", "unit"}}}`` with NaN as None.
    """
    table = reps.table() if table is None else table
    return {
        "scenario": name,
        "seed": reps.root_seed,
        "replicates": len(reps),
        "weeks": int(reps.scenario.values["run.weeks"]),
        "cohort": reps.cohort_description,
        "metrics": {
            r.metric: {"mean": _clean(r.mean), "lo": _clean(r.lo), "hi": _clean(r.hi),
                       "unit": r.unit}
            for r in table.itertuples(index=False)
        },
    }


# --------------------------------------------------------------------------- commands


def write_outputs(
    reps: ReplicateSet, table: pd.DataFrame, out: Path, name: str | None = None
) -> list[Path]:
    """Write the tables and figures of a run into ``out``.

    Args:
        reps: The replicates.
        table: Their metric table.
        out: Output folder (created).
        name: Scenario name for figure titles (default the scenario's own).

    Returns:
        The files written: events.parquet, clients.parquet, metrics.csv,
        summary.csv, ledger.csv, stocks.csv, funnel.csv, stocks.png, funnel.png.
    """
    from pathways_sim.report.plots import plot_funnel, plot_stocks

    name = reps.scenario.name if name is None else name
    out.mkdir(parents=True, exist_ok=True)
    files = {
        file_name: out / file_name
        for file_name in (
            "events.parquet",
            "clients.parquet",
            "metrics.csv",
            "summary.csv",
            "ledger.csv",
            "stocks.csv",
            "funnel.csv",
            "stocks.png",
            "funnel.png",
        )
    }
    reps.events().to_parquet(files["events.parquet"], index=False)
    reps.clients().to_parquet(files["clients.parquet"], index=False)
    reps.metrics_frame().to_csv(files["metrics.csv"], index=False)
    table.to_csv(files["summary.csv"], index=False)
    reps.ledger().to_csv(files["ledger.csv"], index=False)
    reps.stocks_frame().to_csv(files["stocks.csv"], index=False)
    reps.funnel_frame().to_csv(files["funnel.csv"], index=False)
    plot_stocks(
        reps.stocks(),
        files["stocks.png"],
        title=f"Clients in each state of the pathway, by week: {name}",
    )
    plot_funnel(
        reps.funnel_shares(),
        files["funnel.png"],
        title=f"Pathway funnel: {name}",
        cohort=f"Share of the cohort: {reps.cohort_description}",
    )
    return list(files.values())


def cmd_run(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim run``: run replicates, print the metric table, write outputs."""
    from pathways_sim.run import run_replicates, with_weeks

    base = load_scenario(args.scenario)
    calibration = None
    if args.calibrated is not None and args.calibrated.lower() != "none":
        from pathways_sim.calibration.results import load_calibrated

        calibration = load_calibrated(args.calibrated)
        base = calibration.apply(base)
    try:
        scenario = with_weeks(base, args.weeks)
    except ScenarioError as exc:
        raise ScenarioError("command line", "--weeks", exc.problem, exc.allowed) from None
    reps = run_replicates(
        scenario, args.replicates, root_seed=args.seed, workers=args.workers, progress=True
    )
    table = reps.table()
    out = args.out if args.out is not None else DEFAULT_OUT / base.name
    files = write_outputs(reps, table, out, base.name)
    summary = summary_json(base.name, reps, table)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n",
                             encoding="utf-8")
        files.append(args.json)
    manifest = build_manifest(
        reps.scenario,
        reps.root_seed,
        reps.seeds,
        [PROG, *argv],
        extra={"scenario_requested": args.scenario, "cohort": reps.cohort_description,
               "workers": args.workers,
               "calibration": calibration.version if calibration is not None else None},
    )
    write_manifest(out / "manifest.json", manifest, files)

    print(f"Scenario: {base.name}" + (f" ({base.title})" if base.title else ""), file=stdout)
    print(
        f"Replicates: {len(reps)}; root seed {reps.root_seed}; "
        f"{summary['weeks']} weeks simulated",
        file=stdout,
    )
    print(f"Cohort (shares are of): {reps.cohort_description}", file=stdout)
    if calibration is not None:
        print(f"Calibrated values: {calibration.version} (where the scenario does not set them)",
              file=stdout)
    print(file=stdout)
    print(metric_table_text(table), file=stdout)
    print(file=stdout)
    print(f"Outputs written to {out}" + (f"; summary JSON {args.json}" if args.json else ""),
          file=stdout)
    return EXIT_OK


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)].rstrip() + "…"


def cmd_scenarios_list(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim scenarios list``: one line per scenario, name then title/description."""
    entries = list_scenarios()
    if not entries:
        print("no scenarios found", file=stdout)
        return EXIT_OK
    width = max(len(name) for name, _ in entries)
    columns = max(80, shutil.get_terminal_size((120, 24)).columns)
    for name, description in entries:
        try:
            title = load_scenario(name).title
        except ScenarioError:
            title = None
        text = f"{title}: {description}" if title else description
        print(f"{name:<{width}}  {_one_line(text, columns - width - 2)}", file=stdout)
    return EXIT_OK


def _header(sc: Scenario, stdout: TextIO) -> None:
    print(f"Scenario: {sc.name}" + (f" ({sc.title})" if sc.title else ""), file=stdout)
    print(f"Description: {sc.description}", file=stdout)
    chain = " -> ".join(sc.chain) if sc.chain else "(registry defaults only)"
    print(f"Files applied (first to last): {chain}", file=stdout)


def cmd_scenarios_show(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim scenarios show NAME``: every parameter, grouped by section."""
    sc = load_scenario(args.name)
    _header(sc, stdout)
    sections: dict[str, list[str]] = {}
    for path in sc.values:
        sections.setdefault(path.split(".", 1)[0], []).append(path)
    changed = sc.changed_from_defaults()
    print(
        f"{len(sc.values)} parameters in {len(sections)} sections; "
        f"{len(changed)} differ from the registry defaults (marked *).",
        file=stdout,
    )
    for section, paths in sections.items():
        print(f"\n[{section}]", file=stdout)
        rows = []
        for path in paths:
            param = sc.registry.get(path)
            key = path.split(".", 1)[1] + (" *" if path in changed else "")
            rows.append((
                key,
                format_value(sc.values[path]),
                param.unit if param is not None else "",
                sc.set_by[path],
                sc.sources[path],
            ))
        print(_table(rows, ("parameter", "value", "unit", "set by", "source"), right=(1,)),
              file=stdout)
    return EXIT_OK


def cmd_scenarios_diff(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim scenarios diff A B``: differing parameters with both values and sources."""
    a, b = load_scenario(args.a), load_scenario(args.b)
    diffs = diff_scenarios(a, b)
    label_a, label_b = a.name, b.name
    if label_a == label_b:
        label_a, label_b = f"A ({args.a})", f"B ({args.b})"
    if not diffs:
        print(f"{label_a} and {label_b}: no parameters differ", file=stdout)
        return EXIT_OK
    print(f"{len(diffs)} parameters differ between {label_a} and {label_b}:", file=stdout)
    for path, va, vb in diffs:
        param = a.registry.get(path) or b.registry.get(path)
        unit = f" [{param.unit}]" if param is not None else ""
        print(f"\n{path}{unit}", file=stdout)
        rows = [
            (
                label,
                "(not set)" if value is None else format_value(value),
                sc.set_by.get(path, "-"),
                sc.sources.get(path, "-"),
            )
            for label, sc, value in ((label_a, a, va), (label_b, b, vb))
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for label, shown, setter, source in rows:
            print(
                f"  {label:<{widths[0]}}  {shown:>{widths[1]}}  "
                f"set by {setter:<{widths[2]}}  source: {source}",
                file=stdout,
            )
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim sweep``: run (or resume) an experiment into a results folder."""
    from pathways_sim.sweep.executors import ExecutorError, make_executor
    from pathways_sim.sweep.experiment import load_experiment
    from pathways_sim.sweep.runner import run_sweep

    experiment = load_experiment(args.experiment)
    out = args.out if args.out is not None else DEFAULT_OUT / "sweeps" / experiment.name
    executor = make_executor(workers=args.workers, scheduler=args.scheduler,
                             dask_local=args.dask_local)
    try:
        summary = run_sweep(experiment, out, executor, resume=args.resume,
                            chunk_size=args.chunk_size, command=[PROG, *argv])
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"finished parts are kept in {out}; continue with --resume", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:  # Ctrl-C, or interrupt.Terminated (SIGTERM)
        print(f"interrupted: finished parts are kept in {out}; continue with --resume",
              file=sys.stderr)
        return interrupt_exit_code(exc)
    print(
        f"Sweep {summary.experiment}: {summary.total_runs} runs "
        f"({summary.ran} run now, {summary.skipped} already done), {summary.failed} failed, "
        f"{summary.seconds:.1f} s on {summary.executor}",
        file=stdout,
    )
    print(f"Results in {summary.out} (read with pathways_sim.sweep.results.load_sweep)",
          file=stdout)
    if summary.failed:
        print(f"warning: {summary.failed} runs raised; see {summary.out / 'parts' / 'errors'}",
              file=sys.stderr)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim report``: hand a sweep's folder to ``pathways_sim.report.brief``."""
    if not (args.sweep_dir / "manifest.json").is_file():
        raise ScenarioError(str(args.sweep_dir), None, "not a sweep results folder (no "
                            "manifest.json)", "the --out folder of pathways-sim sweep")
    try:
        from pathways_sim.report.brief import write_report
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name not in (
                "pathways_sim.report.brief", "pathways_sim.report"):
            raise  # a dependency of the report is missing: show it as it is
        print("error: reports of sweeps are not available in this version "
              "(pathways_sim.report.brief.write_report is missing); the results are in "
              f"{args.sweep_dir} (read with pathways_sim.sweep.results.load_sweep)",
              file=sys.stderr)
        return EXIT_FAILURE
    out = args.out if args.out is not None else args.sweep_dir / "report"
    written = write_report(args.sweep_dir, out)
    print(f"Report written to {out}", file=stdout)
    if isinstance(written, str | os.PathLike):
        written = [written]
    for path in written or ():
        print(f"  {path}", file=stdout)
    return EXIT_OK


# --------------------------------------------------------------------------- workshop app


def add_viz_commands(commands: Any) -> None:
    """Add the ``workshop`` and ``animate`` subcommands (:mod:`pathways_sim.viz`)."""
    workshop = commands.add_parser(
        "workshop",
        help="start the workshop app: pathway board, live charts, levers, A/B comparison",
        description="Start the workshop app (Mesa's SolaraViz, served by Solara from this "
        "install: no internet needed, telemetry off) and print its address. Stop it with "
        "Ctrl+C. A facilitator's guide is in docs/workshop.md.",
    )
    workshop.add_argument("scenario", metavar="SCENARIO", nargs="?", default="medium",
                          help="scenario the page starts from (default medium)")
    workshop.add_argument("--host", default="127.0.0.1", metavar="H",
                          help="address to listen on (default 127.0.0.1: this machine only; "
                          "0.0.0.0 lets other machines on the network connect)")
    workshop.add_argument("--port", type=_int_at_least(0, "port"), default=8765, metavar="P",
                          help="port to listen on (default 8765; 0 picks a free one)")
    workshop.add_argument("--seed", type=_int_at_least(0, "seed"), default=None, metavar="S",
                          help="seed of the live runs (default 1; also settable on the page)")
    workshop.add_argument("--open", action="store_true",
                          help="open the page in the default browser once the server is up")
    workshop.set_defaults(handler=cmd_workshop)

    animate = commands.add_parser(
        "animate",
        help="write a run's pathway board and charts as a GIF (or MP4) for offline decks",
        description="Run a scenario (and, with --compare, a second one beside it on the same "
        "seed) and write the workshop's board and live charts, with the fan of background "
        "replicates, as an animation. MP4 needs ffmpeg on the PATH.",
    )
    animate.add_argument("scenario", metavar="SCENARIO", help="scenario name or path (run A)")
    animate.add_argument("--out", type=Path, required=True, metavar="FILE",
                         help="output file: .gif, or .mp4 where ffmpeg is installed")
    animate.add_argument("--compare", default=None, metavar="SCENARIO",
                         help="a second scenario shown beside the first (B), with A - B")
    animate.add_argument("--seed", type=_int_at_least(0, "seed"), default=1, metavar="S",
                         help="seed of the run(s) (default 1)")
    animate.add_argument("--weeks", type=_int_at_least(1, "weeks"), default=None, metavar="W",
                         help="weeks to show (default the scenario's run.weeks)")
    animate.add_argument("--every", type=_int_at_least(1, "every"), default=2, metavar="K",
                         help="weeks between frames (default 2)")
    animate.add_argument("--fps", type=_int_at_least(1, "fps"), default=8, metavar="F",
                         help="frames per second (default 8)")
    animate.add_argument("--width", type=_int_at_least(200, "width"), default=1200,
                         metavar="PX", help="frame width in pixels (default 1200)")
    animate.add_argument("--no-fan", action="store_true",
                         help="leave out the fan of background replicates (faster)")
    animate.set_defaults(handler=cmd_animate)


def cmd_workshop(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim workshop``: serve the workshop app until interrupted."""
    from pathways_sim.viz.server import OfflineAssetsMissing, serve

    try:
        serve(args.scenario, host=args.host, port=args.port, seed=args.seed,
              open_browser=args.open)
    except OfflineAssetsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_animate(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim animate``: write the board and charts of a run as frames."""
    from pathways_sim.viz.animate import AnimationError, animate

    try:
        result = animate(args.scenario, args.out, compare=args.compare, seed=args.seed,
                         weeks=args.weeks, every=args.every, fps=args.fps, width=args.width,
                         fan=not args.no_fan)
    except AnimationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    width, height = result.size
    print(f"Animation written to {result.path}: {result.frames} frames of {width}x{height} "
          f"px, {result.weeks} weeks", file=stdout)
    return EXIT_OK


# --------------------------------------------------------------------------- entry point


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pathways-sim`` command.

    Args:
        argv: Arguments after the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for bad input (usage errors and
        scenario errors), 1 when outputs cannot be written, 130 after Ctrl-C
        (SIGINT) and 143 after SIGTERM.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        # Ctrl-C and SIGTERM raise KeyboardInterrupt / Terminated here (pathways_sim.interrupt);
        # run as the command (no argv), a second signal then cannot break the exit.
        with handling_signals(quiet_exit=argv is None):
            return args.handler(args, args_list, sys.stdout)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        _silence_stdout()
        return EXIT_FAILURE
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:  # Ctrl-C, or interrupt.Terminated (SIGTERM): 130 / 143
        print(f"interrupted: stopped by {describe_interrupt(exc)}",
              file=sys.stderr)
        return interrupt_exit_code(exc)
