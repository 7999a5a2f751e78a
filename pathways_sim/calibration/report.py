"""The calibration report: what the data say about each parameter, and how well the model predicts.

:func:`write_report` writes ``report.md`` (figures in ``figures/``) and
``report.html`` (the same, figures embedded) into a results folder. Each
section says its finding in plain words first, then shows the figure or table:

1. **Summary**: the method (Optuna, in-house ABC-SMC or pyabc) and its
   effective sample size, and one line per section below.
2. **Observed against simulated.** For every target: the observed share with
   its exact (Clopper-Pearson) 90% interval, and the simulated share's median
   with the 90% posterior predictive interval (PPI) of the reported count;
   whether the observed share is inside; the deviance.
3. **Prior against posterior** for every parameter (a draws column; a
   site-level parameter ``<parameter>@<site>`` is one more parameter, grouped
   by site in the figure): the prior density against the weighted posterior
   (histogram and kernel density), the point estimate marked; a table of the
   prior range, posterior median and 90% interval, and the **shrinkage**
   ``1 - posterior 90% width / prior 90% width``, measured on the prior's own
   scale (log for a log-uniform prior, where that prior is flat).
4. **Which parameters the data inform**: each parameter classed by its
   shrinkage with :data:`SHRINKAGE_CLASSES`.
5. **Pairwise correlations** of the weighted posterior draws (on the priors'
   scales): a heatmap, and the pairs with ``|r| >=`` :data:`STRONG_CORRELATION`
   read as trade-offs the data cannot separate.
6. **Pattern terms**: the ``lower_bound`` and ``upper_bound`` targets (the
   report's qualitative patterns in the likelihood): the bound, the simulated
   share's median and 90% interval, the share of posterior draws that meet it;
   then the pattern checks of ``validate`` (``validation_patterns.csv``) if run.
7. **Coverage**: fit targets, held-out targets (``role == validate``; from
   ``validation_targets.csv`` when ``validate`` has been run on this
   calibration) and leave-one-site-out targets (``loso/``, read by
   :func:`~pathways_sim.calibration.loso_io.read_loso`), per site and overall;
   then **every miss explained**: which way and by what factor the model
   misses, which parameters inform the target (the priors' ``informed_by``)
   and how well the data inform them, whether one sits at the edge of its
   prior range, and the configuration's note on the target.
8. **Convergence.** Optuna: the objective by trial and the best so far.
   ABC-SMC: tolerance (epsilon) schedule, acceptance rate and effective sample
   size by generation.

An Optuna fit is a point, not a posterior: sections 3-5 then say so instead
of computing shrinkage and correlations from one draw.

The report is laid out once as a :class:`~pathways_sim.report.document.Document`
and rendered by the document model the sweep brief shares (same escaping, CSS
and figure handling). Figures follow the house style of
:mod:`pathways_sim.report.plots` (Okabe-Ito colours, Agg canvas, no pyplot).

To render a results folder's report again (e.g. after ``validate`` or a
leave-one-site-out run added files to it) somewhere else::

    python -m pathways_sim.calibration.report calibration/results/default --out /tmp/rep
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from pathways_sim.calibration.likelihood import CONSTRAINT_PENALTY
from pathways_sim.calibration.loso_io import Loso, read_loso
from pathways_sim.calibration.priors import Prior
from pathways_sim.calibration.results import CalibrationResult, weighted_quantile
from pathways_sim.calibration.validate import (
    checks_experiment,
    describe_pattern_draws,
    draws_cells,
    experiment_replicates,
    experiment_shortfalls,
    pattern_draw_headers,
    replicates_note,
    shortfalls_heading,
)
from pathways_sim.report.document import (
    Block,
    BulletList,
    Callout,
    Document,
    Heading,
    Paragraph,
    Table,
    slug,
    write_document,
)
from pathways_sim.report.document import Figure as RFigure
from pathways_sim.report.plots import OKABE_ITO
from pathways_sim.scenario import ScenarioError, load_scenario

__all__ = ["BOUNDS", "SHRINKAGE_CLASSES", "STRONG_CORRELATION", "Parameter", "all_misses",
           "classify", "coverage_table", "effective_sample_size", "explain_misses",
           "parameter_columns", "pattern_table", "shrinkage_table", "strong_pairs",
           "weighted_correlation", "write_report"]

SHRINKAGE_CLASSES = (("informed", 0.5), ("weakly informed", 0.2), ("not informed", -math.inf))
"""How much the data inform a parameter, from its shrinkage: the first class whose lower
limit the shrinkage reaches (informed >= 0.5, weakly informed 0.2 to 0.5, not informed < 0.2).
A reporting convention, not a model parameter."""
STRONG_CORRELATION = 0.5
"""Pairs of parameters with a posterior correlation at least this large (in absolute value)
are listed as trade-offs. A reporting convention."""
BOUNDS = {"lower_bound": ">=", "upper_bound": "<="}
"""Likelihoods of pattern targets, and the side of k/n the simulated share must be on."""
METHODS = {"optuna": "Optuna (a point estimate: the best trial)",
           "abc": "ABC-SMC (the package's own sampler)",
           "pyabc": "ABC-SMC (pyabc)"}
"""Names of the calibration methods in the report."""

_FLOOR = 1e-4  # shares are drawn on a log axis; 0 is drawn here
_EDGE = 0.03  # a parameter within 3% of its (log) range of a bound is "at the edge"
_PRIOR_WIDTH = 0.9  # the prior's 90% width on its own scale (the unit interval)
_MAX_ANNOTATED = 16  # heatmap cells carry their value up to this many parameters

# Words of the priors' ``informed_by`` text that name the targets of an observable.
_KEYWORDS = {
    "found_work": ("job", "found_work"), "worked_any": ("job", "worked_any", "found_work"),
    "training_or_education": ("stepping-stone", "training"),
    "volunteering": ("stepping-stone", "volunteering"), "took_up_service": ("uptake",),
    "engaged": ("engagement",), "work_goals_share": ("goal",),
    "volunteering_vs_work_goals": ("goal",), "employment_need_at_referral": ("emp_need",),
}

# --------------------------------------------------------------------------- the numbers


@dataclass(frozen=True)
class Parameter:
    """A calibrated parameter as the draws hold it.

    Attributes:
        column: The draws' column (``clients.aspiration_barrier`` or, site-level,
            ``clients.aspiration_barrier@tower_hamlets``).
        prior: Its prior.
        site: The site of a site-level parameter (after ``@``), else None.
    """

    column: str
    prior: Prior
    site: str | None

    @property
    def name(self) -> str:
        """The parameter's name without its site."""
        return self.column.split("@", 1)[0]


