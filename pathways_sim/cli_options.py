"""The options every ``pathways-sim`` command shares, defined once (docs/cli.md).

``--seed`` (default :data:`~pathways_sim.defaults.DEFAULT_SEED`), ``--workers``
(default every core, :func:`~pathways_sim.defaults.default_workers`),
``--quiet``, ``--json PATH`` (``-`` for stdout), ``--overwrite`` and
``--calibration DIR|none`` (default the shipped calibration,
:mod:`pathways_sim.calibration.choice`) mean the same in every command that
has them; this module adds them to a parser and holds the small helpers the
command handlers share.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from pathways_sim.defaults import DEFAULT_SEED, default_workers

__all__ = [
    "CALIBRATION_HELP",
    "JSON_STDOUT",
    "add_calibration",
    "add_json",
    "add_overwrite",
    "add_quiet",
    "add_seed",
    "add_workers",
    "info",
    "int_at_least",
    "json_to_stdout",
    "workers_of",
    "write_json",
]

JSON_STDOUT = Path("-")
"""``--json -``: the JSON goes to stdout instead of the table."""


def int_at_least(minimum: int, what: str, maximum: int | None = None) -> Any:
    """An argparse type: an integer ``>= minimum`` (and ``<= maximum`` when given; ``what``
    names it in messages)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{what} must be at most {maximum}, got {value}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def add_seed(p: argparse.ArgumentParser, what: str = "root seed; run seeds are derived from it"
             ) -> None:
    """``--seed S``, default :data:`DEFAULT_SEED`."""
    p.add_argument("--seed", type=int_at_least(0, "seed"), default=DEFAULT_SEED, metavar="S",
                   help=f"{what} (default {DEFAULT_SEED})")


def add_workers(p: Any) -> None:
    """``--workers N`` (a parser or a mutually exclusive group); default None = every core.

    The default is None rather than the core count so that argparse's mutual
    exclusion with ``--scheduler``/``--dask-local`` sees only an explicit
    ``--workers``; :func:`workers_of` resolves it.
    """
    p.add_argument("--workers", type=int_at_least(1, "workers"), default=None, metavar="N",
                   help="local worker processes (default: every core, here "
                   f"{default_workers()}; 1 runs in this process; results do not depend on it)")


def workers_of(args: argparse.Namespace) -> int:
    """The number of workers asked for: ``--workers``, else every core."""
    n = getattr(args, "workers", None)
    return default_workers() if n is None else int(n)


def add_quiet(p: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress and no informational lines on stderr."""
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bars or informational lines on stderr (errors and the "
                   "result still print)")


def add_json(p: argparse.ArgumentParser, what: str = "the summary") -> None:
    """``--json PATH``: also write the result as JSON (``-``: to stdout instead of the table)."""
    p.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help=f"also write {what} as JSON to PATH ('-': print the JSON instead of "
                   "the table)")


def add_overwrite(p: Any) -> None:
    """``--overwrite``: replace an output folder holding an earlier pathways-sim output."""
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder (only one holding a pathways-sim "
                   "manifest.json; the old results are kept until the new ones are complete)")


CALIBRATION_HELP = (
    "which calibrated parameter set the model runs with: a results folder written by "
    "'pathways-sim calibrate', or 'none' for the registry values (default: the shipped "
    "calibration/results/default; the registry values, with a note, if it is absent). "
    "run and sweep draw each replicate's parameters from its posterior; the workshop uses "
    "its posterior point; values a scenario file sets are kept"
)
"""Help of ``--calibration``, the same in every command (docs/calibration.md)."""


def add_calibration(p: argparse.ArgumentParser) -> None:
    """``--calibration DIR|none``; default None = the shipped calibration (if present)."""
    p.add_argument("--calibration", default=None, metavar="DIR|none", help=CALIBRATION_HELP)


def json_to_stdout(args: argparse.Namespace) -> bool:
    """Whether ``--json -`` asked for the JSON on stdout (instead of the table)."""
    return getattr(args, "json", None) == JSON_STDOUT


def write_json(doc: Any, path: Path, stdout: TextIO) -> None:
    """Write ``doc`` as JSON to ``path`` (``-``: to ``stdout``); NaN is not allowed."""
    text = json.dumps(doc, indent=2, allow_nan=False, default=str, ensure_ascii=False) + "\n"
    if path == JSON_STDOUT:
        stdout.write(text)
        stdout.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def info(args: argparse.Namespace, line: str) -> None:
    """An informational line on stderr, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(line, file=sys.stderr, flush=True)
