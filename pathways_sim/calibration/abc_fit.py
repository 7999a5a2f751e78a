"""A posterior by ABC-SMC (ABC population Monte Carlo, Beaumont et al. 2009).

The distance between a parameter set's simulation and the data is the total
deviance over the ``fit`` targets, ``2 * sum(saturated - loglik)``
(:mod:`pathways_sim.calibration.likelihood`), so ABC and Optuna score the fit
the same way. Work is in the unit cube of the priors (a uniform prior there
is the prior itself, uniform or log-uniform), with every parameter set
simulated with the common replicate seeds.

Generation 0 simulates ``prior_samples`` (default ``3 * population``) draws
from the prior and keeps the ``population`` closest (its tolerance is the
distance of the last one kept).
Each later generation ``t``:

1. sets the tolerance ``eps_t`` to the ``quantile`` (default the median) of
   the last population's weighted distances;
2. proposes parameter sets by picking a particle of the last population by
   weight and moving it with a Gaussian kernel, independent per parameter, its
   variance twice the population's weighted variance (``abc.kernel:
   beaumont``; ``silverman`` is narrower, see :func:`_sd`), truncated to the
   prior's range (proposals outside are redrawn before simulating);
3. simulates proposals in batches through the shared executor, accepting
   those within ``eps_t``, until ``population`` are accepted;
4. weighs each accepted particle by prior / proposal density,
   ``w_i = 1 / sum_j w_j K_j(theta_i)`` with ``K_j`` the truncated kernel
   around particle ``j`` (normalised by its mass inside the range).

It stops after ``generations`` generations, when a generation's acceptance
rate falls below ``min_acceptance``, or when the budget of simulated
parameter sets would be exceeded (the last complete generation is the
posterior). Diagnostics per generation: tolerance, acceptance rate,
effective sample size ``(sum w)^2 / sum w^2``, simulations and seconds.

Each finished generation is saved (``abc_state.json`` and
``abc_population_<t>.parquet`` in the results folder), so ``--resume``
continues from the last one.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from pathways_sim.calibration.objective import Problem
from pathways_sim.calibration.optuna_fit import problem_fingerprint
from pathways_sim.calibration.priors import from_unit
from pathways_sim.calibration.results import weighted_quantile
from pathways_sim.integrity import read_json
from pathways_sim.scenario import ScenarioError
from pathways_sim.sweep.executors import Executor

__all__ = ["STATE", "AbcFit", "Population", "ess", "run_abc"]

STATE = "abc_state.json"
"""File of the ABC run's state (generations finished) in the results folder."""


@dataclass
class Population:
    """One generation's accepted particles.

    Attributes:
        u: Particles in the unit cube, ``population x parameters``.
        distance: Each particle's distance (total deviance).
        weight: Normalised importance weights.
        epsilon: The generation's tolerance.
    """

    u: np.ndarray
    distance: np.ndarray
    weight: np.ndarray
    epsilon: float


@dataclass
class AbcFit:
    """What ABC-SMC found.

    Attributes:
        point: The final population's particle closest to the data.
        draws: Final population: draw, weight, distance, one column per parameter.
        particles: Every generation's population (generation, particle,
            weight, distance, parameters).
        diagnostics: ``method``, ``generations`` (one dict per generation:
            generation, epsilon, accepted, proposed, acceptance_rate, ess,
            seconds), ``simulated`` and ``stopped`` (why it stopped).
    """

    point: dict[str, float]
    draws: pd.DataFrame
    particles: pd.DataFrame
    diagnostics: dict[str, Any]


def ess(w: np.ndarray) -> float:
    """Effective sample size of importance weights: ``(sum w)^2 / sum w^2``."""
    w = np.asarray(w, dtype=float)
    return float(w.sum() ** 2 / np.sum(w * w)) if w.sum() > 0 else 0.0


def _sd(pop: Population, kernel: str = "beaumont") -> np.ndarray:
    """Kernel sd per parameter from the population's weighted sd, kept off 0.

    ``beaumont`` (default): ``sqrt(2) * sd``, twice the weighted variance
    (Beaumont et al. 2009), wide enough to keep the importance weights even in
    many dimensions. ``silverman``: Silverman's bandwidth
    ``(4 / (d + 2))^(1 / (d + 4)) * ESS^(-1 / (d + 4))`` times the sd, as
    pyabc's default transition: narrower, so more proposals are accepted once
    the tolerance is small, but in many dimensions the weights degenerate
    (the ESS collapses).
    """
    d = pop.u.shape[1]
    mean = pop.weight @ pop.u
    sd = np.sqrt(pop.weight @ (pop.u - mean) ** 2)
    if kernel == "silverman":
        h = (4.0 / (d + 2)) ** (1.0 / (d + 4)) * max(ess(pop.weight), 2.0) ** (-1.0 / (d + 4))
    elif kernel == "beaumont":
        h = math.sqrt(2.0)
    else:  # load_config allows only ABC_KERNELS
        raise ValueError(f"unknown ABC kernel {kernel!r}")
    return np.maximum(h * sd, 1e-3)


