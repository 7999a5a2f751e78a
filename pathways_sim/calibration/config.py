"""Calibration configurations: which targets and priors, how many runs, which budget.

A configuration is a YAML file in ``calibration/configs/`` (``default.yaml``
is the shipped fit); paths in it are relative to the file. Every key but
``name`` has a default::

    name: default                  # results go to calibration/results/<name>/
    description: "..."
    targets: ../targets.csv
    priors: ../priors.csv
    extra_priors: []               # more priors, same fields as priors.csv
    exclude_parameters: []         # priors left out of this fit
    seed: 20261124                 # root seed of the replicate seeds (common random numbers)
    replicates: 2                  # runs of each target scenario per parameter set
    scale: {rotherham_mh_2015: 4}  # run.scale per target scenario
    design_effect: 3.0             # beta-binomial goal counts (fixed, not calibrated)
    optuna: {budget: 160, batch: 4, startup_trials: 24}
    abc: {population: 48, generations: 8, quantile: 0.5, budget: 600, min_acceptance: 0.02}
    predictive: {draws: 40, seed: 4242, pattern_replicates: 40}   # validate's pattern checks
    notes: {target_id: "why the model cannot reach it"}   # shown in the report

Typical use::

    from pathways_sim.calibration.config import load_config

    cfg = load_config("default")       # or a path to a .yaml file
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathways_sim.calibration.likelihood import BOUNDS, DEFAULT_DESIGN_EFFECT
from pathways_sim.calibration.priors import Prior, load_priors, priors_from_records
from pathways_sim.calibration.sites import SEPARATOR, SiteParameter, Sites
from pathways_sim.calibration.targets import Target, file_hash, load_targets
from pathways_sim.defaults import DEFAULT_SEED, PREDICTIVE_SEED
from pathways_sim.scenario import ScenarioError
from pathways_sim.scenario.errors import CalibrationConfigError, clip, did_you_mean
from pathways_sim.scenario.inputs import (
    MAX_INT,
    FileKind,
    file_problem,
    integer,
    locate,
    number,
    read_mapping,
    show,
    text,
)

__all__ = [
    "AbcSettings",
    "CalibrationConfig",
    "OptunaSettings",
    "PredictiveSettings",
    "default_configs_dir",
    "default_results_dir",
    "load_config",
    "repo_root",
]

ENV_RESULTS = "PATHWAYS_SIM_CALIBRATION_RESULTS"
"""Environment variable overriding the folder calibrated results go to."""


def repo_root() -> Path:
    """The repository's top folder (where ``calibration/`` and ``scenarios/`` are)."""
    return Path(__file__).resolve().parents[2]


def default_configs_dir() -> Path:
    """``calibration/configs/``: configuration names resolve here."""
    return repo_root() / "calibration" / "configs"


def default_results_dir() -> Path:
    """``calibration/results/`` (or ``$PATHWAYS_SIM_CALIBRATION_RESULTS``)."""
    env = os.environ.get(ENV_RESULTS)
    return Path(env) if env else repo_root() / "calibration" / "results"


@dataclass(frozen=True)
class OptunaSettings:
    """Optuna's settings.

    Attributes:
        budget: Trials (parameter sets) in all, counting those of a resumed study.
        batch: Trials asked for and simulated together (parallelism across trials).
        startup_trials: Random trials before the TPE sampler models the objective.
        sampler: ``tpe`` (Tree-structured Parzen Estimator) or ``cmaes`` (CMA-ES,
            one generation per batch; needs the ``cmaes`` package).
        polish: Share of the budget spent last on a coordinate search around
            the best trial (0: none).
    """

    budget: int = 160
    batch: int = 4
    startup_trials: int = 24
    sampler: str = "tpe"
    polish: float = 0.3


ABC_DISTANCES = ("deviance", "adaptive")
"""Distances of the pyabc fit (``abc.distance``)."""

ABC_TRANSITIONS = ("gaussian", "kde")
"""Transitions (proposal kernels) of the pyabc fit (``abc.transition``)."""

