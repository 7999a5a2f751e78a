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
   the difference, its 99% interval, its p-value, the Holm-adjusted p-value and
   the verdicts; then the counts per scenario and overall.

Statistics. The seeds are the same before and after, so the runs are paired
(common random numbers: a run's seed fixes its draws). For each metric the
difference is taken seed by seed, d_i = after_i - before_i; the paired t-test of
mean(d) = 0 gives a two-sided p-value and the 99% Student-t interval
mean(d) +- t(0.995, n-1) sd(d) / sqrt(n). Seeds where either run has no value
(NaN: a share of an empty group) are left out of the pairs; a metric with values
on one side and none on the other fails.

The criterion (what the exit code says) is family-wise: each scenario's metrics
are one family (less those identical on every seed, such as the cohort size,
which pass and cannot be rejected), and Holm's step-down Bonferroni procedure over the family's
p-values, at family-wise level 0.01, decides which differences are real. A
metric **fails** when Holm rejects mean(d) = 0 and the difference is over 1% of
the before mean (|mean(d)| > 0.01 |mean before|: with common random numbers a
real but negligible difference can be significant); a scenario's family fails
when any of its metrics fails, and the script exits 1 when any family fails.
When nothing changed, a family fails with probability at most 0.01 (as far as
the t-test's p-values are right), whatever the number of metrics or how they
are correlated; the uncorrected per-test view (a metric fails when its
own 99% interval excludes 0 and the difference is over 1%), which fails about
1% of all metrics by chance (3.5 of 350), is printed beside it for information.

Usage (from the repository root)::

    .venv/bin/python benchmarks/equivalence.py --save benchmarks/equivalence_reference.json
    .venv/bin/python benchmarks/equivalence.py --compare benchmarks/equivalence_reference.json
    .venv/bin/python benchmarks/equivalence.py --save /tmp/ref.json --seeds 10 --weeks 60 \\
        --scale 0.25 --scenarios light,holistic          # a quick variant: seconds
    .venv/bin/python benchmarks/equivalence.py --compare REF.json --json /tmp/report.json

``PYTHONPATH`` chooses the model that runs (the provenance recorded is that checkout's
commit), so one copy of this script can save a reference from one worktree and
compare another with it.

Exit codes: 0 every family passes (or a reference was saved), 1 a family
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from scipy import stats

import pathways_sim
from pathways_sim.defaults import DEFAULT_SEED, default_workers
from pathways_sim.interrupt import describe, exit_code, handling_signals
from pathways_sim.outcomes import METRICS
from pathways_sim.run import replicate_seeds, with_weeks
from pathways_sim.scenario import Scenario, ScenarioError, load_scenario
from pathways_sim.sweep.executors import ExecutorError, Job, make_executor, run_many
from pathways_sim.sweep.progress import Progress

HERE = Path(__file__).resolve().parent
CODE = Path(pathways_sim.__file__).resolve().parent.parent
"""The checkout whose model is run: where ``pathways_sim`` was imported from (``PYTHONPATH``
can point the script at another worktree), not necessarily the script's own."""

SCENARIOS = ("signposting", "light", "medium", "holistic", "pbr_job_outcomes",
             "rotherham_mh_2015", "ways_to_wellness")
"""The service models of the issue, and two named services the calibration fits
(Rotherham's 2015/16 mental-health cohort, Ways to Wellness), at their own run
settings."""

DEFAULT_SEEDS = 100
"""Seeds per scenario."""

LEVEL = 0.99
"""Confidence level of each metric's interval of the difference (the per-test view)."""

FAMILY_ALPHA = 0.01
"""Family-wise error rate of each scenario's family of metrics (Holm): the chance, when
nothing changed, that any metric of a scenario fails is at most this."""

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
    """The commit of the model's checkout (:data:`CODE`) and whether its tracked files have
    uncommitted changes; ``(None, None)`` outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=CODE, capture_output=True, text=True,
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
    """One metric of one scenario, before against after.

    ``p`` is the raw two-sided p-value of the paired t-test of mean(d) = 0 (the test whose
    :data:`LEVEL` interval is ``lo``..``hi``), ``p_holm`` its Holm-adjusted value within the
    scenario's family (NaN outside the family: no test possible, or ``identical``, the
    difference 0 on every seed). ``within_margin``: the difference is
    within :data:`RELATIVE_TOLERANCE` of the before mean. ``per_test_ok`` is the verdict of the
    uncorrected per-test view, ``ok`` the verdict of the family-wise criterion.
    """

    metric: str
    n: int
    before: float
    after: float
    diff: float
    lo: float
    hi: float
    p: float
    within_margin: bool
    per_test_ok: bool
    why: str
    identical: bool = False
    p_holm: float = math.nan
    ok: bool = False
    family_why: str = ""


def compare_metric(metric: str, before: Sequence[float], after: Sequence[float]) -> Row:
    """Paired comparison of one metric's values (same seeds, same order).

    Returns:
        The means, the mean difference, its :data:`LEVEL` interval, the raw p-value and the
        per-test verdict. The family-wise fields are filled by :func:`compare_family`; until
        then ``ok`` is the per-test verdict.
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

    def row(n: int, diff: float, lo: float, hi: float, p: float, margin: bool, ok: bool,
            why: str, identical: bool = False) -> Row:
        return Row(metric, n, mb, ma, diff, lo, hi, p, margin, ok, why, identical, ok=ok)

    if not np.isfinite(b).any() and not np.isfinite(a).any():
        return row(0, nan, nan, nan, nan, False, True, "no value on either side")
    if not np.isfinite(b).any() or not np.isfinite(a).any():
        return row(0, nan, nan, nan, nan, False, False, "values on one side only")
    if n == 0:
        return row(0, nan, nan, nan, nan, False, False, "no seed with a value on both sides")
    d = a[both] - b[both]
    if not d.any():
        return row(n, 0.0, 0.0, 0.0, 1.0, True, True, "identical on every seed", True)
    diff = float(d.mean())
    if n >= 2:
        se = float(d.std(ddof=1)) / math.sqrt(n)
        half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * se
        if se > 0:
            p = float(2.0 * stats.t.sf(abs(diff) / se, n - 1))
        else:  # every pair differs by the same amount
            p = 1.0 if diff == 0.0 else 0.0
    else:  # one pair: no test is possible
        half, p = (0.0 if d[0] == 0 else math.inf), 1.0
    lo, hi = diff - half, diff + half
    margin = abs(diff) <= RELATIVE_TOLERANCE * abs(float(np.mean(b[both])))
    if lo <= 0.0 <= hi:
        return row(n, diff, lo, hi, p, margin, True, "interval contains 0")
    if margin:
        return row(n, diff, lo, hi, p, margin, True, "within 1% of the before mean")
    return row(n, diff, lo, hi, p, margin, False,
               "interval excludes 0 and the difference is over 1%")


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values of one family (Holm 1979, the step-down Bonferroni).

    With the m finite p-values sorted p(1) <= ... <= p(m), the adjusted value of p(k) is
    max over j <= k of min(1, (m - j + 1) p(j)). Rejecting every hypothesis whose adjusted
    value is below alpha is Holm's procedure at family-wise error rate alpha: step down from
    the smallest p-value and reject while p(k) < alpha / (m - k + 1). NaN entries (no test
    possible) stay NaN and do not count in m.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, math.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = len(idx)
    if m == 0:
        return out.tolist()
    order = idx[np.argsort(p[idx], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out.tolist()


def compare_family(rows: Sequence[Row]) -> list[Row]:
    """The family-wise criterion over one scenario's metrics (the family).

    A metric fails when Holm's procedure at family-wise level :data:`FAMILY_ALPHA` rejects
    mean(d) = 0 and the difference is over :data:`RELATIVE_TOLERANCE` of the before mean
    (the same margin as the per-test view). The family is the metrics with a test: those
    with no possible test keep their per-test verdict (none on either side passes, values
    on one side only fail), and those identical on every seed (unchanged by construction,
    such as ``cohort_size``) pass and are left out, as they cannot be rejected and would
    only make the thresholds of the others smaller.
    """
    adjusted = holm([math.nan if r.identical else r.p for r in rows])
    out = []
    for r, ph in zip(rows, adjusted, strict=True):
        if not math.isfinite(ph):
            ok, why = r.per_test_ok, f"{r.why}; outside the family"
        elif ph >= FAMILY_ALPHA:
            ok, why = True, "not rejected by Holm"
        elif r.within_margin:
            ok, why = True, "rejected by Holm, within 1% of the before mean"
        else:
            ok, why = False, "rejected by Holm and the difference is over 1%"
        out.append(replace(r, p_holm=ph, ok=ok, family_why=why))
    return out


def compare(reference: dict[str, dict[str, list[float]]],
            current: dict[str, dict[str, list[float]]]) -> dict[str, list[Row]]:
    """Every metric of every scenario of ``current`` against the reference, each scenario's
    metrics one family (:func:`compare_family`)."""
    return {name: compare_family([compare_metric(m, reference[name][m], current[name][m])
                                  for m in METRICS])
            for name in current}


CRITERION = (f"Holm-Bonferroni within each scenario (family = the scenario's metrics that "
             f"differ on some seed) at "
             f"family-wise level {FAMILY_ALPHA:g}; a metric fails when Holm rejects "
             f"mean(d) = 0 and |mean(d)| > {RELATIVE_TOLERANCE:g} x |before mean|; "
             f"the check fails when any family has a failing metric")
"""The criterion that decides the exit code, as printed and recorded."""

PER_TEST = (f"each metric alone: fails when its {LEVEL:.0%} interval of mean(d) excludes 0 and "
            f"|mean(d)| > {RELATIVE_TOLERANCE:g} x |before mean| (no multiplicity correction; "
            f"information only)")
"""The uncorrected per-test view, kept for information."""


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "-" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.4g}"


def _p(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:.2g}" if x < 0.01 else f"{x:.3f}"


def print_tables(rows: dict[str, list[Row]], out: Any = None) -> None:
    """Print one table per scenario: the raw per-test interval, p-value and verdict, the Holm
    p-value and the family-wise verdict of every metric."""
    out = sys.stdout if out is None else out
    for name, table in rows.items():
        bad = sum(not r.ok for r in table)
        raw_bad = sum(not r.per_test_ok for r in table)
        size = sum(math.isfinite(r.p_holm) for r in table)
        print(f"\n{name}: family {'FAIL' if bad else 'pass'} ({len(table) - bad}/{len(table)} "
              f"metrics pass under Holm over a family of {size}; per test "
              f"{len(table) - raw_bad}/{len(table)})", file=out)
        print(f"  {'metric':<34} {'n':>4} {'before':>10} {'after':>10} {'diff':>10} "
              f"{'99% interval of diff':>24} {'<=1%':>4} {'p':>7} {'per test':>8} "
              f"{'p Holm':>7}  family-wise verdict", file=out)
        for r in table:
            interval = f"[{_num(r.lo)}, {_num(r.hi)}]"
            print(f"  {r.metric:<34} {r.n:>4} {_num(r.before):>10} {_num(r.after):>10} "
                  f"{_num(r.diff):>10} {interval:>24} {'yes' if r.within_margin else 'no':>4} "
                  f"{_p(r.p):>7} {'pass' if r.per_test_ok else 'FAIL':>8} {_p(r.p_holm):>7}  "
                  f"{'pass' if r.ok else 'FAIL'} ({r.family_why})", file=out)


def summary(rows: dict[str, list[Row]]) -> dict[str, Any]:
    """Counts per scenario (family) and overall, under both views."""
    fams = {name: {"metrics": len(t), "family_size": sum(math.isfinite(r.p_holm) for r in t),
                   "pass": sum(r.ok for r in t),
                   "per_test_pass": sum(r.per_test_ok for r in t),
                   "family_pass": all(r.ok for r in t),
                   "failing": [r.metric for r in t if not r.ok],
                   "per_test_failing": [r.metric for r in t if not r.per_test_ok]}
            for name, t in rows.items()}
    return {"families": len(fams), "families_pass": sum(f["family_pass"] for f in fams.values()),
            "metrics": sum(f["metrics"] for f in fams.values()),
            "metrics_pass": sum(f["pass"] for f in fams.values()),
            "per_test_pass": sum(f["per_test_pass"] for f in fams.values()),
            "scenarios": fams}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def report_json(rows: dict[str, list[Row]], info: dict[str, Any]) -> dict[str, Any]:
    """The comparison as JSON: settings and provenance, criterion, counts, every row."""
    return {**info, "criterion": CRITERION, "family_alpha": FAMILY_ALPHA,
            "per_test_view": PER_TEST, "level": LEVEL,
            "relative_tolerance": RELATIVE_TOLERANCE, "summary": summary(rows),
            "rows": {name: [{"metric": r.metric, "n": r.n, "before": _finite(r.before),
                             "after": _finite(r.after), "diff": _finite(r.diff),
                             "lo": _finite(r.lo), "hi": _finite(r.hi), "p": _finite(r.p),
                             "p_holm": _finite(r.p_holm), "within_margin": r.within_margin,
                             "per_test_pass": r.per_test_ok, "per_test_why": r.why,
                             "pass": r.ok, "why": r.family_why} for r in t]
                     for name, t in rows.items()}}


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


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a reference or a report atomically (a crash never leaves half a file)."""
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
        epilog="Exit codes: 0 pass (or saved), 1 a scenario's family fails (Holm), "
               "2 bad input, 130 Ctrl-C, 143 SIGTERM. See benchmarks/README.md.")
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
    ap.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                    help="with --compare, also write the comparison (criterion, counts per "
                         "scenario and overall, every metric's row) as JSON")
    ap.add_argument("--quiet", action="store_true",
                    help="no progress; with --compare print only the tables of scenarios "
                         "with a failing metric (family-wise or per test)")
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
        if args.json is not None:
            raise InputError("--json: only with --compare. Allowed: --compare REF.json "
                             "--json OUT.json")
        names = _names(args.scenarios, SCENARIOS)
        root = DEFAULT_SEED if args.seed is None else args.seed
        seeds = replicate_seeds(root, DEFAULT_SEEDS if args.seeds is None else args.seeds)
        scenarios = scenarios_for(names, args.weeks, args.scale)
        start = time.perf_counter()
        values = run_all(scenarios, seeds, workers, not args.quiet)
        seconds = time.perf_counter() - start
        sha, dirty = git_state()
        write_json(args.save, {
            "format": FORMAT, "git_sha": sha, "git_dirty": dirty, "code": str(CODE),
            "versions": versions(),
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
    shown = {n: t for n, t in rows.items()
             if not args.quiet or any(not r.ok or not r.per_test_ok for r in t)}
    sha, dirty = git_state()
    print(f"equivalence: {len(names)} scenarios x {len(seeds)} seeds, reference "
          f"{(ref.get('git_sha') or '?')[:10]} against {(sha or '?')[:10]}"
          f"{' (dirty)' if dirty else ''}; paired by seed; {seconds:.0f} s")
    print(f"criterion: {CRITERION}")
    print(f"per-test view: {PER_TEST}")
    print_tables(shown)
    s = summary(rows)
    print()
    for name, fam in s["scenarios"].items():
        print(f"  {name:<20} family {'pass' if fam['family_pass'] else 'FAIL'}: "
              f"{fam['pass']}/{fam['metrics']} under Holm over {fam['family_size']}"
              + (f" (failing: {', '.join(fam['failing'])})" if fam["failing"] else "")
              + f"; per test {fam['per_test_pass']}/{fam['metrics']}"
              + (f" ({', '.join(fam['per_test_failing'])})" if fam["per_test_failing"] else ""))
    failed = s["families"] - s["families_pass"]
    print(f"\nHolm within each scenario at family-wise level {FAMILY_ALPHA:g}: "
          f"{s['families_pass']}/{s['families']} families pass"
          + (f"; {failed} FAIL" if failed else ": equivalent")
          + f" ({s['metrics_pass']}/{s['metrics']} metrics); per-test view (information): "
          f"{s['per_test_pass']}/{s['metrics']} metrics pass")
    if args.json is not None:
        write_json(args.json, report_json(rows, {
            "reference": str(path), "reference_git_sha": ref.get("git_sha"),
            "reference_git_dirty": ref.get("git_dirty"), "reference_code": ref.get("code"),
            "git_sha": sha, "git_dirty": dirty, "code": str(CODE), "versions": versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(seconds, 1),
            "root_seed": ref["root_seed"], "seeds": len(seeds), "weeks": ref["weeks"],
            "scale": ref["scale"]}))
        print(f"report -> {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
