"""Colours, fonts and names shared by the board, the charts and the app.

Colours are colour-blind safe: dots use *cividis* (a sequential map designed
to read the same with the common colour-vision deficiencies and in grey
scale); lines use the Okabe-Ito palette and differ in dash pattern too.
Fonts are sized for a projector: a figure is drawn at about the pixel size
it is shown at, with text no smaller than 14 px.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pathways_sim import stages
from pathways_sim.report.plots import OKABE_ITO

#: Lanes of the pathway board, left to right: "referred" (waiting clients referred in
#: the week just simulated), then the stages of :data:`pathways_sim.stages.STAGES`.
LANES = stages.LANE_NAMES

#: Lane titles as a room reads them (the stages' labels: two short lines each).
LANE_TITLES = {lane.name: lane.label for lane in stages.LANES}

#: Dot colour map and the distance range it spans.
DOT_CMAP = "cividis_r"  # reversed: close to work is bright yellow, far is dark blue
DIST_RANGE = (0.1, 0.85)

#: Line colours of chart series (Okabe-Ito), keyed by stage name for the stages.
SERIES_COLOURS = {
    "waiting": OKABE_ITO[4],
    "with_link_worker": OKABE_ITO[3],
    "in_activity": OKABE_ITO[1],
    "stepping_stone": OKABE_ITO[2],
    "work_support": OKABE_ITO[5],
    "in_work": OKABE_ITO[0],
    "sustained": OKABE_ITO[7],
    "first_job_start": OKABE_ITO[0],
    "first_volunteering": OKABE_ITO[2],
    "first_training": OKABE_ITO[5],
}
SIDE_COLOURS = {"A": OKABE_ITO[3], "B": OKABE_ITO[4]}
DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))

#: Font sizes in points (figures are drawn at 100 dpi: 1 pt = 1.39 px).
FONT = {"base": 13, "title": 15, "lane": 13, "count": 20, "tick": 12, "legend": 12}
DPI = 100

#: Faint fill of the lanes and the text colour.
LANE_FILL = "#F2F2F2"
INK = "#222222"


def new_figure(width_px: int, height_px: int) -> Figure:
    """A figure of about ``width_px`` x ``height_px`` pixels with an Agg canvas (no pyplot)."""
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure drawn in full, as PNG bytes."""
    fig.canvas.draw()
    return canvas_png(fig)


def canvas_image(fig: Figure):
    """What the figure's canvas holds now, as an RGB :class:`PIL.Image.Image` (a copy)."""
    from PIL import Image

    rgba = fig.canvas.buffer_rgba()
    return Image.frombuffer("RGBA", (int(rgba.shape[1]), int(rgba.shape[0])), rgba,
                            "raw", "RGBA", 0, 1).convert("RGB")


def encode_png(image) -> bytes:
    """A PIL image as PNG bytes (light compression: fast to make, fine on a LAN)."""
    import io

    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def canvas_png(fig: Figure) -> bytes:
    """What the figure's canvas holds now, as PNG bytes."""
    return encode_png(canvas_image(fig))


class Blitter:
    """Redraw only what changes: a figure's static background is drawn once and kept.

    Artists passed to :meth:`add` are drawn over the saved background on each
    :meth:`draw`; call :meth:`invalidate` when anything in the background
    changes (limits, bands, titles).
    """

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.artists: list = []
        self._background = None

    def add(self, artist):
        artist.set_animated(True)
        self.artists.append(artist)
        return artist

    def invalidate(self) -> None:
        self._background = None

    def draw(self) -> None:
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()  # animated artists are left out of a full draw
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self.artists:
            if artist.get_visible():
                self.fig.draw_artist(artist)

    def png(self) -> bytes:
        self.draw()
        return canvas_png(self.fig)

    def image(self):
        """The figure now as an RGB PIL image."""
        self.draw()
        return canvas_image(self.fig)