ABC_POPULATIONS = ("constant", "adaptive")
"""Population-size rules of the pyabc fit (``abc.population_rule``)."""


@dataclass(frozen=True)
class AbcSettings:
    """The posterior by ABC-SMC with pyabc (:mod:`pathways_sim.calibration.pyabc_fit`).

    Attributes:
        population: Accepted particles per generation (the start size when adaptive).
        population_rule: ``constant``, or ``adaptive`` (pyabc's AdaptivePopulationSize:
            as many particles as a target accuracy of the posterior needs).
        generations: Most generations (the first is sampled from the prior).
        quantile: Each generation's tolerance is this quantile of the last
            generation's weighted distances (pyabc's QuantileEpsilon).
        min_epsilon: Stop once the tolerance is at or below this total deviance
            (None: run the other limits out).
        budget: Most parameter sets simulated in all generations.
        max_minutes: Stop starting generations after this many minutes.
        min_acceptance: Stop when a generation's acceptance rate falls below this.
        replicates: Runs of each target scenario per particle (ABC needs no common
            random numbers: each particle is simulated with its own seed).
        distance: ``deviance``, the total deviance over the fit targets (twice the
            log-likelihood ratio against the best share: each target weighed by its
            information), or ``adaptive`` (pyabc's AdaptivePNormDistance on each target's
            signed root deviance, re-weighted every generation).
        final_population: Particles of a last generation run at the last tolerance
            (not shrinking it): the posterior sample, large enough for its effective
            sample size; None: the last shrinking generation is the posterior.
        final_minutes: Minutes kept for that last generation within ``max_minutes``.
        transition: ``gaussian`` (independent normals fitted to the weighted
            population, per parameter: even importance weights in many dimensions,
            :func:`pathways_sim.calibration.pyabc_fit.gaussian_transition`) or ``kde``
            (pyabc's MultivariateNormalTransition, a kernel density estimate).
        scaling: With ``gaussian``: how far the proposal lies from the last population
            towards the prior, as prior x likelihood^(1/scaling) (1: the population itself;
            2, the default: about twice its variance where the data inform a parameter and
            the prior where they do not, the proposal that keeps importance weights even;
            :func:`pathways_sim.calibration.pyabc_fit.gaussian_transition`). With ``kde``:
            pyabc's factor on the kernel's covariance.
        early_rejection: With the ``deviance`` distance, stop simulating a particle once
            the targets of the scenarios run so far exceed the tolerance
            (:mod:`pathways_sim.calibration.pyabc_model`): the same particles, sooner.
            ``false`` runs every scenario of every particle (to measure the saving).
    """

    population: int = 500
    population_rule: str = "constant"
    generations: int = 12
    quantile: float = 0.5
    min_epsilon: float | None = None
    budget: int = 40_000
    max_minutes: float = 60.0
    min_acceptance: float = 0.01
    replicates: int = 1
    distance: str = "deviance"
    final_population: int | None = None
    final_minutes: float = 5.0
    transition: str = "gaussian"
    scaling: float = 2.0
    early_rejection: bool = True


@dataclass(frozen=True)
class PredictiveSettings:
    """Posterior predictive draws made after a fit (the report's intervals).

    Attributes:
        draws: Posterior draws simulated, each with its own seed.
        seed: Root seed of those draws' seeds (not the calibration's: fresh noise).
        pattern_replicates: Replicates of each pattern design point in ``validate``, at
            the posterior mean and in every draw (None: the patterns experiment's own).
            More than the experiment's extends its seeds, so its own replicates are the
            first ones and are counted too (:func:`~pathways_sim.calibration.validate.
            validate_patterns`).
    """

    draws: int = 40
    seed: int = PREDICTIVE_SEED
    pattern_replicates: int | None = None


