"""The objective: simulate the targets' scenarios for parameter sets and score the fit.

For each parameter set (``path -> value``) every target scenario is run
``replicates`` times, always with the **same** replicate seeds (common random
numbers: two parameter sets differ only through the mechanisms, never
through the draws), and each target's simulated share is its count pooled
over the replicates. The score is the negative log-likelihood summed over the
targets (:mod:`pathways_sim.calibration.likelihood`).

Runs go through the shared executors
(:func:`pathways_sim.sweep.executors.run_many`): one job per parameter set x
target scenario x replicate, so several parameter sets (an Optuna batch, an
ABC generation) are simulated at once over every worker.

**Scenario values come first.** A calibrated value is applied to a scenario
only where no scenario file set that parameter (``set_by[path] ==
"default"``): values a scenario sets from its evidence or by trial design
(the EQOLISE arms' ``clients.aspiration_barrier`` and
``direct.referral_per_session``) win (:func:`apply_values`).

Typical use::

    from pathways_sim.calibration.config import load_config
    from pathways_sim.calibration.objective import Problem
    from pathways_sim.sweep.executors import make_executor

    problem = Problem(load_config("default"))
    with make_executor(workers=2) as ex:
        [ev] = problem.evaluate([{"jobs.base_per_week": 0.02}], ex)
    print(ev.nll, ev.table())
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.calibration.config import CalibrationConfig
from pathways_sim.calibration.likelihood import (
    deviance,
    saturated,
    simulated_share,
    target_loglik,
)
from pathways_sim.calibration.priors import Prior
from pathways_sim.calibration.sites import Sites, is_deviation
from pathways_sim.calibration.targets import Target
from pathways_sim.outcomes.cohorts import default_cohort
from pathways_sim.outcomes.observables import observe_many
from pathways_sim.run import replicate_seeds
from pathways_sim.scenario import Scenario, load_scenario
from pathways_sim.sweep.executors import Executor, Job, run_many

__all__ = [
    "CALIBRATED",
    "CalibrationError",
    "Evaluation",
    "ObserveTask",
    "Problem",
    "TargetGroup",
    "apply_values",
]

CALIBRATED = "calibrated"
"""``set_by`` name of calibrated values (and the start of their source)."""


class CalibrationError(RuntimeError):
    """Every simulation of a batch failed (a model error, not a bad fit)."""


def apply_values(scenario: Scenario, values: Mapping[str, float],
                 source: str = CALIBRATED, sites: Sites | None = None) -> Scenario:
    """The scenario with calibrated values where no scenario file set the parameter.

    Args:
        scenario: The scenario.
        values: Parameter path -> calibrated value, and site deviations
            (``<parameter>@<site>``, :mod:`pathways_sim.calibration.sites`).
        source: Source recorded for the values applied.
        sites: The calibration's sites: a scenario of a site gets its site's client
            mix (:meth:`Sites.site_values`, whether or not its file set the parameter:
            the file's value is the site's prior centre). None: shared values only.

    Returns:
        The scenario (same name) with ``values[path]`` for every path whose
        ``set_by`` is ``"default"``; other paths keep the scenario's value.
    """
    changes = {path: {"value": float(v), "source": source} for path, v in values.items()
               if not is_deviation(path) and scenario.set_by.get(path) == "default"}
    if sites:
        changes |= {path: {"value": v, "source": f"{source} (site {sites.site_of(scenario)})"}
                    for path, v in sites.site_values(scenario, values).items()}
    if not changes:
        return scenario
    out = scenario.with_changes(changes, name=scenario.name)
    # ``with_changes`` records the scenario's own name as setter; say "calibrated" instead.
    set_by = dict(out.set_by) | dict.fromkeys(changes, CALIBRATED)
    return Scenario(out.name, out.description, out.title, out.chain, dict(out.values),
                    dict(out.sources), set_by, out.registry)


Spec = tuple[str, str, float | None]


@dataclass(frozen=True)
class ObserveTask:
    """Run one job and count its group's observables (a picklable task for ``run_many``).

    Attributes:
        specs: ``(group, ((observable, cohort, window_months), ...))`` pairs; a
            job's key is ``(anything, group, anything)``.
    """

    specs: tuple[tuple[str, tuple[Spec, ...]], ...]

    def __call__(self, job: Job) -> list[tuple[int, int]]:
        """``[(k, n), ...]`` of the group's specs in the run of ``job``."""
        from pathways_sim.model.model import PathwaysModel

        group = job.key[1]
        specs = dict(self.specs)[group]
        model = PathwaysModel(job.scenario, seed=job.seed)
        model.run()
        r = model.p.run
        return observe_many(specs, model.log.frame(), model.client_attributes(),
                            referred=default_cohort(r.weeks, r.cohort_weeks, r.follow_up_weeks))


