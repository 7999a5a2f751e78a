"""Designs: which points an experiment runs, their scenarios, their runs and seeds.

:func:`design_matrix` turns the factors of an
:class:`~pathways_sim.sweep.experiment.Experiment` into rows of values (a
full factorial, or a Latin hypercube / scrambled Sobol sample from
:mod:`scipy.stats.qmc`); :func:`plan_sweep` resolves each row into a
:class:`DesignPoint` with its scenario, adds the baseline and counterfactual
points the options are paired with, and numbers every run.

Numbering: points are the options in design order, then the baseline
points, then the counterfactual points (``point_id`` 0, 1, ...). Run
``run_id = point_id * replicates + replicate`` uses seed
``replicate_seeds(seed, replicates)[replicate]`` whatever its point: common
random numbers across all points. With a calibration, replicate ``r`` of every
point also runs the same posterior draw of the calibrated parameters
(:meth:`~pathways_sim.calibration.results.CalibrationResult.replicate_draw` of
its seed): :meth:`SweepPlan.scenario_of` is the point's scenario with that
draw applied.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from scipy.stats import qmc

from pathways_sim.outcomes import METRICS, STATES
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import Scenario, diff_scenarios
from pathways_sim.scenario.validation import OVERRIDE, Scalar
from pathways_sim.sweep.experiment import SCENARIO_KEY, Design, Experiment, Factor

if TYPE_CHECKING:
    from pathways_sim.calibration.results import CalibrationResult

__all__ = [
    "ROLES",
    "DesignPoint",
    "Run",
    "SweepPlan",
    "compose",
    "design_matrix",
    "plan_sweep",
    "unit_sample",
]

ROLES = ("option", "baseline", "counterfactual")
"""Roles of design points."""

DESIGN_STREAM = 0x5EED_DE51
"""Spawn key of the random stream of sampled designs (separate from the replicates')."""

FORMAT_VERSION = 1
"""Version of the results layout, part of the experiment fingerprint."""


# --------------------------------------------------------------------------- design matrix


def unit_sample(design: Design, dimensions: int, seed: int) -> np.ndarray:
    """Points of a sampled design in the unit hypercube.

    Args:
        design: A ``latin_hypercube`` or ``sobol`` design.
        dimensions: Number of factors.
        seed: Root seed; the sample uses its own stream of it, so it never
            shares draws with the replicates.

    Returns:
        A ``samples x dimensions`` array of values in [0, 1).

    Raises:
        ValueError: A ``full_factorial`` design (it has no sample).
    """
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(DESIGN_STREAM,)))
    n = design.samples or 0
    if design.type == "latin_hypercube":
        return qmc.LatinHypercube(d=dimensions, rng=rng).random(n)
    if design.type == "sobol":
        m = max(0, n.bit_length() - 1)  # validated: n is a power of 2
        return qmc.Sobol(d=dimensions, scramble=True, rng=rng).random_base2(m)
    raise ValueError(f"design {design.type!r} has no sample")


def design_matrix(experiment: Experiment) -> list[dict[str, Scalar]]:
    """The factor values of each option point, levers then uncertainties.

    Args:
        experiment: A validated experiment.

    Returns:
        One dict factor name -> value per option point, in design order: the
        cross product of every factor's values (last factor varying fastest)
        for ``full_factorial``, else one row per sample.
    """
    factors = experiment.factors
    if experiment.design.type == "full_factorial":
        lists = [f.values or () for f in factors]
        return [dict(zip((f.name for f in factors), row, strict=True))
                for row in itertools.product(*lists)]
    u = unit_sample(experiment.design, len(factors), experiment.seed)
    return [{f.name: f.level(float(x)) for f, x in zip(factors, row, strict=True)} for row in u]


# --------------------------------------------------------------------------- scenarios