@dataclass(frozen=True)
class CalibrationConfig:
    """A resolved calibration configuration.

    Attributes:
        name: Name (the results folder's name).
        description: What the configuration is for.
        file: The YAML file, or None when built in code.
        targets_file: The targets CSV.
        targets: Every target (``fit`` and ``validate``).
        priors_file: The priors CSV, or None.
        priors: The priors of the parameters moved.
        seed: Root seed of the replicate seeds.
        replicates: Runs of each target scenario per parameter set.
        scale: ``run.scale`` per target scenario name (1 when absent).
        design_effect: Design effect of beta-binomial targets (fixed).
        optuna: Optuna's settings.
        abc: ABC-SMC's settings.
        predictive: Posterior predictive settings.
        notes: Target id -> a researcher's note on its fit (a known structural gap),
            shown in the report next to the automatic explanation.
        sites: The evaluated services and the client-mix parameters that vary between
            them (:mod:`pathways_sim.calibration.sites`).
    """

    name: str
    description: str
    file: Path | None
    targets_file: Path
    targets: tuple[Target, ...]
    priors_file: Path | None
    priors: tuple[Prior, ...]
    seed: int = DEFAULT_SEED
    replicates: int = 2
    scale: Mapping[str, float] = field(default_factory=dict)
    design_effect: float = DEFAULT_DESIGN_EFFECT
    optuna: OptunaSettings = OptunaSettings()
    abc: AbcSettings = AbcSettings()
    predictive: PredictiveSettings = PredictiveSettings()
    notes: Mapping[str, str] = field(default_factory=dict)
    sites: Sites = Sites()

    @property
    def fit_targets(self) -> tuple[Target, ...]:
        """The targets in the objective (``role = fit``)."""
        return tuple(t for t in self.targets if t.role == "fit")

    @property
    def validate_targets(self) -> tuple[Target, ...]:
        """The held-out targets (``role = validate``)."""
        return tuple(t for t in self.targets if t.role == "validate")

    def with_changes(self, **changes: Any) -> CalibrationConfig:
        """A copy with some fields replaced (``optuna=...`` etc.)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-serialisable data (for the manifest)."""
        return {
            "name": self.name,
            "description": self.description,
            "file": None if self.file is None else str(self.file),
            "targets_file": str(self.targets_file),
            "targets_sha256": file_hash(self.targets_file),
            "priors_file": None if self.priors_file is None else str(self.priors_file),
            "priors_sha256": None if self.priors_file is None else file_hash(self.priors_file),
            "priors": [p.to_dict() for p in self.priors],
            "seed": self.seed,
            "replicates": self.replicates,
            "scale": dict(self.scale),
            "design_effect": self.design_effect,
            "optuna": dataclasses.asdict(self.optuna),
            "abc": dataclasses.asdict(self.abc),
            "predictive": dataclasses.asdict(self.predictive),
            "notes": dict(self.notes),
            "sites": self.sites.to_dict(),
        }

    def fingerprint(self) -> str:
        """SHA-256 of what fixes the objective: targets, priors, seeds, replicates, scales."""
        d = self.to_dict()
        keep = {k: d[k] for k in ("targets_sha256", "priors", "seed", "replicates", "scale",
                                  "design_effect", "sites")}
        keep["targets"] = [t.to_dict() for t in self.fit_targets]
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


_KEYS = ("name", "description", "targets", "priors", "extra_priors", "exclude_parameters",
         "seed", "replicates", "scale", "design_effect", "optuna", "abc", "predictive",
         "notes", "sites", "site_parameters")

CONFIG = FileKind("calibration config", CalibrationConfigError, _KEYS)
"""Calibration configurations, read by :mod:`pathways_sim.scenario.inputs`."""

OPTUNA_SAMPLERS = ("tpe", "cmaes")
"""Optuna samplers (``optuna.sampler``)."""

MAX_REPLICATES = 100
"""Most runs of each target scenario per parameter set."""
MAX_TRIALS = 100_000
"""Most parameter sets of a fit (Optuna's ``budget``, ABC's ``budget`` and prior samples)."""
MAX_BATCH = 10_000
"""Most parameter sets simulated together."""
MAX_GENERATIONS = 1000
"""Most ABC generations."""
MAX_DRAWS = 10_000
"""Most posterior predictive draws."""