@dataclass(frozen=True)
class TargetGroup:
    """The targets read from one scenario (run once per replicate for all of them).

    Attributes:
        name: The targets' scenario reference (name or path).
        scenario: The loaded scenario with its ``run.scale`` applied.
        targets: The targets, in table order.
        scale: ``run.scale`` applied (1: none).
    """

    name: str
    scenario: Scenario
    targets: tuple[Target, ...]
    scale: float = 1.0

    @property
    def specs(self) -> tuple[Spec, ...]:
        """``(observable, cohort, window_months)`` of each target."""
        return tuple(t.spec for t in self.targets)


@dataclass
class Evaluation:
    """One parameter set's simulated targets and fit.

    Attributes:
        values: Parameter path -> value.
        targets: The targets, in the problem's order.
        k_sim: Simulated count, targets x replicates.
        n_sim: Simulated denominator, targets x replicates.
        loglik: Log-likelihood of each target.
        deviance: Deviance of each target (0 = perfect fit).
        error: First error message when a run failed (then ``nll`` is infinite).
        extra: Anything a caller attaches.
        skipped: Target scenarios not run: :meth:`Problem.simulate` stopped early (their
            targets' log-likelihood and deviance are NaN).
    """

    values: dict[str, float]
    targets: tuple[Target, ...]
    k_sim: np.ndarray
    n_sim: np.ndarray
    loglik: np.ndarray
    deviance: np.ndarray
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0

    @property
    def nll(self) -> float:
        """Negative log-likelihood summed over the targets (``inf`` on failure)."""
        return math.inf if self.error else float(-self.loglik.sum())

    @property
    def neg_log_prior(self) -> float:
        """``-log`` prior density of the site deviations (up to a constant): ``sum z^2 / 2``.

        The shared priors are flat (uniform in their unit cube); a site's deviation
        has a standard normal prior, so a maximum a posteriori point (Optuna) adds
        this to :attr:`nll`, and a site moves away from its evidence only as far
        as its targets ask.
        """
        return float(sum(0.5 * v * v for k, v in self.values.items() if is_deviation(k)))

    @property
    def total_deviance(self) -> float:
        """Deviance summed over the targets (``inf`` on failure)."""
        return math.inf if self.error else float(self.deviance.sum())

    @property
    def share(self) -> np.ndarray:
        """Pooled simulated share of each target (raw ``k / n``, NaN for ``n = 0``)."""
        k, n = self.k_sim.sum(axis=1), self.n_sim.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, k / np.maximum(n, 1), np.nan)

    def table(self) -> pd.DataFrame:
        """One row per target: observed and simulated share, log-likelihood, deviance."""
        return pd.DataFrame({
            "target": [t.id for t in self.targets],
            "observed": [t.share for t in self.targets],
            "simulated": self.share,
            "sim_k": self.k_sim.sum(axis=1),
            "sim_n": self.n_sim.sum(axis=1),
            "loglik": self.loglik,
            "deviance": self.deviance,
        })


