"""Export a run as an animation (GIF, or MP4 where ffmpeg is available) for offline decks.

The frames are the workshop's own pictures - the pathway board over the live
charts, with the fan of background replicates - drawn by
:func:`pathways_sim.viz.render.draw`, so a deck shows exactly what the room saw.
With ``compare``, the frames show runs A and B side by side on the same seed
and the difference panel.

GIFs are written with Pillow (always available with matplotlib). MP4 needs an
``ffmpeg`` executable on the PATH (Debian: ``apt-get install ffmpeg``); without
one, asking for ``.mp4`` raises :class:`AnimationError` saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pathways_sim.scenario import Scenario, load_scenario
from pathways_sim.viz.render import Figures, compose, draw
from pathways_sim.viz.session import DEFAULT_SEED, Session

FORMATS = (".gif", ".mp4")
DEFAULT_EVERY = 2
DEFAULT_FPS = 8
DEFAULT_WIDTH = 1200


class AnimationError(ValueError):
    """The animation cannot be written as asked (format, writer, options)."""


@dataclass
class AnimationResult:
    """What was written.

    Attributes:
        path: The file.
        frames: Frames in it.
        size: Frame size in pixels (width, height).
        weeks: Weeks simulated.
    """

    path: Path
    frames: int
    size: tuple[int, int]
    weeks: int


def mp4_writer() -> str | None:
    """Path of the ``ffmpeg`` executable MP4s are written with, or None."""
    return shutil.which("ffmpeg")


def _frames(session: Session, weeks: int, every: int, width: int):
    """Frames (PIL images, ``width`` wide) of the session's run, one each ``every`` weeks."""
    figures = Figures()
    ab = session.ab
    last = min(weeks, session.weeks)

    def frame():
        image = compose(draw(session, figures, as_png=False), ab)
        if image.width != width:
            height = round(image.height * width / image.width)
            image = image.resize((width, height - height % 2))
        return image

    yield frame()
    while session.week < last:
        session.step(min(every, last - session.week))
        yield frame()


def animate(scenario: str | Scenario, out: str | Path, *, compare: str | Scenario | None = None,
            seed: int = DEFAULT_SEED, weeks: int | None = None, every: int = DEFAULT_EVERY,
            fps: float = DEFAULT_FPS, width: int = DEFAULT_WIDTH, fan: bool = True,
            replicates: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> AnimationResult:
    """Run ``scenario`` (and ``compare`` beside it) and write the board and charts as frames.

    Args:
        scenario: Scenario name, path or object (run A).
        out: Output file, ``.gif`` or ``.mp4``.
        compare: A second scenario run beside the first (B), on the same seed.
        seed: Seed of the run(s).
        weeks: Weeks to show (default: the scenario's ``run.weeks``).
        every: Weeks between frames.
        fps: Frames per second.
        width: Frame width in pixels (height follows).
        fan: Draw the fan of background replicates (computed first; a few seconds).
        replicates: Background replicates for the fan (default 8).
        progress: Called with (frames done, frames in all).

    Returns:
        What was written.

    Raises:
        AnimationError: Unknown format, no MP4 writer, or bad options.
        ScenarioError: A scenario does not load.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise AnimationError(f"cannot write {out.name!r}: use a file name ending in "
                             + " or ".join(FORMATS))
    if suffix == ".mp4" and mp4_writer() is None:
        raise AnimationError("MP4 needs ffmpeg on the PATH (apt-get install ffmpeg); "
                             "or write a .gif")
    if every < 1 or fps <= 0 or width < 200:
        raise AnimationError("--every must be >= 1, --fps > 0 and --width >= 200")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    other = (compare if isinstance(compare, Scenario) or compare is None
             else load_scenario(compare))
    kwargs = {} if replicates is None else {"replicates": replicates}
    session = Session(base, seed, **kwargs)
    if other is not None:
        session.set_ab(True)
        session.load_scenario(other, "B")
    session.set_fan(fan)
    if fan:
        for side in session.sides.values():
            session.ensembles.compute(side.scenario)
    weeks = session.weeks if weeks is None else max(1, min(int(weeks), session.weeks))
    total = 1 + -(-weeks // every)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = _frames(session, weeks, every, width)
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if suffix == ".gif":
        from PIL import Image

        first = None
        rest = []
        for image in frames:
            paletted = image.quantize(colors=255, method=Image.Quantize.FASTOCTREE,
                                      dither=Image.Dither.NONE)
            if first is None:
                first = paletted
            else:
                rest.append(paletted)
            tick()
        assert first is not None
        first.save(out, save_all=True, append_images=rest, duration=round(1000 / fps),
                   loop=0, optimize=False, disposal=1)
        size, count = first.size, 1 + len(rest)
    else:
        count, size = _write_mp4(frames, out, fps, tick)
    return AnimationResult(out, count, size, weeks)


def _write_mp4(frames, out: Path, fps: float, tick) -> tuple[int, tuple[int, int]]:
    """Pipe raw RGB frames to ffmpeg (H.264, yuv420p: plays in browsers and slide decks)."""
    first = next(frames)
    size = first.size
    cmd = [mp4_writer(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}", "-i", "-", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    count = 0
    try:
        for image in (first, *frames):
            proc.stdin.write(image.convert("RGB").tobytes())
            count += 1
            tick()
    finally:
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            raise AnimationError(f"ffmpeg failed: {err.strip()[-500:]}")
    return count, size
