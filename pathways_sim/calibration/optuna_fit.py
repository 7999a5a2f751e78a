"""Point estimate with Optuna: the parameter set minimising the negative log-likelihood.

The study lives on disk in the results folder (``optuna.journal``, an Optuna
``JournalStorage`` over a ``JournalFileBackend``, which is safe when several
processes write it), so an interrupted fit continues with ``--resume``:
finished trials are kept, trials left running by the interruption are marked
failed, and the fit asks for new trials until ``budget`` have finished.

Trials are asked for in batches (``optuna.batch``; the TPE sampler's
constant liar keeps a batch's trials apart; with ``sampler: cmaes`` a batch
is one CMA-ES generation) and each batch is simulated at
once through :meth:`Problem.evaluate`: batch x target scenarios x replicates
jobs over the shared executor. The first trial is the registry defaults, so
the fit never ends worse than where it started. The last ``optuna.polish``
share of the budget (default 0.3) is a coordinate pattern search around the
best trial (:class:`CoordinatePolish`), recorded in the study like any trial.

Typical use::

    fit = run_optuna(problem, executor, out_dir, budget=160)
    fit.best_values, fit.best_nll, fit.trials
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.calibration.objective import Evaluation, Problem
from pathways_sim.scenario import ScenarioError
from pathways_sim.sweep.executors import Executor

__all__ = ["JOURNAL", "STUDY", "OptunaFit", "check_journal", "open_study", "run_optuna"]

JOURNAL = "optuna.journal"
"""File name of the study's journal in the results folder."""

STUDY = "calibration"
"""Name of the study in the journal."""


@dataclass
class OptunaFit:
    """What an Optuna fit found.

    Attributes:
        best_values: The parameter set with the lowest negative log-likelihood.
        best_nll: Its negative log-likelihood.
        trials: One row per finished trial: number, state, nll, deviance,
            seconds, every parameter, and ``dev.<target>`` per target.
        seconds: Wall time of this session of the fit.
        resumed_from: Trials already finished when this session started.
    """

    best_values: dict[str, float]
    best_nll: float
    trials: pd.DataFrame
    seconds: float
    resumed_from: int


def make_sampler(kind: str, seed: int, startup_trials: int, popsize: int | None = None) -> Any:
    """The Optuna sampler: ``tpe`` or ``cmaes``.

    Args:
        kind: ``tpe`` or ``cmaes``.
        seed: Sampler seed.
        startup_trials: Random trials before TPE models the objective (TPE only).
        popsize: CMA-ES population (default CMA-ES's own, ``4 + 3 ln d``).

    Raises:
        ScenarioError: An unknown sampler, or ``cmaes`` without its package.
    """
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials,
                                          multivariate=True, constant_liar=True)
    if kind == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ScenarioError("calibration config", "optuna.sampler", "the cmaes package is "
                                "not installed", "pip install cmaes, or sampler: tpe") from None
        # CMA-ES starts at the middle of the (log) ranges; the defaults are trial 0.
        return optuna.samplers.CmaEsSampler(seed=seed, popsize=popsize,
                                            warn_independent_sampling=False)
    raise ScenarioError("calibration config", "optuna.sampler", f"unknown sampler {kind!r}",
                        "tpe or cmaes")


