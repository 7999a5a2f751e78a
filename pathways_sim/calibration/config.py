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
    predictive: {draws: 40, seed: 4242}
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pathways_sim.calibration.likelihood import DEFAULT_DESIGN_EFFECT
from pathways_sim.calibration.priors import Prior, load_priors, priors_from_records
from pathways_sim.calibration.targets import Target, file_hash, load_targets
from pathways_sim.defaults import DEFAULT_SEED, PREDICTIVE_SEED
from pathways_sim.scenario import ScenarioError

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


ABC_KERNELS = ("beaumont", "silverman")
"""Perturbation kernels of ABC-SMC (``abc.kernel``)."""


@dataclass(frozen=True)
class AbcSettings:
    """ABC-SMC's settings.

    Attributes:
        population: Accepted particles per generation.
        generations: Most generations (the first is sampled from the prior).
        quantile: Each generation's tolerance is this quantile of the last
            generation's distances.
        budget: Most parameter sets simulated in all generations.
        min_acceptance: Stop when a generation's acceptance rate falls below this.
        batch: Proposals simulated together (default: from the acceptance rate).
        prior_samples: Prior draws of generation 0 (default 3 x population).
        kernel: Perturbation kernel's width: ``beaumont`` (twice the weighted
            variance) or ``silverman`` (narrower; for few parameters).
    """

    population: int = 48
    generations: int = 8
    quantile: float = 0.5
    budget: int = 600
    min_acceptance: float = 0.02
    batch: int | None = None
    prior_samples: int | None = None
    kernel: str = "beaumont"


@dataclass(frozen=True)
class PredictiveSettings:
    """Posterior predictive draws made after a fit (the report's intervals).

    Attributes:
        draws: Posterior draws simulated, each with its own seed.
        seed: Root seed of those draws' seeds (not the calibration's: fresh noise).
    """

    draws: int = 40
    seed: int = PREDICTIVE_SEED


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
        }

    def fingerprint(self) -> str:
        """SHA-256 of what fixes the objective: targets, priors, seeds, replicates, scales."""
        d = self.to_dict()
        keep = {k: d[k] for k in ("targets_sha256", "priors", "seed", "replicates", "scale",
                                  "design_effect")}
        keep["targets"] = [t.to_dict() for t in self.fit_targets]
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


_KEYS = ("name", "description", "targets", "priors", "extra_priors", "exclude_parameters",
         "seed", "replicates", "scale", "design_effect", "optuna", "abc", "predictive",
         "notes")


def _settings(cls: type, raw: object, where: str, key: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        raise ScenarioError(where, key, "not a mapping", f"keys of {key}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in raw if k not in names]
    if unknown:
        raise ScenarioError(where, f"{key}.{unknown[0]}", "unknown key",
                            "keys " + ", ".join(names))
    if cls is AbcSettings and raw.get("kernel", "beaumont") not in ABC_KERNELS:
        raise ScenarioError(where, f"{key}.kernel", f"unknown kernel {raw['kernel']!r}",
                            " or ".join(ABC_KERNELS))
    return cls(**dict(raw))


def _locate(name_or_path: str | os.PathLike[str]) -> Path:
    text = str(name_or_path)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or os.sep in text or "/" in text:
        if not path.is_file():
            raise ScenarioError(text, None, "calibration config not found",
                                "a name in calibration/configs/ or a path to a .yaml file")
        return path
    found = default_configs_dir() / f"{text}.yaml"
    if not found.is_file():
        names = sorted(p.stem for p in default_configs_dir().glob("*.yaml"))
        raise ScenarioError(text, None, "no such calibration config",
                            "one of " + ", ".join(names) if names else "a .yaml path")
    return found


def load_config(name_or_path: str | os.PathLike[str] = "default") -> CalibrationConfig:
    """Read a calibration configuration.

    Args:
        name_or_path: A name in ``calibration/configs/`` or a path to a YAML file.

    Returns:
        The resolved configuration (targets and priors read and checked).

    Raises:
        ScenarioError: A missing or malformed file, an unknown key, or any
            problem in the targets or priors it names.
    """
    path = _locate(name_or_path)
    where = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(where, None, f"invalid YAML: {exc}", None) from None
    if not isinstance(doc, Mapping):
        raise ScenarioError(where, None, "not a mapping", "keys " + ", ".join(_KEYS))
    unknown = [k for k in doc if k not in _KEYS]
    if unknown:
        raise ScenarioError(where, str(unknown[0]), "unknown key", "keys " + ", ".join(_KEYS))
    here = path.resolve().parent
    targets_file = (here / str(doc.get("targets", "../targets.csv"))).resolve()
    priors_file = (here / str(doc.get("priors", "../priors.csv"))).resolve()
    priors = list(load_priors(priors_file)) if doc.get("priors", "") is not None else []
    extra = doc.get("extra_priors") or []
    if not isinstance(extra, list):
        raise ScenarioError(where, "extra_priors", "not a list", "a list of prior rows")
    priors += priors_from_records(extra, f"{where}: extra_priors")
    exclude = set(doc.get("exclude_parameters") or [])
    known = {p.parameter for p in priors}
    if exclude - known:
        raise ScenarioError(where, "exclude_parameters", f"not priors: {sorted(exclude - known)}",
                            "parameters of the priors")
    priors = [p for p in priors if p.parameter not in exclude]
    names = [p.parameter for p in priors]
    if len(set(names)) != len(names):
        raise ScenarioError(where, "extra_priors", "a parameter has two priors", "each once")
    if not priors:
        raise ScenarioError(where, "priors", "no parameters to calibrate", "at least one prior")
    targets = load_targets(targets_file)
    scale = doc.get("scale") or {}
    if not isinstance(scale, Mapping) or not all(
            isinstance(v, int | float) and v > 0 for v in scale.values()):
        raise ScenarioError(where, "scale", "not a mapping of positive numbers",
                            "scenario name -> run.scale")
    notes = doc.get("notes") or {}
    if not isinstance(notes, Mapping) or set(notes) - {t.id for t in targets}:
        raise ScenarioError(where, "notes", "not a mapping of target ids to text",
                            "target id -> note, for targets of the targets file")
    try:
        return CalibrationConfig(
            name=str(doc.get("name", path.stem)),
            description=str(doc.get("description", "")),
            file=path.resolve(),
            targets_file=targets_file,
            targets=tuple(targets),
            priors_file=priors_file if doc.get("priors", "") is not None else None,
            priors=tuple(priors),
            seed=int(doc.get("seed", DEFAULT_SEED)),
            replicates=int(doc.get("replicates", 2)),
            scale={str(k): float(v) for k, v in scale.items()},
            design_effect=float(doc.get("design_effect", DEFAULT_DESIGN_EFFECT)),
            optuna=_settings(OptunaSettings, doc.get("optuna"), where, "optuna"),
            abc=_settings(AbcSettings, doc.get("abc"), where, "abc"),
            predictive=_settings(PredictiveSettings, doc.get("predictive"), where,
                                 "predictive"),
            notes={str(k): " ".join(str(v).split()) for k, v in notes.items()},
        )
    except (TypeError, ValueError) as exc:
        raise ScenarioError(where, None, f"bad value: {exc}", None) from None
