"""The ``pathways-sim`` command line (the only module that reads command-line arguments).

Commands::

    pathways-sim run SCENARIO [--replicates N] [--seed S] [--weeks W] [--out DIR] [--overwrite]
                              [--json PATH] [--workers N] [--calibration DIR|none]
    pathways-sim scenarios list
    pathways-sim scenarios show NAME
    pathways-sim scenarios diff A B
    pathways-sim sweep EXPERIMENT [--out DIR] [--workers N | --scheduler ADDRESS |
                                  --dask-local N] [--resume] [--chunk-size K] [--dry-run]
                                  [--calibration DIR|none]
    pathways-sim report SWEEP_DIR [--out DIR] [--overwrite]
    pathways-sim workshop [SCENARIO] [--host H] [--port P] [--seed S] [--open]
                          [--calibration DIR|none]
    pathways-sim animate SCENARIO --out FILE [--overwrite] [--compare SCENARIO] [--seed S]
                         [--weeks W] [--every K] [--fps F] [--width PX] [--no-fan]

plus the calibration commands (:mod:`pathways_sim.calibration.cli`). Every
command takes ``--quiet``, and every command with a result ``--json PATH``;
the shared options are defined in :mod:`pathways_sim.cli_options` and the
conventions (defaults, output folders, exit codes) are in docs/cli.md.

``SCENARIO``/``NAME`` is a scenario name (a file in ``scenarios/``) or a path
to a scenario file. A bad scenario file, an unknown scenario name or an
out-of-range override prints ``error: <message>`` to stderr and exits with
status 2, without a traceback; bad options are reported by argparse (also
status 2). An unusable output path stops the command before it computes
anything (:mod:`pathways_sim.outdir`).
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pathways_sim.calibration.choice import calibration_line
from pathways_sim.calibration.cli import register_calibration_commands
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
from pathways_sim.defaults import DEFAULT_SEED
from pathways_sim.interrupt import describe as describe_interrupt
from pathways_sim.interrupt import exit_code as interrupt_exit_code
from pathways_sim.interrupt import handling_signals
from pathways_sim.manifest import build_manifest, package_version, write_manifest
from pathways_sim.outdir import (
    OutputError,
    check_output_file,
    check_output_folder,
    describe_os_error,
    staged_folder,
)
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
__all__ = ["DEFAULT_SEED", "build_parser", "main"]

_int_at_least = int_at_least


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
    add_seed(run, "root seed; replicate seeds are derived from it")
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
        help="output folder (default output/<scenario>); it must be new or empty unless "
        "--overwrite",
    )
    add_overwrite(run)
    add_calibration(run)
    add_json(run)
    add_workers(run)
    add_quiet(run)
    run.set_defaults(handler=cmd_run)

    scen = commands.add_parser(
        "scenarios", help="list, show or compare scenarios", description="Inspect scenarios."
    )
    scen_cmds = scen.add_subparsers(dest="scenarios_command", required=True, metavar="ACTION")
    lst = scen_cmds.add_parser("list", help="list the scenarios available by name")
    add_json(lst, "the list")
    add_quiet(lst)
    lst.set_defaults(handler=cmd_scenarios_list)
    show = scen_cmds.add_parser(
        "show", help="every parameter of a resolved scenario with unit, setter and source"
    )
    show.add_argument("name", metavar="NAME", help="scenario name or path")
    add_json(show, "the parameters")
    add_quiet(show)
    show.set_defaults(handler=cmd_scenarios_show)
    diff = scen_cmds.add_parser("diff", help="parameters that differ between two scenarios")
    diff.add_argument("a", metavar="A", help="first scenario name or path")
    diff.add_argument("b", metavar="B", help="second scenario name or path")
    add_json(diff, "the differences")
    add_quiet(diff)
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
    add_workers(where)
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on the Dask cluster of this scheduler (e.g. tcp://host:8786)")
    where.add_argument("--dask-local", type=_int_at_least(1, "dask-local"), default=None,
                       metavar="N", help="run on a Dask LocalCluster of N worker processes")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep in --out (same experiment), running only "
                       "what is missing")
    sweep.add_argument("--repair", action="store_true",
                       help="rebuild a lost or corrupt index.json/manifest.json of --out from "
                       "its intact parts (runs nothing; add --resume to continue after)")
    sweep.add_argument("--chunk-size", type=_int_at_least(1, "chunk-size"), default=None,
                       metavar="K", help="runs per Parquet part (default: about 50 parts, "
                       "10-200 runs each)")
    sweep.add_argument("--dry-run", action="store_true",
                       help="print the design points, the number of runs and an estimated "
                       "time (from a few runs timed on the spot), write nothing")
    add_calibration(sweep)
    add_json(sweep, "the summary (with --dry-run: the plan)")
    add_quiet(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    report = commands.add_parser(
        "report", help="write the report of a sweep's results folder",
        description="Write plots and a brief of a sweep's results folder.",
    )
    report.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR",
                        help="the results folder of a sweep (its --out)")
    report.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="report folder (default SWEEP_DIR/report); it must be new or "
                        "empty unless --overwrite")
    add_overwrite(report)
    add_json(report, "the list of files written")
    add_quiet(report)
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


UNDEFINED_WHY = {
    "cost_per_job_24m": "no cohort member found work within 24 months",
    "found_work_ratio_near_far_24m": "no cohort member in the closest or furthest third",
    "wait_weeks_median": "no one was assigned a Link Worker",
}
"""Why a metric can be undefined (n/a) in a replicate, for the notes under the table."""


def metric_notes(table: pd.DataFrame, replicates: int) -> list[str]:
    """A line for each metric undefined (n/a) in some replicates, saying in how many.

    Args:
        table: From :meth:`ReplicateSet.table` (with its ``n`` column).
        replicates: Replicates run.

    Returns:
        E.g. ``cost_per_job_24m: n/a in 1 of 10 replicates (no cohort member found
        work within 24 months); the mean and interval are over the other 9``.
    """
    notes = []
    for r in table.itertuples(index=False):
        n = int(r.n)
        if n >= replicates:
            continue
        why = UNDEFINED_WHY.get(r.metric)
        text = f"{r.metric}: n/a in {replicates - n} of {replicates} replicates"
        text += f" ({why})" if why else ""
        if n:
            text += f"; the mean and interval are over the other {n}"
        notes.append(text)
    return notes


def metric_table_text(table: pd.DataFrame, replicates: int | None = None) -> str:
    """The metric table as aligned text: metric, mean, 90% interval, unit.

    A metric undefined in some replicates (NaN, e.g. cost per job in a
    replicate where no one found work) is summarised over the others, and a
    note under the table says in how many replicates it was n/a: never silently.

    Args:
        table: From :meth:`ReplicateSet.table` (columns metric, n, mean, lo, hi, unit).
        replicates: Replicates run (default: the largest ``n``).

    Returns:
        The table, one line per metric, then the notes.
    """
    if replicates is None:
        replicates = int(table["n"].max()) if "n" in table and len(table) else 0
    rows = []
    for r in table.itertuples(index=False):
        interval = (
            "n/a"
            if math.isnan(r.lo) or math.isnan(r.hi)
            else f"{format_number(r.lo)} – {format_number(r.hi)}"
        )
        short = "n" in table and int(r.n) < replicates
        rows.append((r.metric + (" *" if short else ""), format_number(r.mean), interval, r.unit))
    text = _table(rows, ("metric", "mean", "90% interval", "unit"), right=(1, 2))
    notes = metric_notes(table, replicates) if "n" in table else []
    if notes:
        text += "\n\n" + "\n".join(f"* {line}" for line in notes)
    return text


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
        {"mean", "lo", "hi", "unit", "replicates_with_value"}}, "notes"}`` with NaN as
        None; ``notes`` says which metrics were n/a in some replicates; ``calibration``
        which calibration the replicates drew their parameters from (version, path,
        method, each replicate's draw and values), or ``version: "none"``.
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
                       "unit": r.unit, "replicates_with_value": int(r.n)}
            for r in table.itertuples(index=False)
        },
        "notes": metric_notes(table, len(reps)),
        "calibration": reps.calibration_record() or NO_CALIBRATION,
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
        summary.csv, ledger.csv, staffing.csv, stocks.csv, funnel.csv, stocks.png,
        funnel.png.
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
            "staffing.csv",
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
    reps.staffing_table().to_csv(files["staffing.csv"], index=False)
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


def _inside(path: Path, folder: Path) -> Path | None:
    """``path`` relative to ``folder`` when it lies inside it, else None."""
    try:
        return path.resolve().relative_to(folder.resolve())
    except ValueError:
        return None


NO_CALIBRATION = {"version": "none", "path": None, "method": None, "replicate_draws": "none",
                  "used": "the registry values (--calibration none, or no shipped calibration)"}
"""The manifest's ``calibration`` entry of runs without one."""


