"""The pathway board: the stages as lanes, each client a dot moving between them.

Lanes run left to right from referral to work (:data:`~pathways_sim.viz.style.LANES`).
A dot's lane is the client's stage (:func:`~pathways_sim.viz.trace.lane_codes`);
its height is the client's current distance from the labour market (higher is
closer to work), so a dot drifting up is distance travelled; its colour is the
distance from work at referral (or now), on a colour-blind-safe map. A dot keeps
its horizontal place in a lane (a hash of the client), so only clients who change
lane or distance move. Each lane shows how many clients are in it.

When more clients are followed than ``max_dots``, a fixed random subset of clients
(the same all run) is drawn, and the counts still count everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.patches import FancyBboxPatch

from pathways_sim.viz.style import (
    DIST_RANGE,
    DOT_CMAP,
    FONT,
    INK,
    LANE_FILL,
    LANE_TITLES,
    LANES,
    Blitter,
    new_figure,
)
from pathways_sim.viz.trace import clients_in_view, lane_codes

DEFAULT_MAX_DOTS = 2000
_Y_LO, _Y_HI = 0.1, 0.95  # closeness to work (1 - distance) shown
_GOLD = np.uint64(11400714819323198485)


def _hash01(idx: np.ndarray, salt: int) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per client index (Fibonacci hashing)."""
    with np.errstate(over="ignore"):
        h = (idx.astype(np.uint64) + np.uint64(salt)) * _GOLD
    return (h >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def sample_rate(scenario, max_dots: int) -> float:
    """Share of clients drawn so that a full follow-up window shows about ``max_dots``."""
    v = scenario.values
    per_year = v["referrals.per_year"] + (v["jcp.referrals_per_year"] if v["jcp.partnership"]
                                          else 0.0)
    expected = per_year * v["run.scale"] * min(v["run.follow_up_weeks"], v["run.weeks"]) / 52
    return 1.0 if expected <= max_dots else max_dots / expected


@dataclass
class BoardData:
    """What the board shows of a model at one moment.

    Attributes:
        x, y: Dot positions (lane index + offset; closeness to work).
        colour: Distance value that colours each dot.
        counts: Clients in each lane (all clients, not only the dots drawn).
        shown: Dots drawn.
        total: Clients followed (rejected referrals left out).
    """

    x: np.ndarray
    y: np.ndarray
    colour: np.ndarray
    counts: np.ndarray
    shown: int
    total: int


def board_data(model, rate: float = 1.0, colour_by: str = "referral") -> BoardData:
    """Dots and lane counts of ``model`` now.

    Args:
        model: A :class:`~pathways_sim.model.model.PathwaysModel`.
        rate: Share of clients drawn (a fixed subset: see :func:`sample_rate`).
        colour_by: ``"referral"`` (distance at referral) or ``"now"`` (current distance).
    """
    idx = clients_in_view(model)
    codes = lane_codes(model, idx)
    counts = np.bincount(codes, minlength=len(LANES))
    if rate < 1.0:
        keep = _hash01(idx, 0) < rate
        idx, codes = idx[keep], codes[keep]
    s = model.clients
    x = codes + 0.08 + 0.84 * _hash01(idx, 7)
    y = np.clip(1.0 - s.dist[idx], _Y_LO + 0.01, _Y_HI - 0.01)
    colour = s.dist0[idx] if colour_by == "referral" else s.dist[idx]
    return BoardData(x, y, colour, counts, len(idx), int(counts.sum()))


class Board:
    """A board figure whose dots and counts are updated in place (fast redraws).

    Args:
        width_px, height_px: Size of the picture.
        compact: Smaller text, for two boards side by side.
    """

    def __init__(self, width_px: int = 1500, height_px: int = 560, compact: bool = False) -> None:
        self.fig = fig = new_figure(width_px, height_px)
        scale = 0.9 if compact else 1.0
        self._dot_size = 14 if compact else 18
        top = 0.74
        left, width = (0.045, 0.865) if compact else (0.045, 0.89)
        self.ax = ax = fig.add_axes((left, 0.03, width, top - 0.03))
        self.cax = fig.add_axes((left + width + 0.015, 0.08, 0.015, top - 0.13))
        n = len(LANES)
        ax.set_xlim(0, n)
        ax.set_ylim(_Y_LO, _Y_HI)
        ax.set_axis_off()
        for i in range(n):
            ax.add_patch(FancyBboxPatch((i + 0.04, _Y_LO + 0.005), 0.92, _Y_HI - _Y_LO - 0.01,
                                        boxstyle="round,pad=0,rounding_size=0.06",
                                        facecolor=LANE_FILL, edgecolor="#BBBBBB", lw=1))
        fig.text(left / 2, 0.03 + (top - 0.03) / 2, "closer to work  →", rotation=90,
                 ha="center", va="center", fontsize=FONT["tick"] * scale, color="#555555")
        self.title = fig.text(left, 0.985, "", ha="left", va="top",
                              fontsize=FONT["title"] * scale * 1.1, color=INK, weight="bold")
        self.note = fig.text(left + width, 0.985, "", ha="right", va="top",
                             fontsize=FONT["tick"] * scale, color="#555555")
        self.counts = []
        for i, lane in enumerate(LANES):
            xf = left + width * (i + 0.5) / n
            fig.text(xf, top + 0.115, LANE_TITLES[lane], ha="center", va="center",
                     fontsize=FONT["lane"] * scale, color=INK, linespacing=1.0)
            self.counts.append(fig.text(xf, top + 0.015, "0", ha="center", va="bottom",
                                        fontsize=FONT["count"] * scale, color=INK,
                                        weight="bold"))
        self.norm = Normalize(*DIST_RANGE)
        self.cmap = colormaps[DOT_CMAP]
        self.dots = ax.scatter(np.empty(0), np.empty(0), c=np.empty(0), s=self._dot_size,
                               cmap=self.cmap, norm=self.norm, linewidths=0)
        cb = fig.colorbar(self.dots, cax=self.cax)
        cb.set_ticks(DIST_RANGE, labels=["close", "far"], fontsize=FONT["tick"] * scale)
        cb.ax.invert_yaxis()
        self.cbar_label = cb.ax.set_title("", fontsize=FONT["tick"] * scale * 0.9, loc="left")
        self._colour_by = None
        self.blit = Blitter(fig)
        for artist in (self.dots, self.title, self.note, *self.counts):
            self.blit.add(artist)

    def update(self, data: BoardData, title: str, colour_by: str = "referral") -> None:
        """Show ``data`` with ``title`` (e.g. ``"A: Medium service - week 12"``)."""
        self.dots.set_offsets(np.column_stack([data.x, data.y]) if data.shown
                              else np.empty((0, 2)))
        self.dots.set_array(data.colour)
        for text, c in zip(self.counts, data.counts, strict=True):
            text.set_text(f"{int(c):,}")
        self.title.set_text(title)
        shown = ("every client" if data.shown == data.total
                 else f"dots: {data.shown:,} of {data.total:,} clients")
        self.note.set_text(shown)
        if colour_by != self._colour_by:
            self.cbar_label.set_text("at\nreferral" if colour_by == "referral" else "now")
            self._colour_by = colour_by
            self.blit.invalidate()

    def png(self) -> bytes:
        """The board as PNG bytes."""
        return self.blit.png()

    def image(self):
        """The board as an RGB PIL image."""
        return self.blit.image()