def compose(base: Scenario, top: Scenario, name: str | None = None) -> Scenario:
    """``top``'s own files applied on top of ``base``.

    The same as a scenario file saying ``base: [<base>, <top>]``: the files of
    ``top``'s chain that ``base`` has not applied yet are applied in order, and
    files both share are not applied again (so ``holistic`` composed on a
    ``pbr_job_outcomes`` base adds holistic's settings, not ``medium``'s again).

    Args:
        base: The scenario to start from.
        top: The scenario whose settings are added.
        name: Name of the result (default ``"<base>+<top>"``).

    Returns:
        The composed scenario; its chain is ``base``'s plus the files added.
    """
    added = [f for f in top.chain if f not in base.chain and f != OVERRIDE]
    layers = {Path(f).stem for f in added}
    changes = {
        path: {"value": value, "source": top.sources[path]}
        for path, value in top.values.items()
        if top.set_by[path] in layers
    }
    composed = base.with_changes(changes, name=top.name)
    return dataclasses.replace(
        composed, name=name or f"{base.name}+{top.name}", chain=(*base.chain, *added)
    )


@dataclass(frozen=True)
class DesignPoint:
    """One design point: factor values and the resolved scenario run for them.

    Attributes:
        point_id: Position in the plan (options, then baselines, then counterfactuals).
        role: ``option``, ``baseline`` or ``counterfactual``.
        factors: Factor name -> value (None where a factor does not apply:
            the levers of a counterfactual point).
        scenario: The resolved scenario (weeks applied).
        baseline_point: Point id of the baseline this point is paired with, or None.
        counterfactual_point: Point id of its counterfactual, or None.
    """

    point_id: int
    role: str
    factors: Mapping[str, Scalar | None]
    scenario: Scenario
    baseline_point: int | None = None
    counterfactual_point: int | None = None

    def changes(self, base: Scenario) -> dict[str, Scalar]:
        """Parameters whose resolved value differs from ``base``'s: path -> value."""
        return {path: b for path, _, b in diff_scenarios(base, self.scenario) if b is not None}

    def to_dict(self, base: Scenario) -> dict[str, Any]:
        """The point for the manifest: ids, role, factors, resolved changes from ``base``
        and the source of each changed value (so a report never needs to re-plan)."""
        changes = self.changes(base)
        return {
            "point_id": self.point_id,
            "role": self.role,
            "factors": dict(self.factors),
            "baseline_point": self.baseline_point,
            "counterfactual_point": self.counterfactual_point,
            "name": self.scenario.name,
            "changes": changes,
            "sources": {path: self.scenario.sources[path] for path in changes},
        }


def _resolve(experiment: Experiment, start: Scenario, factors: Mapping[str, Scalar | None],
             name: str) -> Scenario:
    """``start`` with the factor values applied: a scenario factor first, then parameters."""
    sc = start
    ref = factors.get(SCENARIO_KEY)
    if ref is not None:
        sc = compose(sc, experiment.scenarios[str(ref)])
    where = f"experiment {experiment.name} ({experiment.file.name}), design point {name}"
    changes: dict[str, Any] = {
        path: {"value": value, "source": f"{where}: {path}"}
        for path, value in factors.items()
        if path != SCENARIO_KEY and value is not None
    }
    if experiment.weeks is not None:
        changes["run.weeks"] = {"value": experiment.weeks, "source": f"{where}: weeks"}
    return sc.with_changes(changes, name=name)


def _key(scenario: Scenario) -> str:
    return json.dumps(dict(scenario.values), sort_keys=True)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Run:
    """One simulation of the plan.

    Attributes:
        run_id: ``point_id * replicates + replicate``.
        point_id: Its design point.
        replicate: Replicate number (0-based).
        seed: Its seed (the same for every point at this replicate).
    """

    run_id: int
    point_id: int
    replicate: int
    seed: int


