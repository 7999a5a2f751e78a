"""Start the workshop app: Solara's server, offline, telemetry off, bound to localhost.

Solara loads its front end (Vue, Vuetify, fonts) from a CDN unless the files are
installed locally. The project installs them with the ``solara-assets`` package
(into ``<prefix>/share/solara/cdn``, where Solara's asset proxy looks first) and
pins ``ipyvue<2`` and ``ipyvuetify<2`` (the Vue 3 front ends leave the page empty
with Mesa 3.5). :func:`check_offline_assets` says what is missing before the
server starts, so a page is never silently blank.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "pathways_sim.viz.app:Page"
ENV_SCENARIO = "PATHWAYS_WORKSHOP_SCENARIO"  # the scenario the page starts from
ENV_CALIBRATION = "PATHWAYS_WORKSHOP_CALIBRATION"  # its calibration folder, or "none"
ENV_SEED = "PATHWAYS_WORKSHOP_SEED"  # the seed of its live runs
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

#: Environment Solara reads when it is imported: no telemetry, no version check.
SOLARA_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",  # serve /_solara/cdn from the local copy
}


class OfflineAssetsMissing(RuntimeError):
    """The front-end files Solara needs offline are not installed."""


class PortInUse(RuntimeError):
    """The workshop cannot listen on its address (bad input: the CLI exits 2)."""

    def __init__(self, host: str, port: int,
                 reason: str = "address already in use (another workshop or program has it)"
                 ) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}; choose another --port "
                         "(--port 0 picks a free one) or --host")


def check_port(host: str, port: int) -> None:
    """Raise :class:`PortInUse` if nothing can listen on ``host:port`` now (0: any port)."""
    import errno
    import socket

    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise PortInUse(host, port, f"unknown address ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As the server sets it: a port left in TIME_WAIT by a stopped server is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise PortInUse(host, port, exc.strerror or str(exc)) from None


def assets_dir() -> Path:
    """Where ``solara-assets`` puts the front-end files (Solara's proxy cache)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def check_offline_assets() -> Path:
    """The local front-end folder, after checking the packages the page needs.

    Raises:
        OfflineAssetsMissing: What is missing and how to install it.
    """
    from importlib.metadata import PackageNotFoundError, version

    problems = []
    for name, major in (("ipyvue", 1), ("ipyvuetify", 1)):
        try:
            got = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        if int(got.split(".")[0]) != major:
            problems.append(f"{name} {got} is installed; the workshop needs {name}<2")
    folder = assets_dir()
    if not (folder / "requirejs@2.3.6").is_dir() and not any(folder.glob("requirejs@*")):
        problems.append(f"Solara's front-end files are not in {folder}")
    if problems:
        raise OfflineAssetsMissing(
            "the workshop cannot render offline: " + "; ".join(problems)
            + ". Reinstall the project (make run, or pip install -c constraints.txt -e .) "
            "so that solara-assets, ipyvue<2 and ipyvuetify<2 are installed.")
    return folder


def solara_args(host: str, port: int, open_browser: bool = False) -> list[str]:
    """Arguments of ``solara run`` for the workshop."""
    return [APP, "--host", host, "--port", str(port), "--production",
            "--open" if open_browser else "--no-open", "--no-check-version",
            "--log-level", "warning"]


def serve(scenario: str = "medium", host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          seed: int | None = None, open_browser: bool = False,
          calibration: str | None = None, quiet: bool = False) -> None:
    """Run the workshop server until interrupted (Ctrl-C or SIGTERM).

    Args:
        scenario: Scenario name or path the page starts from (checked before starting).
        host: Address to bind (127.0.0.1: this machine only).
        port: Port (0: any free port).
        seed: Seed of the live runs (default: the app's).
        open_browser: Open the page in the default browser once the server is up.
        calibration: ``--calibration``: a results folder, ``"none"`` (the registry
            values), or None for the shipped calibration; the page runs every
            scenario at its posterior point.
        quiet: No note on stderr when the shipped calibration is absent.

    Raises:
        ScenarioError: The scenario or the calibration does not load.
        OfflineAssetsMissing: The front end could not render offline.
        PortInUse: ``host:port`` is taken.
        KeyboardInterrupt: Stopped by Ctrl-C, or
            :class:`~pathways_sim.interrupt.Terminated` by SIGTERM (after the
            server has shut down and its worker process has stopped).
    """
    from pathways_sim.calibration.choice import NONE, resolve_calibration
    from pathways_sim.scenario import load_scenario

    # fail here, with the scenario's or calibration's error, not in the page
    cal = resolve_calibration(calibration, note=None if quiet else (
        lambda line: print(line, file=sys.stderr, flush=True)))
    sc = load_scenario(scenario)
    if cal is not None:
        cal.apply(sc)
    check_port(host, port)
    check_offline_assets()
    os.environ.update(SOLARA_ENV)
    os.environ[ENV_SCENARIO] = str(scenario)
    os.environ[ENV_CALIBRATION] = NONE if cal is None or cal.path is None else str(cal.path)
    if seed is not None:
        os.environ[ENV_SEED] = str(int(seed))
    from solara.__main__ import run as solara_run  # imported after the environment is set

    # Solara's command, without click's main(): that turns Ctrl-C into click's Abort (a
    # traceback and exit 1). Uvicorn shuts the server down on SIGINT or SIGTERM and then
    # raises the signal again, so KeyboardInterrupt (or interrupt.Terminated) reaches
    # the caller: ``pathways-sim workshop`` prints one line and exits 130 (143).
    try:
        with solara_run.make_context("pathways-sim workshop",
                                     solara_args(host, port, open_browser)) as ctx:
            solara_run.invoke(ctx)
    finally:
        _stop_workers()


def _stop_workers() -> None:
    """Stop the worker process of the background replicates, if the pages started it."""
    ensemble = sys.modules.get("pathways_sim.viz.ensemble")
    if ensemble is not None:
        ensemble.shutdown_pool()


def main(argv: list[str] | None = None) -> int:
    """``python -m pathways_sim.viz.server [SCENARIO] [--host H] [--port P] [--seed S]
    [--calibration DIR|none]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pathways_sim.viz.server")
    parser.add_argument("scenario", nargs="?", default="medium")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--calibration", default=None)
    args = parser.parse_args(argv)
    from pathways_sim.interrupt import describe, exit_code, handling_signals

    try:
        with handling_signals(quiet_exit=argv is None):
            serve(args.scenario, args.host, args.port, args.seed,
                  calibration=args.calibration)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: one line, 130 / 143
        print(f"interrupted: stopped by {describe(exc)}", file=sys.stderr)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
