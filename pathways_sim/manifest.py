"""Run manifests: everything needed to reproduce a set of outputs, in one JSON file.

A manifest records the fully resolved scenario, the root seed and the seed of
every replicate, the versions of the package, of Python and of the libraries
the results depend on, the git commit of the code (and whether the working
tree had uncommitted changes), when and how the run was started, and a
SHA-256 checksum of every output file it describes.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pathways_sim.scenario import Scenario

PACKAGE = "pathways-sim"
"""Distribution name of this package."""

LIBRARIES = ("mesa", "numpy", "pandas", "scipy", "matplotlib", "pyarrow")
"""Libraries whose versions are recorded."""

_GIT_TIMEOUT = 5.0


def package_version(name: str) -> str | None:
    """The installed version of a distribution.

    Args:
        name: Distribution name, e.g. ``"numpy"``.

    Returns:
        The version string, or None when the distribution is not installed.
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(path: Path | None = None) -> dict[str, Any]:
    """The git commit of the checkout containing ``path`` and whether it is dirty.

    Never raises: outside a git checkout, or without git installed, both
    values are None.

    Args:
        path: A file or folder in the checkout; default this package's folder.

    Returns:
        ``{"git_sha": str | None, "git_dirty": bool | None}``.
    """
    where = Path(__file__).resolve().parent if path is None else Path(path).resolve()
    if where.is_file():
        where = where.parent
    sha = _git(["rev-parse", "HEAD"], where)
    if not sha:
        return {"git_sha": None, "git_dirty": None}
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return {"git_sha": sha, "git_dirty": None if status is None else bool(status)}


def build_manifest(
    scenario: Scenario,
    root_seed: int,
    seeds: Sequence[int],
    command: Sequence[str] | str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Describe a run so that it can be reproduced.

    Args:
        scenario: The resolved scenario that was run (after any overrides).
        root_seed: The root seed the replicate seeds were derived from.
        seeds: The seed of each replicate, in replicate order.
        command: The command line (a list of arguments, or one string).
        extra: More JSON-serialisable entries to record (merged in last).

    Returns:
        A JSON-serialisable dict with keys ``scenario``, ``root_seed``,
        ``replicates``, ``seeds``, ``package``, ``package_version``, ``python``,
        ``libraries``, ``git_sha``, ``git_dirty``, ``timestamp_utc``,
        ``command``, ``platform`` (plus any ``extra`` keys).
    """
    cmd = list(command) if not isinstance(command, str) else [command]
    manifest: dict[str, Any] = {
        "scenario": scenario.to_dict(),
        "root_seed": int(root_seed),
        "replicates": len(seeds),
        "seeds": [int(s) for s in seeds],
        "package": PACKAGE,
        "package_version": package_version(PACKAGE),
        "python": platform.python_version(),
        "libraries": {lib: package_version(lib) for lib in LIBRARIES},
        **git_state(),
        "timestamp_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": cmd,
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
    }
    if extra:
        manifest.update(extra)
    return manifest


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 checksum of a file, as hex.

    Args:
        path: The file.
        chunk: Bytes read at a time.

    Returns:
        64 lower-case hex digits.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(
    path: Path | str, manifest: Mapping[str, Any], files: Iterable[Path | str]
) -> dict[str, Any]:
    """Write a manifest with the SHA-256 checksum of each output file.

    Files are recorded by path relative to the manifest's folder when they
    are inside it, else by absolute path.

    Args:
        path: Where to write the JSON manifest.
        manifest: A dict from :func:`build_manifest`.
        files: The output files the manifest describes (must exist).

    Returns:
        The manifest as written (with a ``files`` entry: name -> sha256 and bytes).
    """
    out = Path(path)
    base = out.resolve().parent
    checks: dict[str, dict[str, Any]] = {}
    for f in files:
        fp = Path(f).resolve()
        try:
            name = fp.relative_to(base).as_posix()
        except ValueError:
            name = str(fp)
        checks[name] = {"sha256": sha256_file(fp), "bytes": fp.stat().st_size}
    written = {**manifest, "files": checks}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(written, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return written
