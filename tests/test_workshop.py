"""The workshop's state, drawings and export, without a browser (see test_workshop_browser.py).

Checks that what the app shows is what the model and :mod:`pathways_sim.outcomes`
compute, that levers and replays are honest (same seed, same clients), and that
the board, charts, fan and animation render.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("PIL")

from pathways_sim.model.model import PathwaysModel  # noqa: E402
from pathways_sim.outcomes import cumulative_outcomes  # noqa: E402
from pathways_sim.scenario import ScenarioError, load_scenario  # noqa: E402
from pathways_sim.scenario.registry import REGISTRY  # noqa: E402
from pathways_sim.viz import levers as lv  # noqa: E402
from pathways_sim.viz.board import Board, board_data, sample_rate  # noqa: E402
from pathways_sim.viz.charts import Charts, DifferenceChart, nice_ceiling, y_limits  # noqa: E402
from pathways_sim.viz.ensemble import (  # noqa: E402
    EnsembleCache,
    compute_ensemble,
    paired_difference_band,
    scenario_key,
)
from pathways_sim.viz.render import Figures, compose, draw  # noqa: E402
from pathways_sim.viz.session import Session, WorkshopModel  # noqa: E402
from pathways_sim.viz.style import LANES  # noqa: E402
from pathways_sim.viz.trace import Trace, clients_in_view, lane_codes  # noqa: E402

WEEKS = 40
PNG = b"\x89PNG"


def short(name: str = "medium", weeks: int = WEEKS):
    return load_scenario(name).with_changes({"run.weeks": weeks})


def run_with_trace(scenario, seed: int = 3, weeks: int | None = None):
    model = PathwaysModel(scenario, seed=seed)
    trace = Trace(scenario.values["run.weeks"])
    for _ in range(weeks or trace.weeks):
        model.step()
        trace.record(model)
    return model, trace


# ----------------------------------------------------------------------------- levers


def test_every_lever_names_registry_parameters_with_tooltips():
    medium = load_scenario("medium")
    for lever in lv.LEVERS:
        assert lever.paths and all(p in REGISTRY for p in lever.paths), lever.key
        tip = lever.tooltip(medium)
        for path in lever.paths:
            assert REGISTRY[path].description in tip
            assert REGISTRY[path].source in tip
        value = lever.read(medium)
        assert lever.apply(value, medium) is medium  # setting the current value changes nothing


def test_service_model_lever_sets_and_restores_the_presets():
    medium = load_scenario("medium")
    lever = lv.LEVERS_BY_KEY["service_model"]
    holistic = lever.apply("holistic", medium, medium)
    preset = load_scenario("holistic")
    for path in lv.service_model_paths():
        assert holistic[path] == preset[path]
    assert holistic.sources["link_workers.caseload"] == preset.sources["link_workers.caseload"]
    back = lever.apply("medium", holistic, medium)
    assert lv.describe_changes(back, medium) == []


def test_regime_lever_puts_part_of_the_contract_at_risk():
    medium = load_scenario("medium")
    pbr = lv.LEVERS_BY_KEY["regime"].apply("pbr_job", medium)
    assert pbr["funding.regime"] == "pbr_job"
    assert pbr["funding.share_at_risk"] == lv.DEFAULT_SHARE_AT_RISK
    assert pbr.sources["funding.regime"].startswith("workshop lever")


def test_training_lever_from_start_now_and_none():
    medium = load_scenario("medium")
    lever = lv.LEVERS_BY_KEY["training"]
    start = lever.apply("start", medium, medium, week=0)
    assert lever.read(start) == "start"
    assert start["link_workers.work_awareness"] == medium["link_workers.trained_awareness"]
    now = lever.apply("now", medium, medium, week=30)
    assert now["link_workers.training_week"] == 30 and lever.read(now) == "now"
    none = lever.apply("none", now, medium, week=30)
    assert lv.describe_changes(none, medium) == []


def test_lever_values_out_of_range_are_refused():
    with pytest.raises(ScenarioError):
        lv.LEVERS_BY_KEY["caseload"].apply(0, load_scenario("medium"))


# ----------------------------------------------------------------------------- trace


def test_trace_shows_the_outcome_functions_numbers():
    sc = short("pbr_job_sustainment", 60)
    model, trace = run_with_trace(sc, weeks=60)
    log = model.log.frame()
    expected = cumulative_outcomes(log, 60)
    for name in ("first_job_start", "first_volunteering", "first_training"):
        np.testing.assert_array_equal(trace.series(name), expected[name].to_numpy())
    paid = log.loc[log["event"] == 19, "value"].sum()  # Ev.PAYMENT
    assert trace.series("payments")[-1] == pytest.approx(paid, rel=1e-6)
    assert paid > 0


def test_lanes_are_the_models_stages_plus_new_referrals():
    model, trace = run_with_trace(short(), weeks=30)
    counts = model.stage_counts()
    lanes = {lane: trace.series(f"lane_{lane}")[-1] for lane in LANES}
    assert lanes["referred"] + lanes["waiting"] == counts["waiting"]
    for stage in ("with_link_worker", "in_activity", "stepping_stone", "work_support", "in_work",
                  "sustained", "exited"):
        assert lanes[stage] == counts[stage]
    idx = clients_in_view(model)
    new = lane_codes(model, idx) == 0
    assert np.all(model.clients.ref_week[idx[new]] == model.week - 1)
    assert trace.series("waiting_list")[-1] == counts["waiting"]


# ----------------------------------------------------------------------------- session


def test_a_lever_replays_the_same_clients_to_the_current_week():
    session = Session(short(), seed=5, replicates=2)
    session.step(20)
    session.set_lever("jcp", True)
    side = session.side("A")
    assert side.week == 20 and side.trace.n == 20
    fresh = PathwaysModel(side.scenario, seed=5)
    fresh.run(20)
    assert fresh.stage_counts() == side.model.stage_counts()
    assert side.changed() == ["jcp.partnership: no → yes"]


def test_ab_sides_share_seed_and_differ_only_by_policy():
    session = Session(short(), seed=7, replicates=2)
    session.step(10)
    session.set_ab(True)
    a, b = session.sides["A"], session.sides["B"]
    assert session.editing == "B" and b.week == 10
    np.testing.assert_array_equal(a.trace.frame().to_numpy(), b.trace.frame().to_numpy())
    session.load_scenario(short("pbr_job_outcomes"))
    assert b.scenario["funding.regime"] == "pbr_job" and a.scenario["funding.regime"] == "block"
    n = min(a.model.clients.n, b.model.clients.n)
    np.testing.assert_array_equal(a.model.clients.age[:n], b.model.clients.age[:n])
    session.set_ab(False)
    assert not session.ab and session.editing == "A"


def test_workshop_model_steps_weeks_and_resets_with_a_new_seed():
    session = Session(short(), seed=1, replicates=2)
    model = WorkshopModel(session=session, seed=1)
    for _ in range(3):
        model.step()
    assert session.week == 3 and model.time == 3
    again = WorkshopModel(session=session, seed="9")
    assert session.week == 0 and session.seed == 9 and again.running


def test_the_run_stops_at_its_last_week():
    session = Session(short(weeks=5), seed=1, replicates=2)
    model = WorkshopModel(session=session, seed=1)
    for _ in range(8):
        model.step()
    assert session.week == 5 and not session.running and not model.running


# ----------------------------------------------------------------------------- drawings


def test_board_draws_a_fixed_sample_of_at_most_max_dots():
    sc = load_scenario("medium")
    session = Session(sc, seed=2, replicates=2, max_dots=500)
    session.step(104)
    side = session.side("A")
    rate = side.rate(500)
    assert rate == pytest.approx(sample_rate(sc, 500)) and rate < 1
    before = board_data(side.model, rate)
    assert before.counts.sum() == before.total == len(clients_in_view(side.model))
    assert 0.8 * 500 < before.shown < 1.2 * 500
    session.step(1)
    after = board_data(side.model, rate)
    assert abs(after.shown - before.shown) < 0.1 * before.shown  # the same clients, mostly
    board = Board()
    board.update(after, "test")
    assert board.png().startswith(PNG)


def test_charts_fan_and_difference_render():
    sc = short(weeks=20)
    ens_a = compute_ensemble(sc, 11, replicates=3)
    assert ens_a.values["first_job_start"].shape == (3, 20)
    assert ens_a.band("waiting_list").shape == (2, 20)
    other = short("pbr_job_outcomes", 20)
    ens_b = compute_ensemble(other, 11, replicates=3)
    band = paired_difference_band(ens_a, ens_b, "payments")
    assert band is not None and np.all(band[1] <= 0)  # A (block) never pays for results
    assert paired_difference_band(ens_a, compute_ensemble(other, 12, 3), "payments") is None
    _, trace_a = run_with_trace(sc, weeks=15)
    _, trace_b = run_with_trace(other, weeks=15)
    limits = y_limits([trace_a, trace_b], [ens_a, ens_b])
    charts = Charts()
    charts.update(trace_a, ens_a, 20, limits)
    assert charts.png().startswith(PNG)
    charts.update(trace_a, None, 20, limits)  # fan switched off
    assert charts.png().startswith(PNG)
    diff = DifferenceChart()
    latest = diff.update(trace_a, trace_b, ens_a, ens_b, 20)
    assert latest["payments"] == trace_a.series("payments")[-1] - trace_b.series("payments")[-1]
    assert diff.png().startswith(PNG)


def test_nice_ceiling():
    assert [nice_ceiling(x) for x in (0.5, 1, 7, 11, 130, 2600)] == [1, 1, 8, 15, 150, 3000]


def test_ensemble_cache_computes_once_per_scenario_values():
    cache = EnsembleCache(root_seed=4, replicates=2)
    sc = short(weeks=10)
    assert cache.get(sc) is None
    first = cache.compute(sc)
    renamed = sc.with_changes({}, name="same values")
    assert scenario_key(renamed) == scenario_key(sc)
    assert cache.compute(renamed) is first


def test_draw_and_compose_one_and_two_runs():
    session = Session(short(weeks=12), seed=1, replicates=2)
    session.step(6)
    figures = Figures()
    one = draw(session, figures)
    assert one["board-A"].startswith(PNG) and one["charts-A"].startswith(PNG)
    assert "Waiting" in one["lanes-A"]
    session.set_ab(True)
    session.set_lever("regime", "pbr_job")
    two = draw(session, figures, as_png=False)
    frame = compose(two, ab=True)
    assert frame.width == two["board-A"].width + two["board-B"].width
    assert set(two["latest"]) == {"first_job_start", "first_volunteering", "first_training",
                                  "payments"}


# ----------------------------------------------------------------------------- export


def test_animate_writes_a_gif(tmp_path):
    from PIL import Image

    from pathways_sim.viz.animate import animate

    out = tmp_path / "run.gif"
    result = animate(short(weeks=6), out, weeks=6, every=3, fan=False, width=400)
    assert result.frames == 3 and out.is_file()
    with Image.open(out) as im:
        assert im.n_frames == 3 and im.size == result.size and im.width == 400


def test_animate_refuses_unknown_formats_and_mp4_without_ffmpeg(tmp_path, monkeypatch):
    from pathways_sim.viz import animate as an

    with pytest.raises(an.AnimationError, match="gif"):
        an.animate(short(weeks=4), tmp_path / "run.avi")
    monkeypatch.setattr(an, "mp4_writer", lambda: None)
    with pytest.raises(an.AnimationError, match="ffmpeg"):
        an.animate(short(weeks=4), tmp_path / "run.mp4")


# ----------------------------------------------------------------------------- server


def test_server_runs_solara_offline_in_production_without_telemetry(monkeypatch):
    from pathways_sim.viz import server

    args = server.solara_args("127.0.0.1", 0)
    assert args[0] == server.APP and "--production" in args and "--no-check-version" in args
    assert server.SOLARA_ENV["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert server.DEFAULT_HOST == "127.0.0.1"
    pytest.importorskip("solara")
    assert server.check_offline_assets().is_dir()


def test_server_checks_the_scenario_before_starting():
    from pathways_sim.viz.server import serve

    with pytest.raises(ScenarioError):
        serve("no_such_scenario_here", port=0)


def test_cli_has_workshop_and_animate_commands(tmp_path):
    from pathways_sim.cli import build_parser, main

    commands = build_parser()._subparsers._group_actions[0].choices
    if "workshop" not in commands:
        pytest.skip("pathways_sim.cli has no workshop/animate commands yet")
    out = tmp_path / "a.gif"
    buf = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buf):
        assert main(["animate", "medium", "--out", str(out), "--weeks", "4", "--every", "2",
                     "--no-fan", "--width", "300"]) == 0
    assert out.is_file() and "3 frames" in buf.getvalue()
    assert main(["workshop", "no_such_scenario_here", "--port", "0"]) == 2


def test_facilitators_guide_covers_every_lever_and_its_pictures_exist():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    guide = (root / "docs" / "workshop.md").read_text(encoding="utf-8")
    for lever in lv.LEVERS:
        assert f"**{lever.label.split(' (')[0]}**" in guide, lever.label
    for picture in re.findall(r"\]\((img/[^)]+)\)", guide):
        assert (root / "docs" / picture).is_file(), picture