def parameter_columns(result: CalibrationResult) -> list[Parameter]:
    """The draws' parameter columns with their priors, in the draws' order.

    A column matches the prior whose ``column`` (site-level priors) or
    ``parameter`` is its name; a ``<parameter>@<site>`` column with no prior of
    its own matches the prior of ``<parameter>``. Other columns (``draw``,
    ``weight``, ``distance``) are not parameters.
    """
    by_column: dict[str, Prior] = {}
    for p in result.priors:
        by_column.setdefault(getattr(p, "column", None) or p.parameter, p)
        by_column.setdefault(p.parameter, p)
    out = []
    for c in result.draws.columns:
        c = str(c)
        prior = by_column.get(c) or (by_column.get(c.split("@", 1)[0]) if "@" in c else None)
        if prior is not None:
            out.append(Parameter(c, prior, c.split("@", 1)[1] if "@" in c else None))
    return out


def _has_posterior(result: CalibrationResult) -> bool:
    """True when the draws are a posterior sample, not one point."""
    return result.method != "optuna" and len(result.draws) > 1


def effective_sample_size(result: CalibrationResult) -> float:
    """Kish's effective sample size of the draws' weights, ``(sum w)^2 / sum w^2``."""
    w = result.weights()
    return float(1.0 / np.sum(w * w)) if len(w) else 0.0


def classify(shrinkage: float) -> str:
    """The class of :data:`SHRINKAGE_CLASSES` a shrinkage falls in (NaN: ``no posterior``)."""
    if not np.isfinite(shrinkage):
        return "no posterior"
    return next(name for name, low in SHRINKAGE_CLASSES if shrinkage >= low)


def _point(result: CalibrationResult, par: Parameter) -> float:
    return float(result.point.get(par.column, result.point.get(par.prior.parameter, math.nan)))


def _unit(par: Parameter, x: np.ndarray) -> np.ndarray:
    """Values on the prior's scale, 0 to 1 over its range (log for log-uniform)."""
    return np.asarray(par.prior.to_unit(np.asarray(x, dtype=float)), dtype=float)


def shrinkage_table(result: CalibrationResult) -> pd.DataFrame:
    """One row per parameter column: prior, point, posterior and shrinkage.

    Columns: ``parameter`` (the draws' column), ``site``, ``prior``, ``low``,
    ``high``, ``default``, ``point``, ``median``, ``lo90``, ``hi90`` (weighted
    posterior quantiles), ``shrinkage`` (``1 - posterior 90% width / prior 90%
    width`` on the prior's scale; NaN for a point estimate) and ``informed``
    (:func:`classify`).
    """
    w = result.weights()
    posterior = _has_posterior(result)
    rows = []
    for par in parameter_columns(result):
        x = result.draws[par.column].to_numpy(dtype=float)
        med, lo, hi = weighted_quantile(x, [0.5, 0.05, 0.95], w)
        shrink = math.nan
        if posterior:
            ulo, uhi = _unit(par, np.array([lo, hi]))
            shrink = float(1.0 - (uhi - ulo) / _PRIOR_WIDTH)
        p = par.prior
        rows.append({"parameter": par.column, "site": par.site, "prior": p.prior, "low": p.low,
                     "high": p.high, "default": p.default, "point": _point(result, par),
                     "median": float(med), "lo90": float(lo), "hi90": float(hi),
                     "shrinkage": shrink, "informed": classify(shrink)})
    return pd.DataFrame(rows, columns=["parameter", "site", "prior", "low", "high", "default",
                                       "point", "median", "lo90", "hi90", "shrinkage",
                                       "informed"])


def weighted_correlation(result: CalibrationResult) -> pd.DataFrame:
    """Weighted Pearson correlation matrix of the posterior draws, on the priors' scales.

    Log-uniform parameters are correlated in log (the scale their prior is flat
    on). A parameter that does not vary among the draws has NaN correlations.
    """
    pars = parameter_columns(result)
    names = [p.column for p in pars]
    if not pars or len(result.draws) < 2:
        return pd.DataFrame(np.full((len(names), len(names)), np.nan), names, names)
    w = result.weights()
    u = np.column_stack([_unit(p, result.draws[p.column].to_numpy(dtype=float)) for p in pars])
    centred = u - w @ u
    cov = (centred * w[:, None]).T @ centred
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.outer(sd, sd)
    r[~np.isfinite(r)] = np.nan
    r = np.clip(r, -1.0, 1.0)
    return pd.DataFrame(r, names, names)


def strong_pairs(corr: pd.DataFrame, threshold: float = STRONG_CORRELATION) -> pd.DataFrame:
    """Pairs with ``|r| >= threshold``, strongest first, each with a one-line reading."""
    rows = []
    names = list(corr.columns)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = float(corr.loc[a, b])
            if np.isfinite(r) and abs(r) >= threshold:
                if r > 0:
                    reading = (f"a trade-off: a higher {a} with a higher {b} fits about as well; "
                               "the data fix their balance, not each alone")
                else:
                    reading = (f"a trade-off: a higher {a} with a lower {b} fits about as well; "
                               "the data fix their joint effect, not each alone")
                rows.append({"a": a, "b": b, "r": r, "reading": reading})
    out = pd.DataFrame(rows, columns=["a", "b", "r", "reading"])
    return out.sort_values("r", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)


def pattern_table(result: CalibrationResult) -> pd.DataFrame:
    """The pattern targets (``lower_bound``, ``upper_bound``) under the posterior.

    Columns: ``target``, ``role``, ``likelihood``, ``side`` (``>=`` or ``<=``),
    ``bound`` (k/n), ``median``, ``lo90``, ``hi90`` (the simulated share over the
    posterior predictive draws), ``met`` (the median on the bound's side) and
    ``share_met`` (the share of posterior draws whose simulated share is on the
    bound's side; NaN without the predictive draws).
    """
    cols = ["target", "role", "likelihood", "side", "bound", "median", "lo90", "hi90", "met",
            "share_met"]
    if result.fit is None:
        return pd.DataFrame(columns=cols)
    rows = []
    pred = result.predictive
    for r in result.fit.itertuples(index=False):
        side = BOUNDS.get(str(r.likelihood))
        if side is None:
            continue
        bound, med = float(r.observed), float(r.sim_median)
        share = math.nan
        if pred is not None and len(pred):
            s = pred.loc[pred["target"] == r.target, "share"].to_numpy(dtype=float)
            s = s[np.isfinite(s)]
            if len(s):
                share = float(np.mean(s >= bound if side == ">=" else s <= bound))
        rows.append({"target": r.target, "role": r.role, "likelihood": r.likelihood,
                     "side": side, "bound": bound, "median": med, "lo90": float(r.sim_lo90),
                     "hi90": float(r.sim_hi90),
                     "met": bool(med >= bound if side == ">=" else med <= bound),
                     "share_met": share})
    return pd.DataFrame(rows, columns=cols)


