"""The workshop page: Mesa's ``SolaraViz`` with the pathway board, live charts and levers.

(:mod:`pathways_sim.viz.app` is the entry point Solara loads; it imports this
module in the background so the server answers while the heavy imports run.)

Layout (large type for a projector):

* Mesa's ``SolaraViz`` gives the app bar and, in the sidebar, the run controls
  (Reset, Play/Pause, Step, play interval = speed) and the seed (applied on Reset).
* This module adds, in the sidebar, the levers (each with a tooltip giving the
  registry's description and source of the parameters behind it), the scenario
  cards and the view options; and, in the main area, the week, the pathway board
  and the charts - or, in A/B mode, the two runs side by side and the difference
  panel.

The page keeps its state in a :class:`~pathways_sim.viz.session.Session` (one per
browser tab). Drawing is in :mod:`~pathways_sim.viz.board` and
:mod:`~pathways_sim.viz.charts`; nothing here computes an outcome.

Run it with ``pathways-sim workshop`` (:func:`pathways_sim.viz.server.serve`).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter
from solara.alias import rv, rw

from pathways_sim.scenario import ScenarioError
from pathways_sim.scenario.inputs import read_yaml
from pathways_sim.scenario.loader import SCENARIO, default_scenarios_dir
from pathways_sim.viz.ensemble import Cancelled, scenario_key, worker_pool
from pathways_sim.viz.levers import LEVERS
from pathways_sim.viz.render import draw, take_figures
from pathways_sim.viz.server import ENV_CALIBRATION, ENV_SCENARIO, ENV_SEED
from pathways_sim.viz.session import DEFAULT_SCENARIO, DEFAULT_SEED, Session, WorkshopModel

TITLE = "Pathways to work: a social prescribing workshop"
PLAY_INTERVAL_MS = 200
FAN_DELAY_S = 1.5  # background runs start this long after a change (the page draws first)

CSS = """
.v-application { font-size: 18px; }
.v-application .v-navigation-drawer { width: 440px !important; }
nav.v-navigation-drawer .v-navigation-drawer__content > div > div:first-child {
    display: contents !important; }  /* so Mesa's Controls card can stick all the way down */
nav.v-navigation-drawer .v-navigation-drawer__content > div > div:first-child
    > .v-card:first-child { position: sticky; top: 0; z-index: 4; }
.v-application .v-card__title { font-size: 1.4rem; }
.v-application .v-btn { font-size: 1.0rem; }
.v-application .v-label, .v-application .v-select__selection,
.v-application .v-input, .v-application .v-slider__thumb-label { font-size: 1.05rem; }
.v-application .v-toolbar__title { font-size: 1.6rem; }
.v-tooltip__content { max-width: 600px; font-size: 17px !important; line-height: 1.4;
                      opacity: 1 !important; background: rgba(33, 33, 33, 0.97) !important; }
