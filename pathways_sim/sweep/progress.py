"""Progress of a sweep on stderr: a bar on a terminal, sparse log lines elsewhere.

On a terminal, a tqdm bar shows runs done, failures and the ETA. In a log
file or a CI job (stderr not a terminal), a bar would flood the log, so one
line is written every 10% of the runs or every 30 seconds, whichever comes
first, plus a final line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

__all__ = ["Progress"]

LOG_EVERY_SHARE = 0.10
"""A log line at least every this share of the runs (no terminal)."""

LOG_EVERY_SECONDS = 30.0
"""A log line at least every this many seconds (no terminal)."""


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


class Progress:
    """Counts runs done and failed and shows them.

    Args:
        label: What is running (the experiment's name).
        total: Runs in the sweep.
        done: Runs already done (a resumed sweep).
        failed: Runs already failed.
        stream: Where to write (default ``sys.stderr``).
        enabled: False to show nothing.
        unit: What is counted (``run``; ``replicate`` for ``pathways-sim run``).
    """

    def __init__(self, label: str, total: int, done: int = 0, failed: int = 0,
                 stream: TextIO | None = None, enabled: bool = True, unit: str = "run") -> None:
        self.label, self.total, self.done, self.failed = label, total, done, failed
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self._start_done = done
        self._t0 = time.monotonic()
        self._last_log_t = self._t0
        self._last_log_done = done
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(enabled and isatty is not None and isatty())
        self._bar = None
        if self._tty:
            self._bar = tqdm(total=total, initial=done, desc=label, unit=unit,
                             file=self.stream, mininterval=0.5, dynamic_ncols=True)
            if unit == "run":  # only runs of a sweep can fail and go on
                self._bar.set_postfix(failed=failed, refresh=False)

    def eta_seconds(self) -> float | None:
        """Seconds left at the rate of this session's runs, or None before any."""
        ran = self.done - self._start_done
        if ran <= 0:
            return None
        rate = (time.monotonic() - self._t0) / ran
        return rate * (self.total - self.done)

    def line(self) -> str:
        """The current state in one line."""
        pct = 100.0 * self.done / self.total if self.total else 100.0
        eta = self.eta_seconds()
        elapsed = time.monotonic() - self._t0
        failed = f"{self.failed} failed, " if self.unit == "run" or self.failed else ""
        return (f"{self.label}: {self.done}/{self.total} {self.unit}s ({pct:.0f}%), "
                f"{failed}{_duration(elapsed)} elapsed"
                + (f", ETA {_duration(eta)}" if eta is not None and self.done < self.total else ""))

    def update(self, n: int = 1, failed: int = 0) -> None:
        """Count ``n`` more runs, ``failed`` of them failed."""
        self.done += n
        self.failed += failed
        if not self.enabled:
            return
        if self._bar is not None:
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(n)
            return
        now = time.monotonic()
        step = max(1, int(self.total * LOG_EVERY_SHARE))
        if self.done - self._last_log_done >= step or now - self._last_log_t >= LOG_EVERY_SECONDS:
            self._log(now)

    def _log(self, now: float) -> None:
        print(self.line(), file=self.stream, flush=True)
        self._last_log_t, self._last_log_done = now, self.done

    def close(self) -> None:
        """Finish the bar, or write a final line."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.done != self._last_log_done or self.done == self._start_done:
            self._log(time.monotonic())
