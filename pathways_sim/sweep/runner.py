"""Run a sweep: plan the experiment, run what is missing, stream parts to disk.

:func:`run_sweep` plans every run of an experiment
(:func:`~pathways_sim.sweep.design.plan_sweep`), opens the results folder
(:class:`~pathways_sim.sweep.store.SweepStore`: new, or resumed when the
experiment is unchanged), hands the runs of the missing chunks to an
executor (:func:`~pathways_sim.sweep.executors.run_many`) and writes each
chunk's parts as soon as its last run is back, so memory stays flat however
many runs there are. A run that raises is recorded with its traceback and
the sweep goes on; an interrupted sweep keeps every written chunk.

Test hook: the environment variable ``PATHWAYS_SIM_FAIL_RUN_IDS`` (run ids
separated by commas), read when the sweep starts, makes those runs raise
instead of simulating, to test how failures are recorded. It is never set
in normal use; a manifest records it when it is.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from pathways_sim.integrity import lock_folder
from pathways_sim.manifest import build_manifest, git_state, package_version
from pathways_sim.outcomes import METRICS, STATES
from pathways_sim.sweep.design import SweepPlan, plan_sweep
from pathways_sim.sweep.executors import Executor, InProcessExecutor, Job, JobResult, run_many
from pathways_sim.sweep.experiment import Experiment
from pathways_sim.sweep.progress import Progress
from pathways_sim.sweep.store import RunRecord, SweepError, SweepStore

__all__ = [
    "FAIL_ENV",
    "RepairSummary",
    "RunOutput",
    "SweepSummary",
    "SweepTask",
    "default_chunk_size",
    "FROM_EXPERIMENT",
    "repair_sweep",
    "run_sweep",
]

FAIL_ENV = "PATHWAYS_SIM_FAIL_RUN_IDS"
"""Test hook: run ids (comma-separated) made to raise instead of simulating."""


@dataclass(frozen=True)
class RunOutput:
    """What a sweep keeps of one run (small, to send back from a worker).

    Attributes:
        metrics: Metric name -> value.
        weeks: Week of each stock row.
        stocks: Clients in each state of :data:`~pathways_sim.outcomes.STATES`,
            one row per week.
    """

    metrics: dict[str, float]
    weeks: np.ndarray
    stocks: np.ndarray


@dataclass(frozen=True)
class SweepTask:
    """The task a sweep runs for each job: one replicate, kept as a :class:`RunOutput`.

    Attributes:
        fail_run_ids: Run ids that raise instead of simulating (test hook,
            from :data:`FAIL_ENV`).
    """

    fail_run_ids: frozenset[int] = field(default_factory=frozenset)

    def __call__(self, job: Job) -> RunOutput:
        """Run the job's scenario with its seed."""
        if job.key in self.fail_run_ids:
            raise RuntimeError(f"run {job.key} failed on purpose ({FAIL_ENV} test hook)")
        from pathways_sim.run import run_one

        result = run_one(job.scenario, job.seed)
        stocks = result.stocks[list(STATES)]
        return RunOutput(
            metrics={k: float(v) for k, v in result.metrics.items()},
            weeks=stocks.index.to_numpy().astype(np.int64),
            stocks=stocks.to_numpy().astype(np.int64),
        )


def _fail_ids_from_env() -> frozenset[int]:
    text = os.environ.get(FAIL_ENV, "").strip()
    if not text:
        return frozenset()
    try:
        return frozenset(int(x) for x in text.replace(" ", "").split(",") if x)
    except ValueError:
        raise ValueError(f"{FAIL_ENV} must be run ids separated by commas, got {text!r}") from None


def default_chunk_size(total_runs: int) -> int:
    """Runs per part file when none is asked for: about 50 parts, 10 to 200 runs each.

    Depends only on the number of runs (not on the executor), so every
    executor writes the same part files.
    """
    return max(10, min(200, math.ceil(total_runs / 50)))


@dataclass(frozen=True)
class SweepSummary:
    """The outcome of :func:`run_sweep`.

    Attributes:
        out: The results folder.
        experiment: The experiment's name.
        points: Design points by role.
        total_runs: Runs in the sweep.
        ran: Runs run this time.
        skipped: Runs already done before (a resumed sweep).
        failed: Runs recorded as failed (all sessions).
        seconds: Wall time of this session.
        executor: The executor, in words.
        chunk_size: Runs per part.
    """

    out: Path
    experiment: str
    points: dict[str, int]
    total_runs: int
    ran: int
    skipped: int
    failed: int
    seconds: float
    executor: str
    chunk_size: int

    @property
    def complete(self) -> bool:
        """True when every run is recorded."""
        return self.ran + self.skipped == self.total_runs


