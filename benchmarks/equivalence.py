"""Statistical equivalence of two versions of the model: same seeds, same metrics.

Issue 9 replaces the model's weekly work with compiled kernels. Those kernels
may draw random numbers in a different order or sum floats in a different
order, so a run is no longer bit-identical to the old code; what must not
change is what the model says. This script checks that, scenario by scenario
and metric by metric, over many seeds:

1. ``--save REF.json`` runs every scenario with N seeds on the current code and
   records every required metric of every run (``pathways_sim.outcomes.METRICS``,
   computed exactly as ``pathways-sim run`` does: :func:`pathways_sim.run.run_one`),
   with the git commit, the versions and the seeds.
2. ``--compare REF.json`` reruns the same scenarios with the same seeds on the
   current code and prints, per scenario, each metric's mean before and after,
   the difference, its 99% interval, and a verdict.

Statistics. The seeds are the same before and after, so the runs are paired
(common random numbers: a run's seed fixes its draws). For each metric the
difference is taken seed by seed, d_i = after_i - before_i, and its mean gets a
two-sided 99% Student-t interval, mean(d) +- t(0.995, n-1) sd(d) / sqrt(n). A
metric **passes** when that interval contains 0, or when the difference is
within 1% of the before mean (|mean(d)| <= 0.01 |mean before|: with common
random numbers the interval can be much narrower than any difference that
matters). Seeds where either run has no value (NaN: a share of an empty group)
are left out of the pairs; a metric with values on one side and none on the
other fails. The script exits 1 when any metric fails.

Usage (from the repository root)::

    .venv/bin/python benchmarks/equivalence.py --save benchmarks/equivalence_reference.json
    .venv/bin/python benchmarks/equivalence.py --compare benchmarks/equivalence_reference.json
    .venv/bin/python benchmarks/equivalence.py --save /tmp/ref.json --seeds 10 --weeks 60 \\
        --scale 0.25 --scenarios light,holistic          # a quick variant: seconds

Exit codes: 0 every metric passes (or a reference was saved), 1 a metric
fails, 2 bad input (unknown scenario, unreadable or mismatched reference),
130 Ctrl-C, 143 SIGTERM. See benchmarks/README.md, "Statistical equivalence".
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from scipy import stats

from pathways_sim.defaults import DEFAULT_SEED, default_workers
from pathways_sim.interrupt import describe, exit_code, handling_signals
from pathways_sim.outcomes import METRICS
from pathways_sim.run import replicate_seeds, with_weeks
from pathways_sim.scenario import Scenario, ScenarioError, load_scenario
from pathways_sim.sweep.executors import ExecutorError, Job, make_executor, run_many
from pathways_sim.sweep.progress import Progress

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

SCENARIOS = ("signposting", "light", "medium", "holistic", "pbr_job_outcomes",
             "rotherham_mh_2015", "ways_to_wellness")
"""The service models of the issue, and two named services the calibration fits
(Rotherham's 2015/16 mental-health cohort, Ways to Wellness), at their own run
settings."""

DEFAULT_SEEDS = 100
"""Seeds per scenario."""

LEVEL = 0.99
"""Confidence level of the interval of the difference."""

RELATIVE_TOLERANCE = 0.01
"""A difference within this share of the before mean passes whatever the interval."""

FORMAT = 1
"""Version of the reference file's layout."""


class InputError(Exception):
    """Bad input: printed as one line, exit 2."""


# --------------------------------------------------------------------------- running


def scenarios_for(names: Sequence[str], weeks: int | None, scale: float | None
                  ) -> dict[str, Scenario]:
    """The scenarios to run, with the ``run.weeks`` / ``run.scale`` overrides applied.

    Raises:
        ScenarioError: An unknown scenario or an override out of range.
    """
    out = {}
    for name in names:
        sc = load_scenario(name)
        if scale is not None:
            sc = sc.with_changes({"run.scale": {"value": float(scale),
                                                "source": "equivalence check --scale"}},
                                 name=sc.name)
        out[name] = with_weeks(sc, weeks)
    return out


def run_all(scenarios: dict[str, Scenario], seeds: Sequence[int], workers: int,
            progress: bool) -> dict[str, dict[str, list[float]]]:
    """Every metric of every seed of every scenario: name -> metric -> values in seed order.

    Raises:
        RuntimeError: A run failed (its error is in the message).
        ExecutorError: The worker pool failed.
    """
    jobs = [Job((name, i), sc, seed) for name, sc in scenarios.items()
            for i, seed in enumerate(seeds)]
    values: dict[str, list[dict[str, float] | None]] = {
        name: [None] * len(seeds) for name in scenarios}
    bar = Progress("equivalence", len(jobs), stream=sys.stderr, enabled=progress,
                   unit="run")
    try:
        with make_executor(workers=min(workers, len(jobs))) as executor:
            for res in run_many(jobs, executor):
                name, i = res.key
                if not res.ok:
                    raise RuntimeError(f"{name} seed {seeds[i]} failed: {res.error}")
                values[name][i] = res.value
                bar.update()
    finally:
        bar.close()
    out: dict[str, dict[str, list[float]]] = {}
    for name, runs in values.items():
        out[name] = {m: [float(r[m]) for r in runs if r is not None] for m in METRICS}
    return out


# --------------------------------------------------------------------------- provenance


def git_state() -> tuple[str | None, bool | None]:
    """The commit checked out and whether tracked files have uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain",
                                                  "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return None, None


def _package_version() -> str:
    try:
        return importlib.metadata.version("pathways-sim")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Versions that can change a run's numbers."""
    return {"python": platform.python_version(), "numpy": np.__version__,
            "mesa": mesa.__version__, "pathways_sim": _package_version(),
            "platform": platform.platform(), "machine": platform.machine()}


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Row:
    """One metric of one scenario, before against after."""

    metric: str
    n: int
    before: float
    after: float
    diff: float
    lo: float
    hi: float
    ok: bool
    why: str


def compare_metric(metric: str, before: Sequence[float], after: Sequence[float]) -> Row:
    """Paired comparison of one metric's values (same seeds, same order).

    Returns:
        The means, the mean difference, its :data:`LEVEL` interval and the verdict.
    """
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise InputError(f"{metric}: {len(b)} values before but {len(a)} after")
    both = np.isfinite(b) & np.isfinite(a)
    n = int(both.sum())
    mb = float(np.mean(b[np.isfinite(b)])) if np.isfinite(b).any() else math.nan
    ma = float(np.mean(a[np.isfinite(a)])) if np.isfinite(a).any() else math.nan
    nan = math.nan
    if not np.isfinite(b).any() and not np.isfinite(a).any():
        return Row(metric, 0, nan, nan, nan, nan, nan, True, "no value on either side")
    if not np.isfinite(b).any() or not np.isfinite(a).any():
        return Row(metric, 0, mb, ma, nan, nan, nan, False, "values on one side only")
    d = a[both] - b[both]
    diff = float(d.mean()) if n else nan
    if n >= 2:
        half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    else:
        half = 0.0 if n == 1 and d[0] == 0 else math.inf
    lo, hi = diff - half, diff + half
    if n and lo <= 0.0 <= hi:
        return Row(metric, n, mb, ma, diff, lo, hi, True, "interval contains 0")
    before_paired = float(np.mean(b[both])) if n else nan
    if n and abs(diff) <= RELATIVE_TOLERANCE * abs(before_paired):
        return Row(metric, n, mb, ma, diff, lo, hi, True, "within 1% of the before mean")
    return Row(metric, n, mb, ma, diff, lo, hi, False,
               "interval excludes 0 and the difference is over 1%")


def compare(reference: dict[str, dict[str, list[float]]],
            current: dict[str, dict[str, list[float]]]) -> dict[str, list[Row]]:
    """Every metric of every scenario of ``current`` against the reference."""
    return {name: [compare_metric(m, reference[name][m], current[name][m]) for m in METRICS]
            for name in current}


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def print_tables(rows: dict[str, list[Row]], out: Any = None) -> int:
    """Print one table per scenario; return the number of failing metrics."""
    out = sys.stdout if out is None else out
    failed = 0
    for name, table in rows.items():
        bad = sum(not r.ok for r in table)
        failed += bad
        print(f"\n{name}: {len(table) - bad}/{len(table)} metrics pass", file=out)
        print(f"  {'metric':<34} {'n':>4} {'before':>10} {'after':>10} {'diff':>10} "
              f"{'99% interval of diff':>24}  verdict", file=out)
        for r in table:
            interval = f"[{_num(r.lo)}, {_num(r.hi)}]"
            verdict = "pass" if r.ok else "FAIL"
            print(f"  {r.metric:<34} {r.n:>4} {_num(r.before):>10} {_num(r.after):>10} "
                  f"{_num(r.diff):>10} {interval:>24}  {verdict} ({r.why})", file=out)
    return failed


# --------------------------------------------------------------------------- reference file


def read_reference(path: Path) -> dict[str, Any]:
    """The reference file, checked for what a comparison needs.

    Raises:
        InputError: Missing, not JSON, or not a reference of this layout.
    """
    try:
        ref = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: reference file not found. Allowed: a file written by "
                         "benchmarks/equivalence.py --save") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the reference ({exc}). Allowed: a file "
                         "written by benchmarks/equivalence.py --save") from None
    need = ("format", "seeds", "scenarios", "weeks", "scale", "root_seed")
    if not isinstance(ref, dict) or any(k not in ref for k in need):
        raise InputError(f"{path}: not an equivalence reference (keys {', '.join(need)} "
                         "expected). Allowed: a file written by benchmarks/equivalence.py --save")
    if ref["format"] != FORMAT:
        raise InputError(f"{path}: format: reference layout {ref['format']!r} is not "
                         f"supported. Allowed: {FORMAT} (save the reference again)")
    for name, metrics in ref["scenarios"].items():
        missing = [m for m in METRICS if m not in metrics["metrics"]]
        if missing:
            raise InputError(f"{path}: scenarios.{name}: no values for metric(s) "
                             f"{', '.join(missing)} (the metrics changed: save the reference "
                             f"again from the old code). Allowed: every metric of METRICS")
    return ref