def _note(args: argparse.Namespace) -> Any:
    """Where a command's one-line notes go: stderr, unless --quiet."""
    return None if getattr(args, "quiet", False) else (
        lambda line: print(line, file=sys.stderr, flush=True))


def _print_run(base: Scenario, reps: ReplicateSet, table: pd.DataFrame, summary: dict[str, Any],
               calibration: Any, stdout: TextIO) -> None:
    print(f"Scenario: {base.name}" + (f" ({base.title})" if base.title else ""), file=stdout)
    print(
        f"Replicates: {len(reps)}; root seed {reps.root_seed}; "
        f"{summary['weeks']} weeks simulated",
        file=stdout,
    )
    print(f"Cohort (shares are of): {reps.cohort_description}", file=stdout)
    print(reps.staffing_line(), file=stdout)
    print(calibration_line(calibration, draws=True), file=stdout)
    print(file=stdout)
    print(metric_table_text(table, len(reps)), file=stdout)


def cmd_run(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim run``: run replicates, print the metric table, write outputs."""
    base = load_scenario(args.scenario)
    out = args.out if args.out is not None else DEFAULT_OUT / base.name
    # Every output path is checked before the simulation (and before the model's
    # libraries load), not after it.
    check_output_folder(out, overwrite=args.overwrite)
    json_in_out = None
    if args.json is not None and not json_to_stdout(args):
        json_in_out = _inside(args.json, out)
        if json_in_out is None:
            check_output_file(args.json)

    from pathways_sim.calibration.choice import resolve_calibration
    from pathways_sim.run import run_replicates, with_weeks

    calibration = resolve_calibration(args.calibration, note=_note(args))
    try:
        scenario = with_weeks(base, args.weeks)
    except ScenarioError as exc:
        raise ScenarioError("command line", "--weeks", exc.problem, exc.allowed) from None
    workers = workers_of(args)
    reps = run_replicates(
        scenario, args.replicates, root_seed=args.seed, workers=workers,
        progress=not args.quiet, calibration=calibration,
    )
    table = reps.table()
    summary = summary_json(base.name, reps, table)
    with staged_folder(out) as folder:
        files = write_outputs(reps, table, folder, base.name)
        if args.json is not None and not json_to_stdout(args):
            target = folder / json_in_out if json_in_out is not None else args.json
            write_json(summary, target, stdout)
            files.append(target)
        manifest = build_manifest(
            reps.scenario,
            reps.root_seed,
            reps.seeds,
            [PROG, *argv],
            extra={"scenario_requested": args.scenario, "cohort": reps.cohort_description,
                   "workers": workers, "prices": reps.prices(),
                   "calibration": reps.calibration_record() or NO_CALIBRATION},
        )
        write_manifest(folder / "manifest.json", manifest, files)

    if json_to_stdout(args):
        write_json(summary, args.json, stdout)
        return EXIT_OK
    _print_run(base, reps, table, summary, calibration, stdout)
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
    if args.json is not None:
        doc = []
        for name, description in entries:
            try:
                title = load_scenario(name).title
            except ScenarioError:
                title = None
            doc.append({"name": name, "title": title, "description": description})
        write_json(doc, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
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
    changed = sc.changed_from_defaults()
    if args.json is not None:
        params = {}
        for path, value in sc.values.items():
            param = sc.registry.get(path)
            params[path] = {"value": value, "unit": param.unit if param is not None else "",
                            "set_by": sc.set_by[path], "source": sc.sources[path],
                            "changed_from_default": path in changed}
        write_json({"name": sc.name, "title": sc.title, "description": sc.description,
                    "chain": list(sc.chain), "parameters": params}, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    _header(sc, stdout)
    sections: dict[str, list[str]] = {}
    for path in sc.values:
        sections.setdefault(path.split(".", 1)[0], []).append(path)
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
    if args.json is not None:
        write_json({"a": label_a, "b": label_b, "differences": [
            {"parameter": path, "a": va, "b": vb,
             "a_set_by": a.set_by.get(path), "b_set_by": b.set_by.get(path),
             "a_source": a.sources.get(path), "b_source": b.sources.get(path)}
            for path, va, vb in diffs]}, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
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


DRY_RUN_MAX_ROWS = 40
"""Design points ``sweep --dry-run`` lists before it elides the middle ones."""

DRY_RUN_TIMING_BUDGET = 5.0
"""Seconds ``sweep --dry-run`` spends at most timing sample runs (it times at least one)."""


def _sweep_dry_run(experiment: Any, args: argparse.Namespace, out: Path,
                   stdout: TextIO, calibration: Any) -> int:
    """``sweep --dry-run``: the design points, the runs and an estimated time; nothing written.

    The time is estimated from real runs timed here, in this process: the
    first, middle and last design points (one replicate each, stopping once
    :data:`DRY_RUN_TIMING_BUDGET` seconds are spent), their mean times the
    number of runs, divided by the local workers.
    """
    import time

    from pathways_sim.sweep.design import plan_sweep
    from pathways_sim.sweep.executors import Job, run_metrics
    from pathways_sim.sweep.progress import _duration

    plan = plan_sweep(experiment, calibration)
    roles = plan.roles()
    factor_names = sorted({k for p in plan.points for k in p.factors})
    points = [
        {"point_id": p.point_id, "role": p.role, "runs": p.scenario.name,
         **{k: p.factors.get(k) for k in factor_names}}
        for p in plan.points
    ]
    sample = sorted({0, len(plan.points) // 2, len(plan.points) - 1})
    # A short run first, untimed: the compiled weekly kernels load (or, after a fresh
    # install, compile) on a process's first run, which the sweep's workers pay once.
    first = plan.scenario_of(sample[0], 0)
    try:
        warm_up = first.with_changes({"run.weeks": 2}, name=first.name)
    except ScenarioError:  # a scenario whose other settings need more weeks: time it cold
        warm_up = None
    if warm_up is not None:
        run_metrics(Job(-1, warm_up, plan.seeds[0]))
    timed: list[float] = []
    spent = time.perf_counter()
    for pid in sample:
        t0 = time.perf_counter()
        run_metrics(Job(pid, plan.scenario_of(pid, 0), plan.seeds[0]))
        timed.append(time.perf_counter() - t0)
        if time.perf_counter() - spent > DRY_RUN_TIMING_BUDGET:
            break
    per_run = sum(timed) / len(timed)
    if args.scheduler is not None:
        workers, where = None, f"the Dask cluster at {args.scheduler}"
    elif args.dask_local is not None:
        workers, where = args.dask_local, f"a Dask LocalCluster of {args.dask_local} workers"
    else:
        workers = workers_of(args)
        where = f"{workers} local worker{'s' if workers > 1 else ''}"
    total = per_run * plan.total_runs
    estimate = total / workers if workers else None
    doc = {
        "experiment": experiment.name, "out": str(out), "design_points": len(plan.points),
        "roles": roles, "replicates": plan.replicates, "runs": plan.total_runs,
        "seconds_per_run": per_run, "runs_timed": len(timed), "workers": workers,
        "estimated_seconds": estimate, "cpu_seconds": total, "points": points,
        "calibration": plan.calibration_record() or NO_CALIBRATION,
    }
    if args.json is not None:
        write_json(doc, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(f"Sweep {experiment.name} (dry run: nothing run or written)", file=stdout)
    rows = [(str(p["point_id"]), p["role"], p["runs"],
             *(format_value(p[k]) if p[k] is not None else "-" for k in factor_names))
            for p in points]
    if len(rows) > DRY_RUN_MAX_ROWS:  # the whole design is in --json
        head, tail = rows[: DRY_RUN_MAX_ROWS - 5], rows[-5:]
        gap = ("…", f"{len(rows) - len(head) - len(tail)} more points (all in --json)",
               *("" for _ in factor_names), "")
        rows = [*head, gap[: 3 + len(factor_names)], *tail]
    print(_table(rows, ("point", "role", "runs scenario", *factor_names), right=(0,)),
          file=stdout)
    print(file=stdout)
    print(f"{len(plan.points)} design points ({roles['option']} options, {roles['baseline']} "
          f"baseline, {roles['counterfactual']} counterfactual) x {plan.replicates} replicates "
          f"= {plan.total_runs} runs", file=stdout)
    which = ", ".join(map(str, sample[:len(timed)]))
    rate = (f"{per_run:.2f} s per run, the mean of {len(timed)} run"
            f"{'s' if len(timed) > 1 else ''} timed here (design point"
            f"{'s' if len(timed) > 1 else ''} {which}); points with more clients take longer")
    if estimate is not None:
        print(f"Estimated time: about {_duration(estimate)} on {where}: {rate}", file=stdout)
    else:
        print(f"Estimated time: {_duration(total)} of one worker's time, divided by the "
              f"cluster's workers: {rate}", file=stdout)
    print(calibration_line(calibration, draws=True), file=stdout)
    print(f"Results would go to {out}", file=stdout)
    return EXIT_OK


def plan_draws(experiment: Any, calibration: Any) -> list[int]:
    """The posterior draw of each replicate of a sweep (the same at every design point)."""
    from pathways_sim.run import replicate_seeds

    return calibration.replicate_draws(replicate_seeds(experiment.seed, experiment.replicates))


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim sweep``: run (or resume) an experiment into a results folder."""
    from pathways_sim.outdir import is_disk_full
    from pathways_sim.sweep.executors import ExecutorError, make_executor
    from pathways_sim.sweep.experiment import load_experiment
    from pathways_sim.sweep.runner import repair_sweep, run_sweep

    experiment = load_experiment(args.experiment)
    out = args.out if args.out is not None else DEFAULT_OUT / "sweeps" / experiment.name
    # --calibration overrides the file's calibration: key; neither: the shipped calibration.
    calibration = experiment.calibration_result(args.calibration, note=_note(args))
    if args.dry_run:
        return _sweep_dry_run(experiment, args, out, stdout, calibration)
    resume_cmd = shlex.join([PROG, "sweep", args.experiment, "--out", str(out), "--resume",
                             *(["--calibration", args.calibration]
                               if args.calibration is not None else [])])
    if args.repair:
        rep = repair_sweep(experiment, out, chunk_size=args.chunk_size, command=[PROG, *argv],
                           calibration=calibration)
        lost = sum(len(v) for v in rep.dropped.values())
        print(f"Repaired {out}: rebuilt {', '.join(rep.rebuilt)}; {rep.runs_kept} of "
              f"{rep.total_runs} runs kept in intact parts"
              + (f"; {lost} damaged part(s) deleted" if lost else ""), file=stdout)
        if not args.resume:
            if rep.runs_kept < rep.total_runs:
                print(f"Run the rest with: {resume_cmd}", file=stdout)
            return EXIT_OK
    check_output_folder(out, resume=args.resume,
                        hint="continue it with --resume, or choose another --out")
    if args.json is not None and not json_to_stdout(args):
        check_output_file(args.json)
    executor = make_executor(workers=workers_of(args), scheduler=args.scheduler,
                             dask_local=args.dask_local)
    try:
        summary = run_sweep(experiment, out, executor, resume=args.resume,
                            chunk_size=args.chunk_size, command=[PROG, *argv],
                            progress=not args.quiet, calibration=calibration)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"finished parts are kept in {out}; continue with: {resume_cmd}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        print(f"error: {describe_os_error(exc)}; finished parts are kept in {out}; free some "
              f"space and continue with: {resume_cmd}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:  # Ctrl-C, or interrupt.Terminated (SIGTERM)
        if (out / "index.json").is_file():
            print(f"interrupted: finished parts are kept in {out}; continue with: "
                  f"{resume_cmd}", file=sys.stderr)
        else:  # stopped before the sweep's folder was set up: nothing to keep
            print("interrupted: before any run was written; nothing was kept", file=sys.stderr)
        return interrupt_exit_code(exc)
    doc = {"experiment": summary.experiment, "out": str(summary.out),
           "runs": summary.total_runs, "ran": summary.ran, "skipped": summary.skipped,
           "failed": summary.failed, "seconds": summary.seconds,
           "executor": summary.executor,
           "calibration": (calibration.record(plan_draws(experiment, calibration))
                           if calibration is not None else NO_CALIBRATION)}
    if args.json is not None:
        write_json(doc, args.json, stdout)
    if not json_to_stdout(args):
        print(
            f"Sweep {summary.experiment}: {summary.total_runs} runs "
            f"({summary.ran} run now, {summary.skipped} already done), {summary.failed} "
            f"failed, {summary.seconds:.1f} s on {summary.executor}",
            file=stdout,
        )
        print(calibration_line(calibration, draws=True), file=stdout)
        print(f"Results in {summary.out} (read with pathways_sim.sweep.results.load_sweep)",
              file=stdout)
    if summary.failed:
        print(f"warning: {summary.failed} runs raised; see {summary.out / 'parts' / 'errors'}",
              file=sys.stderr)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim report``: hand a sweep's folder to ``pathways_sim.report.brief``."""
    if not (args.sweep_dir / "manifest.json").is_file():
        if (args.sweep_dir / "index.json").is_file() or (args.sweep_dir / "parts").is_dir():
            raise ScenarioError(str(args.sweep_dir), "manifest.json", "is missing, though the "
                                "folder holds a sweep's parts", "rebuild it with: "
                                f"{PROG} sweep EXPERIMENT --out {args.sweep_dir} --repair")
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
    check_output_folder(out, overwrite=args.overwrite)
    if args.json is not None and not json_to_stdout(args):
        check_output_file(args.json)
    with staged_folder(out) as folder:
        written = write_report(args.sweep_dir, folder)
        if isinstance(written, str | os.PathLike):
            written = [written]
        files = [Path(f) for f in written or ()]
        files = sorted({*files, *(f for f in folder.rglob("*") if f.is_file())})
        # The manifest makes the folder a pathways-sim output: --overwrite may replace it.
        write_manifest(folder / "manifest.json", _report_manifest(args.sweep_dir, argv), files)
    shown = [out / Path(f).relative_to(folder) for f in written or ()]
    if args.json is not None:
        write_json({"report": str(out), "files": [str(f) for f in shown]}, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(f"Report written to {out}", file=stdout)
    for path in shown:
        print(f"  {path}", file=stdout)
    return EXIT_OK


def _report_manifest(sweep_dir: Path, argv: Sequence[str]) -> dict[str, Any]:
    """The manifest of a report folder: what it reports on, how it was made."""
    from datetime import UTC, datetime

    from pathways_sim.manifest import PACKAGE, git_state

    return {"package": PACKAGE, "package_version": package_version(PACKAGE),
            "report_of": str(sweep_dir.resolve()), "command": [PROG, *argv],
            "timestamp_utc": datetime.now(UTC).isoformat(timespec="seconds"), **git_state()}


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
    add_seed(workshop, "seed of the live runs (also settable on the page)")
    workshop.add_argument("--open", action="store_true",
                          help="open the page in the default browser once the server is up")
    add_calibration(workshop)
    add_quiet(workshop)
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
                         help="output file: .gif, or .mp4 where ffmpeg is installed; it must "
                         "not exist unless --overwrite")
    animate.add_argument("--overwrite", action="store_true",
                         help="replace an existing FILE (only once the new one is complete)")
    animate.add_argument("--compare", default=None, metavar="SCENARIO",
                         help="a second scenario shown beside the first (B), with A - B")
    add_seed(animate, "seed of the run(s)")
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
    add_json(animate, "what was written")
    add_quiet(animate)
    animate.set_defaults(handler=cmd_animate)


def cmd_workshop(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim workshop``: serve the workshop app until interrupted."""
    from pathways_sim.viz.server import OfflineAssetsMissing, PortInUse, serve

    if args.quiet:  # the address still prints (stdout); library warnings do not
        import warnings

        warnings.simplefilter("ignore")
        os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        serve(args.scenario, host=args.host, port=args.port, seed=args.seed,
              open_browser=args.open, calibration=args.calibration, quiet=args.quiet)
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # uvicorn exits 3 when it cannot bind (a port taken meanwhile)
        if exc.code == 3:
            print(f"error: {PortInUse(args.host, args.port)}", file=sys.stderr)
            return EXIT_USAGE
        raise
    except OfflineAssetsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_animate(args: argparse.Namespace, argv: Sequence[str], stdout: TextIO) -> int:
    """``pathways-sim animate``: write the board and charts of a run as frames."""
    from pathways_sim.viz.animate import AnimationError, animate

    out: Path = args.out
    if out.exists() and not out.is_dir() and not args.overwrite:
        raise OutputError(out, "exists; pass --overwrite to replace it, or choose another --out",
                          EXIT_USAGE)
    check_output_file(out, option="--out")
    if args.json is not None and not json_to_stdout(args):
        check_output_file(args.json)
    # Written beside the target and renamed at the end: a failed run leaves no
    # half-written file and keeps an earlier one.
    tmp = out.with_name(f".{out.stem}.partial-{os.getpid()}{out.suffix}")
    from pathways_sim.sweep.progress import Progress

    bar: Progress | None = None

    def tick(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress("animate", total, enabled=not args.quiet, unit="frame")
        bar.update()

    try:
        result = animate(args.scenario, tmp, compare=args.compare, seed=args.seed,
                         weeks=args.weeks, every=args.every, fps=args.fps, width=args.width,
                         fan=not args.no_fan, progress=tick)
        os.replace(tmp, out)
    except AnimationError as exc:
        print(f"error: {str(exc).replace(tmp.name, out.name)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if bar is not None:
            bar.close()
        tmp.unlink(missing_ok=True)
    width, height = result.size
    doc = {"path": str(out), "frames": result.frames, "width": width, "height": height,
           "weeks": result.weeks, "seed": args.seed}
    if args.json is not None:
        write_json(doc, args.json, stdout)
        if json_to_stdout(args):
            return EXIT_OK
    print(f"Animation written to {out}: {result.frames} frames of {width}x{height} "
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
        The exit status (docs/cli.md): 0 on success (also when stdout is a
        closed pipe, as in ``... | head``), 2 for bad input (usage errors,
        scenario errors, an output path of the wrong kind), 1 when outputs
        cannot be written or a computation fails, 130 after Ctrl-C (SIGINT)
        and 143 after SIGTERM.
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
            status = args.handler(args, args_list, sys.stdout)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
            return status
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. piped into `head`: the reader has what it wanted
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt as exc:  # Ctrl-C, or interrupt.Terminated (SIGTERM): 130 / 143
        print(f"interrupted: stopped by {describe_interrupt(exc)}",
              file=sys.stderr)
        return interrupt_exit_code(exc)
