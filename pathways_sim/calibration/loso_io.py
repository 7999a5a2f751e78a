"""Leave-one-site-out results on disk: the table of predicted targets and its summary.

Leave-one-site-out cross-validation refits the model without each named service
(site) in turn and predicts that service's reported figures with the fit that
never saw them. Its results live in ``loso/`` inside the full fit's results
folder::

    loso/loso_targets.csv    one row per target of a left-out site
    loso/loso_summary.json   coverage per site and overall, and the time it took

``loso_targets.csv`` has the columns of :data:`COLUMNS`: ``site`` (the site
left out), ``target`` (a target id of that site), ``scenario``, ``observed``
(the reported share k/n), ``median``, ``lo90`` and ``hi90`` (the posterior
predictive of the reported share by the fit without the site) and ``inside``
(the observed share inside ``[lo90, hi90]``; for a bound target, the bound met).

``loso_summary.json`` is ``{"sites": {site: {"covered": int, "targets": int}},
"covered": int, "targets": int, "minutes": float}`` plus any other keys the
writer adds (which calibration, which command). The counts are always those of
the table: :func:`write_loso` computes them, and :func:`read_loso` refuses a
pair of files that disagree.

The leave-one-site-out command writes through :func:`write_loso`; the
calibration report (:mod:`pathways_sim.calibration.report`) reads through
:func:`read_loso`. Typical use::

    write_loso(folder, table, {"minutes": 84.0, "calibration": result.version})
    loso = read_loso(folder)        # None when the folder has no loso/ results
    loso.targets, loso.summary["covered"], loso.summary["sites"]["tower_hamlets"]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.scenario import ScenarioError

__all__ = ["COLUMNS", "FOLDER", "SUMMARY", "TARGETS", "Loso", "loso_summary", "read_loso",
           "write_loso"]

FOLDER = "loso"
"""Subfolder of a results folder holding the leave-one-site-out results."""
TARGETS = "loso_targets.csv"
"""The table of predicted targets, in :data:`FOLDER`."""
SUMMARY = "loso_summary.json"
"""The summary, in :data:`FOLDER`."""
COLUMNS = ("site", "target", "scenario", "observed", "median", "lo90", "hi90", "inside")
"""Columns of ``loso_targets.csv``, in order."""

_NUMBERS = ("observed", "median", "lo90", "hi90")
_FIX = ("write it with pathways_sim.calibration.loso_io.write_loso (the leave-one-site-out "
        "command does), or delete the loso/ folder")
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class Loso:
    """Leave-one-site-out results.

    Attributes:
        targets: One row per target of a left-out site (:data:`COLUMNS`).
        summary: Coverage per site and overall, minutes, and any other keys written.
        folder: The ``loso/`` folder they were read from.
    """

    targets: pd.DataFrame
    summary: dict[str, Any]
    folder: Path


def _table(targets: pd.DataFrame, where: str) -> pd.DataFrame:
    """The table checked and typed: columns, numbers, booleans (raises ScenarioError)."""
    missing = [c for c in COLUMNS if c not in targets.columns]
    if missing:
        raise ScenarioError(where, missing[0], f"missing column(s) {', '.join(missing)}",
                            "columns " + ", ".join(COLUMNS))
    out = targets.loc[:, list(COLUMNS)].copy()
    for c in ("site", "target", "scenario"):
        bad = out[c].isna() | (out[c].astype(str).str.strip() == "")
        if bad.any():
            raise ScenarioError(where, c, f"empty in row {int(np.flatnonzero(bad)[0]) + 1}",
                                f"a {c} name in every row")
        out[c] = out[c].astype(str)
    for c in _NUMBERS:
        values = pd.to_numeric(out[c], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScenarioError(where, c, f"row {i + 1}: {targets[c].iloc[i]!r} is not a "
                                "finite number", "a share between 0 and 1")
        if ((values < 0) | (values > 1)).any():
            i = int(np.flatnonzero((values < 0) | (values > 1))[0])
            raise ScenarioError(where, c, f"row {i + 1}: {values.iloc[i]:g} is not a share",
                                "a share between 0 and 1")
        out[c] = values.astype(float)
    flags = []
    for i, v in enumerate(out["inside"]):
        if isinstance(v, bool | np.bool_):
            flags.append(bool(v))
        elif str(v).strip().lower() in _TRUE:
            flags.append(_TRUE[str(v).strip().lower()])
        else:
            raise ScenarioError(where, "inside", f"row {i + 1}: {v!r} is not true or false",
                                "True or False")
    out["inside"] = flags
    dup = out.duplicated(["site", "target"])
    if dup.any():
        r = out[dup].iloc[0]
        raise ScenarioError(where, "target", f"{r['target']} of site {r['site']} appears twice",
                            "one row per site and target")
    bad = out["lo90"] > out["hi90"]
    if bad.any():
        raise ScenarioError(where, "lo90", f"row {int(np.flatnonzero(bad)[0]) + 1}: lo90 above "
                            "hi90", "lo90 <= hi90")
    return out.reset_index(drop=True)


def loso_summary(targets: pd.DataFrame, minutes: float | None = None) -> dict[str, Any]:
    """Coverage per site and overall, counted from a leave-one-site-out table.

    Args:
        targets: The table (:data:`COLUMNS`).
        minutes: Wall-clock minutes of the whole cross-validation, or None.

    Returns:
        ``{"sites": {site: {"covered", "targets"}}, "covered", "targets", "minutes"}``.
    """
    sites = {str(site): {"covered": int(g["inside"].astype(bool).sum()), "targets": len(g)}
             for site, g in targets.groupby("site", sort=False)}
    return {"sites": sites, "covered": sum(s["covered"] for s in sites.values()),
            "targets": sum(s["targets"] for s in sites.values()),
            "minutes": None if minutes is None else float(minutes)}


def write_loso(folder: Path | str, targets: pd.DataFrame,
               summary: Mapping[str, Any] | None = None) -> list[Path]:
    """Write ``loso/loso_targets.csv`` and ``loso/loso_summary.json`` into a results folder.

    Args:
        folder: The full fit's results folder (``loso/`` is created in it).
        targets: One row per target of a left-out site, with :data:`COLUMNS`.
        summary: ``minutes`` (wall-clock minutes of the cross-validation) and any
            other keys to keep (e.g. ``calibration``: the full fit's version).
            ``sites``, ``covered`` and ``targets`` are counted from the table; if
            given, they must agree with it.

    Returns:
        The two files written.

    Raises:
        ScenarioError: A missing column, an empty name, a share that is not a
            number in [0, 1], ``lo90`` above ``hi90``, a repeated target of a
            site, ``minutes`` not a non-negative number, or counts that
            disagree with the table.
    """
    from pathways_sim.sweep.store import atomic_write_bytes

    where = f"{Path(folder) / FOLDER / TARGETS} (being written)"
    table = _table(targets, where)
    extra = dict(summary or {})
    minutes = extra.pop("minutes", None)
    if minutes is not None and (not isinstance(minutes, int | float) or isinstance(minutes, bool)
                                or not math.isfinite(minutes) or minutes < 0):
        raise ScenarioError(where, "minutes", f"{minutes!r} is not a number of minutes",
                            "a non-negative number, or None")
    counted = loso_summary(table, minutes)
    for key in ("sites", "covered", "targets"):
        if key in extra and extra.pop(key) != counted[key]:
            raise ScenarioError(where, key, f"the summary's {key} disagree with the table "
                                f"({counted[key]})", "counts of the table (or leave them out: "
                                "write_loso counts them)")
    out = Path(folder) / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    files = [out / TARGETS, out / SUMMARY]
    atomic_write_bytes(files[0], table.to_csv(index=False).encode("utf-8"))
    doc = {**counted, **extra}
    atomic_write_bytes(files[1], (json.dumps(doc, indent=2, allow_nan=False) + "\n")
                       .encode("utf-8"))
    return files


def read_loso(folder: Path | str) -> Loso | None:
    """Read the leave-one-site-out results of a results folder.

    Args:
        folder: The full fit's results folder.

    Returns:
        The results, or None when the folder has no ``loso/loso_targets.csv``.

    Raises:
        ScenarioError: The table without its summary, a damaged file (a missing
            column, a value that is not a share, ...), or a summary whose counts
            disagree with the table.
    """
    from pathways_sim.integrity import read_json

    out = Path(folder) / FOLDER
    if not (out / TARGETS).is_file():
        return None
    try:
        raw = pd.read_csv(out / TARGETS)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(out / TARGETS), None, f"is damaged ({exc})".splitlines()[0],
                            _FIX) from None
    table = _table(raw, str(out / TARGETS))
    summary = read_json(out / SUMMARY, _FIX)
    counted = loso_summary(table)
    for key in ("sites", "covered", "targets"):
        if summary.get(key) != counted[key]:
            raise ScenarioError(str(out / SUMMARY), key, f"disagrees with {TARGETS} "
                                f"({summary.get(key)!r} against {counted[key]!r})", _FIX)
    return Loso(table, dict(summary), out)