class Problem:
    """The calibration problem: targets, priors, target scenarios and replicate seeds.

    Args:
        config: The configuration (priors, scales, seed, replicates, design effect).
        targets: The targets scored (default the config's ``fit`` targets).
        replicates: Runs per target scenario and parameter set (default the config's).

    Attributes:
        config: The configuration.
        priors: The priors (the parameters moved), in order: the config's shared
            priors, then the client-mix deviations of the sites scored.
        sites: The configuration's sites.
        fitted_sites: The sites whose targets are scored.
        targets: The scored targets, grouped by scenario (group order).
        groups: One :class:`TargetGroup` per scenario.
        seeds: The replicate seeds used for every parameter set.
        best: Saturated log-likelihood of each target.
    """

    def __init__(self, config: CalibrationConfig, targets: Sequence[Target] | None = None,
                 replicates: int | None = None) -> None:
        self.config = config
        chosen = tuple(config.fit_targets if targets is None else targets)
        if not chosen:
            raise ValueError("no targets to score")
        by_scenario: dict[str, list[Target]] = {}
        for t in chosen:
            by_scenario.setdefault(t.scenario, []).append(t)
        groups = []
        for name, ts in by_scenario.items():
            sc = load_scenario(name)
            scale = float(config.scale.get(name, config.scale.get(sc.name, 1.0)))
            if scale != 1.0:
                sc = sc.with_changes({"run.scale": {
                    "value": scale, "source": "calibration config: cheaper runs"}}, name=sc.name)
            groups.append(TargetGroup(name, sc, tuple(ts), scale))
        self.groups: tuple[TargetGroup, ...] = tuple(groups)
        self.sites: Sites = config.sites
        # The sites whose targets are scored: their client-mix deviations are calibrated too.
        found = {self.sites.site_of(g.scenario) for g in groups} - {None}
        self.fitted_sites: tuple[str, ...] = tuple(s for s in self.sites.names if s in found)
        self.priors: tuple[Prior, ...] = (tuple(config.priors)
                                          + tuple(self.sites.priors(self.fitted_sites)))
        self.targets: tuple[Target, ...] = tuple(t for g in groups for t in g.targets)
        reps = config.replicates if replicates is None else replicates
        self.seeds: tuple[int, ...] = tuple(replicate_seeds(config.seed, reps))
        self.task = ObserveTask(tuple((g.name, g.specs) for g in groups))
        self.best = np.array([saturated(t, config.design_effect) for t in self.targets])

    @property
    def parameters(self) -> list[str]:
        """The calibrated parameter paths."""
        return [p.parameter for p in self.priors]

    def scenarios(self, values: Mapping[str, float]) -> list[Scenario]:
        """Each group's scenario with the values applied (where the scenario did not set them)."""
        return [apply_values(g.scenario, values, sites=self.sites) for g in self.groups]

    def jobs(self, thetas: Sequence[Mapping[str, float]],
             seeds: Sequence[Sequence[int]] | None = None) -> Iterator[Job]:
        """One job per parameter set x group x replicate; key ``(i, group, replicate)``."""
        for i, values in enumerate(thetas):
            use = self.seeds if seeds is None else seeds[i]
            for g, sc in zip(self.groups, self.scenarios(values), strict=True):
                for r, seed in enumerate(use):
                    yield Job((i, g.name, r), sc, int(seed))

    def score(self, values: Mapping[str, float], k_sim: np.ndarray, n_sim: np.ndarray,
              error: str | None = None) -> Evaluation:
        """An :class:`Evaluation` from simulated counts (targets x replicates)."""
        de = self.config.design_effect
        if error:
            nan = np.full(len(self.targets), np.nan)
            return Evaluation(dict(values), self.targets, k_sim, n_sim, nan, nan, error)
        ll = np.empty(len(self.targets))
        dev = np.empty(len(self.targets))
        for j, t in enumerate(self.targets):
            p = simulated_share(k_sim[j].sum(), n_sim[j].sum())
            ll[j] = target_loglik(t, p, de)
            dev[j] = deviance(t, p, de, best=self.best[j])
        return Evaluation(dict(values), self.targets, k_sim, n_sim, ll, dev)

    def simulate(self, values: Mapping[str, float], seeds: Sequence[int], *,
                 stop_above: float | None = None) -> Evaluation:
        """Simulate and score one parameter set in this process (pyabc's model).

        Args:
            values: The parameter set (shared values and site deviations).
            seeds: Replicate seeds: one run of every target scenario each.
            stop_above: Run the target scenarios in group order and stop once the summed
                deviance of the targets run so far exceeds this (early rejection: every
                target's deviance is at least 0, so the total can only exceed it too).
                None: run them all.

        Returns:
            The evaluation; a run that raised gives ``error`` set (infinite ``nll``). A
            stopped one has :attr:`Evaluation.skipped` > 0 and NaN log-likelihood and
            deviance for the targets of the scenarios not run.
        """
        k_sim = np.zeros((len(self.targets), len(seeds)), dtype=np.int64)
        n_sim = np.zeros_like(k_sim)
        pos = 0
        partial = 0.0
        skipped = 0
        try:
            for i, g in enumerate(self.groups):
                if stop_above is not None and partial > stop_above:
                    skipped = len(self.groups) - i
                    break
                sc = apply_values(g.scenario, values, sites=self.sites)
                for r, seed in enumerate(seeds):
                    for j, (k, n) in enumerate(self.task(Job((0, g.name, r), sc, int(seed)))):
                        k_sim[pos + j, r] = k
                        n_sim[pos + j, r] = n
                if stop_above is not None:
                    partial += sum(max(0.0, self._deviance(pos + j, k_sim, n_sim))
                                   for j in range(len(g.targets)))
                pos += len(g.targets)
        except Exception as exc:  # a model error: this parameter set is scored as failed
            return self.score(values, k_sim, n_sim, error=f"{type(exc).__name__}: {exc}")
        ev = self.score(values, k_sim, n_sim)
        if skipped:
            ev.loglik[pos:] = np.nan
            ev.deviance[pos:] = np.nan
            ev.skipped = skipped
        return ev

    def _deviance(self, j: int, k_sim: np.ndarray, n_sim: np.ndarray) -> float:
        """Target ``j``'s deviance from its simulated counts (as :meth:`score` computes it)."""
        p = simulated_share(k_sim[j].sum(), n_sim[j].sum())
        return float(deviance(self.targets[j], p, self.config.design_effect, best=self.best[j]))

    def evaluate(self, thetas: Sequence[Mapping[str, float]], executor: Executor,
                 seeds: Sequence[Sequence[int]] | None = None) -> list[Evaluation]:
        """Simulate and score parameter sets together on an open executor.

        Args:
            thetas: Parameter sets (path -> value).
            executor: An open executor.
            seeds: Replicate seeds of each parameter set (default: the
                problem's common seeds for all).

        Returns:
            One :class:`Evaluation` per parameter set, in order. A set whose
            runs raised has ``error`` set and an infinite ``nll``.

        Raises:
            CalibrationError: Every run failed (a broken model or scenario).
        """
        thetas = list(thetas)
        if not thetas:
            return []
        offsets = {}
        pos = 0
        for g in self.groups:
            offsets[g.name] = pos
            pos += len(g.targets)
        reps = [len(self.seeds) if seeds is None else len(seeds[i]) for i in range(len(thetas))]
        width = max(reps)
        k_sim = np.zeros((len(thetas), len(self.targets), width), dtype=np.int64)
        n_sim = np.zeros_like(k_sim)
        errors: dict[int, str] = {}
        failed = 0
        total = 0
        for res in run_many(self.jobs(thetas, seeds), executor, task=self.task):
            total += 1
            i, group, r = res.key
            if not res.ok:
                failed += 1
                errors.setdefault(i, f"{res.error}\n{res.traceback}")
                continue
            o = offsets[group]
            for j, (k, n) in enumerate(res.value):
                k_sim[i, o + j, r] = k
                n_sim[i, o + j, r] = n
        if total and failed == total:
            first = next(iter(errors.values()))
            raise CalibrationError(f"every simulation failed; the first error:\n{first}")
        for i, err in errors.items():
            print(f"warning: parameter set {i} failed: {err.splitlines()[0]}", file=sys.stderr)
        return [self.score(v, k_sim[i, :, : reps[i]], n_sim[i, :, : reps[i]], errors.get(i))
                for i, v in enumerate(thetas)]