def _validation(result: CalibrationResult, folder: Path | None) -> tuple[pd.DataFrame | None,
                                                                         pd.DataFrame | None,
                                                                         str | None]:
    """``validate``'s targets and patterns of this calibration, and a note when ignored."""
    if folder is None or not (folder / "validation_targets.csv").is_file():
        return None, None, None
    version = None
    if (folder / "validation.json").is_file():
        try:
            version = json.loads((folder / "validation.json").read_text(encoding="utf-8"))[
                "summary"]["calibration"]
        except (ValueError, KeyError, TypeError):
            version = None
    if version != result.version:
        which = ("has no `validation.json` saying which calibration it checked" if version is None
                 else f"is of calibration `{version}`, not `{result.version}`")
        return None, None, (f"`validation_targets.csv` in the folder {which}: not used (run "
                            "`pathways-sim validate` on this calibration)")
    targets = pd.read_csv(folder / "validation_targets.csv")
    pats = (pd.read_csv(folder / "validation_patterns.csv")
            if (folder / "validation_patterns.csv").is_file() else None)
    return targets, pats, None


def _held_out(result: CalibrationResult, validation: pd.DataFrame | None) -> pd.DataFrame | None:
    if validation is not None:
        return validation[validation["role"] == "validate"]
    if result.fit is None:
        return None
    return result.fit[result.fit["role"] == "validate"]


def coverage_table(result: CalibrationResult, validation: pd.DataFrame | None = None,
                   loso: Loso | None = None) -> pd.DataFrame:
    """Coverage: fit targets, held-out targets, leave-one-site-out per site and overall.

    Columns: ``group``, ``covered``, ``targets``, ``share`` (NaN when there are
    no targets). A target is covered when its observed share lies inside the
    90% predictive interval (a bound target: when the bound is met).
    """
    rows = []

    def add(group: str, inside: Sequence[bool]) -> None:
        n, k = len(inside), int(np.sum(np.asarray(inside, dtype=bool)))
        rows.append({"group": group, "covered": k, "targets": n,
                     "share": k / n if n else math.nan})

    if result.fit is not None:
        add("fit targets", result.fit.loc[result.fit["role"] == "fit", "inside"].astype(bool))
    held = _held_out(result, validation)
    if held is not None:
        add("held-out targets", held["inside"].astype(bool))
    if loso is not None:
        for site, g in loso.targets.groupby("site", sort=False):
            add(f"leave-one-site-out: {site}", g["inside"])
        add("leave-one-site-out: all sites", loso.targets["inside"])
    return pd.DataFrame(rows, columns=["group", "covered", "targets", "share"])


# --------------------------------------------------------------------------- misses


def _set_by(scenario: str) -> dict[str, str]:
    """Who set each parameter of a target's scenario (empty if it cannot be loaded)."""
    try:
        return dict(load_scenario(scenario).set_by)
    except ScenarioError:
        return {}


def _informing(result: CalibrationResult, target: str, observable: str,
               site: str | None = None) -> list[Parameter]:
    """Parameters whose prior names the target (or its observable's words) in ``informed_by``.

    A site-level parameter of another site than ``site`` (when given) is left out.
    """
    words = (target, *_KEYWORDS.get(observable, ()))
    out = []
    for par in parameter_columns(result):
        if site is not None and par.site is not None and par.site != site:
            continue
        if any(w and w in par.prior.informed_by for w in words):
            out.append(par)
    return out


def _size(sim: float, obs: float) -> str:
    if obs <= 0 or sim <= 0:
        # No ratio: a factor would be infinite. Say what happened instead.
        return "none observed" if obs <= 0 else "none in the model's median: no finite factor"
    factor = max(sim / obs, obs / sim)
    return (f"{100 * abs(sim - obs) / obs:.0f}% {'higher' if sim > obs else 'lower'}"
            if factor < 1.5 else f"a factor {factor:.2g}")


def _fit_deviances(result: CalibrationResult) -> dict[str, float]:
    """Each target's deviance at the point, with the fit's seeds (from the history)."""
    h = result.history
    if len(h) and "nll" in h.columns and h["nll"].notna().any():
        best = h.loc[h["nll"].astype(float).idxmin()]
        return {c[4:]: float(best[c]) for c in h.columns if c.startswith("dev.")}
    return {}


def _explain(result: CalibrationResult, row: Mapping[str, Any], kind: str,
             classes: Mapping[str, str], at_fit: Mapping[str, float], total: float) -> str:
    """Why one target is outside its interval, in plain words.

    ``kind`` is ``fit``, ``held-out`` or ``leave-one-site-out``; ``row`` has
    target, observed, median, likelihood, observable, scenario, deviance, site.
    """
    target, obs, sim = str(row["target"]), float(row["observed"]), float(row["median"])
    likelihood, observable = str(row.get("likelihood") or ""), str(row.get("observable") or "")
    site = row.get("site")
    model = f"the fit without {site}" if kind == "leave-one-site-out" else "the model"
    side = BOUNDS.get(likelihood)
    if side is not None:
        text = (f"a pattern term fails: the simulated share {sim:.3f} is "
                f"{'below' if side == '>=' else 'above'} the bound {obs:.3f}")
    else:
        way = "over-predicts" if sim > obs else "under-predicts"
        text = f"{model} {way} it ({sim:.4f} against {obs:.4f}, {_size(sim, obs)})"
        if kind == "fit" and np.isfinite(row.get("deviance", math.nan)):
            text += f"; {100 * float(row['deviance']) / total:.0f}% of the fit's deviance"
    informing = _informing(result, target, observable, site if isinstance(site, str) else None)
    edges = []
    if kind != "leave-one-site-out":  # the point is the full fit's, not the refit's
        set_by = _set_by(str(row.get("scenario") or ""))
        for par in informing:
            if set_by.get(par.prior.parameter, "default") != "default":
                continue  # the target's scenario sets it: the calibrated value does not apply
            v = _point(result, par)
            u = par.prior.to_unit(v) if np.isfinite(v) else 0.5
            if u < _EDGE or u > 1 - _EDGE:
                edges.append(f"{par.column} at its {'lower' if u < 0.5 else 'upper'} bound "
                             f"({v:.4g})")
    fitted = at_fit.get(target, math.inf)
    if kind == "fit" and fitted < 3.84:
        text += (f"; with the fit's own seeds it fits (deviance {fitted:.1f}): the point is "
                 "tuned to the noise of the fit's few replicates, and fresh seeds move the "
                 "share (more `replicates` in the config would narrow this)")
    if edges:
        text += ("; informing parameters at the edge of their prior range: " + ", ".join(edges)
                 + " (the range, or a mechanism the model lacks, limits the fit)")
    elif kind == "fit" and side is not None:
        text += ("; a constraint of the fit, so every accepted simulation honoured it (when "
                 "the last tolerance is below the penalty of "
                 f"{CONSTRAINT_PENALTY:,.0f}): the posterior lies near the bound, where fresh "
                 "seeds cross it (more `replicates` in the config would keep it further away)")
    elif kind == "fit":
        text += "; the fit trades it off against other targets (see the deviance column)"
    elif kind == "held-out":
        text += "; a held-out target: the calibrated model does not predict it"
    else:
        text += (f"; the model fitted to the other sites does not carry over to {site}: "
                 "either a parameter specific to this service or a mechanism the model lacks")
    if informing:
        text += "; parameters that inform it: " + ", ".join(
            p.column if classes.get(p.column, "no posterior") == "no posterior"
            else f"{p.column} ({classes[p.column]})" for p in informing)
    else:
        text += "; no prior names it in `informed_by`"
    notes = result.config.get("notes") or {}
    if target in notes:
        text += f". Note: {str(notes[target]).rstrip('.')}"
    return text


