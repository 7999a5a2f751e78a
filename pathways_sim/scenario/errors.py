"""The errors raised for bad input files and bad parameter overrides.

:class:`ScenarioError` is the base of every bad-input error: the command line
prints it as ``error: <message>`` and exits with code 2. Each kind of input
file has its own subclass, so a caller can tell which kind of file was wrong:
:class:`ScenarioError` itself for scenario files and overrides,
:class:`ExperimentError` for experiment files, :class:`CalibrationConfigError`
for calibration configurations, and its subclasses :class:`PriorsError` and
:class:`TargetsError` for the calibration's CSV tables (all read by
:mod:`pathways_sim.scenario.inputs`).

Every message names the file, the key path as written in the file, the problem
and what would have been allowed, so an analyst can fix the file without
reading the code::

    scenarios/high.yaml: params.link_workers.casload: unknown key 'casload' in
    section 'link_workers' (did you mean 'caseload'?). Allowed: keys of
    link_workers: caseload, work_awareness, ...

Long parts are shortened when printed (a 10,000-character value in a file is
shown as its first few dozen characters), so a message stays one readable line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_FILE_CHARS = 150
"""Longest file name printed (its end is kept)."""
MAX_KEY_CHARS = 80
"""Longest key path printed."""
MAX_PROBLEM_CHARS = 250
"""Longest problem printed."""
MAX_ALLOWED_CHARS = 1000
"""Longest list of allowed values printed (cut at a comma, with the number left out).

Allowed values come from the code (key names, metric names), not from the file,
so they are printed in full unless unusually long."""
MAX_VALUE_CHARS = 60
"""Longest value from a file echoed in a message (see :func:`clip`)."""


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked ``...`` with the number of characters cut.

    Args:
        text: Any text (a value or key from a file).
        limit: Most characters kept.

    Returns:
        ``text`` itself when short enough.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def _clip_tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


def _clip_list(text: str, limit: int) -> str:
    """A comma-separated list cut at a comma, saying how many items were left out."""
    if len(text) <= limit:
        return text
    cut = text.rfind(", ", 0, limit)
    if cut <= 0:
        return clip(text, limit)
    left = text[cut + 2 :].count(", ") + 1
    return f"{text[:cut]}, ... ({left} more)"


class ScenarioError(Exception):
    """A scenario file or override that cannot be used; the base of every bad-input error.

    Attributes:
        file: The file the problem is in (``"<override>"`` for programmatic
            changes, ``"<registry>"`` for a bad registry default), or None.
        key: Dotted key path as written in the file, e.g.
            ``"params.link_workers.caseload"``, or None when the problem is
            not tied to one key (invalid YAML, a missing file).
        problem: What is wrong, in words.
        allowed: What would have been accepted, or None.
    """

    def __init__(
        self,
        file: str | None,
        key: str | None,
        problem: str,
        allowed: str | None = None,
    ) -> None:
        super().__init__(file, key, problem, allowed)
        self.file = file
        self.key = key
        self.problem = problem
        self.allowed = allowed

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(_clip_tail(self.file, MAX_FILE_CHARS))
        if self.key is not None:
            parts.append(clip(self.key, MAX_KEY_CHARS))
        message = ": ".join([*parts, clip(self.problem, MAX_PROBLEM_CHARS)])
        if self.allowed is not None:
            separator = " " if message.endswith(".") else ". "
            message += f"{separator}Allowed: {_clip_list(self.allowed, MAX_ALLOWED_CHARS)}"
        return message.replace("\r", "\\r").replace("\n", "\\n")  # always one line


class ExperimentError(ScenarioError):
    """An experiment file that cannot be used (exit 2 from the command line)."""


class CalibrationConfigError(ScenarioError):
    """A calibration configuration that cannot be used (exit 2 from the command line)."""


class PriorsError(CalibrationConfigError):
    """A priors table (``calibration/priors.csv``) that cannot be used (exit 2)."""


class TargetsError(CalibrationConfigError):
    """A targets table (``calibration/targets.csv``) that cannot be used (exit 2)."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix for the closest candidate, or ``""``.

    Args:
        word: The unknown word as written.
        candidates: The valid words.

    Returns:
        The suffix, with a leading space, or an empty string when nothing is close.
    """
    if len(word) > MAX_VALUE_CHARS:  # no useful match, and difflib is slow on long text
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
