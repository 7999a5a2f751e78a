"""Live charts of one run, with the fan of background replicates behind each line.

:class:`Charts` draws six small charts of a :class:`~pathways_sim.viz.trace.Trace`:
where clients are (the board's lanes over time), outcomes so far (first job,
volunteering and training starts, from :func:`pathways_sim.outcomes.cumulative_outcomes`),
the waiting list, weeks waited, Link Worker places in use and results payments.
Behind each live line the 10-90% band of the replicates of the same scenario
(:class:`~pathways_sim.viz.ensemble.Ensemble`) shows how far chance alone could
move it. :class:`DifferenceChart` draws A - B of the outcomes and payments for
two runs on the same seed, with the band of paired replicate differences.

The x axis always spans the whole run, so the fan shows where a run may go.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pathways_sim.viz.ensemble import Ensemble, paired_difference_band
from pathways_sim.viz.style import (
    DASHES,
    FONT,
    INK,
    SERIES_COLOURS,
    Blitter,
    canvas_image,
    new_figure,
    png_bytes,
)
from pathways_sim.viz.trace import Trace


@dataclass(frozen=True)
class Panel:
    """One chart: title, series (trace name -> legend label), y scale and format."""

    key: str
    title: str
    series: dict[str, str]
    scale: float = 1.0
    floor: float = 10.0  # smallest upper y limit
    headroom: float = 1.05  # room above the data (for legends)


PANELS: tuple[Panel, ...] = (
    Panel("stocks", "Where clients are (people)", {
        "lane_with_link_worker": "with a Link Worker", "lane_in_activity": "in activities",
        "lane_stepping_stone": "volunteer / training", "lane_work_support": "job search",
        "lane_in_work": "in work"}, headroom=1.75),
    Panel("outcomes", "Outcomes so far (people)", {
        "first_job_start": "found work", "first_volunteering": "volunteering",
        "first_training": "training"}, headroom=1.45),
    Panel("waiting", "Waiting list (people)", {"waiting_list": "waiting"}),
    Panel("waits", "Weeks waited so far (median)", {"median_wait": "median wait"}, floor=4.0),
    Panel("utilisation", "Clients supported / funded places (%)",
          {"utilisation": "places in use"}, scale=100.0, floor=100.0),
    Panel("payments", "Results payments so far (£)", {"payments": "paid by results"},
          floor=1000.0),
)

_COLOUR_OF = {
    "lane_with_link_worker": SERIES_COLOURS["with_link_worker"],
    "lane_in_activity": SERIES_COLOURS["in_activity"],
    "lane_stepping_stone": SERIES_COLOURS["stepping_stone"],
    "lane_work_support": SERIES_COLOURS["work_support"],
    "lane_in_work": SERIES_COLOURS["in_work"],
    "first_job_start": SERIES_COLOURS["first_job_start"],
    "first_volunteering": SERIES_COLOURS["first_volunteering"],
    "first_training": SERIES_COLOURS["first_training"],
    "waiting_list": SERIES_COLOURS["waiting"],
    "median_wait": SERIES_COLOURS["waiting"],
    "utilisation": SERIES_COLOURS["with_link_worker"],
    "payments": SERIES_COLOURS["in_work"],
}


def _money(x: float, _pos=None) -> str:
    sign, x = ("−" if x < 0 else ""), abs(x)
    if x >= 1e6:
        return f"{sign}£{x / 1e6:.1f}m"
    if x >= 1e3:
        return f"{sign}£{x / 1e3:.0f}k"
    return f"{sign}£{x:.0f}"


def _count(x: float, _pos=None) -> str:
    return f"{x:,.0f}"


def _style_axis(ax, title: str, weeks: int, money: bool = False) -> None:
    ax.set_title(title, fontsize=FONT["title"], loc="left", color=INK, pad=6)
    ax.set_xlim(0, weeks)
    ax.tick_params(labelsize=FONT["tick"], length=0, pad=4)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10], integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(_money if money else _count))
    ax.xaxis.set_major_locator(_year_ticks(weeks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"wk {x:.0f}"))
    ax.grid(True, color="#DDDDDD", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)


def _year_ticks(weeks: int):
    from matplotlib.ticker import FixedLocator

    step = 52 if weeks > 104 else 26 if weeks > 39 else 13
    return FixedLocator(np.arange(0, weeks + 1, step))


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 x 10^k at or above ``x``.

    Few steps: limits change (and the charts' static parts are redrawn) only now and then.
    """
    if x <= 1:
        return 1.0
    k = 10 ** np.floor(np.log10(x))
    for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if m * k >= x:
            return float(m * k)
    return float(10 * k)