def _context(result: CalibrationResult) -> tuple[dict[str, str], dict[str, float], float]:
    classes = dict(zip(*(shrinkage_table(result)[c] for c in ("parameter", "informed")),
                       strict=True))
    total = 1.0
    if result.fit is not None:
        # Of the counts: a violated pattern term costs a penalty, not a share of the misfit.
        fit = result.fit[(result.fit["role"] == "fit")
                         & ~result.fit.get("likelihood", pd.Series("", index=result.fit.index))
                         .isin(list(BOUNDS))]
        total = float(fit["deviance"].sum()) or 1.0
    return classes, _fit_deviances(result), total


def _fit_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {**r, "median": r["sim_median"]}


def explain_misses(result: CalibrationResult) -> dict[str, str]:
    """A reason for each target of the fit table outside its 90% predictive interval.

    Says whether the model is above or below the observed share and by what
    factor, names any parameter informing the target (``informed_by`` in
    the priors, and not set by the target's own scenario) that sits at the edge of
    its prior range, lists the parameters that inform it with how well the data
    inform them, then the configuration's note on the target, if any.
    """
    if result.fit is None:
        return {}
    ctx = _context(result)
    return {r["target"]: _explain(result, _fit_row(r),
                                  "fit" if r["role"] == "fit" else "held-out", *ctx)
            for r in result.fit.to_dict("records") if not bool(r["inside"])}


def all_misses(result: CalibrationResult, validation: pd.DataFrame | None = None,
               loso: Loso | None = None) -> pd.DataFrame:
    """Every target outside its interval, fit, held-out and leave-one-site-out, explained.

    Columns: ``kind`` (``fit``, ``held-out``, ``leave-one-site-out``), ``site``
    (the left-out site, or empty), ``target`` and ``why``.
    """
    ctx = _context(result)
    rows = []
    if result.fit is not None:
        fit = result.fit if validation is None else result.fit[result.fit["role"] == "fit"]
        for r in fit.to_dict("records"):
            if not bool(r["inside"]):
                kind = "fit" if r["role"] == "fit" else "held-out"
                rows.append({"kind": kind, "site": "", "target": r["target"],
                             "why": _explain(result, _fit_row(r), kind, *ctx)})
    if validation is not None:
        for r in validation[validation["role"] == "validate"].to_dict("records"):
            if not bool(r["inside"]):
                rows.append({"kind": "held-out", "site": "", "target": r["target"],
                             "why": _explain(result, _fit_row(r), "held-out", *ctx)})
    if loso is not None:
        meta: dict[str, dict[str, Any]] = {}
        for table in (validation, result.fit):
            if table is not None:
                for r in table.to_dict("records"):
                    meta.setdefault(r["target"], r)
        for r in loso.targets.to_dict("records"):
            if bool(r["inside"]):
                continue
            m = meta.get(r["target"], {})
            row = {**r, "likelihood": m.get("likelihood"), "observable": m.get("observable")}
            rows.append({"kind": "leave-one-site-out", "site": r["site"], "target": r["target"],
                         "why": _explain(result, row, "leave-one-site-out", *ctx)})
    out = pd.DataFrame(rows, columns=["kind", "site", "target", "why"])
    order = {"fit": 0, "held-out": 1, "leave-one-site-out": 2}
    return out.sort_values("kind", key=lambda k: k.map(order), kind="stable").reset_index(
        drop=True)


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _plot_fit(fit: pd.DataFrame) -> bytes:
    fig = _figure(9.5, 0.48 * len(fit) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(fit))[::-1]
    clip = lambda v: np.maximum(np.asarray(v, dtype=float), _FLOOR)  # noqa: E731
    ax.hlines(y + 0.15, clip(fit["ppi_lo90"]), clip(fit["ppi_hi90"]), color=OKABE_ITO[3], lw=5,
              alpha=0.6, label="simulated: 90% posterior predictive interval")
    ax.plot(clip(fit["sim_median"]), y + 0.15, "o", color=OKABE_ITO[3], ms=5,
            label="simulated: median")
    ax.hlines(y - 0.15, clip(fit["obs_lo90"]), clip(fit["obs_hi90"]), color="#000000", lw=1.5)
    ax.plot(clip(fit["observed"]), y - 0.15, "D", color="#000000", ms=5,
            label="observed (exact 90% interval)")
    miss = ~fit["inside"].astype(bool).to_numpy()
    ax.plot(clip(fit["observed"][miss]), y[miss] - 0.15, "x", color=OKABE_ITO[4], ms=11,
            mew=2, label="observed outside the PPI")
    labels = [f"{t} ({r})" for t, r in zip(fit["target"], fit["role"], strict=True)]
    ax.set_yticks(y, labels, fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("Share (log scale)")
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=9)
    ax.set_title("Each target: observed against simulated", fontsize=13)
    return _png(fig)


def _kde(u: np.ndarray, w: np.ndarray, grid: np.ndarray) -> np.ndarray | None:
    """Weighted kernel density of values in [0, 1], reflected at both ends (None if it fails)."""
    from scipy.stats import gaussian_kde

    ok = np.isfinite(u)
    if ok.sum() < 3 or np.ptp(u[ok]) <= 0:
        return None
    try:
        k = gaussian_kde(u[ok], weights=w[ok])
    except (np.linalg.LinAlgError, ValueError):
        return None
    return k(grid) + k(-grid) + k(2 - grid)


def _slots(pars: list[Parameter], cols: int) -> list[Parameter | None]:
    """Panels in order, shared parameters first, each site's group starting a new row."""
    groups: dict[str | None, list[Parameter]] = {}
    for p in pars:
        groups.setdefault(p.site, []).append(p)
    order = [None, *sorted(s for s in groups if s is not None)]
    slots: list[Parameter | None] = []
    for site in order:
        if site not in groups:
            continue
        slots += groups[site]
        slots += [None] * (-len(slots) % cols)
    return slots


