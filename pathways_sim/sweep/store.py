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
"""

from __future__ import annotations

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


def atomic_write_table(path: Path, table: pa.Table) -> None:
    """Write a Parquet file atomically.

    Args:
        path: Destination.
        table: The table.
    """
    tmp = _tmp(path)
    pq.write_table(table, tmp)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
        """True when the folder does not exist or holds nothing."""
        return not self.root.exists() or not any(self.root.iterdir())

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

    def open_for_resume(self, fingerprint: str, chunk_size: int | None) -> dict[str, Any]:
        """Reopen an interrupted (or finished) sweep to run what is missing.

        Removes part files of chunks the index does not list and temporary files.

        Args:
            fingerprint: The experiment's fingerprint now.
            chunk_size: The chunk size asked for, or None for the sweep's.

        Returns:
            The manifest as it was.

        Raises:
            SweepError: Not a sweep folder, the experiment changed, or another
                chunk size was asked for.
        """
        where = str(self.root)
        if not self.manifest_path.is_file() or not self.index_path.is_file():
            raise SweepError(where, None, "not a sweep results folder (no manifest.json and "
                             "index.json)", "the --out folder of an earlier sweep")
        manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        index = json.loads(self.index_path.read_text(encoding="utf-8"))
        old = manifest.get("sweep", {}).get("fingerprint")
        if old != fingerprint:
            raise SweepError(
                where, "fingerprint",
                f"the experiment changed since this sweep started (fingerprint {str(old)[:12]}… "
                f"now {fingerprint[:12]}…): its design points, scenarios or seeds differ",
                "the same experiment file and scenarios, or a new --out folder",
            )
        size = int(index["chunk_size"])
        if chunk_size is not None and chunk_size != size:
            raise SweepError(where, "--chunk-size",
                             f"the sweep was started with chunks of {size} runs, not {chunk_size}",
                             f"{size}, or leave --chunk-size out when resuming")
        self.fingerprint, self.chunk_size = fingerprint, size
        self.total_runs = int(index["total_runs"])
        self.completed = {int(k): dict(v) for k, v in index["completed_chunks"].items()}
        self.failed_run_ids = [int(i) for i in index.get("failed_run_ids", [])]
        self._remove_strays()
        return manifest

    def _remove_strays(self) -> None:
        """Delete temporary files and parts of chunks the index does not list."""
        for kind in KINDS:
            folder = self.root / PARTS / kind
            folder.mkdir(parents=True, exist_ok=True)
            for f in folder.iterdir():
                if f.name.startswith("."):
                    f.unlink()
                    continue
                try:
                    chunk = int(f.stem.rsplit("-", 1)[1])
                except (IndexError, ValueError):
                    continue
                if chunk not in self.completed:
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
        atomic_write_table(self.part_path("weekly", chunk), weekly_table(records))
        if failed:
            atomic_write_table(self.part_path("errors", chunk), errors_table(records))
        atomic_write_table(self.part_path("outcomes", chunk), outcomes_table(records))
        self.completed[chunk] = {"runs": len(records), "failed": len(failed)}
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
            for kind in KINDS:
                p = self.part_path(kind, c)
                if p.is_file():
                    out.append(p)
        return out
