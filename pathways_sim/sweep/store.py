"""The results folder of a sweep: Parquet parts, an index, atomic writes and resume.

Layout::

    <out>/
      manifest.json          experiment (resolved), points, seeds, versions, git, commands
      design.parquet         inputs by run_id: point_id, replicate, seed, role, pairs, factors
      index.json             completed chunks and run ids (rewritten after each part)
      parts/outcomes/outcomes-NNNNN.parquet   run_id + every metric (runs that finished)
      parts/weekly/weekly-NNNNN.parquet       run_id, week, the weekly stock columns
      parts/errors/errors-NNNNN.parquet       run_id, error, traceback (runs that raised)

Runs are grouped in fixed chunks of consecutive run ids (chunk ``k`` holds
runs ``k*K .. k*K+K-1``); part ``NNNNN`` holds chunk ``NNNNN``, rows sorted
by run id, so the same experiment gives the same part files whatever ran it.
Every file is written to a hidden temporary file in its folder and moved
into place with :func:`os.replace`, so a reader or a killed sweep never sees
half a file. ``index.json`` is the record of what is complete: a part not in
it (its sweep was killed between writing the part and the index) is
removed and run again on resume. Readers that list a folder
(``pd.read_parquet(out / "parts" / "outcomes")``, DuckDB's
``read_parquet('parts/outcomes/*.parquet')``) see every complete part;
hidden temporary files are skipped by pyarrow.

Integrity: the index records every part's row count, size and SHA-256.
:meth:`SweepStore.open_for_resume` and :func:`~pathways_sim.sweep.results.load_sweep`
check them; a damaged or missing part makes its whole chunk "not done" (rerun
by ``--resume``, left out with a banner by the report). :meth:`SweepStore.rebuild`
recreates a lost or corrupt ``index.json`` from the parts themselves. A
writer holds the folder's lock (:mod:`pathways_sim.integrity`) meanwhile.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pathways_sim.integrity import LOCK_NAME, read_json
from pathways_sim.manifest import sha256_file
from pathways_sim.outcomes import METRICS, STATES
from pathways_sim.scenario import ScenarioError

__all__ = [
    "ERRORS_SCHEMA",
    "KINDS",
    "OUTCOMES_SCHEMA",
    "WEEKLY_SCHEMA",
    "RunRecord",
    "SweepError",
    "SweepStore",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_table",
    "repair_hint",
]

KINDS = ("outcomes", "weekly", "errors")
"""Kinds of part files (one subfolder of ``parts/`` each)."""

OUTCOMES_SCHEMA = pa.schema(
    [("run_id", pa.int64())] + [(m, pa.float64()) for m in METRICS]
)
"""Columns of outcome parts: run_id, then every metric as float64."""

WEEKLY_SCHEMA = pa.schema(
    [("run_id", pa.int64()), ("week", pa.int64())] + [(s, pa.int64()) for s in STATES]
)
"""Columns of weekly parts: run_id, week, then the clients in each state."""

ERRORS_SCHEMA = pa.schema(
    [("run_id", pa.int64()), ("error", pa.string()), ("traceback", pa.string())]
)
"""Columns of error parts."""

SCHEMAS = {"outcomes": OUTCOMES_SCHEMA, "weekly": WEEKLY_SCHEMA, "errors": ERRORS_SCHEMA}

MANIFEST, DESIGN, INDEX, PARTS = "manifest.json", "design.parquet", "index.json", "parts"


class SweepError(ScenarioError):
    """A results folder that cannot be used as asked (a ScenarioError: exit 2 from the CLI)."""


def repair_hint(root: Path | str, experiment: str | None = None) -> str:
    """What to run to rebuild a folder's lost or corrupt index and manifest."""
    return (f"rebuild it from the parts with: pathways-sim sweep {experiment or 'EXPERIMENT'} "
            f"--out {root} --repair")


@dataclass(frozen=True)
class RunRecord:
    """What a finished run leaves in the store.

    Attributes:
        run_id: The run.
        metrics: Metric name -> value, or None when the run raised.
        weeks: Week numbers of the stock rows (None when the run raised).
        stocks: ``len(weeks) x len(STATES)`` clients in each state (None when it raised).
        error: ``"<Type>: <message>"`` when the run raised.
        traceback: The traceback when the run raised.
    """

    run_id: int
    metrics: Mapping[str, float] | None
    weeks: np.ndarray | None = None
    stocks: np.ndarray | None = None
    error: str | None = None
    traceback: str | None = None