FROM_EXPERIMENT = "from-experiment"
"""``calibration=`` default of :func:`run_sweep`: the experiment file's ``calibration:``,
else the shipped calibration (:meth:`Experiment.calibration_result`)."""

NO_CALIBRATION = {"version": "none", "path": None, "method": None, "replicate_draws": "none",
                  "used": "the registry values (calibration: none, or no shipped calibration)"}
"""The manifest's ``calibration`` entry of a sweep without one."""


def _calibration(experiment: Experiment, calibration: Any, stream: TextIO | None) -> Any:
    """``calibration`` itself, or (:data:`FROM_EXPERIMENT`) the experiment's choice."""
    if isinstance(calibration, str) and calibration == FROM_EXPERIMENT:
        out = stream if stream is not None else sys.stderr
        return experiment.calibration_result(note=lambda line: print(line, file=out,
                                                                     flush=True))
    return calibration


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _record(res: JobResult) -> RunRecord:
    run_id = int(res.key)  # type: ignore[call-overload]
    if not res.ok:
        return RunRecord(run_id, None, error=res.error, traceback=res.traceback)
    out: RunOutput = res.value
    return RunRecord(run_id, out.metrics, out.weeks, out.stocks)


def _code_changed(first: Mapping[str, Any], now: Mapping[str, Any]) -> str | None:
    """Why a resumed sweep's code may differ from its first session's, or None.

    The fingerprint covers the inputs of the runs, not the code that runs them.
    """
    def describe(session: Mapping[str, Any]) -> str:
        dirty = " with local changes" if session.get("git_dirty") else ""
        return f"{session.get('git_sha') or 'unknown commit'}{dirty}"

    if first.get("git_sha") == now.get("git_sha") and not (
            first.get("git_dirty") or now.get("git_dirty")):
        return None
    return (f"the code may have changed since this sweep started (git {describe(first)}, now "
            f"{describe(now)}): runs of the two sessions agree only if the model is the same")


def _manifest(plan: SweepPlan, fingerprint: str, chunk_size: int, command: Sequence[str],
              session: dict[str, Any]) -> dict[str, Any]:
    exp = plan.experiment
    return build_manifest(
        exp.base_scenario,
        exp.seed,
        list(plan.seeds),
        list(command),
        extra={
            "kind": "sweep",
            "executor_libraries": {lib: package_version(lib) for lib in ("dask", "distributed")},
            "experiment": exp.to_dict(),
            "sweep": {
                "fingerprint": fingerprint,
                "status": "running",
                "total_runs": plan.total_runs,
                "chunk_size": chunk_size,
                "chunks": math.ceil(plan.total_runs / chunk_size),
                "started_utc": session["started_utc"],
                "finished_utc": None,
                "sessions": [session],
                "tables": {
                    "design": "design.parquet",
                    "outcomes": "parts/outcomes/outcomes-NNNNN.parquet",
                    "weekly": "parts/weekly/weekly-NNNNN.parquet",
                    "errors": "parts/errors/errors-NNNNN.parquet",
                },
                "outcome_columns": ["run_id", *METRICS],
                "weekly_columns": ["run_id", "week", *STATES],
            },
            "plan": plan.manifest_entry(),
            "calibration": plan.calibration_record() or NO_CALIBRATION,
        },
    )


def _stopped(store: SweepStore, manifest: dict[str, Any], session: dict[str, Any], ran: int,
             exc: BaseException) -> None:
    """Record in the manifest that this session stopped early: "interrupted" or "failed".

    Best effort: a failure to write it (a full disk) must not hide ``exc``.
    """
    status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    session |= {"finished_utc": _now(), "runs": ran, "stopped": status,
                "reason": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__}
    manifest["sweep"]["status"] = status
    manifest["sweep"]["runs_failed"] = store.runs_failed
    manifest["sweep"]["failed_run_ids"] = sorted(store.failed_run_ids)
    try:
        store.write_manifest(manifest, [store.design_path, *store.part_files()])
    except Exception:  # pragma: no cover - e.g. the disk is full; the parts are what count
        pass


