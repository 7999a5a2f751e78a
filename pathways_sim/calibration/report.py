"""The calibration report: fit to each target, prior to posterior, convergence.

:func:`write_report` writes ``report.md`` (figures in ``figures/``) and
``report.html`` (the same, figures embedded) into a results folder:

1. **Fit.** For every target: the observed share with its exact
   (Clopper-Pearson) 90% interval, and the simulated share's median with the
   90% posterior predictive interval (PPI) of the reported count; whether the
   observed share is inside; the deviance. Each target outside its PPI gets a
   reason: which way the model misses, by how much, and whether a parameter
   that informs it sits at the edge of its prior range (then the range or a
   missing mechanism, not the optimiser, limits the fit).
2. **Prior to posterior** for each parameter.
3. **Convergence.** Optuna: the objective by trial and the best so far.
   ABC-SMC: tolerance (epsilon) schedule, acceptance rate and effective sample
   size by generation.

The report is laid out once as a :class:`~pathways_sim.report.document.Document`
and rendered by the document model the sweep brief shares (same escaping, CSS
and figure handling). Figures follow the house style of
:mod:`pathways_sim.report.plots` (Okabe-Ito colours, Agg canvas, no pyplot).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from pathways_sim.calibration.results import CalibrationResult
from pathways_sim.report.document import (
    Block,
    Document,
    Heading,
    Paragraph,
    Table,
    write_document,
)
from pathways_sim.report.document import Figure as RFigure
from pathways_sim.report.plots import OKABE_ITO
from pathways_sim.scenario import ScenarioError, load_scenario

__all__ = ["explain_misses", "write_report"]

_FLOOR = 1e-4  # shares are drawn on a log axis; 0 is drawn here
_EDGE = 0.03  # a parameter within 3% of its (log) range of a bound is "at the edge"

# Words of the priors' ``informed_by`` text that name the targets of an observable.
_KEYWORDS = {
    "found_work": ("job", "found_work"), "worked_any": ("job", "worked_any", "found_work"),
    "training_or_education": ("stepping-stone", "training"),
    "volunteering": ("stepping-stone", "volunteering"), "took_up_service": ("uptake",),
    "engaged": ("engagement",), "work_goals_share": ("goal",),
    "volunteering_vs_work_goals": ("goal",), "employment_need_at_referral": ("emp_need",),
}


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


def _plot_parameters(result: CalibrationResult) -> bytes:
    n = len(result.priors)
    cols = 3
    rows = math.ceil(n / cols)
    fig = _figure(11, 2.1 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    w = result.weights()
    for ax, p in zip(axes, result.priors, strict=False):
        x = result.draws[p.parameter].to_numpy(dtype=float)
        edges = (np.geomspace(p.low, p.high, 21) if p.log else np.linspace(p.low, p.high, 21))
        ax.axhspan(0, 1.0 / 20, color=OKABE_ITO[1], alpha=0.35, label="prior")
        top = 1.0 / 20
        if len(x) > 1:
            hist, _ = np.histogram(x, bins=edges, weights=w)
            ax.stairs(hist, edges, fill=True, color=OKABE_ITO[3], alpha=0.7, label="posterior")
            top = max(top, float(hist.max()))
        ax.axvline(result.point[p.parameter], color=OKABE_ITO[4], lw=2, label="point")
        ax.axvline(p.default, color="#000000", lw=1, ls="--", label="registry default")
        if p.log:
            ax.set_xscale("log")
            ticks = np.geomspace(p.low, p.high, 4)
            ax.set_xticks(ticks, [f"{v:.2g}" for v in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(p.low, p.high)
        ax.set_ylim(0, 1.6 * top)
        ax.set_yticks([])
        ax.set_title(p.parameter, fontsize=10)
        ax.tick_params(labelsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="upper right")
    fig.suptitle("Prior (shaded band: probability per bin) to posterior, per parameter",
                 fontsize=13)
    return _png(fig)


def _plot_convergence(result: CalibrationResult) -> bytes:
    if result.method == "optuna":
        fig = _figure(9, 3.6)
        ax = fig.add_subplot()
        h = result.history
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
    else:
        gens = pd.DataFrame(result.diagnostics.get("generations", []))
        fig = _figure(11, 3.4)
        axes = fig.subplots(1, 3)
        axes[0].plot(gens["generation"], gens["epsilon"], "o-", color=OKABE_ITO[4])
        axes[0].set_yscale("log")
        axes[0].set_title("Tolerance (epsilon, deviance)", fontsize=11)
        axes[1].plot(gens["generation"], gens["acceptance_rate"], "o-", color=OKABE_ITO[3])
        axes[1].set_ylim(0, 1)
        axes[1].set_title("Acceptance rate", fontsize=11)
        axes[2].plot(gens["generation"], gens["ess"], "o-", color=OKABE_ITO[2])
        axes[2].set_ylim(0, None)
        axes[2].set_title("Effective sample size", fontsize=11)
        for ax in axes:
            ax.set_xlabel("Generation")
            ax.grid(alpha=0.3)
        fig.suptitle("ABC-SMC convergence", fontsize=13)
    return _png(fig)


def _set_by(scenario: str) -> dict[str, str]:
    """Who set each parameter of a target's scenario (empty if it cannot be loaded)."""
    try:
        return dict(load_scenario(scenario).set_by)
    except ScenarioError:
        return {}


