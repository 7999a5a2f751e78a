"""The shape of one model parameter: what it means, its unit, its range and its source.

Every number the model uses is declared once, as a :class:`Param`, in
:mod:`pathways_sim.scenario.registry`. Scenario files may only change
parameters declared there; the loader checks each value against the
declaration (type, range or allowed choices) before the model sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("int", "float", "bool", "choice", "str")


@dataclass(frozen=True)
class Param:
    """Declaration of one scenario parameter.

    Attributes:
        path: Dotted key, e.g. ``"link_workers.caseload"``; the first part is the section.
        default: Value used when no scenario in the chain sets it.
        kind: One of ``int``, ``float``, ``bool``, ``choice``, ``str``.
        unit: Unit of measure in words ("clients", "per week", "share 0-1", "GBP").
        description: What the parameter means, in a sentence an analyst can read.
        source: Citation of ``docs/evidence.md §E<n>`` or ``"assumption: <reason>"``.
        low: Inclusive lower bound for numbers (None: unbounded).
        high: Inclusive upper bound for numbers (None: unbounded).
        choices: Allowed values for ``choice`` parameters.
        calibrate: True when calibration may move this parameter.
    """

    path: str
    default: Any
    kind: str
    unit: str
    description: str
    source: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    calibrate: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.path}: kind {self.kind!r} not in {KINDS}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{self.path}: a choice parameter needs choices")
        if not self.source:
            raise ValueError(f"{self.path}: every parameter needs a source")

    @property
    def section(self) -> str:
        """The first part of the dotted path."""
        return self.path.split(".", 1)[0]

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices or ())
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "a string"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        what = "an integer" if self.kind == "int" else "a number"
        return f"{what} in [{lo}, {hi}]"