def _run_sweep(
    experiment: Experiment,
    out: Path | str,
    executor: Executor | None = None,
    *,
    resume: bool = False,
    chunk_size: int | None = None,
    progress: bool = True,
    command: Sequence[str] | None = None,
    stream: TextIO | None = None,
    calibration: Any = FROM_EXPERIMENT,
) -> SweepSummary:
    """Run (or resume) a sweep of an experiment into a results folder (lock held).

    Args:
        experiment: A validated experiment.
        out: The results folder: new or empty, or (``resume``) an earlier
            sweep of the same experiment.
        executor: Where runs are run; not yet open (this function opens and
            closes it). Default: in this process.
        resume: Continue the sweep in ``out``, running only what is missing.
        chunk_size: Runs per part file (default :func:`default_chunk_size`;
            when resuming, the sweep's own).
        progress: Show progress on ``stream``.
        command: The command line, for the manifest.
        stream: Where progress goes (default ``sys.stderr``).
        calibration: See :func:`run_sweep`.

    Returns:
        What ran.

    Raises:
        SweepError: ``out`` is not empty and ``resume`` is false; or, resuming,
            ``out`` is not a sweep of this experiment (changed since, or another
            chunk size asked for).
        ExecutorError: The executor failed; the chunks already written are kept
            and the manifest's status is "failed".
        KeyboardInterrupt: Ctrl-C, or :class:`~pathways_sim.interrupt.Terminated`
            (SIGTERM): the executor is closed, the chunks already written are kept
            and the manifest's status is "interrupted".
        ValueError: A bad ``chunk_size`` or :data:`FAIL_ENV` value.
    """
    t0 = time.monotonic()
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk size must be at least 1, got {chunk_size}")
    stream = sys.stderr if stream is None else stream
    executor = InProcessExecutor() if executor is None else executor
    command = list(command) if command is not None else [sys.argv[0], *sys.argv[1:]]
    fail_ids = _fail_ids_from_env()
    plan = plan_sweep(experiment, _calibration(experiment, calibration, stream))
    fingerprint = plan.fingerprint()
    store = SweepStore(out)
    session: dict[str, Any] = {
        "started_utc": _now(), "command": command, "executor": executor.description,
        "resume": False, **git_state(),
    }
    if fail_ids:
        session["test_hook_fail_run_ids"] = sorted(fail_ids)
    if resume and not store.is_empty():
        manifest = store.open_for_resume(fingerprint, chunk_size, experiment.name)
        if store.damaged:
            print(f"warning: {_damage_text(store, store.damaged)}: rerunning their "
                  f"{sum(len(store.chunk_runs(c)) for c in store.damaged)} runs",
                  file=stream, flush=True)
        session |= {"resume": True, "runs_done_before": store.runs_done}
        if store.damaged:
            session["parts_rerun"] = _damage_record(store, store.damaged)
        warning = _code_changed((manifest["sweep"]["sessions"] or [session])[0], session)
        if warning and progress:
            print(f"warning: {warning}", file=stream, flush=True)
        manifest["sweep"]["sessions"].append(session)
        manifest["sweep"]["status"] = "running"
        store.write_manifest(manifest)
    else:
        size = chunk_size or default_chunk_size(plan.total_runs)
        manifest = _manifest(plan, fingerprint, size, command, session)
        store.create(fingerprint, size, plan.total_runs, plan.design_table(), manifest)

    skipped = store.runs_done
    missing = store.missing_chunks()
    if progress:
        roles = plan.roles()
        print(
            f"{experiment.name}: {len(plan.points)} design points ({roles['option']} options, "
            f"{roles['baseline']} baseline, {roles['counterfactual']} counterfactual) x "
            f"{plan.replicates} replicates = {plan.total_runs} runs; {skipped} already done; "
            f"parts of {store.chunk_size} runs; {executor.description} -> {store.root}",
            file=stream, flush=True,
        )
    bar = Progress(experiment.name, plan.total_runs, done=skipped, failed=store.runs_failed,
                   stream=stream, enabled=progress)

    def jobs() -> Iterator[Job]:
        for chunk in missing:
            for run in plan.runs(store.chunk_runs(chunk)):
                yield Job(run.run_id, plan.scenario_of(run.point_id, run.replicate), run.seed)

    ran = 0
    try:
        if missing:
            buffers: dict[int, list[RunRecord]] = {}
            with executor:
                for res in run_many(jobs(), executor, SweepTask(fail_ids)):
                    record = _record(res)
                    chunk = record.run_id // store.chunk_size
                    buf = buffers.setdefault(chunk, [])
                    buf.append(record)
                    ran += 1
                    bar.update(1, failed=int(record.error is not None))
                    if len(buf) == len(store.chunk_runs(chunk)):
                        store.write_chunk(chunk, buffers.pop(chunk))
    except BaseException as exc:
        # Ctrl-C, SIGTERM (KeyboardInterrupt) or a failed executor: the executor is closed
        # (its workers are gone); say in the manifest that the sweep stopped, and why.
        _stopped(store, manifest, session, ran, exc)
        raise
    finally:
        bar.close()

    session |= {"finished_utc": _now(), "runs": ran}
    manifest["sweep"]["status"] = "complete"
    manifest["sweep"]["finished_utc"] = _now()
    manifest["sweep"]["runs_failed"] = store.runs_failed
    manifest["sweep"]["failed_run_ids"] = sorted(store.failed_run_ids)
    store.write_manifest(manifest, [store.design_path, *store.part_files()])
    return SweepSummary(
        out=store.root, experiment=experiment.name, points=plan.roles(),
        total_runs=plan.total_runs, ran=ran, skipped=skipped, failed=store.runs_failed,
        seconds=time.monotonic() - t0, executor=executor.description,
        chunk_size=store.chunk_size,
    )


