"""Output folders of the commands: checked before computing, replaced only safely.

The convention (docs/cli.md, "Output folders"):

* A command refuses an output folder that exists and is not empty, before
  computing anything, unless ``--overwrite`` (or ``--resume`` where a command
  can continue its work).
* ``--overwrite`` deletes only a folder that holds a pathways-sim output (a
  ``manifest.json`` written by this package). The new results are written to a
  temporary sibling folder and swapped in at the end, so a run that fails or is
  interrupted leaves the old results as they were.
* Before computing, the folder (or the nearest existing folder above it) is
  checked to be a folder in which files can be created. A problem is one line
  naming the path and the problem: exit 2 when it is bad input (a file where a
  folder is expected, a non-empty folder without ``--overwrite``), exit 1 when
  the path cannot be written (permissions, read-only file system).

Typical use::

    check_output_folder(out, overwrite=args.overwrite)   # before computing
    ...compute...
    with staged_folder(out) as tmp:                      # after computing
        write_everything(tmp)
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "OutputError",
    "check_output_file",
    "check_output_folder",
    "describe_os_error",
    "holds_pathways_output",
    "is_disk_full",
    "os_problem",
    "staged_folder",
]

EXIT_FAILURE, EXIT_BAD_INPUT = 1, 2
MANIFEST = "manifest.json"
PACKAGE = "pathways-sim"


class OutputError(Exception):
    """An output path that cannot be used: ``str(exc)`` is the one-line message.

    Attributes:
        path: The path.
        problem: What is wrong, in words.
        exit_code: 2 for bad input (wrong kind of path, a non-empty folder
            without ``--overwrite``), 1 when it cannot be written.
    """

    def __init__(self, path: Path | str, problem: str, exit_code: int = EXIT_FAILURE) -> None:
        self.path, self.problem, self.exit_code = str(path), problem, exit_code
        super().__init__(f"{self.path}: {problem}")


def os_problem(exc: OSError) -> str:
    """The problem an ``OSError`` reports, in words (without the path)."""
    return {
        errno.ENOSPC: "no space left on the device (disk full)",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "is a folder, not a file",
        errno.ENOENT: "no such file or folder",
    }.get(exc.errno or -1, exc.strerror or str(exc))


def describe_os_error(exc: OSError) -> str:
    """One line for an ``OSError``: the path it names, then the problem in words."""
    return f"{exc.filename}: {os_problem(exc)}" if exc.filename is not None else os_problem(exc)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def holds_pathways_output(folder: Path) -> bool:
    """Whether ``folder`` holds a pathways-sim output: a manifest.json this package wrote."""
    try:
        doc = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("package") == PACKAGE


def _existing_ancestor(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        if path.is_symlink():  # a dangling link: its target's folder decides
            break
        path = path.parent
    return path


def _probe(folder: Path, what: Path) -> None:
    """Create and remove a temporary folder in ``folder``; OutputError if that fails."""
    try:
        probe = tempfile.mkdtemp(prefix=".pathways-sim-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(what, f"cannot be written ({os_problem(exc)} in {folder})") from None
    os.rmdir(probe)


def check_output_folder(out: Path | str, overwrite: bool = False, resume: bool = False,
                        option: str = "--out", hint: str | None = None) -> None:
    """Check that ``out`` can take a command's results, before any work is done.

    Args:
        out: The output folder.
        overwrite: ``--overwrite`` was given: a non-empty folder holding a
            pathways-sim output may be replaced.
        resume: ``--resume`` was given: a non-empty folder is continued.
        option: The option naming the folder, for the message.
        hint: What to do about a non-empty folder (default: pass --overwrite
            or choose another ``option``); it must name only options the
            command has.

    Raises:
        FolderBusy: Another live pathways-sim process holds the folder's lock (exit 1).
        OutputError: The path is a file (exit 2); the folder is not empty and
            neither ``overwrite`` nor ``resume`` is given (exit 2); ``overwrite``
            is given but the folder does not hold a pathways-sim output (exit
            2); the folder or its parent cannot be written (exit 1).
    """
    from pathways_sim.integrity import FolderBusy, lock_holder

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(out, f"is a file, not a folder ({option} names a folder)",
                          EXIT_BAD_INPUT)
    if out.is_dir():
        holder = lock_holder(out)
        if holder is not None:  # a live process is writing there: say who, whatever the flags
            raise FolderBusy(out, holder)
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            raise OutputError(out, f"cannot be read ({os_problem(exc)})") from None
        if not empty and not resume:
            if not overwrite:
                raise OutputError(out, "exists and is not empty; " + (
                    hint or f"pass --overwrite to replace it, or choose another {option}"),
                    EXIT_BAD_INPUT)
            if not holds_pathways_output(out):
                raise OutputError(out, "exists and does not hold a pathways-sim output (no "
                                  f"{MANIFEST} written by {PACKAGE}); --overwrite deletes only "
                                  f"such folders: empty it yourself or choose another {option}",
                                  EXIT_BAD_INPUT)
            if Path.cwd().resolve().is_relative_to(out.resolve()):
                raise OutputError(out, "is the current folder or holds it, so it cannot be "
                                  f"replaced; choose another {option}", EXIT_BAD_INPUT)
        _probe(out, out)
        if overwrite:  # the new results go to a sibling first
            _probe(_existing_ancestor(out.parent), out)
        return
    base = _existing_ancestor(out)
    if not base.is_dir():
        raise OutputError(out, f"cannot be created: {base} is a file, not a folder",
                          EXIT_BAD_INPUT)
    _probe(base, out)


def check_output_file(path: Path | str, option: str = "--json") -> None:
    """Check that a file can be written at ``path`` (it is replaced if it exists).

    Raises:
        OutputError: ``path`` is a folder, or a part of it is a file (exit 2);
            its folder cannot be written (exit 1).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(path, f"is a folder ({option} names a file)", EXIT_BAD_INPUT)
    base = _existing_ancestor(path.parent)
    if not base.is_dir():
        raise OutputError(path, f"cannot be created: {base} is a file, not a folder",
                          EXIT_BAD_INPUT)
    _probe(base, path)


@contextlib.contextmanager
def staged_folder(out: Path | str) -> Iterator[Path]:
    """A folder to write the results of ``out`` into; swapped in when the block ends.

    When ``out`` does not exist or is empty, the block writes into ``out``
    itself (a folder made here is removed again if the block raises). When it
    holds earlier results (the caller checked ``--overwrite`` with
    :func:`check_output_folder`), the block writes into a temporary sibling;
    at the end the old folder is moved aside, the new one renamed to ``out``
    and the old one deleted. If the block raises, the temporary folder
    is deleted and ``out`` is left as it was.

    Yields:
        The folder to write into.
    """
    out = Path(out)
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        made = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        try:
            yield out
        except BaseException:
            if made:  # nothing was there before: leave nothing behind
                shutil.rmtree(out, ignore_errors=True)
            raise
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)  # put the old results back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
