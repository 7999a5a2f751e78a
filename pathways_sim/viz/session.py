"""App state of a workshop: the live runs A and B, their traces, levers and replays.

A :class:`Session` holds one or two :class:`Side` objects. Both sides use the
same seed, so they see the same referrals and the same chance events (common
random numbers): what differs between A and B is the policy, not luck.

Changing a lever, or loading a scenario card, *replays* that side: the model is
rebuilt from week 0 with the same seed and the changed scenario and run
forward to the current week. That is the honest comparison - "had this been the
policy all along" - and it makes every lever work the same way. Link Worker
training "now" is the exception that proves the rule: it is recorded as the
scenario's ``link_workers.training_week`` (a scheduled model event), so the
replay trains them in the same week.

:class:`WorkshopModel` is the Mesa model that Mesa's ``SolaraViz`` drives (its
Play, Step and Reset call :meth:`WorkshopModel.step` and rebuild it); it wraps
a session and has no behaviour of its own. Every session method takes the
session's lock, so the play thread and button clicks never interleave.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from mesa import Model

from pathways_sim.defaults import DEFAULT_SEED
from pathways_sim.model.model import PathwaysModel
from pathways_sim.scenario import Scenario, load_scenario
from pathways_sim.viz.board import DEFAULT_MAX_DOTS, sample_rate
from pathways_sim.viz.ensemble import DEFAULT_REPLICATES, shared_cache
from pathways_sim.viz.levers import LEVERS_BY_KEY, describe_changes, lever_values
from pathways_sim.viz.trace import Trace

if TYPE_CHECKING:
    from pathways_sim.calibration.results import CalibrationResult

DEFAULT_SCENARIO = "medium"
SIDES = ("A", "B")


class Side:
    """One live run: a preset, the scenario after lever changes, its model and trace.

    Args:
        label: ``"A"`` or ``"B"``.
        base: The preset (scenario card) this side started from.
        seed: The run's seed.
        scenario: The scenario to run (default: ``base``).
    """

    def __init__(self, label: str, base: Scenario, seed: int,
                 scenario: Scenario | None = None) -> None:
        self.label = label
        self.base = base
        self.scenario = scenario if scenario is not None else base
        self.seed = seed
        self.model: PathwaysModel
        self.trace: Trace
        self.rebuild(0)

    @property
    def weeks(self) -> int:
        return int(self.scenario.values["run.weeks"])

    @property
    def week(self) -> int:
        """Weeks simulated so far."""
        return self.model.week

    @property
    def title(self) -> str:
        """The preset's title, marked when levers changed it."""
        name = self.base.title or self.base.name
        return name + (" (changed)" if self.changed() else "")

    def changed(self) -> list[str]:
        """Parameters the levers changed from the preset (``path: old → new``)."""
        return describe_changes(self.scenario, self.base)

    def rebuild(self, week: int) -> None:
        """A new model from week 0 (same seed), run forward to ``week``."""
        self.model = PathwaysModel(self.scenario, seed=self.seed)
        self.trace = Trace(self.weeks)
        self.advance(week)

    def advance(self, weeks: int = 1) -> None:
        """Simulate up to ``weeks`` more weeks (not past the end of the run)."""
        for _ in range(weeks):
            if self.model.week >= self.weeks:
                return
            self.model.step()
            self.trace.record(self.model)

    def rate(self, max_dots: int) -> float:
        """Share of clients drawn as dots on the board."""
        return sample_rate(self.scenario, max_dots)