def y_limits(traces: list[Trace], ensembles: list[Ensemble | None]) -> dict[str, float]:
    """Upper y limit of each panel over several runs (shared by runs side by side).

    Limits are rounded up to a few nice values, so they change (and the static
    parts of the charts are redrawn) only now and then.
    """
    out = {}
    for panel in PANELS:
        top = 0.0
        for name in panel.series:
            for tr in traces:
                if tr.n:
                    top = max(top, float(np.max(tr.series(name))) * panel.scale)
            for ens in ensembles:
                if ens is not None:
                    top = max(top, float(np.max(ens.band(name)[1])) * panel.scale)
        out[panel.key] = max(panel.floor, nice_ceiling(top * panel.headroom))
    return out


class Charts:
    """Six charts of one run; the static parts (axes, bands) are drawn once and kept.

    Args:
        width_px, height_px: Size of the picture.
        columns: Charts per row (3 for one run, 2 for A/B columns).
    """

    def __init__(self, width_px: int = 1500, height_px: int = 620, columns: int = 3) -> None:
        self.fig = fig = new_figure(width_px, height_px)
        rows = -(-len(PANELS) // columns)
        self.axes = fig.subplots(rows, columns).ravel()
        if columns == 3:
            fig.subplots_adjust(left=0.06, right=0.975, bottom=0.08, top=0.92, wspace=0.25,
                                hspace=0.5)
        else:
            fig.subplots_adjust(left=0.09, right=0.96, bottom=0.06, top=0.9, wspace=0.34,
                                hspace=0.55)
        self.blit = Blitter(fig)
        self.lines: dict[str, object] = {}
        self.now: list = []
        self._bands: list = []
        self._state: tuple | None = None
        for ax, panel in zip(self.axes, PANELS, strict=False):
            _style_axis(ax, panel.title, 1, panel.key == "payments")
            for i, (name, text) in enumerate(panel.series.items()):
                (line,) = ax.plot([], [], color=_COLOUR_OF[name], lw=2.8,
                                  ls=DASHES[i % len(DASHES)], label=text)
                self.lines[name] = self.blit.add(line)
            if len(panel.series) > 1:
                ax.legend(loc="upper left", fontsize=FONT["legend"], frameon=False,
                          handlelength=1.8, labelspacing=0.25, borderaxespad=0.1)
            self.now.append(self.blit.add(ax.axvline(0, color="#888888", lw=1, ls=":")))
        for ax in self.axes[len(PANELS):]:
            ax.set_axis_off()
        self.label = fig.suptitle("", x=0.01, ha="left", fontsize=FONT["title"], color=INK,
                                  weight="bold")

    def _background(self, ensemble: Ensemble | None, weeks: int,
                    limits: dict[str, float], label: str) -> None:
        for band in self._bands:
            band.remove()
        self._bands = []
        for ax, panel in zip(self.axes, PANELS, strict=False):
            ax.set_xlim(0, weeks)
            ax.xaxis.set_major_locator(_year_ticks(weeks))
            ax.set_ylim(0, limits[panel.key])
            if ensemble is None:
                continue
            for name in panel.series:
                lo, hi = ensemble.band(name) * panel.scale
                xe = np.arange(1, len(lo) + 1)
                self._bands.append(ax.fill_between(xe, lo, hi, color=_COLOUR_OF[name],
                                                   alpha=0.18, lw=0))
        self.label.set_text(label)
        self.blit.invalidate()

    def update(self, trace: Trace, ensemble: Ensemble | None, weeks: int,
               limits: dict[str, float] | None = None, label: str = "") -> None:
        """Show ``trace`` (and ``ensemble``'s bands) on a 0..``weeks`` axis.

        Args:
            trace: The live run.
            ensemble: Its background replicates (None: no fan yet, or fan off).
            weeks: Length of the x axis.
            limits: Panel key -> upper y limit (default: from this run alone).
            label: Title over the charts.
        """
        if limits is None:
            limits = y_limits([trace], [ensemble])
        state = (weeks, id(ensemble), tuple(sorted(limits.items())), label)
        if state != self._state:
            self._background(ensemble, weeks, limits, label)
            self._state = state
        x = np.arange(1, trace.n + 1)
        for panel in PANELS:
            for name in panel.series:
                y = trace.series(name) * panel.scale if trace.n else np.empty(0)
                self.lines[name].set_data(x, y)
        for line in self.now:
            line.set_xdata([trace.n, trace.n])

    def png(self) -> bytes:
        return self.blit.png()

    def image(self):
        return self.blit.image()


class DifferenceChart:
    """A - B of outcomes so far and of results payments, on the same seed.

    The band is the 10-90% range of paired differences of replicates that share
    seeds (common random numbers), when both ensembles are ready.
    """

    SERIES = {"first_job_start": "found work", "first_volunteering": "volunteering",
              "first_training": "training"}

    def __init__(self, width_px: int = 1500, height_px: int = 330) -> None:
        self.fig = new_figure(width_px, height_px)
        self.axes = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
        self.fig.subplots_adjust(left=0.06, right=0.98, bottom=0.14, top=0.84, wspace=0.18)

    def update(self, a: Trace, b: Trace, ens_a: Ensemble | None, ens_b: Ensemble | None,
               weeks: int) -> dict[str, float]:
        """Draw A - B; returns the latest differences (series name -> A - B)."""
        n = min(a.n, b.n)
        x = np.arange(1, n + 1)
        latest = {}
        ax1, ax2 = self.axes
        for ax, series, title, money in (
                (ax1, self.SERIES, "Difference in outcomes so far: A − B (people)", False),
                (ax2, {"payments": "payments"}, "Results payments: A − B (£)", True)):
            ax.clear()
            _style_axis(ax, title, weeks, money)
            ax.axhline(0, color=INK, lw=1.2)
            for i, (name, text) in enumerate(series.items()):
                colour = _COLOUR_OF[name]
                if ens_a is not None and ens_b is not None:
                    band = paired_difference_band(ens_a, ens_b, name)
                    if band is not None:
                        xe = np.arange(1, band.shape[1] + 1)
                        ax.fill_between(xe, band[0], band[1], color=colour, alpha=0.18, lw=0)
                d = (a.series(name)[:n] - b.series(name)[:n]) if n else np.empty(0)
                latest[name] = float(d[-1]) if n else 0.0
                ax.plot(x, d, color=colour, lw=2.8, ls=DASHES[i % len(DASHES)],
                        label=f"{text}: {latest[name]:+,.0f}" if not money
                        else f"{_money(latest[name])}")
            ax.legend(loc="upper left", fontsize=FONT["legend"], frameon=False,
                      handlelength=1.8, labelspacing=0.25)
            if n:
                ax.axvline(n, color="#888888", lw=1, ls=":")
            lo, hi = ax.get_ylim()
            least = 2000.0 if money else 10.0  # no zoom into noise around zero
            if hi - lo < least:
                mid = (hi + lo) / 2
                ax.set_ylim(mid - least / 2, mid + least / 2)
        return latest

    def png(self) -> bytes:
        return png_bytes(self.fig)

    def image(self):
        self.fig.canvas.draw()
        return canvas_image(self.fig)