def run_sweep(
    experiment: Experiment,
    out: Path | str,
    executor: Executor | None = None,
    *,
    resume: bool = False,
    command: Sequence[str] | None = None,
    stream: TextIO | None = None,
    **options: Any,
) -> SweepSummary:
    """Run (or resume) a sweep of an experiment into a results folder, holding its lock.

    Only one process writes to a results folder at a time: a second sweep
    (``--resume`` or not) into a folder that a live sweep holds is refused
    at once (:class:`~pathways_sim.integrity.FolderBusy`, naming that
    process). Resuming checks every recorded part against the size and
    checksum in the index and runs the chunks of damaged or missing parts
    again, saying so on ``stream``.

    Args:
        experiment: A validated experiment.
        out: The results folder: new or empty, or (``resume``) an earlier
            sweep of the same experiment.
        executor: Where runs are run; not yet open (this function opens and
            closes it). Default: in this process.
        resume: Continue the sweep in ``out``, running only what is missing
            (or damaged).
        command: The command line, for the manifest and the lock.
        stream: Where progress and warnings go (default ``sys.stderr``).
        **options: ``chunk_size`` (runs per part file, default
            :func:`default_chunk_size`; when resuming, the sweep's own),
            ``progress`` (show progress, default True) and ``calibration``: the
            posterior each replicate draws its parameters from (replicate ``r``
            of every point the same draw), None for the registry values, or
            :data:`FROM_EXPERIMENT` (default): the experiment file's
            ``calibration:``, else the shipped ``calibration/results/default``.

    Returns:
        What ran.

    Raises:
        FolderBusy: Another process is writing to ``out``.
        SweepError: ``out`` is not empty and ``resume`` is false; or, resuming,
            ``out`` is not a sweep of this experiment (changed since, or another
            chunk size asked for), or its manifest or index is missing or
            corrupt (the message names ``--repair``).
        ExecutorError: The executor failed; the chunks already written are kept.
        ValueError: A bad ``chunk_size`` or :data:`FAIL_ENV` value.
    """
    command = list(command) if command is not None else [sys.argv[0], *sys.argv[1:]]
    with lock_folder(out, command, stream):
        return _run_sweep(experiment, out, executor, resume=resume, command=command,
                          stream=stream, **options)


def _damage_text(store: SweepStore, damaged: Mapping[int, list[tuple[Path, str]]]) -> str:
    parts = [(p, why) for c in sorted(damaged) for p, why in damaged[c]]
    shown = "; ".join(f"{p.relative_to(store.root).as_posix()} {why}" for p, why in parts[:4])
    more = f"; and {len(parts) - 4} more" if len(parts) > 4 else ""
    return f"{len(parts)} part{'s' if len(parts) != 1 else ''} damaged or missing ({shown}{more})"


def _damage_record(store: SweepStore, damaged: Mapping[int, list[tuple[Path, str]]]
                   ) -> list[dict[str, Any]]:
    return [{"chunk": c, "part": p.relative_to(store.root).as_posix(), "problem": why}
            for c in sorted(damaged) for p, why in damaged[c]]


@dataclass(frozen=True)
class RepairSummary:
    """What :func:`repair_sweep` found and rebuilt.

    Attributes:
        out: The results folder.
        total_runs: Runs in the sweep.
        runs_kept: Runs recorded in intact parts (kept).
        dropped: Chunk -> [(part file, problem)] of the parts deleted (to be rerun).
        rebuilt: The files written anew (``index.json``, and ``manifest.json`` /
            ``design.parquet`` when they were lost or corrupt).
    """

    out: Path
    total_runs: int
    runs_kept: int
    dropped: dict[int, list[tuple[Path, str]]]
    rebuilt: list[str]


