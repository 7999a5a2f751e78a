"""Figures of a sweep: effects, fan charts, funnels, equity, costs, staffing and discovery.

Each function draws a table that :mod:`pathways_sim.sweep.analysis` or
:mod:`pathways_sim.sweep.discovery` computed and returns a
:class:`matplotlib.figure.Figure` on the Agg canvas (never ``pyplot``, so no
global state); :func:`figure_png` turns it into PNG bytes for a report. The
house style is :mod:`pathways_sim.report.plots`': Okabe-Ito colours, a bold
title, a small grey note saying what the marks are, units on every axis.

This module also holds how metrics are written for people
(:func:`metric_label`, :func:`format_level`, :func:`format_diff`): shares of
the cohort as percentages and their differences in percentage points, money
in pounds.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pathways_sim.outcomes.metrics import METRICS
from pathways_sim.report.plots import OKABE_ITO, _apply_fonts, _figure
from pathways_sim.stages import STAGES

__all__ = [
    "VERDICT_COLOURS",
    "cost_figure",
    "equity_figure",
    "fan_figure",
    "feature_score_figure",
    "figure_png",
    "forest_figure",
    "format_diff",
    "format_level",
    "funnel_figure",
    "metric_label",
    "metric_unit",
    "prim_figure",
    "staffing_figure",
    "stage_text",
]

GREY = "#999999"
_DASHES = ("-", "--", "-.", ":")
VERDICT_COLOURS: dict[str, str] = {
    "better": OKABE_ITO[2],        # bluish green
    "worse": OKABE_ITO[4],         # vermillion
    "higher": OKABE_ITO[3],        # blue: a difference with no good or bad direction
    "lower": OKABE_ITO[3],
    "no clear difference": GREY,
    "identical": GREY,
    "too few pairs": GREY,
}
"""Colour of a paired difference by its verdict (:func:`pathways_sim.sweep.analysis.verdict`)."""

_VERDICT_MARKERS = {"better": "^", "worse": "v", "higher": "D", "lower": "D"}
_NOTE = {"fontsize": 9, "loc": "left", "color": "#333333"}

# --------------------------------------------------------------------------- words and units

_LABELS = {
    "cohort_size": "Clients in the cohort",
    "referrals_total": "Referrals in the run",
    "rejected_share": "Referrals rejected",
    "engaged": "Assigned a Link Worker",
    "wait_weeks_median": "Median wait for a Link Worker",
    "took_up_service": "Took up a VCS activity",
    "disengaged_12m": "Disengaged within 12 months",
    "discharged_12m": "Discharged within 12 months",
    "work_goal_12m": "Work goal within 12 months",
    "direct_support_12m": "Work-focused support within 12 months",
    "indirect_to_direct_ratio_12m": "Stepping stones per job start (12 months)",
    "distance_change_12m": "Change in distance from work (12 months)",
    "wellbeing_change_12m": "Change in wellbeing (12 months)",
    "found_work_24m_near": "Found work (24 months), closest third",
    "found_work_24m_far": "Found work (24 months), furthest third",
    "found_work_ratio_near_far_24m": "Job ratio, closest / furthest third",
    "sessions_per_client_near": "Sessions per client, closest third",
    "sessions_per_client_far": "Sessions per client, furthest third",
    "support_ratio_near_far": "Creaming index (sessions closest / furthest)",
    "sessions_24m": "Link Worker sessions (24 months)",
    "place_weeks_24m": "Activity place-weeks (24 months)",
    "pbr_payments_total": "Results payments (24 months)",
    "cost_link_work_24m": "Link Worker contract, cohort's share (24 months)",
    "cost_vcs_24m": "VCS places, cohort's share (24 months)",
    "cost_adviser_24m": "Employment adviser, cohort's share (24 months)",
    "cost_total_24m": "Cost of the cohort (24 months)",
    "cost_per_job_24m": "Cost per job (24 months)",
    "service_spend_total": "Funder's spend on the service (whole run)",
    "cost_per_session": "Cost per Link Worker session (derived)",
    "cost_per_place_week_used": "Cost per place-week used (derived)",
    "link_worker_posts_start": "Link Worker posts at the start",
    "link_worker_posts_min": "Fewest Link Worker posts",
    "link_worker_posts_mean": "Link Worker posts (mean over the run)",
    "link_worker_posts_end": "Link Worker posts at the end",
}
_WHAT = {"volunteering": "Volunteering", "training": "Training",
         "stepping_stone": "Stepping stone (volunteering or training)"}


def stage_text(stock: str) -> str:
    """The stage's one-line label (:mod:`pathways_sim.stages`) of a weekly stock column."""
    return next((st.text for st in STAGES if st.name == stock), stock.replace("_", " "))