def _plot_parameters(result: CalibrationResult, table: pd.DataFrame) -> bytes:
    pars = parameter_columns(result)
    cols = 3
    slots = _slots(pars, cols)
    rows = max(1, math.ceil(len(slots) / cols))
    fig = _figure(11, 2.3 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    w = result.weights()
    posterior = _has_posterior(result)
    info = table.set_index("parameter")
    grid = np.linspace(0, 1, 201)
    for ax, par in zip(axes, slots, strict=False):
        if par is None:
            ax.set_visible(False)
            continue
        p = par.prior
        x = result.draws[par.column].to_numpy(dtype=float)
        u = _unit(par, x)
        values = p.from_unit(grid)
        # Densities per unit of the prior's own scale, so the prior is flat at 1.
        ax.fill_between(values, 0, 1, color=OKABE_ITO[1], alpha=0.3, lw=0,
                        label="prior density")
        top = 1.0
        if posterior:
            edges_u = np.linspace(0, 1, 21)
            hist, _ = np.histogram(np.clip(u, 0, 1), bins=edges_u, weights=w, density=True)
            ax.stairs(hist, p.from_unit(edges_u), fill=True, color=OKABE_ITO[3], alpha=0.45,
                      label="posterior (weighted histogram)")
            dens = _kde(u, w, grid)
            if dens is not None:
                ax.plot(values, dens, color=OKABE_ITO[3], lw=1.8, label="posterior (kernel)")
                top = max(top, float(dens.max()))
            top = max(top, float(hist.max()))
            r = info.loc[par.column]
            ax.hlines(0.06 * top, r["lo90"], r["hi90"], color=OKABE_ITO[5], lw=4,
                      label="posterior 90% interval")
        ax.axvline(_point(result, par), color=OKABE_ITO[4], lw=2, label="point estimate")
        ax.axvline(p.default, color="#000000", lw=1, ls="--", label="registry default")
        if p.log:
            ax.set_xscale("log")
            ticks = np.geomspace(p.low, p.high, 4)
            ax.set_xticks(ticks, [f"{v:.2g}" for v in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(p.low, p.high)
        ax.set_ylim(0, 1.15 * top)
        ax.set_yticks([])
        shrink = info.loc[par.column, "shrinkage"]
        sub = (f"shrinkage {shrink:.2f}: {info.loc[par.column, 'informed']}"
               if np.isfinite(shrink) else "point estimate only")
        head = par.name if par.site is None else f"[{par.site}] {par.name}"
        ax.set_title(f"{head}\n{sub}", fontsize=9)
        ax.tick_params(labelsize=8)
    handles, labels = next((a.get_legend_handles_labels() for a in axes if a.get_visible()),
                           ([], []))
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9)
    fig.suptitle("Prior against posterior, per parameter (density on the prior's scale; "
                 "[site] marks a site-level parameter)", fontsize=12)
    return _png(fig)


def _plot_correlations(corr: pd.DataFrame) -> bytes:
    n = len(corr)
    size = max(5.0, 0.45 * n + 3.0)
    fig = _figure(size + 1.2, size)
    ax = fig.add_subplot()
    im = ax.imshow(corr.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(n), corr.columns, rotation=90, fontsize=8)
    ax.set_yticks(range(n), corr.columns, fontsize=8)
    if n <= _MAX_ANNOTATED:
        for i in range(n):
            for j in range(n):
                v = corr.iat[i, j]
                if i != j and np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                            color="#ffffff" if abs(v) >= 0.6 else "#000000")
    fig.colorbar(im, ax=ax, shrink=0.8, label="weighted correlation (priors' scales)")
    ax.set_title("Posterior correlations between parameters", fontsize=12)
    return _png(fig)


def _plot_convergence(result: CalibrationResult) -> bytes | None:
    if result.method == "optuna":
        h = result.history
        if not len(h) or "nll" not in h.columns:
            return None
        fig = _figure(9, 3.6)
        ax = fig.add_subplot()
        ok = h[np.isfinite(h["nll"].astype(float))]
        ax.plot(ok["trial"], ok["nll"], ".", color=OKABE_ITO[1], label="trial")
        best = ok["nll"].cummin()
        ax.step(ok["trial"], best, where="post", color=OKABE_ITO[4], lw=2, label="best so far")
        ax.set_yscale("log")
        ax.set_xlabel("Trial")
        ax.set_ylabel("Negative log-likelihood")
        ax.legend()
        ax.grid(alpha=0.3)
        ax.set_title("Optuna history", fontsize=13)
        return _png(fig)
    gens = pd.DataFrame(result.diagnostics.get("generations", []))
    panels = [(c, t) for c, t in (("epsilon", "Tolerance (epsilon)"),
                                  ("acceptance_rate", "Acceptance rate"),
                                  ("ess", "Effective sample size")) if c in gens.columns]
    if gens.empty or "generation" not in gens.columns or not panels:
        return None
    fig = _figure(11, 3.4)
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    for ax, (c, title), colour in zip(axes, panels, (OKABE_ITO[4], OKABE_ITO[3], OKABE_ITO[2]),
                                      strict=False):
        ax.plot(gens["generation"], gens[c], "o-", color=colour)
        if c == "epsilon":
            ax.set_yscale("log")
        elif c == "acceptance_rate":
            ax.set_ylim(0, 1)
        else:
            ax.set_ylim(0, None)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("Generation")
        ax.grid(alpha=0.3)
    fig.suptitle("ABC-SMC convergence", fontsize=13)
    return _png(fig)


# --------------------------------------------------------------------------- the document


def _fit_rows(result: CalibrationResult) -> list[list[str]]:
    assert result.fit is not None
    rows = []
    for r in result.fit.itertuples(index=False):
        side = BOUNDS.get(str(r.likelihood))
        obs = (f"{'>' if side == '>=' else '<'} {r.observed:.3f}" if side
               else f"{r.k}/{r.n} = {r.observed:.4f} ({r.obs_lo90:.4f}-{r.obs_hi90:.4f})")
        rows.append([r.target, r.role, r.likelihood, obs, f"{r.sim_median:.4f}",
                     f"{r.ppi_lo90:.4f}-{r.ppi_hi90:.4f}", "yes" if r.inside else "**no**",
                     f"{r.deviance:.1f}"])
    return rows


FIT_HEADER = ["target", "role", "likelihood", "observed k/n = share (exact 90% CI)",
              "simulated median", "90% PPI", "inside", "deviance"]
FIT_ALIGN = ("left", "left", "left", "left", "right", "left", "left", "right")

_MISSES = "Coverage and every miss"
_THRESHOLDS = ", ".join(f"{name} {'below 0.2' if low == -math.inf else f'from {low:g}'}"
                        for name, low in SHRINKAGE_CLASSES)


def _method(result: CalibrationResult) -> tuple[str, str]:
    """The method's name and its effective sample size, in words."""
    name = METHODS.get(result.method, result.method)
    if not _has_posterior(result):
        return name, "no posterior sample (one point), so no effective sample size"
    ess = effective_sample_size(result)
    text = f"effective sample size {ess:.0f} of {len(result.draws)} weighted draws"
    gens = result.diagnostics.get("generations") or []
    if gens and isinstance(gens[-1], Mapping) and "ess" in gens[-1]:
        text += f" (the sampler's last generation: {float(gens[-1]['ess']):.0f})"
    return name, text


def _share(k: int, n: int) -> str:
    return f"{k} of {n}" + (f" ({100 * k / n:.0f}%)" if n else "")


def _listing(names: Sequence[str]) -> str:
    names = [f"`{n}`" for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _parameter_blocks(result: CalibrationResult, table: pd.DataFrame) -> list[Block]:
    posterior = _has_posterior(result)
    if posterior:
        text = ("The shaded band is the prior: flat over the range on the prior's own scale "
                "(log for a log-uniform prior). The blue histogram and curve are the weighted "
                "posterior, the purple bar its 90% interval; the vermillion line is the point "
                "estimate, the dashed line the registry "
                "default. **Shrinkage** = 1 - (posterior 90% width / prior 90% width), both "
                "widths on the prior's scale: 0 means the data taught nothing, 1 that they pin "
                "the value down.")
    else:
        text = ("An Optuna fit is one point, not a posterior: each panel shows the prior range "
                "and the point; the shrinkage cannot be computed (use `--method pyabc` for "
                "a posterior).")
    rows = [[r.parameter, r.prior, f"{r.low:g}-{r.high:g}", f"{r.default:g}", f"{r.point:.4g}",
             f"{r.median:.4g}", f"{r.lo90:.4g}-{r.hi90:.4g}",
             f"{r.shrinkage:.2f}" if np.isfinite(r.shrinkage) else "-", r.informed]
            for r in table.itertuples()]
    return [Heading("Prior against posterior"), Paragraph(text),
            RFigure("figures/parameters.png", _plot_parameters(result, table),
                    "Prior density against the weighted posterior of each parameter, with the "
                    "point estimate and the registry default"),
            Table(["parameter", "prior", "range", "default", "point", "posterior median",
                   "90% interval", "shrinkage", "data"], rows,
                  align=("left", "left", "left", "right", "right", "right", "left", "right",
                         "left"))]


def _informed_blocks(result: CalibrationResult, table: pd.DataFrame) -> list[Block]:
    blocks: list[Block] = [Heading("Which parameters the data inform")]
    if not _has_posterior(result):
        return [*blocks, Paragraph("Not known from a point estimate: a posterior (ABC) shows "
                                   "which parameters the targets pin down.")]
    blocks.append(Paragraph(f"Each parameter is classed by its shrinkage: {_THRESHOLDS} "
                            "(`SHRINKAGE_CLASSES` in `pathways_sim/calibration/report.py`). "
                            "A parameter the data do not inform keeps roughly its prior "
                            "spread, so results that depend on it carry the prior's "
                            "uncertainty, not the evidence's."))
    items = []
    for name, _ in SHRINKAGE_CLASSES:
        sub = table[table["informed"] == name]
        if sub.empty:
            continue
        names = list(sub["parameter"])
        if name == "informed":
            items.append(f"The data inform {_listing(names)}: the posterior is much narrower "
                         "than the prior.")
        elif name == "weakly informed":
            items.append(f"The data say a little about {_listing(names)}: the posterior is "
                         "somewhat narrower than the prior.")
        else:
            items.append(f"The data say little about {_listing(names)}: "
                         f"{'its posterior is' if len(names) == 1 else 'their posteriors are'} "
                         "close to the prior.")
    return [*blocks, BulletList(items)]


def _correlation_blocks(result: CalibrationResult) -> list[Block]:
    blocks: list[Block] = [Heading("Pairwise correlations")]
    pars = parameter_columns(result)
    if not _has_posterior(result) or len(pars) < 2:
        return [*blocks, Paragraph("Needs a posterior sample of at least two parameters (an "
                                   "Optuna fit is one point).")]
    corr = weighted_correlation(result)
    pairs = strong_pairs(corr)
    if pairs.empty:
        text = (f"No two parameters are correlated by |r| {STRONG_CORRELATION:g} or more in the "
                "posterior: the data separate each pair (or say little about both).")
    else:
        text = (f"{len(pairs)} pair(s) are correlated by |r| >= {STRONG_CORRELATION:g}: the "
                "data cannot separate them. Each pair's effects compensate, so the fit "
                "constrains a combination of the two rather than each; their individual "
                "intervals overstate how little is known about the combination.")
    text += (" Weighted Pearson correlation of the posterior draws, on the priors' scales "
             "(log for log-uniform parameters).")
    blocks += [Paragraph(text),
               RFigure("figures/correlations.png", _plot_correlations(corr),
                       "Heatmap of the weighted posterior correlations between parameters")]
    if not pairs.empty:
        blocks.append(Table(["parameter", "parameter", "r", "reading"],
                            [[r.a, r.b, f"{r.r:+.2f}", r.reading] for r in pairs.itertuples()],
                            align=("left", "left", "right", "left")))
    return blocks


def _pattern_blocks(result: CalibrationResult, patterns: pd.DataFrame | None) -> list[Block]:
    blocks: list[Block] = [Heading("Pattern terms")]
    table = pattern_table(result)
    if table.empty:
        blocks.append(Paragraph("No target is a pattern term (likelihood `lower_bound` or "
                                "`upper_bound`)."))
    else:
        met = int(table["met"].sum())
        text = (f"The report's qualitative patterns are bounds on a simulated share: a "
                f"`lower_bound` target is met when the share is at or above k/n, an "
                f"`upper_bound` target when it is at or below; with role `fit` the bound is a "
                f"term of the likelihood, with role `validate` it is held out and only checked "
                f"here. {met} of {len(table)} are met by the median simulated share. The last "
                "column is the share of posterior "
                "predictive draws (each a posterior parameter set with its own seed) that meet "
                "the bound: a posterior that contradicts a pattern is not a fit.")
        if not _has_posterior(result):
            text += " (An Optuna fit: the draws differ only by simulation noise.)"
        rows = [[r.target, r.role, f"{r.side} {r.bound:.3f}", f"{r.median:.3f}",
                 f"{r.lo90:.3f}-{r.hi90:.3f}", "yes" if r.met else "**no**",
                 f"{100 * r.share_met:.0f}%" if np.isfinite(r.share_met) else "-"]
                for r in table.itertuples()]
        blocks += [Paragraph(text),
                   Table(["pattern target", "role", "bound", "simulated median",
                          "90% interval", "met at the median", "draws meeting it"], rows,
                         align=("left", "left", "left", "right", "left", "left", "right"))]
    if patterns is not None and len(patterns):
        passed = int((patterns["result"] == "PASS").sum())
        ndraws = int(patterns["draws"].max()) if "draws" in patterns else 0
        base = experiment_replicates(patterns)
        name = checks_experiment(patterns)
        text = (f"After the fit, `pathways-sim validate` ran the pattern checks of the "
                f"`{name}` experiment"
                + (" (docs/evidence.md §E4.8)" if name == "patterns" else "")
                + f" at the point estimate{replicates_note(patterns)}: {passed} of "
                f"{len(patterns)} pass")
        if base:
            at_base = int((patterns["experiment_result"] == "PASS").sum())
            text += (f" with {int(patterns['replicates'].max())} replicates per design point "
                     f"({at_base} on the experiment's own {base})")
        text += "."
        if ndraws:
            text += " " + describe_pattern_draws(patterns)
        power = (int(patterns["power_replicates"].max())
                 if ndraws and "power_replicates" in patterns else 0)
        blocks.append(Paragraph(text))
        extra = pattern_draw_headers(patterns, power)
        rows = []
        for r in patterns.itertuples():
            row = [str(r.name), f"{r.diff:.4g}", f"{r.lo:.4g} to {r.hi:.4g}", str(r.result)]
            if extra:
                row += draws_cells(r, power, base)
            rows.append(row + [str(r.reason)])
        blocks.append(Table(["check", "difference", "90% interval", "result", *extra, "reason"],
                            rows, align=("left", "right", "left", "left")
                            + ("right",) * len(extra) + ("left",)))
        if ndraws and "draws_explanation" in patterns:
            low = [r for r in patterns.itertuples()
                   if r.draws_passed < 0.9 * r.draws and isinstance(r.draws_explanation, str)
                   and r.draws_explanation]
            if low:
                blocks.append(Paragraph(
                    "Checks passing in fewer than 90% of the draws, and what the failing "
                    "draws depend on (`validation_pattern_draws.csv` has every draw's "
                    "result and parameter values):"))
                blocks.append(BulletList([f"**{r.name}**: {r.draws_explanation}" for r in low]))
        own = experiment_shortfalls(patterns)
        if own:
            blocks.append(Paragraph(shortfalls_heading(base)))
            blocks.append(BulletList([f"**{name}**: {text}" for name, text in own]))
    return blocks


def _coverage_blocks(result: CalibrationResult, validation: pd.DataFrame | None,
                     loso: Loso | None, note: str | None) -> list[Block]:
    cov = coverage_table(result, validation, loso)
    by = {r.group: r for r in cov.itertuples()}
    parts = []
    if "fit targets" in by:
        parts.append(f"{_share(by['fit targets'].covered, by['fit targets'].targets)} fit "
                     "targets")
    if "held-out targets" in by:
        src = ("`pathways-sim validate`" if validation is not None
               else "the fit's posterior predictive")
        parts.append(f"{_share(by['held-out targets'].covered, by['held-out targets'].targets)}"
                     f" held-out targets (from {src})")
    text = ("A target is covered when its observed share lies inside the 90% predictive "
            "interval (a pattern term: when its bound is met). Covered: " + "; ".join(parts)
            + ". ")
    if loso is None:
        text += ("No leave-one-site-out results (`loso/` in the results folder): the report "
                 "cannot say how well the model predicts a service it was not fitted to.")
    else:
        allg = by["leave-one-site-out: all sites"]
        minutes = loso.summary.get("minutes")
        text += (f"Leave-one-site-out: refitted without each of {len(loso.summary['sites'])} "
                 f"sites in turn, the model predicts {_share(allg.covered, allg.targets)} of "
                 "the left-out sites' targets"
                 + (f" ({float(minutes):.0f} minutes)" if isinstance(minutes, int | float)
                    else "") + ". This is the headline measure of whether the model "
                 "generalises.")
    blocks: list[Block] = [Heading(_MISSES), Paragraph(text)]
    if note:
        blocks.append(Callout(note, "note"))
    blocks.append(Table(["targets", "covered", "of", "share"],
                        [[r.group, str(r.covered), str(r.targets),
                          f"{100 * r.share:.0f}%" if np.isfinite(r.share) else "-"]
                         for r in cov.itertuples()], align=("left", "right", "right", "right")))
    if loso is not None:
        blocks.append(Table(["site left out", "target", "observed", "predicted median",
                             "90% interval", "inside"],
                            [[r.site, r.target, f"{r.observed:.4f}", f"{r.median:.4f}",
                              f"{r.lo90:.4f}-{r.hi90:.4f}", "yes" if r.inside else "**no**"]
                             for r in loso.targets.itertuples()],
                            align=("left", "left", "right", "right", "left", "left")))
    misses = all_misses(result, validation, loso)
    if misses.empty:
        blocks.append(Paragraph("No target is outside its interval."))
    else:
        blocks += [Paragraph(f"Every miss ({len(misses)}), in plain words: which way and by how "
                             "much the model misses, which parameters inform the target (the "
                             "priors' `informed_by`) and how well the data inform them, and the "
                             "configuration's note on the target."),
                   Table(["where", "target", "why"],
                         [[r.kind + (f": {r.site}" if r.site else ""), r.target, r.why]
                          for r in misses.itertuples()])]
    return blocks


def _convergence_blocks(result: CalibrationResult) -> list[Block]:
    d = result.diagnostics
    blocks: list[Block] = [Heading("Convergence")]
    png = _plot_convergence(result)
    if result.method == "optuna":
        conv = (f"{d.get('trials')} trials ({d.get('sampler')}); best trial "
                f"{d.get('best_trial')} with NLL {d.get('best_nll', float('nan')):.1f}"
                + (f"; resumed after {d.get('resumed_from')} trials"
                   if d.get("resumed_from") else "") + ".")
        blocks.append(Paragraph(conv))
        if png:
            blocks.append(RFigure("figures/convergence.png", png,
                                  "Optuna history: negative log-likelihood of each trial and "
                                  "the best so far"))
        return blocks
    # Each sampler (in-house ABC-SMC, pyabc) records its own keys: say those it has.
    said = [f"{label} {d[key]}" for key, label in (
        ("population", "population"), ("quantile", "tolerance quantile"),
        ("simulated", "parameter sets simulated:"), ("budget", "budget"),
        ("stopped", "stopped by:")) if d.get(key) is not None]
    conv = (f"{d.get('algorithm', METHODS.get(result.method, result.method))}. "
            + (("; ".join(said))[:1].upper() + ("; ".join(said))[1:] + ". " if said else "")
            + (f"Point: {d['point']}." if d.get("point") else ""))
    blocks.append(Paragraph(conv))
    if png:
        blocks.append(RFigure("figures/convergence.png", png,
                              "ABC-SMC convergence: tolerance, acceptance rate and effective "
                              "sample size by generation"))
    keys = ("generation", "epsilon", "accepted", "proposed", "acceptance_rate", "ess",
            "min_distance", "seconds")
    gens = [g for g in d.get("generations", []) if isinstance(g, Mapping)
            and all(k in g for k in keys)]
    if gens:
        blocks.append(Table(["generation", "epsilon", "accepted", "proposed", "acceptance rate",
                             "ESS", "best distance", "seconds"],
                            [[str(g["generation"]), f"{g['epsilon']:.1f}", str(g["accepted"]),
                              str(g["proposed"]), f"{g['acceptance_rate']:.2f}",
                              f"{g['ess']:.1f}", f"{g['min_distance']:.1f}",
                              "-" if g["seconds"] is None else f"{g['seconds']:.0f}"]
                             for g in gens], align=("right",) * 8))
    return blocks


def _summary(result: CalibrationResult, table: pd.DataFrame, validation: pd.DataFrame | None,
             loso: Loso | None) -> BulletList:
    name, ess = _method(result)
    items = [f"Method: **{name}**; {ess}."]
    cov = {r.group: r for r in coverage_table(result, validation, loso).itertuples()}
    for group in ("fit targets", "held-out targets", "leave-one-site-out: all sites"):
        if group in cov:
            r = cov[group]
            items.append(f"{group.replace(': all sites', '')[:1].upper()}"
                         f"{group.replace(': all sites', '')[1:]}: {_share(r.covered, r.targets)}"
                         " inside their 90% predictive interval.")
    if _has_posterior(result) and len(table):
        counts = table["informed"].value_counts()
        items.append("Parameters: " + ", ".join(f"{int(counts.get(n, 0))} {n}"
                                                for n, _ in SHRINKAGE_CLASSES) + ".")
        pairs = strong_pairs(weighted_correlation(result))
        if len(pairs):
            p = pairs.iloc[0]
            items.append(f"Strongest trade-off: `{p['a']}` and `{p['b']}` (r = {p['r']:+.2f}).")
    pats = pattern_table(result)
    if len(pats):
        items.append(f"Pattern terms met by the median simulated share: "
                     f"{int(pats['met'].sum())} of {len(pats)}.")
        eps = float((result.diagnostics or {}).get("final_epsilon", 0.0))
        if result.method == "pyabc" and eps >= CONSTRAINT_PENALTY:
            items.append(f"**Warning**: the last tolerance ({eps:,.0f}) is not below the "
                         f"penalty of a violated pattern term ({CONSTRAINT_PENALTY:,.0f}), so "
                         "accepted particles may contradict a pattern: run more generations.")
    return BulletList(items)


def _document(result: CalibrationResult, source: Path | None = None) -> Document:
    """The report as a document: summary, fit, parameters, patterns, coverage, convergence."""
    d = result.diagnostics
    cfg = result.config
    source = source if source is not None else result.path
    validation, patterns, note = _validation(result, source)
    loso = read_loso(source) if source is not None else None
    table = shrinkage_table(result)
    fit_rows = result.fit[result.fit["role"] == "fit"] if result.fit is not None else None
    inside = int(fit_rows["inside"].sum()) if fit_rows is not None else 0
    nfit = len(fit_rows) if fit_rows is not None else 0
    intro = (f"Calibration version `{result.version}`: {len(table)} parameters fitted to "
             f"{nfit} targets "
             + (f"({reps} run{'s' if reps != 1 else ''} of each target scenario per parameter "
                "set, each set with its own seeds"
                if (reps := (d.get("settings") or {}).get("replicates")) is not None else
                f"({cfg.get('replicates')} replicates per target scenario and parameter set, "
                "common random numbers")
             + f", root seed {cfg.get('seed')}; beta-binomial design effect "
             f"{cfg.get('design_effect')}, fixed). Targets file SHA-256 "
             f"`{str(cfg.get('targets_sha256'))[:16]}…`. Point negative log-likelihood "
             f"{result.point_nll:.1f}. Fit {d.get('fit_seconds', float('nan')):.0f} s, "
             f"posterior predictive {d.get('predictive_seconds', float('nan')):.0f} s.")
    blocks: list[Block] = [Heading("Summary"), _summary(result, table, validation, loso),
                           Paragraph(intro)]
    if result.fit is not None:
        pred = cfg.get("predictive", {})
        fit_text = (f"{inside} of {nfit} fit targets lie inside their 90% posterior predictive "
                    f"interval (PPI: {pred.get('draws')} posterior draws, each simulated with "
                    "its own seed and passed through the target's observation model). ")
        if result.method == "optuna":
            fit_text += ("Optuna gives a point estimate, so the PPI holds simulation and "
                         "sampling noise but not parameter uncertainty. ")
        if not result.fit["inside"].astype(bool).all():
            fit_text += (f"Every target outside its PPI is explained under "
                         f"[{_MISSES}](#{slug(_MISSES)}).")
        blocks += [Heading("Observed against simulated"), Paragraph(fit_text),
                   RFigure("figures/fit.png", _plot_fit(result.fit),
                           "Each target: observed share with its exact 90% interval against "
                           "the simulated median and 90% posterior predictive interval"),
                   Table(FIT_HEADER, _fit_rows(result), align=FIT_ALIGN)]
    blocks += _parameter_blocks(result, table)
    blocks += _informed_blocks(result, table)
    blocks += _correlation_blocks(result)
    blocks += _pattern_blocks(result, patterns)
    blocks += _coverage_blocks(result, validation, loso, note)
    blocks += _convergence_blocks(result)
    return Document("Calibration report: " + result.name, tuple(blocks))


def write_report(result: CalibrationResult, folder: Path) -> list[Path]:
    """Write ``report.md``, ``report.html`` and the figures into a folder.

    The report is a :class:`~pathways_sim.report.document.Document`, rendered by
    the document model every report shares (the sweep brief too). Validation
    (``validation_targets.csv``, ``validation_patterns.csv``) and
    leave-one-site-out results (``loso/``) are read from the calibration's own
    folder (``result.path``; ``folder`` when the result has none).

    Args:
        result: The calibration (with its fit table).
        folder: Where the report goes (usually the results folder).

    Returns:
        The files written: ``report.md``, ``report.html``, then the figures.

    Raises:
        ScenarioError: Damaged leave-one-site-out files.
    """
    folder = Path(folder)
    return write_document(_document(result, result.path or folder), folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Render a results folder's report into another folder (exit 2 on bad input).

    The shipped report in a results folder is checksummed by its manifest, so
    this writes elsewhere only.
    """
    from pathways_sim.calibration.results import load_calibrated

    ap = argparse.ArgumentParser(prog="python -m pathways_sim.calibration.report",
                                 description="Render the calibration report of a results "
                                 "folder (with its validation and loso/ files) into --out.")
    ap.add_argument("results", type=Path, help="a calibration results folder")
    ap.add_argument("--out", type=Path, required=True,
                    help="folder for report.md, report.html and figures/ (not the results "
                    "folder: its manifest checksums the report written by the fit)")
    args = ap.parse_args(argv)
    try:
        if args.out.resolve() == args.results.resolve():
            raise ScenarioError("command line", "--out", "is the results folder itself",
                                "another folder (the manifest checksums the fit's report)")
        result = load_calibrated(args.results)
        files = write_report(result, args.out)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Report: {files[1]} and {files[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