def _log_kernel_mass(centres: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Log mass inside [0, 1]^d of the Gaussian kernel around each centre (particles)."""
    upper = special.log_ndtr((1.0 - centres) / sd)
    lower = special.log_ndtr((0.0 - centres) / sd)
    mass = np.log(np.maximum(np.exp(upper) - np.exp(lower), 1e-300))
    return mass.sum(axis=1)


def _weights(new_u: np.ndarray, prev: Population, sd: np.ndarray) -> np.ndarray:
    """Importance weights prior / proposal of new particles (normalised)."""
    z = (new_u[:, None, :] - prev.u[None, :, :]) / sd  # new x prev x d
    log_k = -0.5 * np.sum(z * z, axis=2) - np.sum(np.log(sd)) - 0.5 * len(sd) * np.log(
        2 * np.pi)
    log_k -= _log_kernel_mass(prev.u, sd)[None, :]
    log_q = special.logsumexp(log_k + np.log(np.maximum(prev.weight, 1e-300))[None, :], axis=1)
    logw = -log_q
    w = np.exp(logw - logw.max())
    return w / w.sum()


def _propose(rng: np.random.Generator, prev: Population, sd: np.ndarray, k: int) -> np.ndarray:
    """``k`` proposals: a particle picked by weight, moved by the truncated kernel."""
    d = prev.u.shape[1]
    out = np.empty((k, d))
    filled = 0
    while filled < k:
        m = 2 * (k - filled) + 8
        idx = rng.choice(len(prev.weight), size=m, p=prev.weight)
        cand = prev.u[idx] + rng.normal(size=(m, d)) * sd
        ok = np.all((cand >= 0.0) & (cand <= 1.0), axis=1)
        take = cand[ok][: k - filled]
        out[filled : filled + len(take)] = take
        filled += len(take)
    return out


def _save(folder: Path, state: dict[str, Any], pop: Population, t: int,
          parameters: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(pop.u, columns=[f"u.{p}" for p in parameters])
    df["distance"], df["weight"] = pop.distance, pop.weight
    df.to_parquet(folder / f"abc_population_{t}.parquet", index=False)
    (folder / STATE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _load(folder: Path, fingerprint: str,
          parameters: list[str]) -> tuple[dict[str, Any], list[Population]]:
    path = folder / STATE
    if not path.is_file():
        raise ScenarioError(str(folder), None, "no ABC run to resume",
                            "a results folder of an earlier 'calibrate --method abc'")
    state = read_json(path, "--overwrite to start the calibration again")
    if state.get("fingerprint") != fingerprint:
        raise ScenarioError(str(folder), None, "the ABC run was made for other targets, "
                            "priors, seeds or replicates", "--overwrite to start again")
    pops = []
    for g in state["generations"]:
        df = pd.read_parquet(folder / f"abc_population_{g['generation']}.parquet")
        pops.append(Population(df[[f"u.{p}" for p in parameters]].to_numpy(),
                               df["distance"].to_numpy(), df["weight"].to_numpy(),
                               float(g["epsilon"])))
    return state, pops


def run_abc(problem: Problem, executor: Executor, out_dir: Path, budget: int | None = None,
            resume: bool = False, log: Callable[[str], None] = print) -> AbcFit:
    """Sample the posterior of the calibrated parameters by ABC-SMC.

    Args:
        problem: The calibration problem.
        executor: An open executor.
        out_dir: Results folder (generations are saved there for ``resume``).
        budget: Most parameter sets simulated in all (default the config's).
        resume: Continue the ABC run saved in ``out_dir``.
        log: Where progress lines go.

    Returns:
        The final population, every generation and the diagnostics.

    Raises:
        ScenarioError: Nothing to resume, or a run made for another problem.
        CalibrationError: Every run of a batch failed.
    """
    s = problem.config.abc
    budget = s.budget if budget is None else budget
    n_pop = s.population
    params = problem.parameters
    fingerprint = problem_fingerprint(problem)
    if resume:
        state, pops = _load(out_dir, fingerprint, params)
    else:
        if (out_dir / STATE).exists():
            raise ScenarioError(str(out_dir), None, "holds an ABC run already",
                                "--resume to continue it or --overwrite to start again")
        state, pops = {"fingerprint": fingerprint, "generations": [], "simulated": 0}, []
    rng = np.random.default_rng(np.random.SeedSequence(problem.config.seed,
                                                       spawn_key=(0xABC, len(pops))))
    batch_min = max(2 * executor.workers, 4)
    stopped = "generations"

    def simulate(u: np.ndarray) -> np.ndarray:
        evs = problem.evaluate([from_unit(problem.priors, row) for row in u], executor)
        state["simulated"] += len(u)
        return np.array([ev.total_deviance for ev in evs])

    while len(pops) < s.generations:
        t = len(pops)
        t0 = time.perf_counter()
        if t == 0:
            m = s.prior_samples or 3 * n_pop
            if state["simulated"] + m > budget:
                raise ScenarioError("command line", "--budget", f"budget {budget} is below "
                                    f"the first generation's {m} simulations",
                                    f"at least {m} (abc.prior_samples, default 3 x "
                                    "abc.population)")
            u = rng.random((m, len(params)))
            d = simulate(u)
            keep = np.argsort(d, kind="stable")[:n_pop]
            eps = float(d[keep[-1]])
            pop = Population(u[keep], d[keep], np.full(n_pop, 1.0 / n_pop), eps)
            proposed = m
        else:
            prev = pops[-1]
            eps = float(weighted_quantile(prev.distance, s.quantile, prev.weight))
            sd = _sd(prev, s.kernel)
            acc_u: list[np.ndarray] = []
            acc_d: list[float] = []
            proposed = 0
            rate = s.quantile
            while len(acc_d) < n_pop:
                need = n_pop - len(acc_d)
                k = s.batch or int(min(max(batch_min, math.ceil(need / max(rate, 0.05))),
                                       2 * n_pop))
                k = min(k, budget - state["simulated"])
                if k <= 0:
                    break
                u = _propose(rng, prev, sd, k)
                d = simulate(u)
                proposed += k
                ok = d <= eps
                acc_u.extend(u[ok])
                acc_d.extend(d[ok])
                rate = max(len(acc_d) / proposed, 1e-3)
            if len(acc_d) < n_pop:
                stopped = "budget"
                log(f"abc: budget of {budget} simulations reached in generation {t}; "
                    f"generation {t - 1} is the posterior")
                break
            new_u = np.array(acc_u[:n_pop])
            pop = Population(new_u, np.array(acc_d[:n_pop]), _weights(new_u, prev, sd), eps)
        pops.append(pop)
        gen = {"generation": t, "epsilon": pop.epsilon, "accepted": n_pop,
               "proposed": proposed, "acceptance_rate": n_pop / proposed,
               "ess": ess(pop.weight), "median_distance": float(np.median(pop.distance)),
               "min_distance": float(pop.distance.min()),
               "seconds": round(time.perf_counter() - t0, 2)}
        state["generations"].append(gen)
        _save(out_dir, state, pop, t, params)
        log(f"abc: generation {t}: epsilon {pop.epsilon:.1f}, acceptance "
            f"{gen['acceptance_rate']:.2f}, ESS {gen['ess']:.0f}, best distance "
            f"{gen['min_distance']:.1f}, {state['simulated']}/{budget} simulated")
        if t > 0 and gen["acceptance_rate"] < s.min_acceptance:
            stopped = "acceptance"
            break
        if state["simulated"] >= budget:
            stopped = "budget"
            break
    final = pops[-1]
    rows = []
    for g, pop in enumerate(pops):
        vals = np.array([[pr.from_unit(x) for pr, x in zip(problem.priors, row, strict=True)]
                         for row in pop.u])
        df = pd.DataFrame(vals, columns=params)
        df.insert(0, "distance", pop.distance)
        df.insert(0, "weight", pop.weight)
        df.insert(0, "particle", np.arange(len(pop.weight)))
        df.insert(0, "generation", g)
        rows.append(df)
    particles = pd.concat(rows, ignore_index=True)
    last = particles[particles["generation"] == len(pops) - 1].reset_index(drop=True)
    draws = last.drop(columns=["generation"]).rename(columns={"particle": "draw"})
    best = int(np.argmin(final.distance))
    point = from_unit(problem.priors, final.u[best])
    diagnostics = {"method": "abc", "algorithm": "ABC-SMC (ABC-PMC, Beaumont et al. 2009), "
                   "distance = total deviance, adaptive quantile tolerance, "
                   f"{s.kernel} kernel",
                   "population": n_pop, "quantile": s.quantile, "budget": budget,
                   "simulated": state["simulated"], "stopped": stopped,
                   "generations": state["generations"], "point": "the final population's "
                   "particle with the smallest distance"}
    return AbcFit(point, draws, particles, diagnostics)