def write_reference(path: Path, data: dict[str, Any]) -> None:
    """Write the reference atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps(data, indent=1)
    # One line per list of numbers (a metric's values, the seeds): a readable, diffable file.
    text = re.sub(r"\[\n\s*([^\[\]{}]*?)\n\s*\]",
                  lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- main


def _names(text: str | None, allowed: Sequence[str]) -> list[str]:
    if text is None:
        return list(allowed)
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise InputError(f"--scenarios: unknown or missing scenario(s) "
                         f"{', '.join(unknown) or '(none given)'}. "
                         f"Allowed: {', '.join(allowed)}")
    return names


def _settings_match(args: argparse.Namespace, ref: dict[str, Any], path: Path) -> None:
    """In --compare, a given --seeds/--weeks/--scale/--seed must be the reference's."""
    given = {"--seeds": (args.seeds, len(ref["seeds"])), "--weeks": (args.weeks, ref["weeks"]),
             "--scale": (args.scale, ref["scale"]), "--seed": (args.seed, ref["root_seed"])}
    for opt, (mine, theirs) in given.items():
        if mine is not None and mine != theirs:
            raise InputError(f"{path}: {opt} {mine} differs from the reference's {theirs}. "
                             f"Allowed: omit {opt} (the reference's settings are used)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Exit codes: 0 pass (or saved), 1 a metric fails, 2 bad input, 130 Ctrl-C, "
               "143 SIGTERM. See benchmarks/README.md.")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, metavar="REF.json",
                      help="run the current code and record every metric of every seed")
    mode.add_argument("--compare", type=Path, metavar="REF.json",
                      help="rerun with the reference's seeds and settings; compare")
    ap.add_argument("--scenarios", default=None,
                    help=f"comma-separated scenarios (default: {', '.join(SCENARIOS)}; "
                         "with --compare, the reference's)")
    ap.add_argument("--seeds", type=int, default=None,
                    help=f"seeds per scenario (default {DEFAULT_SEEDS})")
    ap.add_argument("--seed", type=int, default=None,
                    help=f"root seed the seeds are derived from (default {DEFAULT_SEED})")
    ap.add_argument("--weeks", type=int, default=None,
                    help="override run.weeks of every scenario (default: each scenario's)")
    ap.add_argument("--scale", type=float, default=None,
                    help="override run.scale of every scenario (default: each scenario's)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes (default: every core); results do not depend on it")
    ap.add_argument("--quiet", action="store_true",
                    help="no progress; with --compare print only failing metrics' tables")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with handling_signals():
            return _main(args)
    except KeyboardInterrupt as exc:
        print(f"interrupted: {describe(exc)}", file=sys.stderr)
        return exit_code(exc)
    except (InputError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, ExecutorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace) -> int:
    workers = default_workers() if args.workers is None else args.workers
    for opt, value in (("--workers", workers), ("--seeds", args.seeds), ("--weeks", args.weeks)):
        if value is not None and value < 1:
            raise InputError(f"{opt}: {value} is below 1. Allowed: an integer >= 1")
    if args.scale is not None and not (math.isfinite(args.scale) and args.scale > 0):
        raise InputError(f"--scale: {args.scale} is not allowed. Allowed: a number > 0")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed: {args.seed} is negative. Allowed: an integer >= 0")

    if args.save is not None:
        names = _names(args.scenarios, SCENARIOS)
        root = DEFAULT_SEED if args.seed is None else args.seed
        seeds = replicate_seeds(root, DEFAULT_SEEDS if args.seeds is None else args.seeds)
        scenarios = scenarios_for(names, args.weeks, args.scale)
        start = time.perf_counter()
        values = run_all(scenarios, seeds, workers, not args.quiet)
        seconds = time.perf_counter() - start
        sha, dirty = git_state()
        write_reference(args.save, {
            "format": FORMAT, "git_sha": sha, "git_dirty": dirty, "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(seconds, 1),
            "workers": workers, "root_seed": root, "seeds": seeds, "weeks": args.weeks,
            "scale": args.scale,
            "scenarios": {name: {"run_weeks": scenarios[name].ns.run.weeks,
                                 "run_scale": scenarios[name].ns.run.scale,
                                 "metrics": values[name]} for name in names},
        })
        print(f"saved {len(names)} scenarios x {len(seeds)} seeds "
              f"({len(METRICS)} metrics each) in {seconds:.0f} s with {workers} workers "
              f"-> {args.save}")
        return 0

    path = args.compare
    ref = read_reference(path)
    _settings_match(args, ref, path)
    names = _names(args.scenarios, list(ref["scenarios"]))
    seeds = [int(s) for s in ref["seeds"]]
    scenarios = scenarios_for(names, ref["weeks"], ref["scale"])
    start = time.perf_counter()
    current = run_all(scenarios, seeds, workers, not args.quiet)
    seconds = time.perf_counter() - start
    reference = {n: ref["scenarios"][n]["metrics"] for n in names}
    rows = compare(reference, current)
    shown = {n: t for n, t in rows.items() if not args.quiet or any(not r.ok for r in t)}
    print(f"equivalence: {len(names)} scenarios x {len(seeds)} seeds, reference "
          f"{(ref.get('git_sha') or '?')[:10]} against {(git_state()[0] or '?')[:10]}"
          f"{' (dirty)' if git_state()[1] else ''}; paired by seed, {LEVEL:.0%} interval "
          f"of the difference; {seconds:.0f} s")
    failed = print_tables(shown)
    total = sum(len(t) for t in rows.values())
    print(f"\n{total - failed}/{total} metrics pass"
          + (f"; {failed} FAIL" if failed else ": equivalent"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