def metric_label(name: str) -> str:
    """A metric's name in words, e.g. ``found_work_24m`` -> "Found work within 24 months"."""
    if name in _LABELS:
        return _LABELS[name]
    if m := re.fullmatch(r"found_work_(\d+)m", name):
        return f"Found work within {m[1]} months"
    if m := re.fullmatch(r"sustained_work_(\d+)w_24m", name):
        return f"In work {m[1]}+ weeks (within 24 months)"
    if m := re.fullmatch(r"(volunteering|training|stepping_stone)_(\d+)m", name):
        return f"{_WHAT[m[1]]} within {m[2]} months"
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def metric_unit(name: str) -> str:
    """A metric's unit as :data:`~pathways_sim.outcomes.metrics.METRICS` gives it ("": none)."""
    return METRICS.get(name, ("", ""))[0]


def _is_share(name: str) -> bool:
    return metric_unit(name).startswith("share")


def _is_money(name: str) -> bool:
    return metric_unit(name).startswith("GBP")


def _scale(name: str) -> float:
    return 100.0 if _is_share(name) else 1.0


def _decimals(name: str) -> int:
    unit = metric_unit(name)
    if _is_share(name):
        return 1
    if _is_money(name) or unit in ("clients", "referrals", "sessions", "place-weeks"):
        return 0
    if unit == "ratio":
        return 2
    if unit == "posts":
        return 1
    if unit.startswith("change in distance"):
        return 3
    return 1 if unit in ("weeks", "sessions per client") else 2


