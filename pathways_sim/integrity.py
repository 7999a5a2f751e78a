"""Results folders that cannot be lost: one writer at a time, strict JSON reading.

A sweep or a calibration takes :func:`lock_folder` on its results folder
for as long as it writes there. The lock is an exclusive ``flock`` on the
hidden file ``<folder>/.pathways-sim.lock``, held through an open file
descriptor, so the operating system releases it the moment the process
ends, however it ends (``kill -9`` included): a lock can never be left
stale. The holder writes its pid, command line, host and start time into
the file, so a second writer is refused with a message naming it::

    error: output/sweeps/smoke is in use by another pathways-sim process
    (pid 4242 on host a1, started 2026-12-06T21:00:03+00:00: pathways-sim sweep smoke
    --resume); wait for it to finish or stop it, then try again

A lock file left by a process that died is taken over with one note. The
file is removed when the lock is released normally. Worker processes never
hold the lock: the descriptor is not inherited (pools start workers with
``forkserver`` or ``spawn``).

:func:`read_json` reads the folder's JSON files (manifest, index, states)
and turns a missing, unreadable or corrupt file into a
:class:`~pathways_sim.scenario.ScenarioError` (exit 2 from the command
line) that names the file and what to do, instead of a ``JSONDecodeError``.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pathways_sim.scenario import ScenarioError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "FolderBusy", "FolderLock", "lock_folder", "lock_holder", "read_json"]

LOCK_NAME = ".pathways-sim.lock"
"""The lock file in a results folder (hidden, so part listings skip it)."""


class FolderBusy(OSError):
    """Another live process holds the results folder's lock.

    An ``OSError`` (``EBUSY``): the command cannot proceed (exit 1), though
    nothing is wrong with its input.

    Attributes:
        folder: The results folder.
        holder: What the holder wrote in the lock file (pid, command,
            started_utc, host), possibly empty.
    """

    def __init__(self, folder: Path, holder: dict[str, Any]) -> None:
        self.folder, self.holder = folder, holder
        super().__init__(errno.EBUSY, self._message(), str(folder / LOCK_NAME))

    def _message(self) -> str:
        h = self.holder
        if h.get("pid"):
            who = (f"pid {h['pid']}" + (f" on host {h['host']}" if h.get("host") else "")
                   + f", started {h.get('started_utc', 'at an unknown time')}: "
                   + _command_text(h.get("command")))
        else:
            who = "a process that is still starting"
        return (f"{self.folder} is in use by another pathways-sim process ({who}); wait for it "
                "to finish or stop it, then try again")

    def __str__(self) -> str:
        return self._message()


def _command_text(command: Any, limit: int = 200) -> str:
    text = " ".join(str(c) for c in command) if isinstance(command, list) else str(command or "?")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FolderLock:
    """An exclusive lock on a results folder (see the module's description).

    Args:
        folder: The results folder (created if missing).
        command: The holder's command line, written into the lock file.
        stream: Where the one-line note about a taken-over stale lock goes
            (default ``sys.stderr``).
    """

    def __init__(self, folder: Path | str, command: Sequence[str] | None = None,
                 stream: TextIO | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.command = list(command) if command is not None else [sys.argv[0], *sys.argv[1:]]
        self.stream = stream
        self.fd: int | None = None
        self.created_folder = False
        self.stale: dict[str, Any] = {}

    def acquire(self) -> FolderLock:
        """Take the lock, or raise at once.

        Returns:
            This lock.

        Raises:
            FolderBusy: Another live process holds it.
            ScenarioError: The folder is a file.
        """
        if self.fd is not None:
            raise RuntimeError(f"{self.path} is already held by this lock")
        if self.folder.exists() and not self.folder.is_dir():
            raise ScenarioError(str(self.folder), None, "is a file, not a folder",
                                "a new or empty folder")
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            self.created_folder = True
        if fcntl is None:  # pragma: no cover - no advisory locks on this platform
            return self
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                holder = _read_holder(self.path)
                for _ in range(20):  # the holder writes its record just after locking
                    if holder:
                        break
                    time.sleep(0.05)
                    holder = _read_holder(self.path)
                raise FolderBusy(self.folder, holder) from None
            # The holder before us may have removed the file between our open and our
            # lock: then we hold a lock nobody else can see. Start again on the new file.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self.fd = fd
        self.stale = _read_holder(self.path)
        record = {"pid": os.getpid(), "command": self.command, "started_utc": _now(),
                  "host": socket.gethostname()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        os.fsync(fd)
        if self.stale.get("pid"):
            print(f"note: {self.folder} was locked by pid {self.stale['pid']} (started "
                  f"{self.stale.get('started_utc', '?')}), which is no longer running; "
                  "its lock is taken over", file=self.stream or sys.stderr, flush=True)
        return self

    def release(self) -> None:
        """Remove the lock file and release the lock (a no-op when not held)."""
        fd, self.fd = self.fd, None
        if fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # still holding it: nobody can take it meanwhile
        finally:
            os.close(fd)
        if self.created_folder:
            try:
                self.folder.rmdir()  # a folder this lock made and nothing used
            except OSError:
                pass

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextmanager
def lock_folder(folder: Path | str, command: Sequence[str] | None = None,
                stream: TextIO | None = None) -> Iterator[FolderLock]:
    """Hold a results folder's lock for the ``with`` block.

    Args:
        folder: The results folder (created if missing; removed again on
            release when this made it and it is still empty).
        command: The command line to name in a refusal (default ``sys.argv``).
        stream: Where a note about a taken-over stale lock goes (default stderr).

    Raises:
        FolderBusy: Another live process holds the lock.
        ScenarioError: ``folder`` is a file.
    """
    lock = FolderLock(folder, command, stream).acquire()
    try:
        yield lock
    finally:
        lock.release()


def lock_holder(folder: Path | str) -> dict[str, Any] | None:
    """Who writes to a folder right now: the lock holder's record, or None.

    Never takes the lock for more than an instant and never changes the folder.
    """
    path = Path(folder) / LOCK_NAME
    if fcntl is None or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _read_holder(path) or {"pid": None}
    finally:
        os.close(fd)  # releases our shared lock, never the holder's
    return None


def read_json(path: Path | str, fix: str, kind: type = dict,
              error: type[ScenarioError] = ScenarioError) -> Any:
    """Read a JSON file of a results folder, or raise a clear error.

    Args:
        path: The file.
        fix: What to do when the file is missing or corrupt (the error's
            "Allowed" part), e.g. ``"rebuild it with pathways-sim sweep EXP
            --out DIR --repair"``.
        kind: The type the top-level value must have.
        error: The error type to raise (a ScenarioError).

    Returns:
        The parsed value.

    Raises:
        ScenarioError: The file is missing, unreadable, not JSON, or not a
            ``kind`` (exit 2 from the command line).
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise error(str(p), None, "is missing", fix) from None
    except UnicodeDecodeError:
        raise error(str(p), None, "is damaged (not UTF-8 text)", fix) from None
    except OSError as exc:
        raise error(str(p), None, f"cannot be read ({exc.strerror})", fix) from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        problem = "is empty" if not text.strip() else f"is damaged (not valid JSON{where})"
        raise error(str(p), None, problem, fix) from None
    if not isinstance(value, kind):
        raise error(str(p), None, f"is damaged (a JSON {type(value).__name__}, not "
                            f"a {'JSON object' if kind is dict else kind.__name__})", fix)
    return value