# --------------------------------------------------------------------------- atomic files


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that it appears whole or not at all.

    Args:
        path: Destination.
        data: Contents.
    """
    tmp = _tmp(path)
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (indented; NaN is an error)."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode())


def atomic_write_table(path: Path, table: pa.Table) -> dict[str, Any]:
    """Write a Parquet file atomically.

    Args:
        path: Destination.
        table: The table.

    Returns:
        What the index records of the file: ``rows``, ``bytes`` and ``sha256``.
    """
    buf = io.BytesIO()
    pq.write_table(table, buf)
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    return {"rows": table.num_rows, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# --------------------------------------------------------------------------- tables


def outcomes_table(records: Sequence[RunRecord]) -> pa.Table:
    """The outcome rows of the runs that finished, in the given order."""
    ok = [r for r in records if r.metrics is not None]
    cols: dict[str, Any] = {"run_id": np.array([r.run_id for r in ok], dtype=np.int64)}
    for m in METRICS:
        cols[m] = np.array([float(r.metrics.get(m, math.nan)) for r in ok  # type: ignore[union-attr]
                            ], dtype=np.float64)
    return pa.table(cols, schema=OUTCOMES_SCHEMA)


def weekly_table(records: Sequence[RunRecord]) -> pa.Table:
    """The weekly stock rows of the runs that finished."""
    ok = [r for r in records if r.weeks is not None and r.stocks is not None]
    n_states = len(STATES)
    run_id = np.concatenate([np.full(len(r.weeks), r.run_id, dtype=np.int64) for r in ok]
                            ) if ok else np.empty(0, dtype=np.int64)
    weeks = np.concatenate([np.asarray(r.weeks, dtype=np.int64) for r in ok]
                           ) if ok else np.empty(0, dtype=np.int64)
    stocks = np.concatenate([np.asarray(r.stocks, dtype=np.int64).reshape(-1, n_states)
                             for r in ok]) if ok else np.empty((0, n_states), dtype=np.int64)
    cols: dict[str, Any] = {"run_id": run_id, "week": weeks}
    for j, s in enumerate(STATES):
        cols[s] = stocks[:, j]
    return pa.table(cols, schema=WEEKLY_SCHEMA)


def errors_table(records: Sequence[RunRecord]) -> pa.Table:
    """The rows of the runs that raised."""
    bad = [r for r in records if r.error is not None]
    return pa.table({
        "run_id": np.array([r.run_id for r in bad], dtype=np.int64),
        "error": [r.error for r in bad],
        "traceback": [r.traceback or "" for r in bad],
    }, schema=ERRORS_SCHEMA)


# --------------------------------------------------------------------------- index


def _ranges(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ids as inclusive ``[first, last]`` ranges."""
    out: list[list[int]] = []
    for i in sorted(ids):
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _infer_chunk_size(ids: Mapping[int, Mapping[str, np.ndarray]], total_runs: int) -> int:
    """The chunk size of intact parts: chunk k's first run is k * size."""
    for chunk, got in sorted(ids.items(), reverse=True):
        runs = np.concatenate(list(got.values())) if got else np.empty(0)
        if chunk > 0 and len(runs) and int(runs.min()) % chunk == 0:
            return int(runs.min()) // chunk
    if 0 in ids:
        n0 = len(np.unique(np.concatenate([ids[0].get("outcomes", np.empty(0)),
                                           ids[0].get("errors", np.empty(0))])))
        if n0:
            return n0
    from pathways_sim.sweep.runner import default_chunk_size

    return default_chunk_size(total_runs)


