"""Which calibration a command runs with: one rule for every command (docs/calibration.md).

``--calibration DIR|none`` (and an experiment file's ``calibration:`` key) name
the calibrated parameter set the model runs with:

* not given: the shipped posterior, ``calibration/results/default`` (found from
  the repository root, :func:`~pathways_sim.calibration.config.default_results_dir`);
  when that folder is absent, one line on stderr says so and the registry
  values are used;
* ``none``: the registry values (no calibration);
* a folder written by ``pathways-sim calibrate``: that fit.

This module only chooses and describes; :class:`~pathways_sim.calibration.results.CalibrationResult`
applies a calibration to a scenario (``apply``) and picks each replicate's
posterior draw (``replicate_draw``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pathways_sim.scenario import ScenarioError

if TYPE_CHECKING:
    from pathways_sim.calibration.results import CalibrationResult

__all__ = [
    "DEFAULT_NAME",
    "NONE",
    "calibration_line",
    "default_calibration_dir",
    "is_calibration_folder",
    "resolve_calibration",
]

NONE = "none"
"""The value that asks for the registry values (no calibration)."""

DEFAULT_NAME = "default"
"""The shipped calibration's folder name under ``calibration/results/``."""

ALLOWED = ("a calibration results folder (one holding calibrated.json, written by "
           "'pathways-sim calibrate', e.g. calibration/results/default), or 'none' for the "
           "registry values")


def default_calibration_dir() -> Path:
    """``calibration/results/default`` (under ``$PATHWAYS_SIM_CALIBRATION_RESULTS`` if set)."""
    from pathways_sim.calibration.config import default_results_dir  # scipy: load when used

    return default_results_dir() / DEFAULT_NAME


def is_calibration_folder(path: Path) -> bool:
    """True for a folder holding ``calibrated.json`` (or that file itself)."""
    path = Path(path)
    return (path / "calibrated.json").is_file() or (
        path.name == "calibrated.json" and path.is_file())


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def resolve_calibration(spec: str | os.PathLike[str] | None, *, file: str = "command line",
                        key: str = "--calibration", relative_to: Path | None = None,
                        note: Callable[[str], None] | None = _stderr
                        ) -> CalibrationResult | None:
    """The calibration ``spec`` names (None: the registry values).

    Args:
        spec: None (the shipped default), ``"none"`` (any case), or a results folder.
        file: What gave ``spec``, for errors (the command line, or an experiment file).
        key: The option or key that gave it, for errors.
        relative_to: Folder a relative ``spec`` is resolved against (default the
            working directory).
        note: Where the one line goes when the shipped default is absent (None: nowhere).

    Returns:
        The calibration, or None for the registry values.

    Raises:
        ScenarioError: ``spec`` is not a calibration results folder (exit 2 from the
            command line), or its files are damaged.
    """
    from pathways_sim.calibration.results import load_calibrated

    if spec is None:
        folder = default_calibration_dir()
        if not is_calibration_folder(folder):
            if note is not None:
                note(f"note: the shipped calibration {_shown(folder)} is absent: using the "
                     "registry values")
            return None
        return load_calibrated(folder)
    text = os.fspath(spec)
    if text.strip().lower() == NONE:
        return None
    if not text.strip():
        raise ScenarioError(file, key, "is empty", ALLOWED)
    path = Path(text)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    if not is_calibration_folder(path):
        what = "does not exist" if not path.exists() else "is not a calibration results folder"
        raise ScenarioError(file, key, f"{text!r} {what} (no calibrated.json in {path})",
                            ALLOWED)
    return load_calibrated(path)


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    from pathways_sim.calibration.config import repo_root

    try:
        return Path(path).resolve().relative_to(repo_root()).as_posix()
    except ValueError:
        return str(path)


def calibration_line(calibration: CalibrationResult | None, draws: bool) -> str:
    """One line naming the model a command ran: which calibration, and how it was used.

    Args:
        calibration: The calibration, or None for the registry values.
        draws: True when each replicate drew its parameters from the posterior;
            False when the runs used the posterior point.

    Returns:
        E.g. ``Calibration: default-20261129T132148Z-0a681603 (calibration/results/default,
        abc); each replicate draws its parameters from its 48 posterior draws``.
    """
    if calibration is None:
        return ("Calibration: none (the registry values; intervals show chance alone, not "
                "parameter uncertainty)")
    where = _shown(calibration.path) if calibration.path is not None else "in memory"
    n = len(calibration.draws)
    if not draws:
        how = "the runs use its posterior point"
    elif n == 1:
        how = "a point fit: every replicate runs its one draw, so intervals show chance alone"
    else:
        how = f"each replicate draws its parameters from its {n} posterior draws"
    return f"Calibration: {calibration.version} ({where}, {calibration.method}); {how}"


def describe(calibration: CalibrationResult | None) -> dict[str, Any]:
    """The calibration for a JSON summary: version, path, method (None values for none)."""
    if calibration is None:
        return {"version": NONE, "path": None, "method": None}
    return {"version": calibration.version,
            "path": None if calibration.path is None else str(calibration.path),
            "method": calibration.method}