def explain_misses(result: CalibrationResult) -> dict[str, str]:
    """A reason for each target outside its 90% predictive interval.

    Says whether the model is above or below the observed share and by what
    factor, and names any parameter informing the target (``informed_by`` in
    the priors, and not set by the target's own scenario) that sits at the edge of
    its prior range, then the configuration's note on the target, if any.
    """
    if result.fit is None:
        return {}
    out = {}
    notes = result.config.get("notes") or {}
    at_fit: dict[str, float] = {}  # each target's deviance at the point, with the fit's seeds
    h = result.history
    if len(h) and "nll" in h.columns:
        best = h.loc[h["nll"].astype(float).idxmin()]
        at_fit = {c[4:]: float(best[c]) for c in h.columns if c.startswith("dev.")}
    total = float(result.fit.loc[result.fit["role"] == "fit", "deviance"].sum()) or 1.0
    for r in result.fit.itertuples(index=False):
        if r.inside:
            continue
        sim, obs = float(r.sim_median), float(r.observed)
        if r.likelihood == "lower_bound":
            text = (f"the simulated share {sim:.3f} is below the bound {obs:.3f}")
        else:
            way = "above" if sim > obs else "below"
            if obs <= 0 or sim <= 0:
                # No ratio: a factor would be infinite. Say what happened instead.
                size = ("none observed" if obs <= 0 else
                        "none in the model's median: no finite factor")
            else:
                factor = max(sim / obs, obs / sim)
                size = (f"{100 * abs(sim - obs) / obs:.0f}% {'higher' if sim > obs else 'lower'}"
                        if factor < 1.5 else f"a factor {factor:.2g}")
            text = f"the model is {way} the observed share ({sim:.4f} vs {obs:.4f}, {size})"
            if r.role == "fit":
                text += f"; {100 * float(r.deviance) / total:.0f}% of the fit's deviance"
        edges = []
        words = (r.target, *_KEYWORDS.get(r.observable, ()))
        set_by = _set_by(r.scenario)
        for p in result.priors:
            if not any(w in p.informed_by for w in words):
                continue
            if set_by.get(p.parameter, "default") != "default":
                continue  # the target's scenario sets it: the calibrated value does not apply
            u = p.to_unit(result.point[p.parameter])
            if u < _EDGE or u > 1 - _EDGE:
                edges.append(f"{p.parameter} at its {'lower' if u < 0.5 else 'upper'} bound "
                             f"({result.point[p.parameter]:.4g})")
        fitted = at_fit.get(r.target, math.inf)
        if r.role == "fit" and fitted < 3.84:
            text += (f"; with the fit's own seeds it fits (deviance {fitted:.1f}): the point is "
                     "tuned to the noise of the fit's few replicates, and fresh seeds move the "
                     "share (more `replicates` in the config would narrow this)")
        if edges:
            text += "; informing parameters at the edge of their prior range: " + \
                    ", ".join(edges) + " (the range, or a mechanism the model lacks, limits " \
                    "the fit)"
        elif r.role == "fit":
            text += "; the fit trades it off against other targets (see the deviance column)"
        else:
            text += "; a held-out target: the calibrated model does not predict it"
        if r.target in notes:
            text += f". Note: {notes[r.target].rstrip('.')}"
        out[r.target] = text
    return out


def _fit_rows(result: CalibrationResult) -> list[list[str]]:
    assert result.fit is not None
    rows = []
    for r in result.fit.itertuples(index=False):
        obs = (f"> {r.observed:.3f}" if r.likelihood == "lower_bound"
               else f"{r.k}/{r.n} = {r.observed:.4f} ({r.obs_lo90:.4f}-{r.obs_hi90:.4f})")
        rows.append([r.target, r.role, r.likelihood, obs, f"{r.sim_median:.4f}",
                     f"{r.ppi_lo90:.4f}-{r.ppi_hi90:.4f}", "yes" if r.inside else "**no**",
                     f"{r.deviance:.1f}"])
    return rows


FIT_HEADER = ["target", "role", "likelihood", "observed k/n = share (exact 90% CI)",
              "simulated median", "90% PPI", "inside", "deviance"]
FIT_ALIGN = ("left", "left", "left", "left", "right", "left", "left", "right")