class SweepStore:
    """A sweep's results folder.

    Args:
        root: The folder.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.fingerprint: str | None = None
        self.chunk_size = 0
        self.total_runs = 0
        self.completed: dict[int, dict[str, int]] = {}  # chunk -> {"runs", "failed"}
        self.failed_run_ids: list[int] = []
        # chunk -> [(part, problem)] found damaged or missing by open_for_resume
        self.damaged: dict[int, list[tuple[Path, str]]] = {}

    # -- paths

    @property
    def manifest_path(self) -> Path:
        """``manifest.json``."""
        return self.root / MANIFEST

    @property
    def design_path(self) -> Path:
        """``design.parquet``."""
        return self.root / DESIGN

    @property
    def index_path(self) -> Path:
        """``index.json``."""
        return self.root / INDEX

    def part_path(self, kind: str, chunk: int) -> Path:
        """The part file of one kind for one chunk."""
        return self.root / PARTS / kind / f"{kind}-{chunk:05d}.parquet"

    # -- chunks

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return math.ceil(self.total_runs / self.chunk_size) if self.chunk_size else 0

    def chunk_runs(self, chunk: int) -> range:
        """Run ids of a chunk."""
        start = chunk * self.chunk_size
        return range(start, min(self.total_runs, start + self.chunk_size))

    def missing_chunks(self) -> list[int]:
        """Chunks not yet complete, in order."""
        return [c for c in range(self.n_chunks) if c not in self.completed]

    @property
    def runs_done(self) -> int:
        """Runs recorded (finished or failed)."""
        return sum(v["runs"] for v in self.completed.values())

    @property
    def runs_failed(self) -> int:
        """Runs recorded as failed."""
        return sum(v["failed"] for v in self.completed.values())

    # -- opening

    def is_empty(self) -> bool:
        """True when the folder does not exist or holds nothing (but a writer's lock file)."""
        return not self.root.exists() or not any(
            p.name != LOCK_NAME for p in self.root.iterdir())

    def create(self, fingerprint: str, chunk_size: int, total_runs: int, design: pa.Table,
               manifest: Mapping[str, Any]) -> None:
        """Start a new sweep in an empty (or new) folder.

        Raises:
            SweepError: The folder is not empty, or is a file.
        """
        if self.root.exists() and not self.root.is_dir():
            raise SweepError(str(self.root), None, "is a file, not a folder",
                             "a new or empty folder")
        if not self.is_empty():
            raise SweepError(
                str(self.root), None, "the results folder is not empty",
                "a new or empty folder, or --resume to continue the sweep that wrote it",
            )
        for kind in KINDS:
            (self.root / PARTS / kind).mkdir(parents=True, exist_ok=True)
        self.fingerprint, self.chunk_size, self.total_runs = fingerprint, chunk_size, total_runs
        self.completed, self.failed_run_ids = {}, []
        atomic_write_table(self.design_path, design)
        self.write_manifest(manifest)
        self._write_index()

    def check_is_sweep(self, experiment: str | None = None) -> None:
        """Raise unless the folder holds a sweep (a manifest, an index or parts).

        Raises:
            SweepError: Neither a manifest nor an index; the message names
                ``--repair`` when part files remain.
        """
        if self.manifest_path.is_file() or self.index_path.is_file():
            return
        if any((self.root / PARTS).glob("*/*.parquet")):
            raise SweepError(str(self.root), None, "manifest.json and index.json are missing "
                             "but parts/ holds results", repair_hint(self.root, experiment))
        raise SweepError(str(self.root), None, "not a sweep results folder (no manifest.json "
                         "and index.json)", "the --out folder of an earlier sweep")

    def read_manifest(self, experiment: str | None = None) -> dict[str, Any]:
        """``manifest.json``, or a clear error (naming ``--repair``) when missing or corrupt."""
        manifest = read_json(self.manifest_path, repair_hint(self.root, experiment),
                             error=SweepError)
        for key, kind, inner in (("sweep", dict, "sessions"), ("experiment", dict, None),
                                 ("plan", dict, "points")):
            section = manifest.get(key)
            if not isinstance(section, kind) or (
                    inner is not None and not isinstance(section.get(inner), list)):
                what = f"its {key} section" + (f" with its {inner}" if inner else "")
                raise SweepError(str(self.manifest_path), key, f"is damaged ({what} is missing)",
                                 repair_hint(self.root, experiment))
        return manifest

    def read_index(self, experiment: str | None = None) -> None:
        """Load ``index.json`` into this store.

        Raises:
            SweepError: It is missing, not JSON, or lacks a key (the message
                says how to rebuild it).
        """
        self.load_index(read_json(self.index_path, repair_hint(self.root, experiment),
                                  error=SweepError), experiment)

    def load_index(self, index: Mapping[str, Any], experiment: str | None = None) -> None:
        """Load the contents of ``index.json`` (see :meth:`read_index`)."""
        try:
            self.fingerprint = index.get("fingerprint")
            self.chunk_size = int(index["chunk_size"])
            self.total_runs = int(index["total_runs"])
            self.completed = {int(k): dict(v) for k, v in index["completed_chunks"].items()}
            self.completed = {k: self.completed[k] for k in sorted(self.completed)}
            for v in self.completed.values():
                v["runs"], v["failed"] = int(v["runs"]), int(v["failed"])
            self.failed_run_ids = [int(i) for i in index.get("failed_run_ids", [])]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            key = str(exc.args[0]) if isinstance(exc, KeyError) else None
            raise SweepError(str(self.index_path), key, "is damaged (a key is missing or "
                             "has the wrong type)", repair_hint(self.root, experiment)
                             ) from None
        if self.chunk_size < 1 or self.total_runs < 0:
            raise SweepError(str(self.index_path), "chunk_size", "is damaged (chunk size "
                             "below 1)", repair_hint(self.root, experiment))

    def check_index(self, manifest: Mapping[str, Any], experiment: str | None = None) -> None:
        """Raise when the loaded index disagrees with the manifest on the sweep's layout."""
        for key, value in (("total_runs", self.total_runs), ("chunk_size", self.chunk_size)):
            if manifest["sweep"].get(key, value) != value:
                raise SweepError(str(self.index_path), key, f"is damaged ({value}, the "
                                 f"manifest says {manifest['sweep'][key]})",
                                 repair_hint(self.root, experiment))

    def open_for_resume(self, fingerprint: str, chunk_size: int | None,
                        experiment: str | None = None) -> dict[str, Any]:
        """Reopen an interrupted (or finished) sweep to run what is missing.

        Checks every recorded part (:meth:`verify`) and forgets the chunks of
        damaged or missing parts (:attr:`damaged` says which), so they run
        again; removes part files of chunks the index does not list and
        temporary files.

        Args:
            fingerprint: The experiment's fingerprint now.
            chunk_size: The chunk size asked for, or None for the sweep's.
            experiment: The experiment's name, for messages.

        Returns:
            The manifest as it was.

        Raises:
            SweepError: Not a sweep folder, a missing or corrupt manifest or
                index (the message names ``--repair``), the experiment
                changed, or another chunk size was asked for.
        """
        where = str(self.root)
        self.check_is_sweep(experiment)
        manifest = self.read_manifest(experiment)
        self.read_index(experiment)
        old = manifest["sweep"].get("fingerprint")
        if old != fingerprint:
            cal = manifest.get("calibration")
            swept = (f" (it was swept with calibration {cal.get('version')})"
                     if isinstance(cal, dict) else "")
            raise SweepError(
                where, "fingerprint",
                f"the experiment changed since this sweep started (fingerprint {str(old)[:12]}… "
                f"now {fingerprint[:12]}…): its design points, scenarios, seeds or calibration "
                f"differ{swept}",
                "the same experiment file, scenarios and calibration (--calibration), or a new "
                "--out folder",
            )
        self.check_index(manifest, experiment)
        size = self.chunk_size
        if chunk_size is not None and chunk_size != size:
            raise SweepError(where, "--chunk-size",
                             f"the sweep was started with chunks of {size} runs, not {chunk_size}",
                             f"{size}, or leave --chunk-size out when resuming")
        self.fingerprint = fingerprint
        self.damaged = self.verify()
        for chunk in self.damaged:
            self.forget_chunk(chunk)
        if self.damaged:
            self._write_index()
        self._remove_strays()
        return manifest

    # -- integrity

    def part_problem(self, kind: str, chunk: int) -> str | None:
        """What is wrong with one recorded part, or None when it is as the index says.

        With the checksums of the index (sweeps written since they were
        recorded): the size and SHA-256 must match. Without (older sweeps):
        the file must be readable Parquet with the row count the chunk implies.
        """
        entry = self.completed[chunk]
        path = self.part_path(kind, chunk)
        if kind not in self.recorded_kinds(chunk):
            return None
        expected = (entry.get("parts") or {}).get(kind)
        if not path.is_file():
            return "missing"
        if expected is not None:
            try:
                if path.stat().st_size != int(expected["bytes"]):
                    return (f"damaged ({path.stat().st_size} bytes, "
                            f"{int(expected['bytes'])} recorded)")
                if sha256_file(path) != expected["sha256"]:
                    return "damaged (checksum differs from the one recorded)"
            except (KeyError, TypeError, ValueError):
                return "unverifiable (the index's record of it is damaged)"
            except OSError as exc:
                return f"unreadable ({exc.strerror})"
            return None
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException):
            return "damaged (not readable Parquet)"
        want = {"outcomes": entry["runs"] - entry["failed"], "errors": entry["failed"]}.get(kind)
        if want is not None and rows != want:
            return f"damaged ({rows} rows, {want} expected)"
        return None

    def recorded_kinds(self, chunk: int) -> list[str]:
        """The kinds of part a completed chunk has (errors only when a run failed)."""
        entry = self.completed[chunk]
        if isinstance(entry.get("parts"), dict):
            return [k for k in KINDS if k in entry["parts"]]
        return [k for k in KINDS if k != "errors" or entry["failed"] > 0]

    def verify(self) -> dict[int, list[tuple[Path, str]]]:
        """Check every recorded part.

        Returns:
            Chunk -> [(part file, problem)] for the chunks with a damaged or
            missing part (empty when all is well).
        """
        out: dict[int, list[tuple[Path, str]]] = {}
        for chunk in sorted(self.completed):
            for kind in KINDS:
                problem = self.part_problem(kind, chunk)
                if problem is not None:
                    out.setdefault(chunk, []).append((self.part_path(kind, chunk), problem))
        return out

    def forget_chunk(self, chunk: int) -> None:
        """Mark a chunk not done and delete its part files (they are run again)."""
        self.completed.pop(chunk, None)
        runs = self.chunk_runs(chunk)
        self.failed_run_ids = [i for i in self.failed_run_ids if i not in runs]
        for kind in KINDS:
            self.part_path(kind, chunk).unlink(missing_ok=True)

    def _chunk_of(self, f: Path) -> int | None:
        try:
            return int(f.stem.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            return None

    def rebuild(self, fingerprint: str, chunk_size: int | None, total_runs: int,
                ) -> tuple[int, dict[int, list[tuple[Path, str]]]]:
        """Recreate the index from the part files alone (a lost or corrupt ``index.json``).

        A chunk counts as done when its outcome, weekly and (if any run
        failed) error parts read as Parquet and together hold exactly the
        chunk's run ids; the parts of any other chunk are deleted (to be
        run again by ``--resume``). The index is then written with each
        part's rows, size and checksum.

        Args:
            fingerprint: The experiment's fingerprint.
            chunk_size: Runs per chunk, or None to infer it from the parts.
            total_runs: Runs in the sweep.

        Returns:
            ``(chunk size, {chunk: [(part file, problem)]})`` for the chunks dropped.
        """
        found: dict[int, dict[str, Path]] = {}
        for kind in KINDS:
            folder = self.root / PARTS / kind
            folder.mkdir(parents=True, exist_ok=True)
            for f in sorted(folder.glob(f"{kind}-*.parquet")):
                chunk = self._chunk_of(f)
                if chunk is not None:
                    found.setdefault(chunk, {})[kind] = f
        ids: dict[int, dict[str, np.ndarray]] = {}
        bad: dict[int, list[tuple[Path, str]]] = {}
        for chunk, files in found.items():
            got: dict[str, np.ndarray] = {}
            for kind, f in files.items():
                try:
                    table = pq.read_table(f)
                    if not table.schema.equals(SCHEMAS[kind]):
                        raise ValueError("unexpected columns")
                    got[kind] = table.column("run_id").to_numpy()
                except (OSError, ValueError, pa.ArrowException):
                    bad.setdefault(chunk, []).append((f, "damaged (not readable Parquet)"))
            for kind in ("outcomes", "weekly"):
                if kind not in files:
                    bad.setdefault(chunk, []).append((self.part_path(kind, chunk), "missing"))
            if chunk not in bad:
                ids[chunk] = got
        if chunk_size is None:
            chunk_size = _infer_chunk_size(ids, total_runs)
        self.fingerprint, self.chunk_size, self.total_runs = fingerprint, chunk_size, total_runs
        self.completed, self.failed_run_ids = {}, []
        for chunk, got in sorted(ids.items()):
            ok_ids = np.sort(got["outcomes"])
            err_ids = np.sort(got.get("errors", np.empty(0, dtype=np.int64)))
            runs = np.sort(np.concatenate([ok_ids, err_ids]))
            if (chunk >= self.n_chunks or not np.array_equal(runs, np.asarray(
                    self.chunk_runs(chunk))) or not np.array_equal(
                    np.unique(got["weekly"]), ok_ids)):
                bad.setdefault(chunk, []).append(
                    (self.part_path("outcomes", chunk),
                     f"does not hold the runs of chunk {chunk} (chunks of {chunk_size} runs)"))
                continue
            parts = {kind: {"rows": int(len(got[kind])),
                            "bytes": self.part_path(kind, chunk).stat().st_size,
                            "sha256": sha256_file(self.part_path(kind, chunk))}
                     for kind in got}
            self.completed[chunk] = {"runs": int(len(runs)), "failed": int(len(err_ids)),
                                     "parts": parts}
            self.failed_run_ids.extend(int(i) for i in err_ids)
        for chunk in bad:
            for kind in KINDS:
                self.part_path(kind, chunk).unlink(missing_ok=True)
        self._remove_strays()
        self._write_index()
        return chunk_size, bad

    def _remove_strays(self) -> None:
        """Delete temporary files and parts of chunks the index does not list."""
        for kind in KINDS:
            folder = self.root / PARTS / kind
            folder.mkdir(parents=True, exist_ok=True)
            for f in folder.iterdir():
                if f.name.startswith("."):
                    f.unlink()
                    continue
                chunk = self._chunk_of(f)
                if chunk is not None and chunk not in self.completed:
                    f.unlink()
        for f in self.root.glob(".*.tmp"):
            f.unlink()

    # -- writing

    def write_chunk(self, chunk: int, records: Sequence[RunRecord]) -> None:
        """Write the parts of one complete chunk, then the index that lists it.

        Args:
            chunk: Chunk number.
            records: One record per run of the chunk (any order).
        """
        records = sorted(records, key=lambda r: r.run_id)
        expected = list(self.chunk_runs(chunk))
        got = [r.run_id for r in records]
        if got != expected:
            raise ValueError(f"chunk {chunk} needs runs {expected[0]}..{expected[-1]}, got {got}")
        failed = [r.run_id for r in records if r.error is not None]
        parts = {"weekly": atomic_write_table(self.part_path("weekly", chunk),
                                              weekly_table(records))}
        if failed:
            parts["errors"] = atomic_write_table(self.part_path("errors", chunk),
                                                 errors_table(records))
        parts["outcomes"] = atomic_write_table(self.part_path("outcomes", chunk),
                                               outcomes_table(records))
        self.completed[chunk] = {"runs": len(records), "failed": len(failed), "parts": parts}
        self.failed_run_ids.extend(failed)
        self._write_index()

    def _write_index(self) -> None:
        ids = (i for c in self.completed for i in self.chunk_runs(c))
        atomic_write_json(self.index_path, {
            "fingerprint": self.fingerprint,
            "chunk_size": self.chunk_size,
            "total_runs": self.total_runs,
            "chunks": self.n_chunks,
            "runs_done": self.runs_done,
            "runs_failed": self.runs_failed,
            "complete": self.runs_done == self.total_runs,
            "completed_run_ids": _ranges(ids),
            "failed_run_ids": sorted(self.failed_run_ids),
            "completed_chunks": {str(c): self.completed[c] for c in sorted(self.completed)},
            "updated_utc": _now(),
        })

    def write_manifest(self, manifest: Mapping[str, Any],
                       files: Iterable[Path] | None = None) -> None:
        """Write ``manifest.json`` atomically, with checksums of ``files``.

        Args:
            manifest: The manifest (from :func:`pathways_sim.manifest.build_manifest`).
            files: Output files to checksum (default none).
        """
        from pathways_sim.manifest import write_manifest

        tmp = _tmp(self.manifest_path)
        write_manifest(tmp, manifest, list(files or ()))
        os.replace(tmp, self.manifest_path)

    def part_files(self) -> list[Path]:
        """Every part file of the completed chunks."""
        out = []
        for c in sorted(self.completed):
            for kind in self.recorded_kinds(c):
                p = self.part_path(kind, c)
                if p.is_file():
                    out.append(p)
        return out
