"""Experiment files: what to vary, what to measure, how to sample, strictly validated.

An experiment file (``experiments/<name>.yaml``) speaks the EMA Workbench's
vocabulary: **levers** are what a commissioner controls, **uncertainties** what
we do not know, **outcomes** the metrics measured (with a direction)::

    description: "What the experiment asks, in one paragraph"
    base: medium                     # the scenario every design point starts from
    levers:
      scenario: [signposting, medium, holistic]  # special: a scenario composed on base
      funding.regime: [block, pbr_job]           # a list: discrete values
      link_workers.caseload: {low: 40, high: 100, values: [40, 70, 100]}
    uncertainties:
      jobs.labour_demand: {low: 0.8, high: 1.2}  # a range (sampled designs)
    outcomes: {found_work_24m: maximize, cost_per_job_24m: minimize}
    design: {type: full_factorial}   # or {type: latin_hypercube, samples: 20}
                                     # or {type: sobol, samples: 16}
    replicates: 10
    seed: 2026                       # optional (default 20261124)
    weeks: 156                       # optional: overrides run.weeks
    calibration: none                # optional: a calibration results folder (relative to
                                     # the repository) or none; default the shipped one
    baseline: {scenario: medium, funding.regime: block}   # optional
    counterfactual: no_service                             # optional (true = no_service)
    checks:                          # optional: expected directions, for the report
      - name: holistic beats signposting
        option: {scenario: holistic, funding.regime: block}
        baseline: {scenario: signposting, funding.regime: block}
        metric: found_work_24m
        expect: increase

Factor keys are parameter paths of the registry (``section.key``) or the
special key ``scenario``: a scenario name (or a path relative to the
experiment file) whose own settings are applied on top of ``base``, as if a
file said ``base: [<base>, <scenario>]`` (files already applied are not
applied again). A list gives discrete values; a range ``{low, high}`` gives a
numeric interval, sampled by ``latin_hypercube`` and ``sobol`` designs (integer
parameters take each integer in the range with equal chance). A
``full_factorial`` design crosses every list, so a range there needs
``values:``. Sampled designs draw levers and uncertainties in one joint
sample; a list there picks value ``floor(u * k)`` of its ``k`` values.

The **baseline** fixes some levers (the others keep the base scenario's
values); one baseline point is run for each distinct setting of the
uncertainties and every option is paired with the baseline of its own
uncertainties. The **counterfactual** scenario is composed on top of each
option (switching the service off while keeping the option's clients and
uncertainties). Every point, baseline and counterfactual included, runs
replicate ``r`` with the same seed (common random numbers). With a
**calibration** (the shipped ``calibration/results/default`` unless the file
says ``calibration: none`` or names another folder; ``sweep --calibration``
overrides the file), replicate ``r`` of every point also runs with the same
posterior draw of the calibrated parameters (values a point sets are kept).

The file is read by :mod:`pathways_sim.scenario.inputs` (YAML 1.2, strict).
Every problem raises :class:`~pathways_sim.scenario.errors.ExperimentError`
(a ``ScenarioError``: exit 2 from the command line) naming the file, the key
path, the problem and what is allowed, like a scenario file; values are
checked against the parameter registry by building the scenario with
:meth:`~pathways_sim.scenario.Scenario.with_changes`. Sizes are bounded
(:data:`MAX_REPLICATES`, :data:`MAX_SAMPLES`, :data:`MAX_VALUES`,
:data:`MAX_POINTS`, :data:`MAX_RUNS`), so a typo cannot start a sweep that
would never end.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathways_sim.defaults import DEFAULT_SEED
from pathways_sim.outcomes.metrics import METRICS
from pathways_sim.scenario import Scenario, ScenarioError, load_scenario
from pathways_sim.scenario.errors import ExperimentError, clip, did_you_mean
from pathways_sim.scenario.inputs import FileKind, is_file, is_path, locate, names_in, read_mapping
from pathways_sim.scenario.loader import default_scenarios_dir
from pathways_sim.scenario.validation import Scalar, describe, lookup_override_path

__all__ = [
    "DEFAULT_COUNTERFACTUAL",
    "DEFAULT_SEED",
    "DESIGNS",
    "DIRECTIONS",
    "EXPECTATIONS",
    "EXPERIMENT",
    "MAX_POINTS",
    "MAX_REPLICATES",
    "MAX_RUNS",
    "MAX_SAMPLES",
    "MAX_VALUES",
    "SCENARIO_KEY",
    "Check",
    "Design",
    "Experiment",
    "Factor",
    "default_experiments_dir",
    "list_experiments",
    "load_experiment",
]

SCENARIO_KEY = "scenario"
"""The factor key whose values are scenarios composed on top of ``base``."""

DESIGNS = ("full_factorial", "latin_hypercube", "sobol")
"""Design types."""

DIRECTIONS = ("maximize", "minimize", "info")
"""Outcome directions: better when higher, better when lower, reported only."""

EXPECTATIONS = ("increase", "decrease")
"""Expected directions of a check."""

# DEFAULT_SEED (imported above): the root seed when the file gives none.

DEFAULT_COUNTERFACTUAL = "no_service"
"""Counterfactual scenario of ``counterfactual: true``."""

TOP_LEVEL_KEYS = (
    "description", "title", "base", "levers", "uncertainties", "outcomes", "design",
    "replicates", "seed", "weeks", "baseline", "counterfactual", "checks", "calibration",
)
REQUIRED_KEYS = ("description", "base", "outcomes", "design", "replicates")
RANGE_KEYS = ("low", "high", "values")
DESIGN_KEYS = ("type", "samples")
CHECK_KEYS = ("name", "option", "baseline", "metric", "baseline_metric", "scale", "expect")
CHECK_REQUIRED = ("name", "option", "baseline", "metric", "expect")

EXPERIMENT = FileKind("experiment", ExperimentError, TOP_LEVEL_KEYS, REQUIRED_KEYS)
"""Experiment files, read by :mod:`pathways_sim.scenario.inputs`."""

MAX_REPLICATES = 1000
"""Most replicates of a design point."""
MAX_SAMPLES = 8192
"""Most points of a sampled (latin_hypercube, sobol) design."""
MAX_VALUES = 1000
"""Most values listed for one lever or uncertainty."""
MAX_POINTS = 10_000
"""Most design points (a full factorial's product of list lengths, or samples)."""
MAX_RUNS = 1_000_000
"""Most runs: design points x replicates."""
_WHY_SPLIT = "split a larger study into several experiments"
_WHY_REPLICATES = ("every replicate runs every design point and its seeds are made up front; "
                   "intervals shrink only with the square root of replicates")

_ALLOWED_FACTOR = (
    "a list of values, or a range {low: L, high: H} (with values: [...] for a "
    "full_factorial design)"
)
_ALLOWED_DESIGN = (
    "{type: full_factorial}, {type: latin_hypercube, samples: N} or "
    "{type: sobol, samples: N} with N a power of 2"
)
_NUMERIC = ("int", "float")


def default_experiments_dir() -> Path:
    """The folder experiment names resolve against: the repository's ``experiments/``."""
    return Path(__file__).resolve().parents[2] / "experiments"


def list_experiments(experiments_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the experiment files in a folder, sorted.

    Args:
        experiments_dir: The folder; default :func:`default_experiments_dir`.

    Returns:
        File stems of the ``*.yaml`` files.
    """
    folder = default_experiments_dir() if experiments_dir is None else Path(experiments_dir)
    if not folder.is_dir():
        return []
    return names_in(folder)


# --------------------------------------------------------------------------- the objects


@dataclass(frozen=True)
class Factor:
    """One lever or uncertainty.

    Attributes:
        name: ``"scenario"`` or a registry parameter path.
        group: ``"levers"`` or ``"uncertainties"``.
        kind: The parameter's kind (``int``, ``float``, ``bool``, ``choice``,
            ``str``) or ``"scenario"``.
        values: The listed values (a range's ``values:``), validated and in
            their stored types; None for a range without ``values:``.
        low: Lower end of a range (None for a list).
        high: Upper end of a range (None for a list).
    """

    name: str
    group: str
    kind: str
    values: tuple[Scalar, ...] | None
    low: int | float | None = None
    high: int | float | None = None

    @property
    def is_range(self) -> bool:
        """True for a ``{low, high}`` range."""
        return self.low is not None

    def level(self, u: float) -> Scalar:
        """The value a unit-interval draw ``u`` in [0, 1) picks.

        A range maps ``u`` linearly onto [low, high]; integer ranges give each
        integer equal chance, ``low + floor(u * (high - low + 1))``. A list
        picks value ``floor(u * k)`` of its ``k`` values.
        """
        if self.low is not None and self.high is not None:
            if self.kind == "int":
                lo, hi = int(self.low), int(self.high)
                return min(hi, lo + math.floor(u * (hi - lo + 1)))
            return float(self.low + u * (self.high - self.low))
        assert self.values is not None
        k = len(self.values)
        return self.values[min(k - 1, math.floor(u * k))]

    def to_dict(self) -> list[Scalar] | dict[str, Any]:
        """The factor as it would be written in the file (normalised)."""
        if not self.is_range:
            return list(self.values or ())
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.values is not None:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True)
class Design:
    """How design points are chosen.

    Attributes:
        type: One of :data:`DESIGNS`.
        samples: Points of a sampled design (None for ``full_factorial``).
    """

    type: str
    samples: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The design as written in the file."""
        return {"type": self.type} | ({"samples": self.samples} if self.samples else {})


@dataclass(frozen=True)
class Check:
    """An expected direction the report tests over replicates (paired by seed).

    The paired difference of replicate ``r`` is
    ``option[metric]_r - scale * baseline[baseline_metric]_r``; ``expect``
    says whether it should be above (``increase``) or below (``decrease``) 0.
    Both points are named by their lever values (every lever with more than
    one value given); with uncertainties, the two are paired at each setting
    of the uncertainties as well as by replicate.

    Attributes:
        name: Short unique name.
        option: Lever values of the option point.
        baseline: Lever values of the point it is compared with.
        metric: Metric of the option.
        baseline_metric: Metric of the baseline (usually the same).
        scale: Multiplier of the baseline's metric (1 for a plain difference).
        expect: ``increase`` or ``decrease``.
    """

    name: str
    option: Mapping[str, Scalar]
    baseline: Mapping[str, Scalar]
    metric: str
    baseline_metric: str
    scale: float
    expect: str

    def to_dict(self) -> dict[str, Any]:
        """The check as a plain dict."""
        return {
            "name": self.name, "option": dict(self.option), "baseline": dict(self.baseline),
            "metric": self.metric, "baseline_metric": self.baseline_metric,
            "scale": self.scale, "expect": self.expect,
        }


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file.

    Attributes:
        name: The file's stem.
        file: The file.
        description: One paragraph saying what the experiment asks.
        title: Optional short title.
        base: The base scenario as written in the file.
        base_scenario: The base scenario, resolved.
        levers: The levers, in file order.
        uncertainties: The uncertainties, in file order.
        outcomes: Metric name -> direction (:data:`DIRECTIONS`).
        design: The design.
        replicates: Replicates of every design point.
        seed: Root seed of the replicate seeds (and of sampled designs).
        weeks: Weeks simulated (overrides ``run.weeks``), or None.
        baseline: Lever values of the baseline, or None.
        counterfactual: Counterfactual scenario as written, or None.
        checks: Expected directions for the report.
        scenarios: Scenario reference as written -> resolved scenario, for the
            ``scenario`` factor, the baseline and the counterfactual.
        calibration: The ``calibration:`` key as written (``"none"`` or a folder,
            checked to hold a calibration), or None when the file has none (the
            shipped calibration); resolve it with :meth:`calibration_result`.
    """

    name: str
    file: Path
    description: str
    title: str | None
    base: str
    base_scenario: Scenario
    levers: tuple[Factor, ...]
    uncertainties: tuple[Factor, ...]
    outcomes: Mapping[str, str]
    design: Design
    replicates: int
    seed: int
    weeks: int | None
    baseline: Mapping[str, Scalar] | None
    counterfactual: str | None
    checks: tuple[Check, ...] = ()
    scenarios: Mapping[str, Scenario] = field(default_factory=dict, repr=False)
    calibration: str | None = None

    def calibration_result(self, override: str | None = None, note: Any = None) -> Any:
        """The calibration this experiment runs with: ``override`` (the command line's
        ``--calibration``), else the file's ``calibration:``, else the shipped one.

        Args:
            override: ``--calibration`` as given (relative to the working directory), or None.
            note: Where a one-line note goes if the shipped calibration is absent.

        Returns:
            A :class:`~pathways_sim.calibration.results.CalibrationResult`, or None for
            the registry values.
        """
        from pathways_sim.calibration.choice import resolve_calibration
        from pathways_sim.calibration.config import repo_root

        if override is not None:
            return resolve_calibration(override, note=note)
        return resolve_calibration(self.calibration, file=str(self.file), key="calibration",
                                   relative_to=repo_root(), note=note)

    @property
    def factors(self) -> tuple[Factor, ...]:
        """Levers then uncertainties."""
        return self.levers + self.uncertainties

    def factor(self, name: str) -> Factor:
        """The lever or uncertainty called ``name``.

        Raises:
            KeyError: No such factor.
        """
        for f in self.factors:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The experiment, normalised, as a JSON-serialisable dict (for manifests)."""
        return {
            "name": self.name,
            "file": str(self.file),
            "title": self.title,
            "description": self.description,
            "base": self.base,
            "levers": {f.name: f.to_dict() for f in self.levers},
            "uncertainties": {f.name: f.to_dict() for f in self.uncertainties},
            "outcomes": dict(self.outcomes),
            "design": self.design.to_dict(),
            "replicates": self.replicates,
            "seed": self.seed,
            "weeks": self.weeks,
            "baseline": None if self.baseline is None else dict(self.baseline),
            "counterfactual": self.counterfactual,
            "checks": [c.to_dict() for c in self.checks],
            "calibration": self.calibration,
        }


# --------------------------------------------------------------------------- reading


def _read(path: Path) -> dict[str, Any]:
    """Read a file strictly (see :mod:`pathways_sim.scenario.inputs`) and check its top level."""
    return read_mapping(path, EXPERIMENT)


def _locate(name_or_path: str | os.PathLike[str], experiments_dir: Path) -> Path:
    return locate(name_or_path, experiments_dir, EXPERIMENT)


class _Checker:
    """Validates the parts of one experiment file, with errors naming it."""

    def __init__(self, path: Path, scenarios_dir: Path) -> None:
        self.path = path
        self.file = str(path)
        self.scenarios_dir = scenarios_dir
        self.scenarios: dict[str, Scenario] = {}
        self.base: Scenario | None = None

    def error(self, key: str | None, problem: str, allowed: str | None) -> ExperimentError:
        return ExperimentError(self.file, key, problem, allowed)

    # -- small values

    def text(self, doc: Mapping[str, Any], key: str, where: str | None = None) -> str:
        value = doc[key]
        key = key if where is None else f"{where}.{key}"
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be non-empty text, got {describe(value)}",
                             "non-empty text")
        return " ".join(value.split())

    def integer(self, value: object, key: str, minimum: int, allowed: str,
                maximum: int | None = None, why: str | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"wrong type: expected an integer, got {describe(value)}",
                             allowed)
        if value < minimum:
            raise self.error(key, f"value {value} is out of range", allowed)
        if maximum is not None and value > maximum:
            reason = f" ({why})" if why else ""
            raise self.error(key, f"value {value:,} is above the limit of {maximum:,}{reason}",
                             allowed)
        return value

    def calibration(self, value: object) -> str:
        """The ``calibration:`` key: ``none`` or a calibration folder (relative to the repo)."""
        from pathways_sim.calibration.choice import ALLOWED, NONE, is_calibration_folder
        from pathways_sim.calibration.config import repo_root

        allowed = ALLOWED.replace("e.g. calibration", "relative to the repository, e.g. "
                                  "calibration")
        if not isinstance(value, str) or not value.strip():
            raise self.error("calibration", f"must be a folder or 'none', got "
                             f"{describe(value)}", allowed)
        if value.strip().lower() == NONE:
            return NONE
        path = Path(value) if Path(value).is_absolute() else repo_root() / value
        if not is_calibration_folder(path):
            what = "does not exist" if not path.exists() else "is not a calibration folder"
            raise self.error("calibration", f"{clip(value)!r} {what} (looked for "
                             f"{path / 'calibrated.json'})", allowed)
        return value

    def mapping(self, value: object, key: str, allowed: str) -> Mapping[Any, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a mapping, got {describe(value)}", allowed)
        return value

    # -- scenarios and parameter values

    def scenario(self, ref: object, key: str) -> Scenario:
        """Load a scenario named (or at a path relative to this file) ``ref``."""
        names = names_in(self.scenarios_dir)
        allowed = (
            "a scenario name or a path relative to the experiment file; scenario names: "
            + ", ".join(names)
        )
        if not isinstance(ref, str) or not ref.strip():
            raise self.error(key, f"must be a scenario name, got {describe(ref)}", allowed)
        if ref in self.scenarios:
            return self.scenarios[ref]
        if is_path(ref):
            target: str | Path = Path(os.path.normpath(self.path.parent / ref))
            if not is_file(Path(target)):
                raise self.error(key, f"scenario file {clip(ref)!r} not found "
                                 f"(looked for {target})", allowed)
        else:
            if not is_file(self.scenarios_dir / f"{ref}.yaml"):
                raise self.error(key, f"unknown scenario {clip(ref)!r}{did_you_mean(ref, names)}",
                                 allowed)
            target = ref
        try:
            sc = load_scenario(target, scenarios_dir=self.scenarios_dir)
        except ScenarioError as exc:
            raise self.error(key, f"scenario {clip(ref)!r} is invalid: {exc}", allowed) from None
        self.scenarios[ref] = sc
        return sc

    def param_kind(self, path: object, key: str) -> str:
        """The kind of the parameter at ``path`` (unknown paths are errors)."""
        assert self.base is not None
        if path == SCENARIO_KEY:
            return "scenario"
        try:
            return lookup_override_path(path, self.base.registry).kind
        except ScenarioError as exc:
            allowed = f"'{SCENARIO_KEY}' or a parameter path section.key. {exc.allowed}"
            raise self.error(key, exc.problem, allowed) from None

    def value(self, path: str, raw: object, key: str) -> Scalar:
        """A value of parameter ``path`` checked against the registry (stored type)."""
        assert self.base is not None
        if path == SCENARIO_KEY:
            self.scenario(raw, key)
            assert isinstance(raw, str)
            return raw
        if isinstance(raw, Mapping | list):
            param = self.base.registry[path]
            raise self.error(key, f"must be a plain value, got {describe(raw)}", param.allowed())
        try:
            changed = self.base.with_changes({path: raw})
        except ScenarioError as exc:
            raise self.error(key, exc.problem, exc.allowed) from None
        return changed.values[path]

    # -- sections

    def factor(self, name: object, spec: object, group: str, full_factorial: bool) -> Factor:
        key = f"{group}.{name}"
        kind = self.param_kind(name, key)
        assert isinstance(name, str)
        if isinstance(spec, list):
            if not spec:
                raise self.error(key, "empty list of values", _ALLOWED_FACTOR)
            self._not_too_many(spec, key)
            values = tuple(self.value(name, v, f"{key}[{i}]") for i, v in enumerate(spec))
            self._no_repeats(values, key)
            return Factor(name, group, kind, values)
        if not isinstance(spec, Mapping):
            raise self.error(key, f"must be a list or a range, got {describe(spec)}",
                             _ALLOWED_FACTOR)
        for k in spec:
            if k not in RANGE_KEYS:
                hint = did_you_mean(str(k), RANGE_KEYS)
                raise self.error(f"{key}.{k}", f"unknown key {clip(str(k))!r} in a range{hint}",
                                 _ALLOWED_FACTOR)
        if kind not in _NUMERIC:
            raise self.error(
                key, f"a range needs a numeric parameter; {name!r} is {kind}",
                "a list of values, e.g. " + (
                    "[medium, holistic]" if kind == "scenario" else "[a, b]"
                ),
            )
        for k in ("low", "high"):
            if k not in spec:
                raise self.error(key, f"range is missing {k!r}", _ALLOWED_FACTOR)
        low = self.value(name, spec["low"], f"{key}.low")
        high = self.value(name, spec["high"], f"{key}.high")
        assert isinstance(low, int | float) and isinstance(high, int | float)
        if not low < high:
            raise self.error(key, f"low ({low:g}) must be below high ({high:g})",
                             "low < high; for a single value use a list of one value")
        values = None
        if "values" in spec:
            raw = spec["values"]
            if not isinstance(raw, list) or not raw:
                raise self.error(f"{key}.values", f"must be a non-empty list, got {describe(raw)}",
                                 f"values in [{low:g}, {high:g}]")
            self._not_too_many(raw, f"{key}.values")
            checked = []
            for i, v in enumerate(raw):
                value = self.value(name, v, f"{key}.values[{i}]")
                assert isinstance(value, int | float)
                if not low <= value <= high:
                    raise self.error(f"{key}.values[{i}]", f"value {v!r} is outside the range",
                                     f"values in [{low:g}, {high:g}]")
                checked.append(value)
            values = tuple(checked)
            self._no_repeats(values, f"{key}.values")
        elif full_factorial:
            raise self.error(
                key, "a range needs 'values:' in a full_factorial design",
                "a list of values, {low: L, high: H, values: [...]}, or a "
                "latin_hypercube or sobol design to sample the range",
            )
        return Factor(name, group, kind, values, low, high)

    def _not_too_many(self, values: Sequence[object], key: str) -> None:
        if len(values) > MAX_VALUES:
            raise self.error(key, f"{len(values):,} values is above the limit of {MAX_VALUES:,} "
                             f"({_WHY_SPLIT})", f"at most {MAX_VALUES:,} values")

    def _no_repeats(self, values: Sequence[Scalar], key: str) -> None:
        seen: list[Scalar] = []
        for v in values:
            if any(v == s and type(v) is type(s) for s in seen):
                raise self.error(key, f"value {clip(repr(v))} is listed twice", "each value once")
            seen.append(v)

    def factors(self, doc: Mapping[str, Any], group: str, full_factorial: bool) -> list[Factor]:
        raw = doc.get(group)
        if raw is None:
            return []
        allowed = f"a mapping of parameter path (or '{SCENARIO_KEY}') -> {_ALLOWED_FACTOR}"
        raw = self.mapping(raw, group, allowed)
        return [self.factor(name, spec, group, full_factorial) for name, spec in raw.items()]

    def size(self, design: Design, factors: Sequence[Factor], replicates: int) -> None:
        """Refuse a design with too many points or runs (before anything is planned)."""
        points = design.samples or 1
        if design.type == "full_factorial":
            for f in factors:
                points *= len(f.values or ())
                if points > MAX_POINTS:
                    break
        key = "design" if design.type != "full_factorial" else "levers"
        if points > MAX_POINTS:
            raise self.error(key, f"the full factorial has more than {MAX_POINTS:,} design "
                             f"points ({_WHY_SPLIT})",
                             f"at most {MAX_POINTS:,} design points (the product of the "
                             "numbers of listed values)")
        if points * replicates > MAX_RUNS:
            raise self.error("replicates", f"{points:,} design points x {replicates:,} "
                             f"replicates = {points * replicates:,} runs, above the limit of "
                             f"{MAX_RUNS:,} ({_WHY_SPLIT})",
                             f"at most {MAX_RUNS:,} runs (design points x replicates)")

    def outcomes(self, doc: Mapping[str, Any]) -> dict[str, str]:
        allowed = "a mapping metric -> " + " | ".join(DIRECTIONS)
        raw = self.mapping(doc["outcomes"], "outcomes", allowed)
        if not raw:
            raise self.error("outcomes", "no outcomes listed", allowed)
        out: dict[str, str] = {}
        for metric, direction in raw.items():
            key = f"outcomes.{metric}"
            self.metric(metric, key)
            if direction not in DIRECTIONS:
                hint = did_you_mean(str(direction), DIRECTIONS)
                raise self.error(key, f"unknown direction {clip(repr(direction))}{hint}",
                                 ", ".join(DIRECTIONS))
            out[str(metric)] = str(direction)
        return out

    def metric(self, metric: object, key: str) -> str:
        if not isinstance(metric, str) or metric not in METRICS:
            text = clip(str(metric))
            raise self.error(key, f"unknown metric {text!r}{did_you_mean(text, METRICS)}",
                             "metrics: " + ", ".join(METRICS))
        return metric

    def design(self, doc: Mapping[str, Any]) -> Design:
        raw = self.mapping(doc["design"], "design", _ALLOWED_DESIGN)
        for k in raw:
            if k not in DESIGN_KEYS:
                raise self.error(f"design.{k}",
                                 f"unknown key {clip(str(k))!r}{did_you_mean(str(k), DESIGN_KEYS)}",
                                 _ALLOWED_DESIGN)
        if "type" not in raw:
            raise self.error("design.type", "missing required key", _ALLOWED_DESIGN)
        kind = raw["type"]
        if kind not in DESIGNS:
            raise self.error("design.type",
                             f"unknown design {clip(repr(kind))}{did_you_mean(str(kind), DESIGNS)}",
                             _ALLOWED_DESIGN)
        if kind == "full_factorial":
            if "samples" in raw:
                raise self.error("design.samples",
                                 "a full_factorial design takes no samples (it crosses every list)",
                                 _ALLOWED_DESIGN)
            return Design(kind)
        if "samples" not in raw:
            raise self.error("design.samples", f"a {kind} design needs samples", _ALLOWED_DESIGN)
        samples = self.integer(raw["samples"], "design.samples", 1, _ALLOWED_DESIGN,
                               MAX_SAMPLES, _WHY_SPLIT)
        if kind == "sobol" and samples & (samples - 1):
            raise self.error("design.samples",
                             f"{samples} is not a power of 2 (Sobol points balance only then)",
                             _ALLOWED_DESIGN)
        return Design(kind, samples)

    def point(self, raw: object, key: str, levers: Sequence[Factor],
              uncertainties: Sequence[Factor]) -> dict[str, Scalar]:
        """Lever values of a point (baseline, check option or check baseline)."""
        names = [f.name for f in levers]
        allowed = "a mapping lever -> value; levers: " + (", ".join(names) or "none")
        raw = self.mapping(raw, key, allowed)
        if not raw:
            raise self.error(key, "no lever values given", allowed)
        out: dict[str, Scalar] = {}
        for name, value in raw.items():
            text = str(name)
            if text in (f.name for f in uncertainties):
                raise self.error(
                    f"{key}.{text}", f"{clip(text)!r} is an uncertainty, not a lever: points are "
                    "paired on the uncertainties, never fixed", allowed)
            if text not in names:
                hint = did_you_mean(text, names)
                raise self.error(f"{key}.{text}", f"unknown lever {clip(text)!r}{hint}", allowed)
            out[text] = self.value(text, value, f"{key}.{text}")
        return out

    def checks(self, doc: Mapping[str, Any], exp_design: Design, levers: Sequence[Factor],
               uncertainties: Sequence[Factor],
               baseline: Mapping[str, Scalar] | None) -> list[Check]:
        raw = doc.get("checks")
        if raw is None:
            return []
        allowed = ("a list of mappings with keys " + ", ".join(CHECK_KEYS)
                   + " (required: " + ", ".join(CHECK_REQUIRED) + ")")
        if not isinstance(raw, list):
            raise self.error("checks", f"must be a list, got {describe(raw)}", allowed)
        if raw and exp_design.type != "full_factorial":
            raise self.error("checks", f"checks compare named points; a {exp_design.type} "
                             "design has none", "checks only with a full_factorial design")
        out: list[Check] = []
        for i, entry in enumerate(raw):
            key = f"checks[{i}]"
            entry = self.mapping(entry, key, allowed)
            for k in entry:
                if k not in CHECK_KEYS:
                    hint = did_you_mean(str(k), CHECK_KEYS)
                    raise self.error(f"{key}.{k}", f"unknown key {clip(str(k))!r}{hint}",
                                     allowed)
            for k in CHECK_REQUIRED:
                if k not in entry:
                    raise self.error(f"{key}.{k}", "missing required key", allowed)
            name = self.text(entry, "name", where=key)
            if any(c.name == name for c in out):
                raise self.error(f"{key}.name", f"check name {clip(name)!r} is used twice",
                                 "a unique name for each check")
            option = self._check_point(entry["option"], f"{key}.option", levers, uncertainties,
                                       baseline)
            base_point = self._check_point(entry["baseline"], f"{key}.baseline", levers,
                                           uncertainties, baseline)
            metric = self.metric(entry["metric"], f"{key}.metric")
            base_metric = self.metric(entry.get("baseline_metric", metric),
                                      f"{key}.baseline_metric")
            scale = entry.get("scale", 1.0)
            if isinstance(scale, bool) or not isinstance(scale, int | float) or not (
                    math.isfinite(scale) and scale > 0):
                raise self.error(f"{key}.scale", f"must be a positive number, got "
                                 f"{describe(scale)}", "a number above 0 (default 1)")
            expect = entry["expect"]
            if expect not in EXPECTATIONS:
                raise self.error(f"{key}.expect",
                                 f"unknown expectation {clip(repr(expect))}"
                                 f"{did_you_mean(str(expect), EXPECTATIONS)}",
                                 ", ".join(EXPECTATIONS))
            out.append(Check(name, option, base_point, metric, base_metric, float(scale),
                             str(expect)))
        return out

    def _check_point(self, raw: object, key: str, levers: Sequence[Factor],
                     uncertainties: Sequence[Factor],
                     baseline: Mapping[str, Scalar] | None) -> dict[str, Scalar]:
        """Lever values naming exactly one design point (an option, or the baseline)."""
        point = self.point(raw, key, levers, uncertainties)
        for f in levers:
            assert f.values is not None  # full factorial: every factor lists its values
            options = list(f.values)
            if f.name not in point:
                if len(options) == 1:
                    point[f.name] = options[0]
                    continue
                raise self.error(
                    key, f"lever {f.name!r} is not given, so the point is ambiguous",
                    f"a value for every lever with more than one value: {f.name} in "
                    + ", ".join(repr(v) for v in options))
            value = point[f.name]
            in_baseline = baseline is not None and baseline.get(f.name) == value
            if value not in options and not in_baseline:
                raise self.error(
                    f"{key}.{f.name}", f"{clip(repr(value))} is not a value of lever {f.name!r}",
                    ", ".join(repr(v) for v in options)
                    + (" or the baseline's value" if baseline and f.name in baseline else ""))
        return {f.name: point[f.name] for f in levers}


def load_experiment(
    name_or_path: str | os.PathLike[str],
    experiments_dir: str | os.PathLike[str] | None = None,
    scenarios_dir: str | os.PathLike[str] | None = None,
) -> Experiment:
    """Load and validate an experiment file.

    Args:
        name_or_path: An experiment name (``<experiments_dir>/<name>.yaml``) or
            a path (anything containing ``/`` or ending ``.yaml``, or a ``Path``).
        experiments_dir: Folder names resolve against; default
            :func:`default_experiments_dir`.
        scenarios_dir: Folder scenario names resolve against; default the
            scenario loader's.

    Returns:
        The validated experiment, with every scenario it names resolved.

    Raises:
        ExperimentError: Any problem, naming the file, the key path, the problem
            and what is allowed (a ``ScenarioError``: exit 2 from the command line).
    """
    edir = default_experiments_dir() if experiments_dir is None else Path(experiments_dir)
    sdir = default_scenarios_dir() if scenarios_dir is None else Path(scenarios_dir)
    path = _locate(name_or_path, edir)
    doc = _read(path)
    c = _Checker(path, sdir)
    description = c.text(doc, "description")
    title = c.text(doc, "title") if "title" in doc else None
    c.base = c.scenario(doc["base"], "base")
    base_ref = str(doc["base"])
    design = c.design(doc)
    full = design.type == "full_factorial"
    levers = c.factors(doc, "levers", full)
    uncertainties = c.factors(doc, "uncertainties", full)
    if not levers and not uncertainties:
        raise c.error("levers", "no levers or uncertainties: nothing to vary",
                      "at least one lever or uncertainty")
    lever_names = {f.name for f in levers}
    for f in uncertainties:
        if f.name in lever_names:
            raise c.error(f"uncertainties.{f.name}", f"{f.name!r} is also a lever",
                          "each parameter either a lever or an uncertainty")
    outcomes = c.outcomes(doc)
    replicates = c.integer(doc["replicates"], "replicates", 1,
                           f"an integer >= 1 (at most {MAX_REPLICATES:,})", MAX_REPLICATES,
                           _WHY_REPLICATES)
    c.size(design, levers + uncertainties, replicates)
    seed = DEFAULT_SEED
    if "seed" in doc:
        seed = c.integer(doc["seed"], "seed", 0, "a non-negative integer")
    weeks = None
    if doc.get("weeks") is not None:
        weeks_value = c.value("run.weeks", doc["weeks"], "weeks")
        assert isinstance(weeks_value, int)
        weeks = weeks_value
    baseline = None
    if doc.get("baseline") is not None:
        baseline = c.point(doc["baseline"], "baseline", levers, uncertainties)
    counterfactual = None
    raw_cf = doc.get("counterfactual")
    if raw_cf is True:
        raw_cf = DEFAULT_COUNTERFACTUAL
    if raw_cf is not None and raw_cf is not False:
        c.scenario(raw_cf, "counterfactual")
        counterfactual = str(raw_cf)
    checks = c.checks(doc, design, levers, uncertainties, baseline)
    calibration = c.calibration(doc["calibration"]) if "calibration" in doc else None
    return Experiment(
        name=path.stem,
        file=path,
        description=description,
        title=title,
        base=base_ref,
        base_scenario=c.base,
        levers=tuple(levers),
        uncertainties=tuple(uncertainties),
        outcomes=outcomes,
        design=design,
        replicates=replicates,
        seed=seed,
        weeks=weeks,
        baseline=baseline,
        counterfactual=counterfactual,
        checks=tuple(checks),
        scenarios=dict(c.scenarios),
        calibration=calibration,
    )