_WHY_REPLICATES = ("every trial runs each target scenario this many times: "
                   "scale the scenario up instead (scale:)")
_WHY_TRIALS = "each trial simulates every target scenario"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_ALLOWED_NAME = ("a folder name: letters, digits, '_', '-' and '.', starting with a letter "
                 "or digit, at most 100 characters (results go to calibration/results/<name>/)")

# The bounds of each setting: (kind, low, high, why); kind "int", "float", "choice".
_SETTING_RULES: dict[type, dict[str, tuple[Any, ...]]] = {
    OptunaSettings: {
        "budget": ("int", 1, MAX_TRIALS, _WHY_TRIALS),
        "batch": ("int", 1, MAX_BATCH, None),
        "startup_trials": ("int", 0, MAX_TRIALS, None),
        "sampler": ("choice", OPTUNA_SAMPLERS),
        "polish": ("float", 0.0, 1.0, "a share of the budget"),
    },
    AbcSettings: {
        "population": ("int", 2, MAX_BATCH, None),
        "population_rule": ("choice", ABC_POPULATIONS),
        "generations": ("int", 1, MAX_GENERATIONS, None),
        "quantile": ("open", 0.0, 1.0, "a quantile strictly between 0 and 1"),
        "min_epsilon": ("float?", 0.0, 1e12, "a total deviance"),
        "budget": ("int", 1, MAX_TRIALS, _WHY_TRIALS),
        "max_minutes": ("float", 0.01, 100_000.0, "minutes"),
        "min_acceptance": ("float", 0.0, 1.0, "an acceptance rate"),
        "replicates": ("int", 1, MAX_REPLICATES, _WHY_REPLICATES),
        "distance": ("choice", ABC_DISTANCES),
        "final_population": ("int?", 2, MAX_BATCH, None),
        "final_minutes": ("float", 0.0, 100_000.0, "minutes"),
        "transition": ("choice", ABC_TRANSITIONS),
        "scaling": ("float", 1.0, 100.0, "a tempering of the likelihood (gaussian) or a factor "
                    "on the kernel's covariance (kde), at least 1"),
        "early_rejection": ("bool",),
    },
    PredictiveSettings: {
        "draws": ("int", 1, MAX_DRAWS, "each draw simulates every target scenario"),
        "seed": ("int", 0, MAX_INT, None),
        "pattern_replicates": ("int?", 2, MAX_REPLICATES,
                               "every pattern design point runs this many times in each of "
                               "the draws"),
    },
}


def _settings(cls: type, raw: object, where: str, key: str) -> Any:
    if raw is None:
        return cls()
    names = [f.name for f in dataclasses.fields(cls)]
    allowed = f"a mapping with keys {', '.join(names)} (each optional)"
    if not isinstance(raw, Mapping):
        raise CONFIG.fail(where, key, f"must be a mapping, got {show(raw)}", allowed)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        dotted = f"{key}.{clip(name)}"
        if name not in names:
            raise CONFIG.fail(where, dotted, f"unknown key {clip(name)!r}"
                              f"{did_you_mean(name, names)}", allowed)
        rule = _SETTING_RULES[cls][name]
        if rule[0] == "bool":
            if not isinstance(value, bool):
                raise CONFIG.fail(where, dotted, f"must be true or false, got {show(value)}",
                                  "true or false")
            values[name] = value
        elif rule[0] == "choice":
            if value not in rule[1]:
                options = " or ".join(rule[1])
                raise CONFIG.fail(where, dotted, f"unknown {name} {clip(repr(value))}"
                                  f"{did_you_mean(str(value), rule[1])}", options)
            values[name] = value
        elif value is None and rule[0] == "float?":
            values[name] = None
        elif rule[0] in ("int", "int?"):
            if value is None and rule[0] == "int?":
                values[name] = None
                continue
            values[name] = integer(value, CONFIG, where, dotted, low=rule[1], high=rule[2],
                                   why=rule[3], nullable=rule[0] == "int?")
        else:
            values[name] = number(value, CONFIG, where, dotted, low=rule[1], high=rule[2],
                                  above=rule[0] == "open", below=rule[0] == "open",
                                  why=rule[3], nullable=rule[0] == "float?")
    return cls(**values)