def _number(x: float, decimals: int, sign: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    if round(x, decimals) == 0:
        return f"{0:.{decimals}f}"  # never "-0.0" or "+0.0"
    text = f"{x:{'+' if sign else ''},.{decimals}f}"
    return text.replace("-", "−")


def format_level(name: str, x: float, unit: bool = True) -> str:
    """A metric's value for people: ``12.3%``, ``£4,560``, ``1.23``, ``3.0 weeks``.

    Args:
        name: The metric.
        x: Its value (a share as 0-1).
        unit: Write the unit (False: the number alone, e.g. for the ends of a range).
    """
    if x is None or not math.isfinite(x):
        return "–"
    d = _decimals(name)
    if _is_share(name):
        return f"{_number(x * 100.0, d)}{'%' if unit else ''}"
    if _is_money(name):
        sign = "" if x >= 0 else "−"
        return f"{sign}{'£' if unit else ''}{_number(abs(x), d)}"
    kind = metric_unit(name)
    if unit and kind in ("weeks", "sessions per client"):
        return f"{_number(x, d)} {kind.split()[0]}"
    return _number(x, d)


def format_diff(name: str, d: float, unit: bool = True, extra: int = 0) -> str:
    """A paired difference for people, signed: ``+1.2 pp``, ``−£340``, ``+0.05``.

    Args:
        name: The metric.
        d: The difference (of shares as 0-1).
        unit: Write the unit (False: the signed number alone).
        extra: Decimals beyond the metric's usual ones.
    """
    if d is None or not math.isfinite(d):
        return "–"
    dec = _decimals(name) + extra
    if _is_share(name):
        return f"{_number(d * 100.0, dec, sign=True)}{' pp' if unit else ''}"
    if _is_money(name):
        sign = "" if round(d, dec) == 0 else "+" if d > 0 else "−"
        return f"{sign}{'£' if unit else ''}{_number(abs(d), dec)}"
    kind = metric_unit(name)
    if unit and kind in ("weeks", "sessions per client"):
        return f"{_number(d, dec, sign=True)} {kind.split()[0]}"
    return _number(d, dec, sign=True)


def _axis_unit(name: str, diff: bool = False) -> str:
    unit = metric_unit(name)
    if _is_share(name):
        return "percentage points" if diff else "% of " + unit.removeprefix("share of ")
    if _is_money(name):
        return unit.replace("GBP", "£")
    return unit or "value"


# --------------------------------------------------------------------------- helpers


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (fonts set to the house sizes first)."""
    _apply_fonts(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _title(fig: Figure, title: str, note: str | None = None) -> None:
    """Bold title on top; the note under the panels (a figure label, so the layout
    engine makes room for it)."""
    fig.suptitle(title, fontsize=13, fontweight="bold")
    if note:
        width = int(fig.get_figwidth() * 15)  # characters of 8.5 pt text across the figure
        fig.supxlabel(textwrap.fill(note, width), fontsize=8.5, color="#333333", x=0.01,
                      ha="left")


def _money_axis(ax: Axes) -> None:
    """Pounds on the x axis, thousands as k, a handful of ticks."""
    ax.xaxis.set_major_locator(MaxNLocator(5))
    def money(v: float, _: int) -> str:
        a = abs(v)
        text = (f"£{a / 1e6:,.3g}m" if a >= 1e6 else f"£{a / 1e3:,.3g}k" if a >= 1e3
                else f"£{a:,.0f}")
        return ("−" if v < 0 else "") + text

    ax.xaxis.set_major_formatter(FuncFormatter(money))


def _wrap(label: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    cols = max(1, min(max_cols, n))
    return math.ceil(n / cols), cols


def _colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


# --------------------------------------------------------------------------- effects


def forest_figure(diffs: pd.DataFrame, metrics: Sequence[str], labels: Sequence[str], *,
                  title: str = "Effects against the baseline",
                  note: str | None = None, level: float = 0.9) -> Figure:
    """Forest plot: each option's mean paired difference with its interval, per outcome.

    Args:
        diffs: Paired differences (``paired_differences(..., by="label")``):
            columns ``label``, ``metric``, ``diff``, ``lo``, ``hi``, ``verdict``.
        metrics: Outcomes, one panel each, in order.
        labels: Options, top to bottom.
        title: Figure title.
        note: Text under the panels (default: how to read the plot).
        level: Confidence level of the intervals (for the note).

    Returns:
        The figure.
    """
    rows, cols = _grid(len(metrics), 3)
    height = max(2.6, 0.42 * len(labels) + 1.6)
    fig = _figure(4.3 * cols + 1.6, height * rows + 0.9)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    y = np.arange(len(labels))
    for k, metric in enumerate(metrics):
        ax = axes[k // cols][k % cols]
        sub = diffs[diffs["metric"] == metric].set_index("label").reindex(labels)
        s = _scale(metric)
        ax.axvline(0, color="black", linewidth=1.0)
        for yi, (_, r) in zip(y, sub.iterrows(), strict=True):
            if not math.isfinite(r.get("diff", math.nan)):
                continue
            verdict = str(r["verdict"])
            colour = VERDICT_COLOURS.get(verdict, GREY)
            if math.isfinite(r["lo"]) and math.isfinite(r["hi"]):
                ax.hlines(yi, r["lo"] * s, r["hi"] * s, color=colour, linewidth=2.4)
            marker = _VERDICT_MARKERS.get(verdict, "o")
            ax.plot(r["diff"] * s, yi, marker=marker, color=colour, markersize=8,
                    markeredgecolor="black", markeredgewidth=0.6,
                    fillstyle="full" if verdict in _VERDICT_MARKERS else "none")
        ax.set_yticks(y, [_wrap(lb) for lb in labels])
        ax.set_title(_wrap(metric_label(metric), 40), fontsize=11)
        ax.set_xlabel(f"Difference ({_axis_unit(metric, diff=True)})")
        ax.grid(True, axis="x", alpha=0.3)
        lim = np.nanmax(np.abs(np.r_[sub["lo"].to_numpy(float), sub["hi"].to_numpy(float),
                                     sub["diff"].to_numpy(float)] * s), initial=0.0)
        if not math.isfinite(lim) or lim == 0:
            lim = 1.0
        ax.set_xlim(-1.1 * lim, 1.1 * lim)
        if _is_money(metric):
            _money_axis(ax)
    axes[0][0].invert_yaxis()  # shared: every panel lists the first option on top
    for k in range(len(metrics), rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    pct = int(round(level * 100))
    _title(fig, title, note if note is not None else (
        f"Marks: mean of the paired differences option − baseline (replicate r of each with "
        f"the same seed); lines: {pct}% confidence interval of that mean. Green ▲ better and "
        "vermillion ▼ worse (the interval excludes 0; up or down depends on the outcome's "
        "direction); blue ◆ a clear difference in an outcome reported for information; grey "
        "○ no clear difference (the interval includes 0) or the same runs."))
    return fig


# --------------------------------------------------------------------------- over time


def fan_figure(weekly: pd.DataFrame, stock: str, labels: Sequence[str], *,
               reference: str | None = None, title: str | None = None,
               note: str | None = None) -> Figure:
    """Fan charts of a weekly stock: median and 50% / 90% bands, one panel per label.

    Args:
        weekly: Columns ``label``, ``week`` and ``stock`` (one row per run and
            week; runs of a label are its replicates, pooled over its points).
        stock: The stock column (e.g. ``in_work``).
        labels: Panels, in order.
        reference: A label whose median is drawn dashed in every other panel
            (the baseline), or None.
        title: Figure title (default from the stock's name).
        note: Text under the panels (default: how to read it).

    Returns:
        The figure.
    """
    q = (weekly.groupby(["label", "week"], sort=False)[stock]
         .quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack())
    rows, cols = _grid(len(labels), 4)
    fig = _figure(3.4 * cols + 1.0, 2.7 * rows + 1.2)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    ref = q.loc[reference] if reference is not None and reference in q.index else None
    for k, label in enumerate(labels):
        ax = axes[k // cols][k % cols]
        colour = OKABE_ITO[3] if label != reference else OKABE_ITO[7]
        if label in q.index.get_level_values(0):
            d = q.loc[label]
            w = d.index.to_numpy()
            ax.fill_between(w, d[0.05], d[0.95], color=colour, alpha=0.18, linewidth=0)
            ax.fill_between(w, d[0.25], d[0.75], color=colour, alpha=0.35, linewidth=0)
            ax.plot(w, d[0.5], color=colour, linewidth=1.8)
        if ref is not None and label != reference:
            ax.plot(ref.index.to_numpy(), ref[0.5], color="black", linestyle="--",
                    linewidth=1.0)
        ax.set_title(_wrap(label, 36), fontsize=10)
        ax.grid(True, alpha=0.3)
        if k % cols == 0:
            ax.set_ylabel("Clients (people)")
        if k // cols == rows - 1 or k + cols >= len(labels):
            ax.set_xlabel("Week of the run")
            ax.xaxis.set_tick_params(labelbottom=True)
    for k in range(len(labels), rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    top = float(np.nanmax(q[0.95].to_numpy(float), initial=0.0)) if len(q) else 0.0
    axes[0][0].set_ylim(0, max(top * 1.05, 1.0))  # shared by every panel
    _title(fig, title or f"Clients each week: {stage_text(stock).lower()}",
           note if note is not None else (
               "Line: median of the runs; dark band: middle 50%; light band: middle 90%"
               + (f"; dashed: median of {reference}" if reference else "") + "."))
    return fig


# --------------------------------------------------------------------------- funnel


def _role_colour(label: str, reference: Sequence[str], muted: Sequence[str]) -> str:
    if label in reference:
        return OKABE_ITO[7]
    if label in muted:
        return GREY
    return OKABE_ITO[3]


def funnel_figure(summary: pd.DataFrame, labels: Sequence[str], stages: Sequence[str], *,
                  baselines: Sequence[str] = (), counterfactuals: Sequence[str] = (),
                  title: str = "Pathway funnel", note: str | None = None) -> Figure:
    """Share of the cohort reaching each stage of the pathway: one panel per stage.

    Each panel has its own scale, so the late stages (a few percent) read as
    well as uptake (most of the cohort).

    Args:
        summary: ``summarise(..., by="label")``: columns ``label``, ``metric``,
            ``mean``, ``lo``, ``hi`` (shares of the cohort).
        labels: Bars of each panel, top to bottom.
        stages: Share metrics, in pathway order (panels left to right, then down).
        baselines: Labels drawn in black (the baseline).
        counterfactuals: Labels drawn in grey (no service).
        title: Figure title.
        note: Text under the panels.

    Returns:
        The figure.
    """
    rows, cols = _grid(len(stages), 3)
    fig = _figure(4.0 * cols + 2.0, (0.32 * len(labels) + 1.1) * rows + 1.0)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    y = np.arange(len(labels))
    colours = [_role_colour(lb, baselines, counterfactuals) for lb in labels]
    for k, metric in enumerate(stages):
        ax = axes[k // cols][k % cols]
        sub = summary[summary["metric"] == metric].set_index("label").reindex(labels)
        s = _scale(metric)
        mean = sub["mean"].to_numpy(float) * s
        lo, hi = sub["lo"].to_numpy(float) * s, sub["hi"].to_numpy(float) * s
        ax.barh(y, np.nan_to_num(mean), color=colours, edgecolor="black", linewidth=0.4)
        err = np.vstack([np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)])
        ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="none", ecolor="black",
                    elinewidth=0.9, capsize=2)
        top = float(np.nanmax(np.r_[hi, mean], initial=0.0))
        pad = 0.02 * max(top, 0.05)
        for yi, m, h in zip(y, mean, hi, strict=True):
            if math.isfinite(m):
                end = max(m, h) if math.isfinite(h) else m
                ax.text(end + pad, yi, f"{m:.{1 if m >= 1 or m == 0 else 2}f}%",
                        va="center", fontsize=8)
        ax.set_xlim(0, max(top * 1.3, 0.1))
        ax.set_title(f"{k + 1}. {_wrap(metric_label(metric), 34)}", fontsize=10)
        ax.set_xlabel("% of the cohort")
        ax.grid(True, axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, [_wrap(lb) for lb in labels])
    axes[0][0].invert_yaxis()
    for k in range(len(stages), rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    _title(fig, title, note if note is not None else (
        "Bars: mean of the runs (blue: options, black: baseline, grey: no service); "
        "whiskers: 90% of runs. Each panel has its own scale. Stages are not nested: a "
        "client can find work without a stepping stone."))
    return fig


# --------------------------------------------------------------------------- equity


def equity_figure(summary: pd.DataFrame, labels: Sequence[str], *,
                  title: str = "Equity: outcomes and support by distance from work",
                  note: str | None = None) -> Figure:
    """Work outcomes and support of the closest and furthest thirds, and the creaming index.

    Args:
        summary: ``summarise(..., by="label")`` with the equity metrics
            (:data:`~pathways_sim.sweep.analysis.EQUITY_METRICS`).
        labels: Rows, top to bottom.
        title: Figure title.
        note: Text under the panels.

    Returns:
        The figure.
    """
    fig = _figure(13.5, max(3.4, 0.45 * len(labels) + 2.0))
    axes = fig.subplots(1, 3, sharey=True)
    y = np.arange(len(labels))
    panels = (
        (("found_work_24m_near", "found_work_24m_far"), "Found work within 24 months",
         "% of the third"),
        (("sessions_per_client_near", "sessions_per_client_far"),
         "Link Worker sessions per client", "sessions per client (24 months)"),
        (("support_ratio_near_far",), "Creaming index: sessions closest / furthest",
         "ratio (1 = equal support)"),
    )
    names = {"found_work_24m_near": "closest third", "found_work_24m_far": "furthest third",
             "sessions_per_client_near": "closest third",
             "sessions_per_client_far": "furthest third",
             "support_ratio_near_far": "sessions (creaming index)",
             "found_work_ratio_near_far_24m": "jobs"}
    markers = ("o", "s")
    for ax, (pair, heading, xlabel) in zip(axes, panels, strict=True):
        for j, metric in enumerate(pair):
            sub = summary[summary["metric"] == metric].set_index("label").reindex(labels)
            s = _scale(metric)
            off = (j - 0.5) * 0.22 if len(pair) > 1 else 0.0
            mean = sub["mean"].to_numpy(float) * s
            lo, hi = sub["lo"].to_numpy(float) * s, sub["hi"].to_numpy(float) * s
            colour = (OKABE_ITO[0], OKABE_ITO[3])[j]
            ax.errorbar(mean, y + off, xerr=np.nan_to_num(np.vstack(
                [np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)])),
                fmt=markers[j], color=colour, markeredgecolor="black", markeredgewidth=0.5,
                markersize=7, elinewidth=1.2, capsize=2, label=names[metric])
        if pair[0] == "support_ratio_near_far":
            ax.axvline(1.0, color="black", linewidth=1.0, linestyle=":")
        ax.set_title(heading, fontsize=11)
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", alpha=0.3)
        if len(pair) > 1:
            ax.legend(loc="best", fontsize=8.5, frameon=True, framealpha=0.8)
    axes[0].set_yticks(y, [_wrap(lb) for lb in labels])
    axes[0].invert_yaxis()
    _title(fig, title, note if note is not None else (
        "Thirds of the cohort by distance from work at referral. Marks: mean of the runs; "
        "whiskers: 90% of runs. A creaming index above 1 means Link Worker sessions go more "
        "to clients close to work (dotted line: equal support)."))
    return fig


# --------------------------------------------------------------------------- costs


def cost_figure(costs: pd.DataFrame, labels: Sequence[str], *,
                title: str = "Cost per job and per additional job",
                note: str | None = None, level: float = 0.9) -> Figure:
    """Cost per job (spread of runs) and cost per additional job (Fieller interval).

    Args:
        costs: One row per label: ``label``, ``cpj_mean``, ``cpj_lo``, ``cpj_hi``
            (cost per job of the runs), and when a counterfactual was run
            ``per_additional``, ``per_additional_lo``, ``per_additional_hi`` and
            ``estimable`` (:func:`~pathways_sim.sweep.analysis.additional_outcome_costs`).
        labels: Rows, top to bottom.
        title: Figure title.
        note: Text under the panels.
        level: Confidence level (for the note).

    Returns:
        The figure.
    """
    has_cf = "per_additional" in costs.columns and costs["per_additional"].notna().any()
    fig = _figure(11.5 if has_cf else 7.5, max(3.0, 0.45 * len(labels) + 1.9))
    axes = fig.subplots(1, 2 if has_cf else 1, sharey=True, squeeze=False)[0]
    c = costs.set_index("label").reindex(labels)
    y = np.arange(len(labels))
    ax = axes[0]
    mean = c["cpj_mean"].to_numpy(float)
    err = np.vstack([np.clip(mean - c["cpj_lo"].to_numpy(float), 0, None),
                     np.clip(c["cpj_hi"].to_numpy(float) - mean, 0, None)])
    ax.barh(y, np.nan_to_num(mean), color=OKABE_ITO[1], edgecolor="black", linewidth=0.5)
    ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3)
    ax.set_title("Cost per job (all jobs)", fontsize=11)
    ax.set_xlabel("£ per client who found work within 24 months")
    _money_axis(ax)
    ax.set_yticks(y, [_wrap(lb) for lb in labels])
    ax.invert_yaxis()
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_xlim(left=0)
    if has_cf:
        ax2 = axes[1]
        r = c["per_additional"].to_numpy(float)
        lo = c["per_additional_lo"].to_numpy(float)
        hi = c["per_additional_hi"].to_numpy(float)
        est = c["estimable"].astype("boolean").fillna(False).to_numpy(bool)
        finite = np.r_[r[est & np.isfinite(r)], hi[est & np.isfinite(hi)],
                       mean[np.isfinite(mean)]]
        right = float(np.nanmax(finite)) * 1.15 if len(finite) else 1.0
        right = right if right > 0 else 1.0
        for yi in range(len(labels)):
            if est[yi] and math.isfinite(r[yi]):
                ax2.hlines(yi, lo[yi], hi[yi], color=OKABE_ITO[4], linewidth=2.4)
                ax2.plot(r[yi], yi, "o", color=OKABE_ITO[4], markeredgecolor="black",
                         markersize=8)
            elif pd.notna(c["estimable"].iloc[yi]):  # paired, but the ratio has no interval
                ax2.text(0.02 * right, yi, "not estimable: the interval of additional jobs "
                         "includes 0", va="center", fontsize=8.5, color="#333333")
        ax2.axvline(0, color="black", linewidth=1.0)
        ax2.set_xlim(min(0.0, float(np.nanmin(lo[est], initial=0.0))) * 1.1, right)
        ax2.set_title("Cost per additional job, against no service", fontsize=11)
        ax2.set_xlabel("£ per job more than with no service")
        _money_axis(ax2)
        ax2.grid(True, axis="x", alpha=0.3)
    pct = int(round(level * 100))
    _title(fig, title, note if note is not None else (
        "Left: cost of the cohort's support within 24 months / clients who found work "
        f"(mean and 90% of runs). Right: extra cost / extra jobs against the no-service run "
        f"with the same seeds (ratio of mean paired differences, {pct}% Fieller interval)."))
    return fig


def staffing_figure(staff: pd.DataFrame, labels: Sequence[str], *,
                    title: str = "Link Worker posts funded",
                    note: str | None = None) -> Figure:
    """Link Worker posts of each design point: at the start, the fewest, the mean, the end.

    Args:
        staff: One row per label: ``label``, ``start``, ``min``, ``mean``, ``end`` (the
            median over runs of each run's ``link_worker_posts_*`` metrics).
        labels: Rows, top to bottom.
        title: Figure title.
        note: Text under the panel.

    Returns:
        The figure.
    """
    fig = _figure(7.5, max(3.0, 0.45 * len(labels) + 1.9))
    ax = fig.subplots()
    c = staff.set_index("label").reindex(labels)
    y = np.arange(len(labels))
    lo = np.fmin(c["min"].to_numpy(float), c["start"].to_numpy(float))
    hi = np.fmax(c["start"].to_numpy(float), c["end"].to_numpy(float))
    ax.hlines(y, lo, hi, color=GREY, linewidth=2.0, zorder=1)
    marks = (("start", "o", OKABE_ITO[3], "at the start"),
             ("min", "v", OKABE_ITO[4], "fewest"),
             ("mean", "|", "black", "mean over the run"),
             ("end", "s", OKABE_ITO[2], "at the end"))
    for col, marker, colour, text in marks:
        bar = marker == "|"
        ax.scatter(c[col].to_numpy(float), y, marker=marker, s=260 if bar else 70,
                   color=colour, edgecolors=None if bar else "black",
                   linewidths=2.0 if bar else 0.5, zorder=4 if bar else 3, label=text)
    ax.set_yticks(y, [_wrap(lb) for lb in labels])
    ax.invert_yaxis()
    ax.set_xlabel("Link Worker posts funded")
    top = float(np.nanmax(hi, initial=0.0))
    ax.set_xlim(0, top * 1.08 if top > 0 else 1.0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8.5, frameon=False, bbox_to_anchor=(1.01, 1.0))
    _title(fig, title, note if note is not None else (
        "Posts funded per funding period, from the funder's ledger: the median over runs of "
        "each run's posts at the start, fewest, mean and at the end. Under payment by results "
        "income sets the next period's posts."))
    return fig


# --------------------------------------------------------------------------- discovery


def feature_score_figure(scores: pd.DataFrame, *, title: str = "Which inputs drive each "
                         "outcome", note: str | None = None) -> Figure:
    """Heat map of feature scores: inputs (rows) by outcomes (columns).

    Args:
        scores: The table of ``feature_score_table``: index inputs, columns
            outcomes, 0-1 (each column sums to 1).
        title: Figure title.
        note: Text under the map.

    Returns:
        The figure.
    """
    data = scores.to_numpy(float)
    fig = _figure(max(6.0, 1.5 * data.shape[1] + 3.5), max(3.0, 0.5 * data.shape[0] + 2.4))
    ax = fig.add_subplot()
    im = ax.imshow(data, cmap="Blues", vmin=0, vmax=max(0.5, float(np.nanmax(data,
                                                                             initial=0))),
                   aspect="auto")
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            v = data[i, j]
            if math.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9,
                        color="white" if v > 0.6 * im.get_clim()[1] else "black")
    ax.set_xticks(range(data.shape[1]), [_wrap(metric_label(m), 18) for m in scores.columns])
    ax.set_yticks(range(data.shape[0]), [str(i) for i in scores.index])
    fig.colorbar(im, ax=ax, label="feature score (share, sums to 1)")
    _title(fig, title, note if note is not None else (
        "EMA Workbench extra-trees feature scores over design points (outcome averaged over "
        "replicates): each input's share of the variance reduction of trees fitted to the "
        f"outcome. A column sums to 1: inputs well above 1/{data.shape[0]} stand out; near 0 = "
        "the input does not matter, alone or with others."))
    return fig


def prim_figure(trajectories: Mapping[str, pd.DataFrame], chosen: Mapping[str, int], *,
                title: str = "PRIM peeling: coverage against density",
                note: str | None = None) -> Figure:
    """Each outcome's PRIM trajectory, with the chosen box circled.

    Args:
        trajectories: Outcome -> ``PrimResult.trajectory()``.
        chosen: Outcome -> index of the chosen box.
        title: Figure title.
        note: Text under the plot.

    Returns:
        The figure.
    """
    fig = _figure(8.5, 5.6)
    ax = fig.add_subplot()
    for j, (name, traj) in enumerate(trajectories.items()):
        colour = _colour(j)
        path = traj[traj["peeled"]] if "peeled" in traj.columns else traj
        ax.plot(path["coverage"], path["density"], marker=".", color=colour,
                linestyle=_DASHES[j % len(_DASHES)], linewidth=1.2, label=metric_label(name))
        k = chosen[name]
        ax.plot(traj["coverage"].iloc[k], traj["density"].iloc[k], "o", markersize=13,
                markerfacecolor="none", markeredgecolor=colour, markeredgewidth=2)
    ax.set_xlabel("Coverage (share of all cases of interest inside the box)")
    ax.set_ylabel("Density (share of the box that are cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
    _title(fig, title, note if note is not None else (
        "Each line peels (EMA Workbench PRIM) the box holding every design point towards the "
        "points with the best outcomes; circles: the box reported (best coverage x density, "
        "restrictions that do not matter lifted)."))
    return fig
