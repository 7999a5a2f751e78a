"""Draw a whole session: boards, charts and the difference panel (no Solara needed).

:func:`draw` is what the app shows after every change; :func:`compose` puts the
same pictures together into one frame, for animations and decks.
"""

from __future__ import annotations

from typing import Any

from pathways_sim.viz.board import Board, board_data
from pathways_sim.viz.charts import Charts, DifferenceChart, y_limits
from pathways_sim.viz.session import Session
from pathways_sim.viz.style import LANE_TITLES, LANES, encode_png

#: Picture sizes in pixels: one run, and each of two runs side by side.
SIZES = {
    "board": (1500, 520), "charts": (1500, 600),
    "board_ab": (1000, 560), "charts_ab": (1000, 820), "diff": (1500, 330),
}


class Figures:
    """The figures of one page, kept between redraws (so only what changes is redrawn)."""

    def __init__(self) -> None:
        self.boards: dict[tuple[str, bool], Board] = {}
        self.charts: dict[tuple[str, bool], Charts] = {}
        self.diff: DifferenceChart | None = None

    def board(self, label: str, ab: bool) -> Board:
        key = (label, ab)
        if key not in self.boards:
            self.boards[key] = (Board(*SIZES["board_ab"], compact=True) if ab
                                else Board(*SIZES["board"]))
        return self.boards[key]

    def chart(self, label: str, ab: bool) -> Charts:
        key = (label, ab)
        if key not in self.charts:
            self.charts[key] = (Charts(*SIZES["charts_ab"], columns=2) if ab
                                else Charts(*SIZES["charts"], columns=3))
        return self.charts[key]

    def difference(self) -> DifferenceChart:
        if self.diff is None:
            self.diff = DifferenceChart(*SIZES["diff"])
        return self.diff


def lanes_caption(counts, shown: int) -> str:
    """The lane counts in words (for screen readers, tests and the room's notes)."""
    lanes = ", ".join(f"{LANE_TITLES[lane].replace(chr(10), ' ')} {int(c):,}"
                      for lane, c in zip(LANES, counts, strict=True))
    total = int(sum(counts))
    dots = "every client a dot" if shown == total else f"{shown:,} dots for {total:,} clients"
    return f"{lanes} ({dots})"


def draw(session: Session, figures: Figures, as_png: bool = True) -> dict[str, Any]:
    """Draw every side of ``session`` now.

    Args:
        session: The session.
        figures: The figures to draw into (kept by the caller between calls).
        as_png: PNG bytes (for the page) or PIL images (for frames).

    Returns:
        ``board-<side>``, ``charts-<side>`` and, with two sides, ``diff`` pictures;
        ``lanes-<side>`` captions, ``shown-<side>`` dot counts and, with two sides,
        ``latest`` (series -> A - B now).
    """
    out: dict[str, Any] = {}

    def picture(fig_obj):
        image = fig_obj.image()
        return encode_png(image) if as_png else image

    with session.lock:
        ab = session.ab
        sides = list(session.sides.values())
        ensembles = {s.label: (session.ensembles.get(s.scenario) if session.fan else None)
                     for s in sides}
        limits = y_limits([s.trace for s in sides], list(ensembles.values()))
        for side in sides:
            data = board_data(side.model, side.rate(session.max_dots), session.colour_by)
            board = figures.board(side.label, ab)
            prefix = f"{side.label}: " if ab else ""
            board.update(data, f"{prefix}{side.title} - week {side.week}", session.colour_by)
            out[f"board-{side.label}"] = picture(board)
            out[f"lanes-{side.label}"] = lanes_caption(data.counts, data.shown)
            out[f"shown-{side.label}"] = data.shown
            chart = figures.chart(side.label, ab)
            chart.update(side.trace, ensembles[side.label], side.weeks, limits,
                         f"{side.label}: {side.title}" if ab else "")
            out[f"charts-{side.label}"] = picture(chart)
        if ab:
            a, b = session.sides["A"], session.sides["B"]
            diff = figures.difference()
            out["latest"] = diff.update(a.trace, b.trace, ensembles["A"], ensembles["B"],
                                        session.weeks)
            out["diff"] = picture(diff)
    return out


def compose(images: dict[str, Any], ab: bool):
    """One frame from :func:`draw`'s PIL images: boards over charts (and the difference)."""
    from PIL import Image

    if not ab:
        rows = [[images["board-A"]], [images["charts-A"]]]
    else:
        rows = [[images["board-A"], images["board-B"]], [images["charts-A"], images["charts-B"]],
                [images["diff"]]]
    width = max(sum(im.width for im in row) for row in rows)
    height = sum(max(im.height for im in row) for row in rows)
    frame = Image.new("RGB", (width, height), "white")
    y = 0
    for row in rows:
        x = (width - sum(im.width for im in row)) // 2
        for im in row:
            frame.paste(im, (x, y))
            x += im.width
        y += max(im.height for im in row)
    return frame


_SPARE: list[Figures] = []


def take_figures() -> Figures:
    """Figures for a new page: the warmed-up ones if no page has taken them yet."""
    try:
        return _SPARE.pop()
    except IndexError:
        return Figures()


def warm_up() -> None:
    """Draw a small session once (loads fonts, fills matplotlib's text caches, and leaves
    ready-made figures for the first page)."""
    from pathways_sim.scenario import load_scenario

    session = Session(load_scenario("medium").with_changes({"run.weeks": 2}), replicates=1)
    session.step(1)
    session.set_fan(False)
    figures = Figures()
    draw(session, figures)
    _SPARE.append(figures)