def _locate(name_or_path: str | os.PathLike[str]) -> Path:
    return locate(name_or_path, default_configs_dir(), CONFIG)


def _path_key(doc: Mapping[str, Any], key: str, default: str, where: str) -> str | None:
    value = doc.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CONFIG.fail(where, key, f"must be a path, got {show(value)}",
                          "a path relative to the config file")
    return value


def _text_list(doc: Mapping[str, Any], key: str, where: str, allowed: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise CONFIG.fail(where, key, f"must be a list, got {show(value)}", allowed)
    return value


_PRIOR_KEYS = ("parameter", "low", "high", "prior", "default", "informed_by", "source")


def _extra_prior(row: object, where: str, key: str) -> Prior:
    """One ``extra_priors`` row, checked with the key path of the config file."""
    allowed = ("a mapping with keys " + ", ".join(_PRIOR_KEYS)
               + " (parameter, low and high required)")
    if not isinstance(row, Mapping):
        raise CONFIG.fail(where, key, f"must be a mapping, got {show(row)}", allowed)
    for k in row:
        if k not in _PRIOR_KEYS:
            raise CONFIG.fail(where, f"{key}.{clip(k)}", f"unknown key {clip(k)!r}"
                              f"{did_you_mean(k, _PRIOR_KEYS)}", allowed)
    for k in ("parameter", "low", "high"):
        if k not in row:
            raise CONFIG.fail(where, f"{key}.{k}", "missing required key", allowed)
    text(row["parameter"], CONFIG, where, f"{key}.parameter", "a parameter path of the registry")
    clean = dict(row)
    for k in ("low", "high", "default"):
        if row.get(k) is not None:
            clean[k] = number(row[k], CONFIG, where, f"{key}.{k}")
    for k in ("prior", "informed_by", "source"):
        if row.get(k) is not None and not isinstance(row[k], str):
            raise CONFIG.fail(where, f"{key}.{k}", f"must be text, got {show(row[k])}", allowed)
    try:
        (prior,) = priors_from_records([clean], "")
    except ScenarioError as exc:  # the priors module's checks, reported at this key
        sub = f".{exc.key}" if exc.key else ""
        raise CONFIG.fail(where, f"{key}{sub}", exc.problem, exc.allowed) from None
    return prior


_SITES_ALLOWED = ("a mapping: site name -> list of scenario names that represent it "
                  "(e.g. rotherham: [rotherham_mh_2015])")
_SITE_PARAMETER_ALLOWED = ("a list of mappings with parameter (a float parameter of the "
                           "registry), sd (the between-site spread, > 0) and source")


def _sites(doc: Mapping[str, Any], where: str) -> Sites:
    """The ``sites`` and ``site_parameters`` keys, checked."""
    from pathways_sim.scenario import load_scenario
    from pathways_sim.scenario.registry import REGISTRY

    raw = doc.get("sites") or {}
    if not isinstance(raw, Mapping):
        raise CONFIG.fail(where, "sites", f"must be a mapping, got {show(raw)}", _SITES_ALLOWED)
    scenarios: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for site, names in raw.items():
        key = f"sites.{clip(str(site))}"
        if not isinstance(site, str) or not _NAME.match(site) or SEPARATOR in site:
            raise CONFIG.fail(where, key, f"not a site name: {show(site)}",
                              "letters, digits, '_', '-' and '.'")
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) for n in names):
            raise CONFIG.fail(where, key, f"must be a list of scenario names, got {show(names)}",
                              _SITES_ALLOWED)
        for n in names:
            if n in owner:
                raise CONFIG.fail(where, key, f"scenario {n} is in site {owner[n]} already",
                                  "each scenario in one site")
            try:
                load_scenario(n)
            except ScenarioError as exc:
                raise CONFIG.fail(where, key, f"unknown scenario {clip(n)!r} ({exc.problem})",
                                  "scenario names in scenarios/") from None
            owner[n] = site
        scenarios[site] = tuple(names)
    raw_p = doc.get("site_parameters") or []
    if not isinstance(raw_p, list):
        raise CONFIG.fail(where, "site_parameters", f"must be a list, got {show(raw_p)}",
                          _SITE_PARAMETER_ALLOWED)
    params: list[SiteParameter] = []
    for i, row in enumerate(raw_p):
        key = f"site_parameters[{i}]"
        if not isinstance(row, Mapping) or set(row) - {"parameter", "sd", "source"}:
            raise CONFIG.fail(where, key, f"must be a mapping of parameter, sd and source, got "
                              f"{show(row)}", _SITE_PARAMETER_ALLOWED)
        name = row.get("parameter")
        reg = REGISTRY.get(name) if isinstance(name, str) else None
        if reg is None or reg.kind != "float":
            raise CONFIG.fail(where, f"{key}.parameter", f"not a float parameter of the "
                              f"registry: {show(name)}", "a float parameter (docs/scenarios.md)")
        if any(p.parameter == name for p in params):
            raise CONFIG.fail(where, f"{key}.parameter", f"{name} is listed twice", "each once")
        sd = number(row.get("sd"), CONFIG, where, f"{key}.sd", low=1e-9, high=1e6,
                    why="a between-site standard deviation")
        params.append(SiteParameter(name, sd, text(row.get("source", ""), CONFIG, where,
                                                   f"{key}.source", "text: why")))
    if params and not scenarios:
        raise CONFIG.fail(where, "sites", "site_parameters are given but no sites",
                          _SITES_ALLOWED)
    return Sites(scenarios, tuple(params))