def open_study(path: Path, fingerprint: str, seed: int, startup_trials: int,
               resume: bool, sampler: str = "tpe", popsize: int | None = None) -> Any:
    """Create, or load with ``resume``, the study stored in ``path``.

    Args:
        path: The journal file.
        fingerprint: The problem's fingerprint (targets, priors, seeds): a
            resumed study must have the same.
        seed: Sampler seed (offset by the trials already run when resuming,
            so a resumed study does not repeat its random draws).
        startup_trials: Random trials before TPE.
        resume: Load the existing study (else it must not exist).
        sampler: ``tpe`` or ``cmaes`` (:func:`make_sampler`).
        popsize: CMA-ES population.

    Returns:
        The ``optuna.Study``.

    Raises:
        ScenarioError: The study exists without ``resume``, was made for a
            different problem, or its journal is damaged (:func:`check_journal`).
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if path.exists() and not resume:
        raise ScenarioError(str(path.parent), None, "holds an Optuna study already",
                            "--resume to continue it, --overwrite to start again, or "
                            "another --out")
    if resume and not path.exists():
        raise ScenarioError(str(path.parent), None, "no Optuna study to resume",
                            "a results folder of an earlier 'calibrate --method optuna'")
    path.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        check_journal(path)
    attrs: dict[str, Any] = {}
    done = 0
    with _replaying(path, resume):
        storage = JournalStorage(JournalFileBackend(str(path)))
    if resume:
        with _replaying(path, resume, missing=True):
            old = optuna.load_study(study_name=STUDY, storage=storage)
            attrs, done = old.user_attrs, len(old.trials)
    if resume and attrs.get("fingerprint") != fingerprint:
        raise ScenarioError(str(path.parent), None, "the study was made for other targets, "
                            "priors, seeds or replicates", "--overwrite to start again")
    with _replaying(path, resume):
        study = optuna.create_study(study_name=STUDY, storage=storage,
                                    sampler=make_sampler(sampler, int(seed) + done,
                                                         startup_trials, popsize),
                                    direction="minimize", load_if_exists=resume)
    if not resume:
        study.set_user_attr("fingerprint", fingerprint)
    # Trials an interruption left running can never finish: mark them failed.
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    return study


def _journal_fix(path: Path) -> str:
    return (f"pathways-sim calibrate --overwrite to start the fit again, or restore {path.name} "
            "from a backup and run --resume again")


def check_journal(path: Path) -> None:
    """Refuse a damaged study journal before Optuna replays it.

    Optuna skips an incomplete last line without a word (a write in
    progress, for its concurrent writers), and the next trial it appends
    would then join that line into one broken entry; a corrupt line in the
    middle stops its replay with a ``JSONDecodeError``. A resumed fit holds
    its folder's lock, so no write is in progress: every line must be a
    complete journal entry (a JSON object with an ``op_code``).

    Raises:
        ScenarioError: The journal is empty, cut short, or holds a line
            that is not a journal entry; the message names the file and says
            what to do (exit 2 from the command line).
    """
    fix = _journal_fix(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), None, f"cannot be read ({exc.strerror or exc})",
                            fix) from None
    if not data.strip():
        raise ScenarioError(str(path), None, "is damaged: the Optuna study journal is empty",
                            fix)
    lines = data.split(b"\n")
    if lines[-1]:
        raise ScenarioError(str(path), None, f"is damaged: its last line (line {len(lines)}) "
                            "is incomplete, the file was cut short", fix + ", or delete that "
                            "line to continue from the trials before it")
    for number, line in enumerate(lines[:-1], start=1):
        try:
            entry = json.loads(line)
        except ValueError:  # not JSON, or not UTF-8
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("op_code"), int):
            raise ScenarioError(str(path), None, f"is damaged: line {number} is not an Optuna "
                                "journal entry", fix)


@contextmanager
def _replaying(path: Path, resume: bool, missing: bool = False) -> Iterator[None]:
    """Turn a failure of Optuna's replay of a resumed journal into a clear ScenarioError.

    With ``missing``, a ``KeyError`` (Optuna's "no such study") says the
    journal holds no study to resume.
    """
    try:
        yield
    except ScenarioError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, AssertionError) as exc:
        if not resume:
            raise
        what = (f"is damaged: it holds no study named {STUDY!r} to resume"
                if missing and isinstance(exc, KeyError) else
                f"is damaged: Optuna cannot replay it ({type(exc).__name__})")
        raise ScenarioError(str(path), None, what, _journal_fix(path)) from None


def _record(trial: Any, ev: Evaluation, seconds: float) -> None:
    trial.set_user_attr("seconds", round(seconds, 3))
    trial.set_user_attr("deviance", [float(x) for x in ev.deviance])
    trial.set_user_attr("share", [None if math.isnan(x) else float(x) for x in ev.share])
    if ev.error:
        trial.set_user_attr("error", ev.error[:2000])


def trials_frame(study: Any, problem: Problem) -> pd.DataFrame:
    """The study's finished trials as a table (see :class:`OptunaFit`)."""
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state not in (TrialState.COMPLETE, TrialState.FAIL):
            continue
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name,
                               "nll": t.value if t.value is not None else math.inf,
                               "seconds": t.user_attrs.get("seconds", math.nan)}
        dev = t.user_attrs.get("deviance") or [math.nan] * len(problem.targets)
        row["deviance"] = float(np.nansum(dev)) if t.state == TrialState.COMPLETE else math.inf
        row.update({p: t.params.get(p, math.nan) for p in problem.parameters})
        row.update({f"dev.{tg.id}": d for tg, d in zip(problem.targets, dev, strict=False)})
        rows.append(row)
    return pd.DataFrame(rows)


