"""Figures of replicate sets: stage stocks over time and the pathway funnel.

Figures are built on :class:`matplotlib.figure.Figure` objects with the Agg
canvas, never through ``pyplot``, so no global figure state is created or
leaked and the functions are safe in worker processes and tests.

Colours come from the Okabe-Ito palette, which stays distinguishable for the
common forms of colour blindness; lines also differ in dash pattern.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe-Ito colour-blind-safe palette (yellow late: it is faint on white)."""

_DASHES = ("-", "--", "-.", ":")
_LEVEL = 0.90
_Q_LO, _Q_HI = (1 - _LEVEL) / 2, 1 - (1 - _LEVEL) / 2
_RC = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _apply_fonts(fig: Figure) -> None:
    for ax in fig.axes:
        ax.xaxis.label.set_fontsize(_RC["axes.labelsize"])
        ax.yaxis.label.set_fontsize(_RC["axes.labelsize"])
        ax.tick_params(labelsize=_RC["xtick.labelsize"])
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_fontsize(_RC["legend.fontsize"])


def _save(fig: Figure, path: Path | str) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _apply_fonts(fig)
    fig.savefig(out)
    return out


def _week_frame(stocks: pd.DataFrame) -> pd.DataFrame:
    """Stocks with week as the index and only numeric stage columns."""
    df = stocks.set_index("week") if "week" in stocks.columns else stocks
    return df.select_dtypes(include="number")


