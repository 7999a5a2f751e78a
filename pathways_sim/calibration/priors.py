"""Priors: the parameters a calibration moves, their ranges and prior shapes.

A prior (one row of ``calibration/priors.csv``) is ``uniform`` or
``log-uniform`` on ``[low, high]``. A site's deviation from the pooled client
mix (:mod:`pathways_sim.calibration.sites`) has a ``normal`` prior: a standard
normal ``z`` truncated to ``[low, high]`` (made by the configuration, never
read from the table). Every sampler works in the unit cube:
:meth:`Prior.from_unit` maps ``u`` in [0, 1] to a value (linearly, or
linearly in ``log``), so a uniform draw of ``u`` is a draw from the prior and
the prior density is flat in ``u``.

Typical use::

    from pathways_sim.calibration.priors import load_priors

    priors = load_priors("calibration/priors.csv")
    values = {p.parameter: p.from_unit(0.5) for p in priors}   # the prior medians
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from pathways_sim.scenario.errors import PriorsError, ScenarioError, clip, did_you_mean
from pathways_sim.scenario.inputs import CsvRow, FileKind, cell_number, number, read_csv_rows
from pathways_sim.scenario.registry import REGISTRY

__all__ = ["COLUMNS", "NORMAL", "PRIORS", "SHAPES", "Prior", "load_priors", "priors_from_records",
           "to_unit", "from_unit"]

SHAPES = ("uniform", "log-uniform")
"""Prior shapes of a priors table."""

NORMAL = "normal"
"""Shape of a site deviation's prior: standard normal truncated to ``[low, high]``."""


@dataclass(frozen=True)
class Prior:
    """A calibrated parameter and its prior.

    Attributes:
        parameter: Registry path, e.g. ``jobs.base_per_week``.
        low: Lower end of the prior range.
        high: Upper end.
        prior: ``uniform``, ``log-uniform`` or ``normal`` (a site deviation ``z``).
        default: The registry default (inside the range).
        informed_by: Targets that inform it (words).
        source: Why the range.
    """

    parameter: str
    low: float
    high: float
    prior: str
    default: float
    informed_by: str = ""
    source: str = ""

    @property
    def log(self) -> bool:
        """True for a log-uniform prior."""
        return self.prior == "log-uniform"

    @property
    def column(self) -> str:
        """The parameter's column in posterior draws (its ``parameter``)."""
        return self.parameter

    def _normal_cdf(self) -> tuple[float, float]:
        return float(special.ndtr(self.low)), float(special.ndtr(self.high))

    def from_unit(self, u: float | np.ndarray) -> Any:
        """The value at position ``u`` in [0, 1] of the prior's (log) range.

        For a ``normal`` prior, the ``u`` quantile of the truncated standard
        normal: a uniform ``u`` is a draw from the prior.
        """
        u = np.clip(u, 0.0, 1.0)
        if self.prior == NORMAL:
            a, b = self._normal_cdf()
            out = np.clip(special.ndtri(a + u * (b - a)), self.low, self.high)
        elif self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            out = np.exp(lo + u * (hi - lo))
        else:
            out = self.low + u * (self.high - self.low)
        return float(out) if np.ndim(out) == 0 else out

    def to_unit(self, value: float | np.ndarray) -> Any:
        """Position of ``value`` in the prior's (log) range (inverse of :meth:`from_unit`)."""
        v = np.asarray(value, dtype=float)
        if self.prior == NORMAL:
            a, b = self._normal_cdf()
            out = (special.ndtr(v) - a) / (b - a)
        elif self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            out = (np.log(v) - lo) / (hi - lo)
        else:
            out = (v - self.low) / (self.high - self.low)
        return float(out) if np.ndim(out) == 0 else out

    def to_dict(self) -> dict[str, Any]:
        """The prior as a plain dict."""
        return asdict(self)


def to_unit(priors: Sequence[Prior], values: Mapping[str, float]) -> np.ndarray:
    """A parameter set as a point of the unit cube (priors' order)."""
    return np.array([p.to_unit(values[p.parameter]) for p in priors], dtype=float)


def from_unit(priors: Sequence[Prior], u: Iterable[float]) -> dict[str, float]:
    """A point of the unit cube as a parameter set: path -> value."""
    return {p.parameter: float(p.from_unit(x)) for p, x in zip(priors, u, strict=True)}


FLOAT_PARAMETERS = tuple(path for path, p in REGISTRY.items() if p.kind == "float")
"""Registry paths a prior may move (float parameters)."""

COLUMNS = ("parameter", "low", "high", "prior", "default", "informed_by", "source")
"""Columns of a priors table (``parameter``, ``low`` and ``high`` required)."""

PRIORS = FileKind("priors table", PriorsError, COLUMNS, ("parameter", "low", "high"),
                  format="CSV")
"""Priors tables (``calibration/priors.csv``), read by :mod:`pathways_sim.scenario.inputs`."""

_PARAMETER = "a float parameter of the registry (docs/scenarios.md)"

Fail = Callable[[str, str, str], ScenarioError]
"""``fail(column, problem, allowed)``: the error to raise for a problem in a row."""


