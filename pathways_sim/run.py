"""Run a scenario: one seeded replicate, or a set of replicates with summaries.

Each replicate's seed is derived from one root seed with
:meth:`numpy.random.SeedSequence.spawn`, so replicate ``i`` has the same seed
however many replicates are run, and a replicate's seed fixes all of its
results: running replicates in parallel worker processes gives exactly the
results of running them one after another.

Typical use::

    from pathways_sim.run import run_replicates
    from pathways_sim.scenario import load_scenario

    reps = run_replicates(load_scenario("medium"), replicates=10, root_seed=20261124)
    print(reps.table())
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pathways_sim.defaults import DEFAULT_SEED, default_workers
from pathways_sim.interrupt import starting_workers, stop_pool, worker_initializer
from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import (
    FUNNEL_STAGES,
    Cohort,
    compute_metrics,
    default_cohort,
    first_event_week,
    funnel,
    label_log,
    members,
    metric_table,
    staffing,
    staffing_summary,
    weekly_stocks,
)
from pathways_sim.scenario import Scenario

if TYPE_CHECKING:
    from pathways_sim.calibration.results import CalibrationResult

__all__ = ["DEFAULT_SEED", "ReplicateSet", "RunResult", "replicate_seeds", "run_one",
           "run_replicates", "with_weeks"]

REFERRED, ACCEPTED = FUNNEL_STAGES[0], FUNNEL_STAGES[1]
"""Funnel stages: all referrals in the cohort window, and the cohort itself."""

WEEKS_SOURCE = "run length override (--weeks, or weeks= in pathways_sim.run)"
"""Source recorded for a ``run.weeks`` override."""


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """Seeds of ``n`` replicates derived from one root seed.

    Uses ``SeedSequence(root_seed).spawn(n)``: the ``i``-th seed depends only
    on the root seed and ``i``, so adding replicates never changes earlier ones.

    Args:
        root_seed: Non-negative root seed.
        n: Number of replicates (>= 0).

    Returns:
        ``n`` distinct-in-practice non-negative 63-bit integer seeds.

    Raises:
        ValueError: If ``root_seed`` or ``n`` is negative.
    """
    if root_seed < 0:
        raise ValueError(f"root seed must be non-negative, got {root_seed}")
    if n < 0:
        raise ValueError(f"number of replicates must be non-negative, got {n}")
    children = np.random.SeedSequence(int(root_seed)).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def with_weeks(scenario: Scenario, weeks: int | None) -> Scenario:
    """The scenario with ``run.weeks`` overridden (validated), or unchanged for None.

    Args:
        scenario: The scenario.
        weeks: Weeks to simulate, or None to keep the scenario's.

    Returns:
        The (possibly) changed scenario.

    Raises:
        ScenarioError: ``weeks`` is outside the allowed range of ``run.weeks``.
    """
    if weeks is None or weeks == scenario.values.get("run.weeks"):
        return scenario
    return scenario.with_changes({"run.weeks": {"value": int(weeks), "source": WEEKS_SOURCE}})


def cohort_of(scenario: Scenario) -> Cohort:
    """The outcome cohort of a run of ``scenario`` (the clients rates are shares of).

    Args:
        scenario: The scenario (after any ``run.weeks`` override).

    Returns:
        :func:`~pathways_sim.outcomes.cohorts.default_cohort` for its run settings.
    """
    run = scenario.ns.run
    return default_cohort(run.weeks, run.cohort_weeks, run.follow_up_weeks)


@dataclass
class RunResult:
    """Everything one replicate produced.

    Attributes:
        seed: The replicate's seed.
        log: The event log (week, client, event, value; numeric event codes).
        attrs: Client attributes, one row per client.
        ledger: The funder's ledger, one row per funding period.
        metrics: Metric name -> value (:data:`~pathways_sim.outcomes.metrics.METRICS`).
        stocks: Clients in each pathway state at the end of each week
            (:func:`~pathways_sim.outcomes.stocks.weekly_stocks`).
        funnel: Clients of the outcome cohort reaching each pathway stage
            (:func:`~pathways_sim.outcomes.stocks.funnel`, a Series of counts).
        prices: The results prices paid (:meth:`~pathways_sim.model.funder.Funder.price_record`;
            under ``budget_neutral`` computed from the replicate's block-grant pilot).
    """

    seed: int
    log: pd.DataFrame
    attrs: pd.DataFrame
    ledger: pd.DataFrame
    metrics: dict[str, float]
    stocks: pd.DataFrame
    funnel: pd.Series
    prices: dict = field(default_factory=dict)


def run_one(scenario: Scenario, seed: int, weeks: int | None = None) -> RunResult:
    """Run one replicate and compute its outcomes.

    Args:
        scenario: The resolved scenario.
        seed: The replicate's seed (fixes every random draw).
        weeks: Override ``run.weeks`` (None: the scenario's).

    Returns:
        The replicate's log, attributes, ledger, metrics, stocks and funnel.

    Raises:
        ScenarioError: ``weeks`` is not an allowed ``run.weeks``.
    """
    scenario = with_weeks(scenario, weeks)
    model = PathwaysModel(scenario, seed=seed)
    model.run()
    p = model.p
    log = model.log.frame()
    attrs = model.client_attributes()
    ledger = pd.DataFrame(model.funder.ledger)
    metrics = compute_metrics(
        log,
        attrs,
        run_weeks=p.run.weeks,
        follow_up_weeks=p.run.follow_up_weeks,
        cohort_weeks=p.run.cohort_weeks,
        ledger=ledger,
    )
    return RunResult(
        seed=int(seed),
        log=log,
        attrs=attrs,
        ledger=ledger,
        metrics=metrics,
        stocks=weekly_stocks(log, p.run.weeks, p.run.follow_up_weeks, attrs),
        funnel=funnel(log, cohort_of(scenario)),
        prices=model.funder.price_record(),
    )


CLIENT_EVENTS = (
    Ev.ASSIGNED,
    Ev.ACTIVITY_START,
    Ev.WORK_GOAL,
    Ev.DIRECT_START,
    Ev.JOB_START,
    Ev.DISENGAGED,
    Ev.DISCHARGED,
)
"""Events whose first week is added to each client's row by :func:`client_outcomes`."""


def client_outcomes(log: pd.DataFrame, attrs: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Client attributes joined with cohort membership and first-event weeks.

    Args:
        log: The event log.
        attrs: Client attributes (one row per client, with a ``client`` column).
        cohort: The outcome cohort.

    Returns:
        ``attrs`` plus ``in_cohort`` (bool) and ``first_<event>_week`` for each
        event in :data:`CLIENT_EVENTS` (run week of the client's first such
        event; NaN if none).
    """
    out = attrs.copy()
    ids = out["client"].to_numpy()
    out["in_cohort"] = np.isin(ids, members(log, cohort))
    for ev in CLIENT_EVENTS:
        first = first_event_week(log, ev, ids)
        out[str(first.name)] = first.to_numpy()
    return out


def _run_job(job: tuple[Scenario, int]) -> RunResult:
    scenario, seed = job
    return run_one(scenario, seed)


@dataclass
class ReplicateSet:
    """The replicates of one scenario run with seeds derived from one root seed.

    Attributes:
        scenario: The scenario run (after any ``run.weeks`` override).
        root_seed: The root seed.
        results: One :class:`RunResult` per replicate, in seed order.
        cohort: The outcome cohort rates are shares of (from the scenario's
            run settings).
        calibration: The calibration the replicates drew their parameters from,
            or None (the scenario's values as given).
        draws: The posterior draw each replicate ran (replicate order); empty
            without a calibration.
    """

    scenario: Scenario
    root_seed: int
    results: list[RunResult] = field(default_factory=list)
    calibration: CalibrationResult | None = None
    draws: list[int] = field(default_factory=list)
    cohort: Cohort = field(init=False)

    def __post_init__(self) -> None:
        self.cohort = cohort_of(self.scenario)

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[RunResult]:
        return iter(self.results)

    @property
    def seeds(self) -> list[int]:
        """The seed of each replicate."""
        return [r.seed for r in self.results]

    @property
    def cohort_description(self) -> str:
        """The cohort in words: which clients the shares are of."""
        return self.cohort.description

    def calibration_record(self) -> dict | None:
        """The manifest's ``calibration`` entry: version, path, method, each replicate's draw
        and the calibrated values it ran with; None without a calibration."""
        cal = self.calibration
        if cal is None:
            return None
        return cal.record(self.draws) | {
            "replicate_values": [cal.draw_values(d) for d in self.draws]}

    def prices(self) -> list[dict]:
        """The results prices each replicate paid (for the manifest), in replicate order."""
        return [{"seed": r.seed, **r.prices} for r in self.results]

    def table(self) -> pd.DataFrame:
        """Mean and 90% interval of each metric across replicates.

        Returns:
            Columns metric, mean, lo, hi, unit
            (:func:`~pathways_sim.outcomes.metrics.metric_table`).
        """
        return metric_table([r.metrics for r in self.results])

    def metrics_frame(self) -> pd.DataFrame:
        """Per-replicate metrics: one row per replicate, columns replicate, seed, then metrics."""
        rows = [{"replicate": i, "seed": r.seed, **r.metrics} for i, r in enumerate(self.results)]
        return pd.DataFrame(rows)

    def _stacked(
        self, name: str, transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    ) -> pd.DataFrame:
        frames = []
        for i, r in enumerate(self.results):
            df = getattr(r, name)
            df = transform(df) if transform else df.copy()
            df.insert(0, "seed", np.int64(r.seed))
            df.insert(0, "replicate", np.int32(i))
            frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["replicate", "seed"])
        return pd.concat(frames, ignore_index=True)

    def events(self) -> pd.DataFrame:
        """Event logs of all replicates with event names, plus replicate and seed columns."""
        return self._stacked("log", label_log)

    def clients(self) -> pd.DataFrame:
        """Client attributes and first-event weeks of all replicates.

        Returns:
            One row per client per replicate: replicate, seed, the attributes
            (``PathwaysModel.client_attributes()``), ``in_cohort`` and the
            columns of :func:`client_outcomes`.
        """
        frames = []
        for i, r in enumerate(self.results):
            df = client_outcomes(r.log, r.attrs, self.cohort)
            df.insert(0, "seed", np.int64(r.seed))
            df.insert(0, "replicate", np.int32(i))
            frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["replicate", "seed"])
        return pd.concat(frames, ignore_index=True)

    def ledger(self) -> pd.DataFrame:
        """Funder ledgers of all replicates, plus replicate and seed columns."""
        return self._stacked("ledger")

    def staffing(self) -> pd.DataFrame:
        """Link Worker posts funded in each funding period of each replicate.

        Returns:
            :func:`~pathways_sim.outcomes.costs.staffing` of the stacked ledgers:
            replicate, seed, period, start_week, end_week, weeks, link_worker_posts,
            link_worker_cost.
        """
        return staffing(self.ledger())

    def staffing_table(self) -> pd.DataFrame:
        """Posts per funding period across replicates: what ``staffing.csv`` holds.

        Returns:
            One row per period: period, start_week, end_week, weeks, and the median,
            lowest and highest Link Worker posts funded in it across the replicates.
        """
        per = self.staffing()
        cols = ["period", "start_week", "end_week", "weeks", "posts_median", "posts_min",
                "posts_max"]
        if per.empty:
            return pd.DataFrame(columns=cols)
        g = per.groupby(["period", "start_week", "end_week", "weeks"], sort=True)
        out = g["link_worker_posts"].agg(["median", "min", "max"]).reset_index()
        return out.rename(columns={"median": "posts_median", "min": "posts_min",
                                   "max": "posts_max"})[cols]

    def staffing_line(self) -> str:
        """One line on staffing: posts at the start, the fewest and at the end (medians)."""
        summaries = [staffing_summary(r.ledger) for r in self.results]
        if not summaries or all(np.isnan(s["start"]) for s in summaries):
            return "Link Worker posts: no funding period settled"

        def med(key: str) -> str:
            return f"{float(np.nanmedian([s[key] for s in summaries])):g}"

        return (f"Link Worker posts funded (median of {len(summaries)} replicates): "
                f"{med('start')} at the start, {med('min')} at the fewest, {med('end')} at "
                f"the end (per funding period: staffing.csv)")

    def stocks(self) -> list[pd.DataFrame]:
        """Weekly stage stocks of each replicate."""
        return [r.stocks for r in self.results]

    def funnels(self) -> list[pd.Series]:
        """Funnel of each replicate: clients of the cohort reaching each stage."""
        return [r.funnel for r in self.results]

    def funnel_shares(self) -> list[pd.Series]:
        """Funnel of each replicate as shares (0-1) of the cohort (accepted referrals).

        The ``referred`` stage (which includes rejected referrals) is left out,
        so the first stage, ``accepted``, is the whole cohort.
        """
        out = []
        for f in self.funnels():
            size = float(f.get(ACCEPTED, np.nan))
            shares = f.drop(REFERRED, errors="ignore").astype(float)
            out.append((shares / size if size > 0 else shares * np.nan).rename("share"))
        return out

    def funnel_frame(self) -> pd.DataFrame:
        """Funnels of all replicates in long form: replicate, seed, stage, clients, share."""
        rows = []
        for i, r in enumerate(self.results):
            size = float(r.funnel.get(ACCEPTED, np.nan))
            for stage, count in r.funnel.items():
                share = count / size if size > 0 else np.nan
                rows.append({"replicate": i, "seed": r.seed, "stage": stage,
                             "clients": int(count), "share_of_cohort": share})
        return pd.DataFrame(rows)

    def stocks_frame(self) -> pd.DataFrame:
        """Weekly stocks of all replicates in one frame, with replicate and seed columns."""
        return self._stacked("stocks", lambda df: df.reset_index())


def _worker_context() -> multiprocessing.context.BaseContext:
    """A start method safe in a multi-threaded parent (pyarrow and BLAS start threads).

    ``forkserver`` (preloading this module, so each worker starts warm) where
    available, else ``spawn``; never plain ``fork``, which can deadlock a child
    of a multi-threaded process.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def run_replicates(
    scenario: Scenario,
    replicates: int,
    root_seed: int = DEFAULT_SEED,
    weeks: int | None = None,
    workers: int | None = None,
    progress: bool = True,
    calibration: CalibrationResult | None = None,
) -> ReplicateSet:
    """Run replicates of a scenario, each with its own seed derived from ``root_seed``.

    With a calibration, each replicate runs the scenario with the calibrated
    parameters of one posterior draw,
    :meth:`~pathways_sim.calibration.results.CalibrationResult.replicate_draw` of
    its seed (values the scenario files set are kept): the spread across
    replicates is then parameter uncertainty and chance together.

    Args:
        scenario: The resolved scenario.
        replicates: Number of replicates (>= 1).
        root_seed: Root seed (see :func:`replicate_seeds`).
        weeks: Override ``run.weeks`` (None: the scenario's).
        workers: Worker processes (default every core,
            :func:`~pathways_sim.defaults.default_workers`); 1 runs in this
            process. Results do not depend on it.
        progress: Show progress on stderr, as a sweep does
            (:class:`~pathways_sim.sweep.progress.Progress`: a bar on a
            terminal, a line every 10% or 30 s elsewhere).
        calibration: The posterior each replicate draws its parameters from,
            or None to run ``scenario`` as it is. ``scenario`` must not have had
            this calibration applied already (its values would be kept).

    Returns:
        The replicate set, results in replicate order; its ``scenario`` is the
        one at the calibration's posterior point.

    Raises:
        ValueError: ``replicates`` or ``workers`` is below 1.
        ScenarioError: ``weeks`` is not an allowed ``run.weeks``.
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    scenario = with_weeks(scenario, weeks)
    seeds = replicate_seeds(root_seed, replicates)
    draws: list[int] = []
    if calibration is None:
        jobs: Sequence[tuple[Scenario, int]] = [(scenario, s) for s in seeds]
    else:
        draws = calibration.replicate_draws(seeds)
        applied = {d: calibration.apply(scenario, draw=d) for d in sorted(set(draws))}
        jobs = [(applied[d], s) for d, s in zip(draws, seeds, strict=True)]
        scenario = calibration.apply(scenario)
    from pathways_sim.sweep.progress import Progress  # here: pathways_sim.sweep imports us

    bar = Progress(scenario.name, len(jobs), stream=sys.stderr, enabled=progress,
                   unit="replicate")
    results: list[RunResult] = []
    try:
        if workers == 1 or len(jobs) == 1:
            for job in jobs:
                results.append(_run_job(job))
                bar.update()
        else:
            # The workers start deaf to Ctrl-C (pathways_sim.interrupt): on Ctrl-C, SIGTERM
            # or an error this process stops them, so none outlives the command.
            with starting_workers():
                pool = ProcessPoolExecutor(
                    max_workers=min(workers, len(jobs)), mp_context=_worker_context(),
                    initializer=worker_initializer, initargs=(os.getpid(),),
                )
            try:
                with starting_workers():
                    done = pool.map(_run_job, jobs)
                for result in done:
                    results.append(result)
                    bar.update()
            except BaseException:
                stop_pool(pool)
                raise
            pool.shutdown(wait=True)
    finally:
        bar.close()
    return ReplicateSet(scenario=scenario, root_seed=int(root_seed), results=results,
                        calibration=calibration, draws=draws)