def _stack(stocks_list: Sequence[pd.DataFrame]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Replicate stocks aligned on weeks and stages: (weeks, stages, array[rep, week, stage])."""
    frames = [_week_frame(s) for s in stocks_list]
    stages: list[str] = []
    for f in frames:
        stages.extend(str(c) for c in f.columns if str(c) not in stages)
    weeks = np.unique(np.concatenate([f.index.to_numpy() for f in frames]))
    data = np.stack(
        [
            f.rename(columns=str).reindex(index=weeks, columns=stages).to_numpy(dtype=float)
            for f in frames
        ]
    )
    return weeks, stages, data


def _pretty(name: str) -> str:
    text = name.replace("_", " ").replace("link worker", "Link Worker")
    return text[:1].upper() + text[1:]


def plot_stocks(
    stocks_list: Sequence[pd.DataFrame],
    path: Path | str,
    *,
    title: str = "Clients in each state of the pathway",
    ylabel: str = "Clients (people)",
    note: str | None = "A client can be in several states at once "
    "(e.g. with a Link Worker and in an activity).",
) -> Path:
    """Stocks of clients in each state over weeks: replicate mean and 90% band.

    Args:
        stocks_list: One DataFrame per replicate, indexed by week (or with a
            ``week`` column), one numeric column per stage (clients in it).
        path: Where to write the figure (format from the suffix, e.g. ``.png``).
        title: Figure title.
        ylabel: Y-axis label, with its unit.
        note: A line shown under the title (None: none).

    Returns:
        The path written.

    Raises:
        ValueError: If ``stocks_list`` is empty.
    """
    if not stocks_list:
        raise ValueError("plot_stocks needs at least one replicate's stocks")
    weeks, stages, data = _stack(stocks_list)
    fig = _figure(10, 5.5)
    ax = fig.add_subplot()
    with np.errstate(all="ignore"):
        mean = np.nanmean(data, axis=0)
        lo = np.nanquantile(data, _Q_LO, axis=0)
        hi = np.nanquantile(data, _Q_HI, axis=0)
    for j, stage in enumerate(stages):
        colour = OKABE_ITO[j % len(OKABE_ITO)]
        dash = _DASHES[j % len(_DASHES)]
        ax.plot(weeks, mean[:, j], color=colour, linestyle=dash, linewidth=1.8,
                label=_pretty(stage))
        if len(stocks_list) > 1:
            ax.fill_between(weeks, lo[:, j], hi[:, j], color=colour, alpha=0.2, linewidth=0)
    fig.suptitle(title, fontsize=_RC["axes.titlesize"], fontweight="bold")
    band = (f"lines: mean of {len(stocks_list)} replicates; bands: 90% of replicates"
            if len(stocks_list) > 1 else "one replicate")
    ax.set_title(f"{note}\n{band}" if note else band, fontsize=9, loc="left")
    ax.set_xlabel("Week of the run (weeks)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(weeks.min(), weeks.max())
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="State")
    return _save(fig, path)


def _funnel_series(funnel: pd.DataFrame | pd.Series) -> pd.Series:
    """A funnel as a Series stage -> share of the cohort (0-1)."""
    if isinstance(funnel, pd.Series):
        return funnel.astype(float)
    df = funnel.set_index("stage") if "stage" in funnel.columns else funnel
    for col in ("share", "proportion", "fraction"):
        if col in df.columns:
            return df[col].astype(float)
    if "count" in df.columns:
        counts = df["count"].astype(float)
        top = counts.iloc[0] if len(counts) else np.nan
        return counts / top if top else counts * np.nan
    raise ValueError(f"funnel has no share column (columns: {list(df.columns)})")


def plot_funnel(
    funnels: Sequence[pd.DataFrame | pd.Series],
    path: Path | str,
    *,
    title: str = "Pathway funnel",
    cohort: str | None = None,
) -> Path:
    """Horizontal bar funnel: mean share of the cohort reaching each stage, 90% whiskers.

    Args:
        funnels: One funnel per replicate: a Series stage -> share of the
            cohort (0-1), or a DataFrame with a ``share`` column (or ``count``,
            taken relative to the first stage), indexed by stage or with a
            ``stage`` column. Stages are shown in the first funnel's order.
        path: Where to write the figure.
        title: Figure title.
        cohort: The cohort in words, shown under the title.

    Returns:
        The path written.

    Raises:
        ValueError: If ``funnels`` is empty.
    """
    if not funnels:
        raise ValueError("plot_funnel needs at least one replicate's funnel")
    series = [_funnel_series(f) for f in funnels]
    stages = list(series[0].index)
    for s in series[1:]:
        stages.extend(x for x in s.index if x not in stages)
    data = np.stack([s.reindex(stages).to_numpy(dtype=float) for s in series]) * 100.0
    with np.errstate(all="ignore"):
        mean = np.nanmean(data, axis=0)
        lo = np.nanquantile(data, _Q_LO, axis=0)
        hi = np.nanquantile(data, _Q_HI, axis=0)
    fig = _figure(9, 0.5 * len(stages) + 2.0)
    ax = fig.add_subplot()
    y = np.arange(len(stages))
    colours = [OKABE_ITO[3] if i == 0 else OKABE_ITO[1] for i in range(len(stages))]
    ax.barh(y, np.nan_to_num(mean), color=colours, edgecolor="black", linewidth=0.5)
    if len(series) > 1:
        err = np.vstack([np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)])
        ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="none", ecolor="black",
                    elinewidth=1.2, capsize=4)
    for yi, m, h in zip(y, mean, hi, strict=True):
        if np.isfinite(m):
            ax.text((h if np.isfinite(h) else m) + 1.0, yi, f"{m:.1f}%", va="center",
                    fontsize=10)
    ax.set_yticks(y, [_pretty(str(s)) for s in stages])
    ax.invert_yaxis()
    top = np.nanmax(hi) if np.isfinite(np.nanmax(hi, initial=np.nan)) else 100.0
    ax.set_xlim(0, min(100.0, top * 1.15 + 5.0) if top < 100 else 110.0)
    ax.set_xlabel("Share of the cohort reaching the stage (%)")
    whisk = (f"bars: mean of {len(series)} replicates; whiskers: 90% of replicates"
             if len(series) > 1 else "one replicate")
    fig.suptitle(title, fontsize=_RC["axes.titlesize"], fontweight="bold")
    sub = whisk if cohort is None else f"{textwrap.fill(cohort, 100)}\n{whisk}"
    ax.set_title(sub, fontsize=9, loc="left")
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path)