.pw-tip { font-size: 17px; white-space: pre-line; }
nav.v-navigation-drawer .v-navigation-drawer__content > div { height: auto !important; }
.pw-week { font-size: 2.3rem; font-weight: 700; }
.pw-sub { font-size: 1.1rem; color: #555; }
.pw-lever-label { font-size: 1.1rem; font-weight: 600; }
.pw-info { cursor: help; font-size: 1.2rem; color: #0072B2; padding: 0 6px; }
.pw-pic img { width: 100%; height: auto; display: block; }
.pw-lanes { font-size: 0.95rem; color: #555; }
.pw-side-title { font-size: 1.5rem; font-weight: 700; }
.pw-changes { font-size: 0.95rem; color: #444; }
.pw-card-grid { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.v-application .pw-card-button { text-transform: none !important; letter-spacing: 0;
    white-space: normal; height: auto !important; min-height: 48px; font-size: 0.95rem;
    padding: 6px 8px !important; justify-content: start; }
.pw-card-button .v-btn__content { white-space: normal; text-align: left; flex: 1 1 auto;
    line-height: 1.2; }
"""


def _initial_session() -> Session:
    scenario = os.environ.get(ENV_SCENARIO, DEFAULT_SCENARIO)
    try:
        seed = int(os.environ.get(ENV_SEED, DEFAULT_SEED))
    except ValueError:
        seed = DEFAULT_SEED
    from pathways_sim.calibration.choice import resolve_calibration

    # ``pathways-sim workshop`` has checked its --calibration and names it here; without it
    # (``solara run`` by hand) the page uses the shipped calibration, as every command does.
    calibration = resolve_calibration(os.environ.get(ENV_CALIBRATION), note=None)
    return Session(scenario, seed, calibration=calibration)


def lever_state(session: Session) -> tuple:
    """What the levers panel shows: it redraws when (and only when) this changes."""
    side = session.side()
    return (session.ab, session.editing, side.title, tuple(side.changed()),
            tuple(sorted(session.lever_values().items())))


# ----------------------------------------------------------------------------- small parts


@solara.component
def Picture(png: bytes, name: str):
    """A PNG that fills the width of its column."""
    image = rw.Image(value=png, format="png", layout=rw.Layout(width="100%", height="auto"))
    return solara.Div(classes=["pw-pic", f"pw-{name}"], children=[image])


@solara.component
def InfoTip(text: str):
    """An (i) icon that shows ``text`` (one paragraph a line) on hover."""
    tip = rv.Html(tag="div", class_="pw-tip", children=[text.replace("\n", "\n\n")])
    with solara.Tooltip(tip):
        rv.Icon(children=["mdi-information-outline"], class_="pw-info", color="#0072B2")


@solara.component
def ReleaseSlider(label: str, value: float, low: float, high: float, step: float,
                  on_value, is_float: bool):
    """A slider that applies its value when released (a replay per drag, not per pixel)."""
    slider = rv.Slider(v_model=value, min=low, max=high, step=step, thumb_label="always",
                       hide_details=True, class_="mt-8")

    def changed(_widget, _event, data):
        on_value(float(data) if is_float else int(data))

    rv.use_event(slider, "change", changed)
    return slider


@solara.component
def LeverControl(session: Session, lever, value: Any):
    """One lever: its label, an ⓘ tooltip, and the widget."""
    side = session.side()

    def set_value(v: Any) -> None:
        session.set_lever(lever.key, v)
        force_update()

    with solara.Column(gap="0px", classes=[f"pw-lever-{lever.key}"]):
        with solara.Row(gap="0px", style={"align-items": "center"}):
            solara.Text(lever.label, classes=["pw-lever-label"])
            InfoTip(lever.tooltip(side.scenario))
        if lever.kind == "choice":
            labels = dict(lever.options)
            if lever.key == "training" and value == "now":
                week = side.scenario["link_workers.training_week"]
                labels["now"] = f"Trained at week {week}"
            by_label = {text: key for key, text in labels.items()}
            solara.Select(label="", values=list(by_label), value=labels.get(value, str(value)),
                          on_value=lambda text: set_value(by_label[text]))
        elif lever.kind == "bool":
            solara.Switch(label="yes" if value else "no", value=bool(value), on_value=set_value)
        else:
            ReleaseSlider(lever.label, value, lever.low, lever.high, lever.step, set_value,
                          lever.kind == "float")


@solara.component
def LeversPanel(session: Session, state: tuple):
    """The levers of the side being edited, and what they changed from the preset.

    ``state`` (:func:`lever_state`) changes exactly when the panel must redraw: the
    sidebar is a portal that passes on new elements only when their arguments differ.
    """
    values = session.lever_values()
    side = session.side()
    with solara.Card("Levers", classes=["pw-levers"]):
        if session.ab:
            solara.Text("Set levers for:", classes=["pw-lever-label"])
            solara.ToggleButtonsSingle(value=session.editing, values=["A", "B"],
                                       on_value=lambda v: (session.set_editing(v),
                                                           force_update()),
                                       classes=["pw-editing"])
        with solara.Column(gap="14px"):
            solara.Text(f"{side.label}: {side.title}", classes=["pw-side-title"])
            solara.Text("A change replays this run from week 0, with the same clients and "
                        "chance events, to the current week.", classes=["pw-sub"])
            for lever in LEVERS:
                LeverControl(session, lever, values[lever.key])
        changes = side.changed()
        with solara.Column(gap="2px", classes=[f"pw-changes-{side.label}", "pw-changes"]):
            solara.Text("Changed from the scenario card:" if changes else
                        "No changes from the scenario card.")
            for line in changes:
                solara.Text("• " + line)


@lru_cache(maxsize=1)
def scenario_cards() -> tuple[tuple[str, str, str], ...]:
    """(name, title, description) of every scenario file, sorted by title.

    Read with the strict reader every scenario file goes through (YAML 1.2, size and
    depth limits); a file it refuses gets no card. A card's scenario is loaded and
    validated (:func:`~pathways_sim.scenario.load_scenario`) when clicked.
    """
    out = []
    for path in sorted(default_scenarios_dir().glob("*.yaml")):
        try:
            doc = read_yaml(path, SCENARIO)
        except ScenarioError:
            continue
        if isinstance(doc, dict) and doc.get("description"):
            title = str(doc.get("title") or path.stem)
            out.append((path.stem, title, " ".join(str(doc["description"]).split())))
    return tuple(sorted(out, key=lambda card: card[1].lower()))


@solara.component
def ScenarioCards(session: Session, editing: str):
    """One card per scenario file: click to load it into the side being edited."""
    entries = scenario_cards()

    def load(name: str) -> None:
        try:
            session.load_scenario(name)
        except ScenarioError as exc:
            session.set_error(f"Scenario card {name!r} does not load: {exc}")
        force_update()

    target = f" into {editing}" if editing else ""
    with solara.Card(f"Scenario cards (load{target})", classes=["pw-cards"]):
        with solara.Div(classes=["pw-card-grid"]):
            for name, title, text in entries:  # the description shows on hover (HTML title)
                button = rv.Btn(children=[title], outlined=True, attributes={"title": text},
                                class_=f"pw-card-button pw-card-{name}")
                rv.use_event(button, "click", lambda *_args, name=name: load(name))


@solara.component
def ViewOptions(session: Session, colour_by: str, fan: bool):
    with solara.Card("View", classes=["pw-view"]):
        how = {"referral": "Dot colour: distance at referral", "now": "Dot colour: distance now"}
        solara.Select(label="", values=list(how.values()), value=how[session.colour_by],
                      on_value=lambda t: (session.set_colour_by(
                          next(k for k, v in how.items() if v == t)), force_update()))
        solara.Switch(label="Fan of background runs (10-90%)", value=session.fan,
                      on_value=lambda v: (session.set_fan(v), force_update()))


# ----------------------------------------------------------------------------- main area


@solara.component
def Workshop(model: solara.Reactive[WorkshopModel], session: Session):
    """Everything of the workshop that is not Mesa's run controls."""
    update_counter.get()  # redraw after every step of Mesa's controller
    # Mesa's Reset sets model.value to a new WorkshopModel (which resets the session) without a
    # force_update: reading the reactive here makes that redraw this component too.
    model.get()
    figures = solara.use_memo(take_figures, [])
    images = solara.use_memo(lambda: draw(session, figures),
                             [session.version, session.ab, session.fan])

    keys = tuple(scenario_key(s.scenario) for s in session.sides.values()) if session.fan else ()

    def background(cancel: threading.Event) -> None:
        if cancel.wait(FAN_DELAY_S):  # let the page draw first
            return
        for side in list(session.sides.values()) if session.fan else []:
            if session.ensembles.get(side.scenario) is not None:
                continue
            try:
                session.ensembles.compute(side.scenario, cancel=cancel, on_progress=force_update,
                                          executor=worker_pool())
            except Cancelled:
                return
            session.ensemble_done()
            force_update()

    solara.use_thread(background, dependencies=[keys, session.seed], intrusive_cancel=False)

    def skip(weeks: int) -> None:
        for _ in range(weeks):
            if not session.running:
                break
            model.value.step()
        force_update()

    def set_ab(on: bool) -> None:
        session.set_ab(on)
        force_update()

    solara.Style(CSS)
    with solara.Sidebar():
        LeversPanel(session, lever_state(session))
        ScenarioCards(session, session.editing if session.ab else "")
        ViewOptions(session, session.colour_by, session.fan)

    pending = [s for s in session.sides.values()
               if session.fan and session.ensembles.get(s.scenario) is None]
    if not session.fan:
        fan = "Fan off"
    elif pending:
        done, total = session.ensembles.progress.get(scenario_key(pending[0].scenario),
                                                     (0, session.ensembles.replicates))
        fan = f"Fan: background runs {done} of {total}…"
    else:
        fan = f"Fan: 10-90% of {session.ensembles.replicates} background runs"
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="24px"):
        solara.Text(f"Week {session.week} of {session.weeks}", classes=["pw-week"])
        solara.Button("+13 weeks", on_click=lambda: skip(13), outlined=True,
                      classes=["pw-skip-13"], disabled=not session.running)
        solara.Button("+1 year", on_click=lambda: skip(52), outlined=True,
                      classes=["pw-skip-52"], disabled=not session.running)
        solara.Switch(label="Compare A and B", value=session.ab, on_value=set_ab,
                      classes=["pw-ab"])
        solara.Text(fan, classes=["pw-sub", "pw-fan-status"])
    solara.Text(session.model_line, classes=["pw-sub", "pw-calibration"])
    if session.error:
        solara.Error(session.error, classes=["pw-error"])
    if not session.ab:
        Picture(images["board-A"], "board-A")
        solara.Text(images["lanes-A"], classes=["pw-lanes", "pw-lanes-A"])
        Picture(images["charts-A"], "charts-A")
        return
    with solara.Row(gap="12px", style={"align-items": "flex-start"}):
        for label in ("A", "B"):
            with solara.Column(gap="4px", style={"flex": "1 1 0", "min-width": "0"}):
                Picture(images[f"board-{label}"], f"board-{label}")
                solara.Text(images[f"lanes-{label}"], classes=["pw-lanes", f"pw-lanes-{label}"])
                Picture(images[f"charts-{label}"], f"charts-{label}")
    latest = images.get("latest", {})
    solara.Text("A − B so far: " + ", ".join(
        f"{k.replace('first_', '').replace('_', ' ')} {v:+,.0f}" for k, v in latest.items()),
        classes=["pw-sub", "pw-diff-text"])
    Picture(images["diff"], "diff")


@solara.component
def WorkshopPage():
    """The app: Mesa's SolaraViz (controls) plus the workshop."""
    session = solara.use_memo(_initial_session, [])
    first = solara.use_memo(lambda: WorkshopModel(session=session, seed=session.seed), [])
    model = solara.use_reactive(first)
    model_params = {
        "session": session,
        "seed": {"type": "InputText", "value": str(session.seed),
                 "label": "Seed: which clients and chance events (applies on Reset)"},
    }
    SolaraViz(model, components=[], model_params=model_params,
              play_interval=PLAY_INTERVAL_MS, name=TITLE)
    Workshop(model, session)


__all__ = ["Workshop", "WorkshopPage"]