def _prior(parameter: str, low: float, high: float, shape: str, default: float | None,
           informed_by: str, source: str, fail: Fail) -> Prior:
    """A checked prior from finite numbers (a registry default when ``default`` is None)."""
    param = REGISTRY.get(parameter)
    if not parameter:
        raise fail("parameter", "is empty", _PARAMETER)
    if param is None:
        raise fail("parameter", f"unknown parameter {clip(parameter)!r}"
                   f"{did_you_mean(parameter, FLOAT_PARAMETERS)}", _PARAMETER)
    if param.kind != "float":
        raise fail("parameter", f"{parameter} is not a float parameter (its kind is "
                   f"{param.kind}): the calibration cannot move it", _PARAMETER)
    if shape not in SHAPES:
        raise fail("prior", f"unknown prior shape {clip(shape)!r}{did_you_mean(shape, SHAPES)}",
                   "one of " + ", ".join(SHAPES) + " (blank: uniform)")
    if not low < high:
        raise fail("low", f"low {low:g} not below high {high:g}", "low < high")
    if shape == "log-uniform" and low <= 0:
        raise fail("low", "a log-uniform prior needs low > 0", "low > 0")
    lo = -math.inf if param.low is None else param.low
    hi = math.inf if param.high is None else param.high
    if low < lo or high > hi:
        raise fail("low" if low < lo else "high", f"range [{low:g}, {high:g}] leaves the "
                   f"registry's allowed range of {parameter}", param.allowed())
    if default is None:
        default = float(param.default)
    elif not lo <= default <= hi:
        raise fail("default", f"default {default:g} is outside the registry's allowed range "
                   f"of {parameter}", param.allowed())
    return Prior(parameter, low, high, shape, default, informed_by, source)


def _value(raw: object, at: str, column: str) -> float:
    """A record's number: a number, or text read as a CSV cell."""
    if isinstance(raw, str):
        return cell_number(raw.strip(), PRIORS, at, column)
    return number(raw, PRIORS, at, column)


def priors_from_records(records: Iterable[Mapping[str, Any]], where: str) -> list[Prior]:
    """Priors from dict rows (a config's ``extra_priors``), checked.

    Args:
        records: Rows with parameter, low, high and optional prior, default,
            informed_by, source (numbers, or text holding a number).
        where: The file, for error messages.

    Returns:
        The priors, in order.

    Raises:
        PriorsError: A missing, non-numeric or non-finite value, an unknown or
            non-numeric parameter, a bad range or shape, a range outside the
            registry's, or a repeated parameter; the error's ``key`` is the
            column (``low``), so a caller can name it in its own file.
    """
    out: list[Prior] = []
    for i, row in enumerate(records):
        at = f"{where}: prior {i + 1} ({clip(str(row.get('parameter')), 40)})"

        def fail(column: str, problem: str, allowed: str, at: str = at) -> ScenarioError:
            return PRIORS.fail(at, column, problem, allowed)

        for column in ("parameter", "low", "high"):
            if row.get(column) is None:
                raise fail(column, "missing", "parameter, low and high in every prior")
        default = row.get("default")
        out.append(_prior(
            str(row["parameter"]).strip(), _value(row["low"], at, "low"),
            _value(row["high"], at, "high"), str(row.get("prior") or "uniform").strip(),
            None if default is None or default == "" else _value(default, at, "default"),
            str(row.get("informed_by") or ""), str(row.get("source") or ""), fail))
    names = [p.parameter for p in out]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise PriorsError(where, "parameter", f"repeated parameters {dup}", "each once")
    return out


def load_priors(path: str | Path) -> list[Prior]:
    """Read and check a priors table (``calibration/priors.csv``).

    The table is read strictly (:func:`~pathways_sim.scenario.inputs.read_csv_rows`):
    columns ``parameter``, ``low``, ``high`` (required), ``prior`` (blank:
    ``uniform``), ``default`` (blank: the registry's), ``informed_by`` and
    ``source``; no other column, each once; finite numbers in plain decimal
    notation; each parameter once; at least one row.

    Raises:
        PriorsError: A missing, empty, binary or malformed file, or any problem
            in a row, naming the file, the line, the column, the problem and
            what is allowed (a ``ScenarioError``: exit 2 from the command line).
    """
    path = Path(path)
    rows = read_csv_rows(path, PRIORS)
    if not rows:
        raise PRIORS.fail(path, None, "no priors (the table has a header and no rows)",
                          "at least one row: a parameter with its low and high")
    out: list[Prior] = []
    first: dict[str, int] = {}
    for row in rows:
        cells = row.cells

        def fail(column: str, problem: str, allowed: str, row: CsvRow = row) -> ScenarioError:
            return PRIORS.fail(path, row.key(column), problem, allowed)

        name = cells["parameter"]
        if name in first:
            raise fail("parameter", f"{clip(name)} has a prior already (line {first[name]})",
                       "each parameter once")
        first[name] = row.line
        out.append(_prior(
            name, cell_number(cells["low"], PRIORS, path, row.key("low")),
            cell_number(cells["high"], PRIORS, path, row.key("high")),
            cells["prior"] or "uniform",
            cell_number(cells["default"], PRIORS, path, row.key("default"))
            if cells["default"] else None,
            cells["informed_by"], cells["source"], fail))
    return out