class Session:
    """The state of one workshop page.

    Args:
        scenario: Name (or path) of the scenario to start from.
        seed: Seed of the live runs (both sides).
        replicates: Background replicates per scenario for the uncertainty fan (the
            replicates of a seed are shared by every session of the process).
        max_dots: Most dots drawn per board.
        calibration: The calibration whose posterior point every scenario loaded
            here runs with (values the scenario files set are kept), or None for
            the registry values.
    """

    def __init__(self, scenario: str | Scenario = DEFAULT_SCENARIO, seed: int = DEFAULT_SEED,
                 replicates: int = DEFAULT_REPLICATES, max_dots: int = DEFAULT_MAX_DOTS,
                 calibration: CalibrationResult | None = None) -> None:
        self.lock = threading.RLock()
        self.calibration = calibration
        self.seed = int(seed)
        self.max_dots = max_dots
        self.colour_by = "referral"
        self.editing = "A"
        self.version = 0  # bumped on every change the page must redraw for
        base = self.scenario(scenario)
        self.sides: dict[str, Side] = {"A": Side("A", base, self.seed)}
        self.ensembles = shared_cache(self.seed, replicates)
        self.fan = True
        self.error = ""  # a problem to show on the page (cleared by the next change)

    # ---------------------------------------------------------------- reading
    def scenario(self, name: str | Scenario) -> Scenario:
        """A scenario (name, path or object) as this session runs it: at the posterior
        point of its calibration, where the scenario files do not set a value."""
        sc = name if isinstance(name, Scenario) else load_scenario(name)
        return sc if self.calibration is None else self.calibration.apply(sc)

    @property
    def model_line(self) -> str:
        """Which calibration the runs use, in one line (shown on the page)."""
        from pathways_sim.calibration.choice import calibration_line

        return calibration_line(self.calibration, draws=False)

    @property
    def ab(self) -> bool:
        """True when a second run (B) is shown beside A."""
        return "B" in self.sides

    @property
    def week(self) -> int:
        return self.sides["A"].week

    @property
    def weeks(self) -> int:
        return max(side.weeks for side in self.sides.values())

    @property
    def running(self) -> bool:
        return any(side.week < side.weeks for side in self.sides.values())

    def side(self, label: str | None = None) -> Side:
        """Side ``label`` (default: the one the levers edit)."""
        return self.sides[label or self.editing]

    def lever_values(self, label: str | None = None) -> dict[str, Any]:
        s = self.side(label)
        return lever_values(s.scenario, s.base, s.week)

    # ---------------------------------------------------------------- changing
    def _changed(self) -> None:
        self.version += 1
        self.error = ""

    def set_error(self, message: str) -> None:
        """Show ``message`` on the page until the next change."""
        with self.lock:
            self._changed()
            self.error = message

    def step(self, weeks: int = 1) -> None:
        """Simulate ``weeks`` more weeks on every side."""
        with self.lock:
            for side in self.sides.values():
                side.advance(weeks)
            self._changed()

    def reset(self, seed: int | None = None) -> None:
        """Back to week 0 with the current levers (and a new seed if given)."""
        with self.lock:
            if seed is not None and int(seed) != self.seed:
                self.seed = int(seed)
                self.ensembles = shared_cache(self.seed, self.ensembles.replicates)
            for side in self.sides.values():
                side.seed = self.seed
                side.rebuild(0)
            self._changed()

    def set_lever(self, key: str, value: Any, label: str | None = None) -> None:
        """Set lever ``key`` on side ``label`` (default: the side being edited) and replay."""
        with self.lock:
            side = self.side(label)
            new = LEVERS_BY_KEY[key].apply(value, side.scenario, side.base, side.week)
            if new is not side.scenario:
                side.scenario = new
                side.rebuild(self.week)
            self._changed()

    def load_scenario(self, name: str | Scenario, label: str | None = None) -> None:
        """Load a scenario card into side ``label`` and replay it to the current week."""
        with self.lock:
            base = self.scenario(name)
            side = self.side(label)
            side.base = side.scenario = base
            side.rebuild(self.week)
            self._changed()

    def set_ab(self, on: bool) -> None:
        """Show a second run B (a copy of A to change), or go back to A alone."""
        with self.lock:
            if on and not self.ab:
                a = self.sides["A"]
                self.sides["B"] = Side("B", a.base, self.seed, a.scenario)
                self.sides["B"].advance(self.week)
                self.editing = "B"
            elif not on and self.ab:
                del self.sides["B"]
                self.editing = "A"
            self._changed()

    def set_editing(self, label: str) -> None:
        with self.lock:
            if label in self.sides:
                self.editing = label
            self._changed()

    def set_colour_by(self, how: str) -> None:
        with self.lock:
            self.colour_by = how
            self._changed()

    def set_fan(self, on: bool) -> None:
        with self.lock:
            self.fan = bool(on)
            self._changed()

    def ensemble_done(self) -> None:
        """Tell the page that a background ensemble finished (redraw the fan)."""
        with self.lock:
            self._changed()


class WorkshopModel(Model):
    """The Mesa model driven by ``SolaraViz``: one step is one week of every live run.

    Mesa's Reset builds a new ``WorkshopModel`` with the page's parameters; it
    keeps the session (levers, A/B) and takes the runs back to week 0.

    Args:
        session: The page's session (a new one for ``preset`` if None).
        seed: Seed of the live runs (also Mesa's ``rng``).
        preset: Scenario to start from when no session is given. (Not called
            ``scenario``: Mesa's Reset passes a Mesa ``Scenario`` to a parameter of that name.)
    """

    def __init__(self, session: Session | None = None, seed: int | str = DEFAULT_SEED,
                 preset: str = DEFAULT_SCENARIO) -> None:
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            seed = session.seed if session is not None else DEFAULT_SEED
        super().__init__(rng=seed)
        if session is None:
            session = Session(preset, seed)
        else:
            session.reset(seed)
        self.session = session
        self.running = session.running

    def step(self) -> None:
        """Simulate one week on every side."""
        self.session.step()
        self.running = self.session.running
