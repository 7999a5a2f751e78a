"""Priors: the parameters a calibration moves, their ranges and prior shapes.

A prior (one row of ``calibration/priors.csv``) is ``uniform`` or
``log-uniform`` on ``[low, high]``. Every sampler works in the unit cube:
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.scenario import ScenarioError
from pathways_sim.scenario.registry import REGISTRY

__all__ = ["SHAPES", "Prior", "load_priors", "priors_from_records", "to_unit", "from_unit"]

SHAPES = ("uniform", "log-uniform")
"""Prior shapes."""


@dataclass(frozen=True)
class Prior:
    """A calibrated parameter and its prior.

    Attributes:
        parameter: Registry path, e.g. ``jobs.base_per_week``.
        low: Lower end of the prior range.
        high: Upper end.
        prior: ``uniform`` or ``log-uniform``.
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

    def from_unit(self, u: float | np.ndarray) -> Any:
        """The value at position ``u`` in [0, 1] of the prior's (log) range."""
        u = np.clip(u, 0.0, 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            out = np.exp(lo + u * (hi - lo))
        else:
            out = self.low + u * (self.high - self.low)
        return float(out) if np.ndim(out) == 0 else out

    def to_unit(self, value: float | np.ndarray) -> Any:
        """Position of ``value`` in the prior's (log) range (inverse of :meth:`from_unit`)."""
        v = np.asarray(value, dtype=float)
        if self.log:
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


def _check(prior: Prior, where: str) -> Prior:
    param = REGISTRY.get(prior.parameter)
    if param is None:
        raise ScenarioError(where, "parameter", f"unknown parameter {prior.parameter!r}",
                            "a path of the parameter registry (docs/scenarios.md)")
    if param.kind != "float":
        raise ScenarioError(where, "parameter", f"{prior.parameter} is a {param.kind}, not a "
                            "number the calibration can move", "a float parameter")
    if prior.prior not in SHAPES:
        raise ScenarioError(where, "prior", f"unknown prior shape {prior.prior!r}",
                            "one of " + ", ".join(SHAPES))
    if not prior.low < prior.high:
        raise ScenarioError(where, "low", f"low {prior.low} not below high {prior.high}",
                            "low < high")
    if prior.log and prior.low <= 0:
        raise ScenarioError(where, "low", "a log-uniform prior needs low > 0", "low > 0")
    lo = -math.inf if param.low is None else param.low
    hi = math.inf if param.high is None else param.high
    if prior.low < lo or prior.high > hi:
        raise ScenarioError(where, "low", f"range [{prior.low}, {prior.high}] leaves the "
                            f"registry's allowed range", param.allowed())
    return prior


def priors_from_records(records: Iterable[Mapping[str, Any]], where: str) -> list[Prior]:
    """Priors from dict rows (a CSV's rows or a config's ``extra_priors``), checked.

    Args:
        records: Rows with parameter, low, high, prior and optional default,
            informed_by, source.
        where: The file, for error messages.

    Returns:
        The priors, in order.

    Raises:
        ScenarioError: An unknown or non-numeric parameter, a bad range or
            shape, a range outside the registry's, or a repeated parameter.
    """
    out: list[Prior] = []
    for i, row in enumerate(records):
        at = f"{where}: prior {i + 1} ({row.get('parameter')})"
        try:
            low, high = float(row["low"]), float(row["high"])
            param = REGISTRY.get(str(row["parameter"]))
            default = row.get("default")
            default = float(default) if default not in (None, "") else (
                float(param.default) if param is not None else math.nan)
        except (KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(at, None, f"bad prior row: {exc}", "parameter, low, high, prior "
                                "(numbers for low, high, default)") from None
        prior = Prior(str(row["parameter"]), low, high, str(row.get("prior", "uniform")),
                      default, str(row.get("informed_by", "") or ""),
                      str(row.get("source", "") or ""))
        out.append(_check(prior, at))
    names = [p.parameter for p in out]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ScenarioError(where, "parameter", f"repeated parameters {dup}", "each once")
    return out


def load_priors(path: str | Path) -> list[Prior]:
    """Read and check a priors table (``calibration/priors.csv``).

    Raises:
        ScenarioError: A missing file or any problem :func:`priors_from_records` finds.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), None, "priors file not found",
                            "a CSV like calibration/priors.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return priors_from_records(df.to_dict("records"), str(path))
