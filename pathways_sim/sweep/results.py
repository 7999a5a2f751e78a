"""Read a sweep's results folder into pandas.

::

    from pathways_sim.sweep.results import load_sweep

    sw = load_sweep("output/sweeps/smoke")
    sw.design      # run_id, point_id, replicate, seed, role, baseline_point,
                   # counterfactual_point, one column per lever and uncertainty
    sw.outcomes    # run_id + every metric (runs that finished)
    sw.weekly      # run_id, week, clients in each state
    sw.errors      # run_id, error, traceback (runs that raised)
    sw.joined()    # design and outcomes in one table
    sw.manifest["experiment"]["checks"]

Only the parts listed in ``index.json`` are read, so a folder left by a
killed sweep reads consistently. Each part is checked against the size and
checksum the index records: the chunk of a damaged or missing part is left
out of every table and reported (:attr:`Sweep.damaged`, :attr:`Sweep.complete`
is then False), never read half or silently dropped. Every table is sorted
by run id (and week).
The files are plain Parquet: ``pd.read_parquet(folder / "parts" / "outcomes")``
or DuckDB read them without this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pathways_sim.integrity import lock_holder, read_json
from pathways_sim.sweep.store import (
    DESIGN,
    INDEX,
    SCHEMAS,
    SweepError,
    SweepStore,
    repair_hint,
)

__all__ = ["Sweep", "load_sweep"]


@dataclass
class Sweep:
    """A sweep's results, read lazily (each table on first use).

    Attributes:
        path: The results folder.
        manifest: ``manifest.json``: the experiment, its points, seeds, versions.
        index: ``index.json``: which chunks and runs are complete.
    """

    path: Path
    manifest: dict[str, Any]
    index: dict[str, Any] = field(repr=False)

    @property
    def experiment(self) -> dict[str, Any]:
        """The experiment as resolved (levers, uncertainties, outcomes, design, checks...)."""
        return self.manifest["experiment"]

    @property
    def checks(self) -> list[dict[str, Any]]:
        """The experiment's checks (name, option, baseline, metric, baseline_metric, scale,
        expect)."""
        return list(self.experiment.get("checks", []))

    @property
    def points(self) -> list[dict[str, Any]]:
        """Every design point: point_id, role, factors, pairs, resolved parameter changes."""
        return list(self.manifest["plan"]["points"])

    @cached_property
    def store(self) -> SweepStore:
        """The folder's store, its index loaded."""
        store = SweepStore(self.path)
        store.load_index(self.index, (self.manifest.get("experiment") or {}).get("name"))
        return store

    @cached_property
    def damaged(self) -> dict[int, list[tuple[Path, str]]]:
        """Chunk -> [(part file, problem)] for recorded parts that are damaged or missing.

        Their chunks' runs are left out of every table.
        """
        return self.store.verify()

    @property
    def runs_planned(self) -> int:
        """Runs in the sweep."""
        return self.store.total_runs

    @property
    def runs_recorded(self) -> int:
        """Runs recorded in intact parts (finished or failed)."""
        return self.store.runs_done - sum(self.store.completed[c]["runs"] for c in self.damaged)

    @property
    def complete(self) -> bool:
        """True when every run of the sweep is recorded and every part is intact."""
        return bool(self.index.get("complete")) and not self.damaged

    @property
    def writer(self) -> dict[str, object] | None:
        """The process writing to the folder right now (pid, command, started_utc), or None."""
        return lock_holder(self.path)

    def _parts(self, kind: str) -> pd.DataFrame:
        chunks = [c for c in self.store.completed if c not in self.damaged]
        tables = []
        for c in chunks:
            path = self.store.part_path(kind, c)
            if kind in self.store.recorded_kinds(c):
                try:
                    tables.append(pq.read_table(path))
                except (OSError, pa.ArrowException) as exc:  # damaged since it was checked
                    raise SweepError(str(path), None, f"cannot be read ({exc})",
                                     "pathways-sim sweep EXPERIMENT --out "
                                     f"{self.path} --resume to run its chunk again") from None
        table = pa.concat_tables(tables) if tables else SCHEMAS[kind].empty_table()
        keys = ["run_id", "week"] if kind == "weekly" else ["run_id"]
        return table.to_pandas().sort_values(keys, kind="stable").reset_index(drop=True)

    @cached_property
    def design(self) -> pd.DataFrame:
        """Inputs of every planned run (done or not), by run id.

        Integer and boolean columns with nulls (the pairs of unpaired points,
        the levers of counterfactual points) are pandas' nullable ``Int64``
        and ``boolean``, not floats.
        """
        try:
            table = pq.read_table(self.path / DESIGN)
        except (OSError, pa.ArrowException):
            raise SweepError(str(self.path / DESIGN), None, "is damaged (not readable Parquet)",
                             repair_hint(self.path, self.experiment.get("name"))) from None
        df = table.to_pandas()
        for f in table.schema:
            if table.column(f.name).null_count:
                if pa.types.is_integer(f.type):
                    df[f.name] = df[f.name].astype("Int64")
                elif pa.types.is_boolean(f.type):
                    df[f.name] = df[f.name].astype("boolean")
        return df.sort_values("run_id", kind="stable").reset_index(drop=True)

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """Metrics of every finished run, by run id."""
        return self._parts("outcomes")

    @cached_property
    def weekly(self) -> pd.DataFrame:
        """Weekly stocks of every finished run, by run id and week."""
        return self._parts("weekly")

    @cached_property
    def errors(self) -> pd.DataFrame:
        """Error and traceback of every run that raised, by run id."""
        return self._parts("errors")

    def joined(self) -> pd.DataFrame:
        """Design and outcomes of the finished runs in one table, by run id."""
        return self.design.merge(self.outcomes, on="run_id", how="inner", validate="1:1")

    def find_points(self, values: Mapping[str, Any], role: str | None = None) -> list[int]:
        """Point ids whose factor values include ``values`` (e.g. a check's option).

        Args:
            values: Factor name -> value.
            role: Only points of this role (None: any role).

        Returns:
            Matching point ids, in order.
        """
        out = []
        for p in self.points:
            if role is not None and p["role"] != role:
                continue
            if all(p["factors"].get(k) == v for k, v in values.items()):
                out.append(int(p["point_id"]))
        return out


def load_sweep(path: Path | str) -> Sweep:
    """Open a sweep's results folder.

    Args:
        path: The folder a sweep wrote (``pathways-sim sweep --out``).

    Returns:
        The sweep; tables are read on first use.

    Raises:
        SweepError: Not a sweep results folder, or its manifest, index or
            design is missing or corrupt (the message says how to rebuild it).
    """
    root = Path(path)
    index_path = root / INDEX
    store = SweepStore(root)
    store.check_is_sweep()
    manifest = store.read_manifest()
    name = manifest.get("experiment", {}).get("name") if isinstance(
        manifest.get("experiment"), dict) else None
    index = read_json(index_path, repair_hint(root, name), error=SweepError)
    sweep = Sweep(root, manifest, index)
    sweep.store.check_index(manifest, name)  # the index's keys and layout, now
    if not (root / DESIGN).is_file():
        raise SweepError(str(root / DESIGN), None, "is missing", repair_hint(root, name))
    return sweep