def load_config(name_or_path: str | os.PathLike[str] = "default") -> CalibrationConfig:
    """Read a calibration configuration.

    The file is read by :mod:`pathways_sim.scenario.inputs` (YAML 1.2, strict:
    repeated keys, non-finite numbers, empty or binary files are errors); every
    value is checked for its type and range, with upper bounds on replicates,
    budgets and draws.

    Args:
        name_or_path: A name in ``calibration/configs/`` or a path to a YAML file.

    Returns:
        The resolved configuration (targets and priors read and checked).

    Raises:
        CalibrationConfigError: A missing or malformed file, an unknown key, a
            value of the wrong type or out of range (a ``ScenarioError``: exit 2).
        ScenarioError: A problem in the targets or priors files it names.
    """
    path = _locate(name_or_path)
    where = str(path)
    doc = read_mapping(path, CONFIG)
    name = doc.get("name", path.stem)
    if "name" in doc and (not isinstance(name, str) or not _NAME.match(name)):
        raise CONFIG.fail(where, "name", f"not a folder name: {show(name)}", _ALLOWED_NAME)
    description = doc.get("description") or ""
    if not isinstance(description, str):
        raise CONFIG.fail(where, "description", f"must be text, got {show(description)}",
                          "text: what the configuration is for")
    description = " ".join(description.split())
    here = path.resolve().parent
    targets_ref = _path_key(doc, "targets", "../targets.csv", where)
    if targets_ref is None:
        raise CONFIG.fail(where, "targets", "must be a path, got null (no value)",
                          "a path relative to the config file (default ../targets.csv)")
    priors_ref = _path_key(doc, "priors", "../priors.csv", where)
    targets_file = (here / targets_ref).resolve()
    priors_file = None if priors_ref is None else (here / priors_ref).resolve()
    for key, file in (("targets", targets_file), ("priors", priors_file)):
        problem = None if file is None else file_problem(file)
        if problem is not None:
            raise CONFIG.fail(where, key, f"{problem}: {file}",
                              "a path to a CSV file, relative to the config file")
    priors = [] if priors_file is None else list(load_priors(priors_file))
    extra = _text_list(doc, "extra_priors", where, "a list of prior rows (mappings with "
                       "parameter, low, high, prior and optional default, informed_by, source)")
    for i, row in enumerate(extra):
        priors.append(_extra_prior(row, where, f"extra_priors[{i}]"))
    exclude_raw = _text_list(doc, "exclude_parameters", where, "a list of parameter names")
    for i, item in enumerate(exclude_raw):
        if not isinstance(item, str):
            raise CONFIG.fail(where, f"exclude_parameters[{i}]",
                              f"must be a parameter name, got {show(item)}",
                              "parameters of the priors")
    exclude = set(exclude_raw)
    known = {p.parameter for p in priors}
    if exclude - known:
        shown = clip(", ".join(sorted(exclude - known)))
        raise CONFIG.fail(where, "exclude_parameters", f"not priors: {shown}",
                          "parameters of the priors: " + ", ".join(sorted(known)))
    priors = [p for p in priors if p.parameter not in exclude]
    names = [p.parameter for p in priors]
    if len(set(names)) != len(names):
        raise CONFIG.fail(where, "extra_priors", "a parameter has two priors", "each once")
    if not priors:
        raise CONFIG.fail(where, "priors", "no parameters to calibrate", "at least one prior")
    targets = load_targets(targets_file)
    scale_raw = doc.get("scale") or {}
    if not isinstance(scale_raw, Mapping):
        raise CONFIG.fail(where, "scale", f"must be a mapping, got {show(scale_raw)}",
                          "scenario name -> run.scale")
    scale = {k: number(v, CONFIG, where, f"scale.{clip(k)}", low=0.001, high=1000.0,
                       why="the range of run.scale") for k, v in scale_raw.items()}
    notes_raw = doc.get("notes") or {}
    ids = [t.id for t in targets]
    notes_allowed = "target id -> note; target ids: " + ", ".join(ids)
    if not isinstance(notes_raw, Mapping):
        raise CONFIG.fail(where, "notes", f"must be a mapping, got {show(notes_raw)}",
                          notes_allowed)
    notes = {}
    for k, v in notes_raw.items():
        if k not in ids:
            raise CONFIG.fail(where, f"notes.{clip(k)}",
                              f"unknown target id {clip(k)!r}{did_you_mean(k, ids)}",
                              notes_allowed)
        notes[k] = text(v, CONFIG, where, f"notes.{k}", "text: a researcher's note")
    seed = integer(doc.get("seed", DEFAULT_SEED), CONFIG, where, "seed", low=0, high=MAX_INT)
    replicates = integer(doc.get("replicates", 2), CONFIG, where, "replicates", low=1,
                         high=MAX_REPLICATES, why=_WHY_REPLICATES)
    design_effect = DEFAULT_DESIGN_EFFECT
    if doc.get("design_effect") is not None:
        design_effect = number(doc["design_effect"], CONFIG, where, "design_effect", low=1.0,
                               why="1 is the binomial; above 1 widens beta-binomial targets")
    abc = _settings(AbcSettings, doc.get("abc"), where, "abc")
    if abc.distance == "adaptive" and any(t.likelihood in BOUNDS and t.role == "fit"
                                          for t in targets):
        # pyabc's adaptive distance rescales each term by its spread: a pattern term met by
        # most particles has none and is dropped, so the patterns would not constrain the fit.
        raise CONFIG.fail(where, "abc.distance",
                          "'adaptive' rescales each target by its spread and so drops the "
                          "pattern terms (lower_bound / upper_bound fit targets), which are "
                          "constraints", "deviance")
    return CalibrationConfig(
        name=name,
        description=description,
        file=path.resolve(),
        targets_file=targets_file,
        targets=tuple(targets),
        priors_file=priors_file,
        priors=tuple(priors),
        seed=seed,
        replicates=replicates,
        scale=scale,
        design_effect=design_effect,
        optuna=_settings(OptunaSettings, doc.get("optuna"), where, "optuna"),
        abc=abc,
        predictive=_settings(PredictiveSettings, doc.get("predictive"), where, "predictive"),
        notes=notes,
        sites=_sites(doc, where),
    )