@dataclass(frozen=True)
class SweepPlan:
    """Every design point and run of an experiment.

    Attributes:
        experiment: The experiment.
        points: Options, then baselines, then counterfactuals.
        seeds: Seed of each replicate.
        calibration: The posterior the replicates draw their parameters from, or
            None (the points' scenarios as they are).
        draws: The posterior draw of each replicate (empty without a calibration).
    """

    experiment: Experiment
    points: tuple[DesignPoint, ...]
    seeds: tuple[int, ...]
    calibration: CalibrationResult | None = field(default=None, compare=False, repr=False)
    draws: tuple[int, ...] = ()
    _applied: dict[tuple[int, int], Scenario] = field(default_factory=dict, compare=False,
                                                       repr=False)

    def scenario_of(self, point_id: int, replicate: int) -> Scenario:
        """The scenario run at ``point_id``, replicate ``replicate``: the point's scenario
        with the replicate's posterior draw applied (values the point sets are kept)."""
        point = self.points[point_id]
        if self.calibration is None:
            return point.scenario
        key = (int(point_id), self.draws[replicate])
        if key not in self._applied:
            self._applied[key] = self.calibration.apply(point.scenario, draw=key[1])
        return self._applied[key]

    def calibration_record(self) -> dict[str, Any] | None:
        """The manifest's ``calibration`` entry (version, path, method, draws), or None."""
        if self.calibration is None:
            return None
        return self.calibration.record(self.draws) | {
            "replicate_values": [self.calibration.draw_values(d) for d in self.draws]}

    @property
    def replicates(self) -> int:
        """Replicates of each point."""
        return len(self.seeds)

    @property
    def total_runs(self) -> int:
        """Number of runs."""
        return len(self.points) * self.replicates

    def run(self, run_id: int) -> Run:
        """The run with this id."""
        point_id, replicate = divmod(int(run_id), self.replicates)
        return Run(int(run_id), point_id, replicate, self.seeds[replicate])

    def runs(self, run_ids: Sequence[int] | range | None = None) -> Iterator[Run]:
        """Runs in id order (all, or the ids given)."""
        ids = range(self.total_runs) if run_ids is None else run_ids
        return (self.run(i) for i in ids)

    def roles(self) -> dict[str, int]:
        """Number of points of each role."""
        return {role: sum(p.role == role for p in self.points) for role in ROLES}

    def fingerprint(self) -> str:
        """SHA-256 of everything that fixes the results.

        Covers every point's role, pairing, factor values and full resolved
        parameter values, the seeds, the calibration and each replicate's draw
        (when there is one), and the metric and stock columns stored. Editing a
        scenario file the experiment uses changes it; a new description does not.
        """
        content = {
            "format": FORMAT_VERSION,
            "seeds": list(self.seeds),
            "metrics": list(METRICS),
            "stocks": list(STATES),
            "points": [
                [p.role, p.baseline_point, p.counterfactual_point, dict(p.factors),
                 dict(p.scenario.values)]
                for p in self.points
            ],
        }
        if self.calibration is not None:  # absent without one: earlier sweeps still resume
            content["calibration"] = {"version": self.calibration.version,
                                      "draws": list(self.draws)}
        text = json.dumps(content, sort_keys=True, default=str, allow_nan=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def design_table(self) -> pa.Table:
        """The inputs of every run: the ``design.parquet`` table.

        Returns:
            Columns run_id, point_id, replicate, seed, role, baseline_point,
            counterfactual_point (null when unpaired), then one column per lever
            and uncertainty (null where it does not apply), one row per run in
            run id order.
        """
        reps = self.replicates
        n = self.total_runs
        cols: dict[str, pa.Array] = {
            "run_id": pa.array(np.arange(n, dtype=np.int64)),
            "point_id": pa.array(np.repeat(np.arange(len(self.points), dtype=np.int64), reps)),
            "replicate": pa.array(np.tile(np.arange(reps, dtype=np.int64), len(self.points))),
            "seed": pa.array(np.tile(np.array(self.seeds, dtype=np.int64), len(self.points))),
            "role": pa.array([p.role for p in self.points for _ in range(reps)], pa.string()),
        }
        for pair in ("baseline_point", "counterfactual_point"):
            cols[pair] = pa.array([getattr(p, pair) for p in self.points for _ in range(reps)],
                                  pa.int64())
        for f in self.experiment.factors:
            cols[f.name] = pa.array(
                [p.factors.get(f.name) for p in self.points for _ in range(reps)],
                _ARROW_TYPES[f.kind],
            )
        return pa.table(cols)

    def manifest_entry(self) -> dict[str, Any]:
        """The plan for the manifest: counts, seeds and every point's resolved changes."""
        base = self.experiment.base_scenario
        return {
            "points": [p.to_dict(base) for p in self.points],
            "roles": self.roles(),
            "replicates": self.replicates,
            "total_runs": self.total_runs,
            "run_id": "point_id * replicates + replicate",
        }


_ARROW_TYPES = {
    "scenario": pa.string(), "choice": pa.string(), "str": pa.string(),
    "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(),
}


def _lever_values(experiment: Experiment, levers: Sequence[Factor],
                  given: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """Baseline lever values: those given, else the base scenario's."""
    base = experiment.base_scenario
    out: dict[str, Scalar] = {}
    for f in levers:
        if f.name in given:
            out[f.name] = given[f.name]
        elif f.name == SCENARIO_KEY:
            out[f.name] = experiment.base
        else:
            out[f.name] = base.values[f.name]
    return out


def plan_sweep(experiment: Experiment,
               calibration: CalibrationResult | None = None) -> SweepPlan:
    """Resolve every design point of an experiment and pair options with their baselines.

    Options come from :func:`design_matrix`. With a ``baseline``, each option
    is paired with the baseline lever values plus the option's own
    uncertainty values; with a ``counterfactual``, with the counterfactual
    scenario composed on top of the option, its uncertainty values applied
    again. Baseline and counterfactual points with identical resolved
    parameters are run once and shared. Baseline points get counterfactuals too.

    Args:
        experiment: A validated experiment.
        calibration: The posterior each replicate draws its parameters from
            (:meth:`~pathways_sim.sweep.experiment.Experiment.calibration_result`
            chooses it), or None: the points' scenarios as they are.

    Returns:
        The plan.
    """
    exp = experiment
    base = exp.base_scenario
    uncertain = [f.name for f in exp.uncertainties]
    rows = design_matrix(exp)
    options = [
        DesignPoint(i, "option", row, _resolve(exp, base, row, f"{exp.name}:option{i}"))
        for i, row in enumerate(rows)
    ]
    next_id = len(options)

    baselines: dict[str, DesignPoint] = {}
    if exp.baseline is not None:
        levers = _lever_values(exp, exp.levers, exp.baseline)
        for i, opt in enumerate(options):
            factors = levers | {u: opt.factors[u] for u in uncertain}
            given = {u: opt.factors[u] for u in uncertain} | dict(exp.baseline)
            sc = _resolve(exp, base, given, f"{exp.name}:baseline{next_id}")
            key = _key(sc)
            if key not in baselines:
                baselines[key] = DesignPoint(next_id, "baseline", factors, sc)
                next_id += 1
            options[i] = dataclasses.replace(opt, baseline_point=baselines[key].point_id)
    paired = options + list(baselines.values())

    counterfactuals: dict[str, DesignPoint] = {}
    if exp.counterfactual is not None:
        cf_top = exp.scenarios[exp.counterfactual]
        for i, point in enumerate(paired):
            unc = {u: point.factors[u] for u in uncertain}
            composed = compose(point.scenario, cf_top)
            sc = _resolve(exp, composed, unc, f"{exp.name}:counterfactual{next_id}")
            key = _key(sc)
            if key not in counterfactuals:
                factors = {f.name: None for f in exp.levers} | unc
                counterfactuals[key] = DesignPoint(next_id, "counterfactual", factors, sc)
                next_id += 1
            paired[i] = dataclasses.replace(
                point, counterfactual_point=counterfactuals[key].point_id)
    points = tuple(paired + list(counterfactuals.values()))
    assert [p.point_id for p in points] == list(range(len(points)))
    seeds = tuple(replicate_seeds(exp.seed, exp.replicates))
    draws = () if calibration is None else tuple(calibration.replicate_draws(seeds))
    return SweepPlan(exp, points, seeds, calibration, draws)