def _document(result: CalibrationResult) -> Document:
    """The report as a document: intro, then fit, prior to posterior and convergence."""
    d = result.diagnostics
    cfg = result.config
    fit_rows = result.fit[result.fit["role"] == "fit"] if result.fit is not None else None
    inside = int(fit_rows["inside"].sum()) if fit_rows is not None else 0
    nfit = len(fit_rows) if fit_rows is not None else 0
    intro = (f"Method: **{result.method}**. Calibration version `{result.version}`. "
             f"{len(result.priors)} parameters fitted to {nfit} targets "
             f"({cfg.get('replicates')} replicates per target scenario and parameter set, "
             f"common random numbers, root seed {cfg.get('seed')}; beta-binomial design effect "
             f"{cfg.get('design_effect')}, fixed). Targets file SHA-256 "
             f"`{str(cfg.get('targets_sha256'))[:16]}…`. Point negative log-likelihood "
             f"{result.point_nll:.1f}. Fit {d.get('fit_seconds', float('nan')):.0f} s, "
             f"posterior predictive {d.get('predictive_seconds', float('nan')):.0f} s.")
    blocks: list[Block] = [Paragraph(intro)]
    if result.fit is not None:
        pred = cfg.get("predictive", {})
        fit_text = (f"{inside} of {nfit} fit targets lie inside their 90% posterior predictive "
                    f"interval (PPI: {pred.get('draws')} posterior draws, each simulated with "
                    "its own seed and passed through the target's observation model). ")
        if result.method == "optuna":
            fit_text += ("Optuna gives a point estimate, so the PPI holds simulation and "
                         "sampling noise but not parameter uncertainty. ")
        misses = explain_misses(result)
        if misses:
            fit_text += "Targets outside their PPI, and why: " + " ".join(
                f"**{t}**: {why}." for t, why in misses.items())
        blocks += [Heading("Observed against simulated"), Paragraph(fit_text),
                   RFigure("figures/fit.png", _plot_fit(result.fit),
                           "Each target: observed share with its exact 90% interval against "
                           "the simulated median and 90% posterior predictive interval"),
                   Table(FIT_HEADER, _fit_rows(result), align=FIT_ALIGN)]
    summ = result.summary()
    prow = [[r.parameter, r.prior, f"{r.low:g}-{r.high:g}", f"{r.default:g}", f"{r.point:.4g}",
             f"{r.median:.4g}", f"{r.lo90:.4g}-{r.hi90:.4g}"] for r in summ.itertuples()]
    blocks += [
        Heading("Prior to posterior"),
        Paragraph("Each parameter's prior range, the registry default, the point estimate and "
                  "the posterior median and 90% interval (for Optuna the posterior is the "
                  "point)."),
        RFigure("figures/parameters.png", _plot_parameters(result),
                "Prior and posterior of each parameter, with the point estimate and the "
                "registry default"),
        Table(["parameter", "prior", "range", "default", "point", "posterior median",
               "90% interval"], prow,
              align=("left", "left", "left", "right", "right", "right", "left")),
        Heading("Convergence"),
    ]
    if result.method == "optuna":
        conv = (f"{d.get('trials')} trials ({d.get('sampler')}); best trial "
                f"{d.get('best_trial')} with NLL {d.get('best_nll', float('nan')):.1f}"
                + (f"; resumed after {d.get('resumed_from')} trials"
                   if d.get("resumed_from") else "") + ".")
        blocks += [Paragraph(conv),
                   RFigure("figures/convergence.png", _plot_convergence(result),
                           "Optuna history: negative log-likelihood of each trial and the "
                           "best so far")]
    else:
        conv = (f"{d.get('algorithm')}. Population {d.get('population')}, tolerance quantile "
                f"{d.get('quantile')}, {d.get('simulated')} parameter sets simulated (budget "
                f"{d.get('budget')}); stopped by: {d.get('stopped')}. Point: {d.get('point')}.")
        crow = [[str(g["generation"]), f"{g['epsilon']:.1f}", str(g["accepted"]),
                 str(g["proposed"]), f"{g['acceptance_rate']:.2f}", f"{g['ess']:.1f}",
                 f"{g['min_distance']:.1f}", f"{g['seconds']:.0f}"]
                for g in d.get("generations", [])]
        blocks += [Paragraph(conv),
                   RFigure("figures/convergence.png", _plot_convergence(result),
                           "ABC-SMC convergence: tolerance, acceptance rate and effective "
                           "sample size by generation")]
        if crow:
            blocks.append(Table(["generation", "epsilon", "accepted", "proposed",
                                 "acceptance rate", "ESS", "best distance", "seconds"], crow,
                                align=("right",) * 8))
    return Document("Calibration report: " + result.name, tuple(blocks))


def write_report(result: CalibrationResult, folder: Path) -> list[Path]:
    """Write ``report.md``, ``report.html`` and the figures into a results folder.

    The report is a :class:`~pathways_sim.report.document.Document`, rendered by
    the document model every report shares (the sweep brief too).

    Args:
        result: The calibration (with its fit table).
        folder: The results folder.

    Returns:
        The files written: ``report.md``, ``report.html``, then the figures.
    """
    return write_document(_document(result), folder)