class CoordinatePolish:
    """Pattern search around the best trial: the last part of an Optuna budget.

    Under common random numbers the objective is a fixed function of the
    parameters, so a local search can finish what the global sampler started:
    it tries the best point moved by ``+-step`` along one parameter at a time
    (in the priors' unit cube), always from the best point so far, and halves
    the step after a full cycle over the parameters finds nothing better.
    Parameters the targets only weakly tie to others (``direct.ips_effect``
    and the EQOLISE arm) are where TPE alone stops short in 13 dimensions.

    Args:
        problem: The problem (its priors).
        step: First step, as a share of each prior's (log) range.
        min_step: Stop proposing when the step falls below this.
    """

    def __init__(self, problem: Problem, step: float = 0.16, min_step: float = 0.01) -> None:
        self.priors = problem.priors
        self.step = step
        self.min_step = min_step
        self.moves = [(i, sign) for i in range(len(self.priors)) for sign in (1.0, -1.0)]
        self.pos = 0
        self.best_at_cycle_start = math.inf

    @property
    def active(self) -> bool:
        """False once the step is below ``min_step``."""
        return self.step >= self.min_step

    def propose(self, best: dict[str, float], best_value: float, k: int) -> list[dict[str, float]]:
        """Up to ``k`` parameter sets: the best point moved along the next coordinates."""
        u = np.array([p.to_unit(best[p.parameter]) for p in self.priors])
        out: list[dict[str, float]] = []
        tried = 0
        while len(out) < k and self.active and tried < 2 * len(self.moves):
            if self.pos == 0:
                if best_value >= self.best_at_cycle_start:
                    self.step /= 2  # a whole cycle without improvement: finer steps
                self.best_at_cycle_start = best_value
                if not self.active:
                    break
            i, sign = self.moves[self.pos]
            self.pos = (self.pos + 1) % len(self.moves)
            tried += 1
            v = float(np.clip(u[i] + sign * self.step, 0.0, 1.0))
            if abs(v - u[i]) < 1e-9:
                continue
            cand = dict(best)
            cand[self.priors[i].parameter] = float(np.clip(
                self.priors[i].from_unit(v), self.priors[i].low, self.priors[i].high))
            out.append(cand)
        return out


def run_optuna(problem: Problem, executor: Executor, out_dir: Path, budget: int | None = None,
               resume: bool = False, log: Callable[[str], None] = print) -> OptunaFit:
    """Minimise the negative log-likelihood with Optuna's TPE sampler.

    Args:
        problem: The calibration problem.
        executor: An open executor.
        out_dir: The results folder (the journal goes there).
        budget: Finished trials wanted in all (default the config's).
        resume: Continue the study in ``out_dir``.
        log: Where progress lines go.

    Returns:
        The best parameter set and the trial table.

    Raises:
        ScenarioError: See :func:`open_study`.
        CalibrationError: Every run of a batch failed.
    """
    from optuna.trial import TrialState

    settings = problem.config.optuna
    budget = settings.budget if budget is None else budget
    defaults = {p.parameter: min(max(p.default, p.low), p.high) for p in problem.priors}
    study = open_study(out_dir / JOURNAL, problem_fingerprint(problem), problem.config.seed,
                       settings.startup_trials, resume, settings.sampler,
                       settings.batch if settings.sampler == "cmaes" else None)
    finished = (TrialState.COMPLETE, TrialState.FAIL)
    start_done = sum(t.state in finished for t in study.get_trials(deepcopy=False))
    if start_done == 0:
        study.enqueue_trial(defaults)
    start = time.perf_counter()
    done = start_done
    batch = max(1, settings.batch)
    polish_from = budget - int(round(settings.polish * budget))
    polisher = CoordinatePolish(problem)
    while done < budget:
        n = min(batch, budget - done)
        if done >= polish_from and polisher.active and _has_complete(study):
            best = study.best_trial
            for values in polisher.propose(best.params, float(best.value), n):
                study.enqueue_trial(values)
        trials = [study.ask() for _ in range(n)]
        thetas = [{p.parameter: trial.suggest_float(p.parameter, p.low, p.high, log=p.log)
                   for p in problem.priors} for trial in trials]
        t0 = time.perf_counter()
        evs = problem.evaluate(thetas, executor)
        per = (time.perf_counter() - t0) / n
        for trial, ev in zip(trials, evs, strict=True):
            _record(trial, ev, per)
            if ev.error:
                study.tell(trial, state=TrialState.FAIL)
            else:
                study.tell(trial, ev.nll + ev.neg_log_prior)
        done += n
        best = study.best_trial if _has_complete(study) else None
        log(f"optuna: {done}/{budget} trials, best NLL "
            f"{best.value if best else math.inf:.1f} (trial {best.number if best else '-'}), "
            f"{time.perf_counter() - start:.0f} s")
    best = study.best_trial
    return OptunaFit(
        best_values={p.parameter: float(best.params[p.parameter]) for p in problem.priors},
        best_nll=float(best.value),
        trials=trials_frame(study, problem),
        seconds=time.perf_counter() - start,
        resumed_from=start_done,
    )


def _has_complete(study: Any) -> bool:
    from optuna.trial import TrialState

    return any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))


def problem_fingerprint(problem: Problem) -> str:
    """The config's fingerprint plus the parameters moved and the replicate seeds."""
    import hashlib
    import json

    text = json.dumps({"config": problem.config.fingerprint(), "seeds": list(problem.seeds),
                       "targets": [t.id for t in problem.targets],
                       "parameters": problem.parameters}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