def repair_sweep(experiment: Experiment, out: Path | str, *, chunk_size: int | None = None,
                 command: Sequence[str] | None = None,
                 stream: TextIO | None = None,
                 calibration: Any = FROM_EXPERIMENT) -> RepairSummary:
    """Rebuild a sweep folder's index (and, if lost or corrupt, its manifest) from its parts.

    The parts name their chunk and hold their run ids, so the runs of every
    intact part are kept. The experiment must be the one that was swept:
    checked against the manifest's fingerprint, or (manifest lost) against
    ``design.parquet``. Parts that are unreadable or do not hold their
    chunk's runs are deleted; ``--resume`` runs them again. Runs nothing.

    Args:
        experiment: The experiment that was swept into ``out``.
        out: The results folder.
        chunk_size: Runs per part, when neither the manifest nor the parts
            tell (default: the manifest's, else inferred from the parts).
        command: The command line (lock and manifest).
        stream: Where a note about a taken-over lock goes.
        calibration: The calibration it was swept with (see :func:`run_sweep`).

    Returns:
        What was kept and rebuilt.

    Raises:
        FolderBusy: Another process is writing to ``out``.
        SweepError: Not a sweep folder, or a sweep of another experiment.
    """
    import pyarrow.parquet as pq

    from pathways_sim.integrity import read_json

    command = list(command) if command is not None else [sys.argv[0], *sys.argv[1:]]
    plan = plan_sweep(experiment, _calibration(experiment, calibration, stream))
    fingerprint = plan.fingerprint()
    store = SweepStore(out)
    where = str(store.root)
    if not (store.root / "parts").is_dir() and not store.manifest_path.is_file():
        raise SweepError(where, None, "not a sweep results folder (no parts/ and no "
                         "manifest.json)", "the --out folder of an earlier sweep")
    with lock_folder(out, command, stream):
        rebuilt: list[str] = []
        try:
            manifest: dict[str, Any] | None = store.read_manifest(experiment.name)
        except SweepError:
            manifest = None
        if manifest is not None:
            old = manifest["sweep"].get("fingerprint")
            if old != fingerprint:
                raise SweepError(where, "fingerprint", "this folder holds a sweep of another "
                                 f"experiment (fingerprint {str(old)[:12]}…, this one "
                                 f"{fingerprint[:12]}…)", "the experiment file it was run with")
            size = manifest["sweep"].get("chunk_size")
            chunk_size = int(size) if isinstance(size, int) and size > 0 else chunk_size
        design = plan.design_table()
        if store.design_path.is_file():
            try:
                same = pq.read_table(store.design_path).equals(design)
            except Exception:  # noqa: BLE001 - any unreadable design is rewritten
                same = None
            if same is False and manifest is None:
                raise SweepError(where, None, "design.parquet does not match this experiment's "
                                 "design points and seeds", "the experiment file it was run "
                                 "with")
        else:
            same = None
        if same is not True:
            from pathways_sim.sweep.store import atomic_write_table

            atomic_write_table(store.design_path, design)
            rebuilt.append("design.parquet")
        size, dropped = store.rebuild(fingerprint, chunk_size, plan.total_runs)
        rebuilt.append("index.json")
        session: dict[str, Any] = {"started_utc": _now(), "finished_utc": _now(),
                                   "command": command, "repair": True, "resume": False,
                                   "runs": 0, **git_state()}
        if dropped:
            session["parts_dropped"] = _damage_record(store, dropped)
        if manifest is None:
            manifest = _manifest(plan, fingerprint, size, command, session)
            manifest["sweep"]["rebuilt_utc"] = _now()
            manifest["sweep"]["note"] = ("manifest.json was rebuilt by --repair from the "
                                         "experiment file and the parts: the sessions before "
                                         "are not known")
            rebuilt.append("manifest.json")
        else:
            manifest["sweep"]["sessions"].append(session)
        complete = store.runs_done == store.total_runs
        manifest["sweep"]["status"] = "complete" if complete else "incomplete"
        manifest["sweep"]["runs_failed"] = store.runs_failed
        manifest["sweep"]["failed_run_ids"] = sorted(store.failed_run_ids)
        store.write_manifest(manifest, [store.design_path, *store.part_files()])
        # read back, so a write that did not take is an error here, not at the next resume
        read_json(store.manifest_path, "run --repair again")
        return RepairSummary(out=store.root, total_runs=store.total_runs,
                             runs_kept=store.runs_done, dropped=dropped, rebuilt=rebuilt)
