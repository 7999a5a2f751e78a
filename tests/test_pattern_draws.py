"""The pattern checks under posterior draws: the pass share's interval, and what a
check's failing draws depend on (pathways_sim/calibration/validate.py).

A researcher reads "passes in 48 of 60 draws" and asks two things: could it be 90% and
this an unlucky sample (the interval), and which part of the posterior makes it fail (the
drivers). Both are computed from the per-draw table ``validate`` writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pathways_sim.calibration.validate import (
    PATTERN_DRIVER_AUC,
    Validation,
    draw_share_interval,
    explain_draw_failures,
    failure_drivers,
    percent_interval,
)


def _draws(n: int = 60, seed: int = 3) -> pd.DataFrame:
    """One check under ``n`` draws: it fails exactly where ``a`` is below 0.2 (a small
    effect there, an interval including 0); ``b`` is unrelated."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 1.0, n)
    b = rng.uniform(0.0, 1.0, n)
    fail = a < 0.2
    diff = np.where(fail, 0.001, 0.03)
    return pd.DataFrame({
        "draw": np.arange(n), "check": "11 supported volunteering reaches the furthest third",
        "diff": diff, "lo": np.where(fail, -0.004, 0.02), "hi": diff + 0.005,
        "result": np.where(fail, "FAIL", "PASS"),
        "reason": np.where(fail, "the interval includes 0: no clear difference over 10 "
                                 "pair(s)", "the 90% interval excludes 0 as expected"),
        "a": a, "b": b})


def test_the_pass_share_interval_is_exact_and_wide_for_twenty_draws() -> None:
    lo, hi = draw_share_interval(18, 20)
    # 18 of 20 cannot tell 75% from 95%: the reason the default is the 60 predictive draws.
    assert lo < 0.75 < 0.95 < hi
    lo60, hi60 = draw_share_interval(54, 60)
    assert lo < lo60 < 0.9 < hi60 < hi
    assert draw_share_interval(20, 20)[1] == 1.0 and draw_share_interval(0, 20)[0] == 0.0
    assert all(np.isnan(draw_share_interval(0, 0)))


def test_the_driver_is_the_parameter_that_separates_failing_draws() -> None:
    d = _draws()
    drivers = failure_drivers(d, ["a", "b"])
    assert list(drivers["parameter"]) == ["a"]
    row = drivers.iloc[0]
    assert row.auc == 0.0  # every failing draw has a lower a than every passing one
    assert row.failing_median < 0.2 < row.passing_median


def test_no_driver_when_failures_are_unrelated_to_the_parameters() -> None:
    d = _draws()
    rng = np.random.default_rng(9)
    d["result"] = np.where(rng.random(len(d)) < 0.2, "FAIL", "PASS")
    assert failure_drivers(d, ["a", "b"]).empty
    # A lower bar names whatever separates most, however weakly: the bar is what keeps
    # chance out of the explanation.
    assert len(failure_drivers(d, ["a", "b"], threshold=0.5)) == 2
    assert PATTERN_DRIVER_AUC >= 0.7
    text = explain_draw_failures(d, ["a", "b"])
    assert "simulation noise" in text


def test_too_few_failures_name_no_driver() -> None:
    d = _draws()
    d["result"] = "PASS"
    d.loc[0, "result"] = "FAIL"
    assert failure_drivers(d, ["a", "b"]).empty


def test_the_explanation_says_how_and_where_the_draws_fail() -> None:
    d = _draws()
    k = int((d["result"] == "FAIL").sum())
    text = explain_draw_failures(d, ["a", "b"])
    assert f"fails in {k} of 60 draws" in text
    assert "includes 0" in text and "wrong side" not in text
    assert "`a` (lower in the failing draws" in text and "`b`" not in text
    # A draw whose interval lies on the other side contradicts the pattern: said apart.
    d.loc[d.index[d["result"] == "FAIL"][0], "reason"] = (
        "the interval excludes 0 on the other side: the model contradicts the pattern")
    assert "in 1 the interval is on the wrong side of 0" in explain_draw_failures(d, ["a"])
    assert explain_draw_failures(d[d["result"] == "PASS"], ["a"]) == ""


def test_the_validation_reports_intervals_and_explanations(tmp_path) -> None:
    d = _draws()
    passed = int((d["result"] == "PASS").sum())
    lo, hi = draw_share_interval(passed, 60)
    patterns = pd.DataFrame([{
        "name": d["check"].iloc[0], "diff": 0.03, "lo": 0.02, "hi": 0.04, "result": "PASS",
        "reason": "the 90% interval excludes 0 as expected", "draws_passed": passed,
        "draws": 60, "draws_share_lo90": lo, "draws_share_hi90": hi,
        "draws_explanation": explain_draw_failures(d, ["a", "b"])}])
    targets = pd.DataFrame(columns=["target", "role", "likelihood", "observed", "obs_lo90",
                                    "obs_hi90", "sim_median", "ppi_lo90", "ppi_hi90",
                                    "inside"])
    v = Validation(targets, patterns, "test", None, d)
    s = v.summary()
    assert s["pattern_draws"] == 60 and s["patterns_in_90pct_of_draws"] == int(passed >= 54)
    assert s["patterns_clearly_below_90pct"] == int(hi < 0.9)
    md = v.markdown()
    assert f"{passed}/60 ({percent_interval(lo, hi)})" in md
    assert "what their failures depend on" in md and "`a` (lower" in md
    files = v.write(tmp_path)
    assert tmp_path / "validation_pattern_draws.csv" in files
    back = pd.read_csv(tmp_path / "validation_pattern_draws.csv")
    assert len(back) == 60 and {"draw", "check", "result", "a", "b"} <= set(back.columns)


@pytest.mark.parametrize("k", [0, 30, 60])
def test_the_interval_contains_the_share(k: int) -> None:
    lo, hi = draw_share_interval(k, 60)
    assert lo <= k / 60 <= hi


def _frame(sets: dict, effect: dict[int, float], reps: range, rng) -> pd.DataFrame:
    """Runs of the points in ``sets`` (point -> (side, draw)): option ``b`` is
    ``effect[draw]`` above baseline ``a`` in every replicate, plus a little noise where
    there is an effect (none where there is none: a difference of exactly 0 fails)."""
    return pd.DataFrame([{"point_id": pid, "replicate": r,
                          "m": 0.5 + (effect[d] if side == "b" else 0.0)
                          + 0.001 * (effect[d] != 0) * rng.standard_normal()}
                         for pid, (side, d) in sets.items() for r in reps])


def _power_case(monkeypatch: pytest.MonkeyPatch, effect: dict[int, float],
                first: list[tuple[int, str]] | None = None):
    """Five draws of one check (option ``b`` above baseline ``a``) with 2 replicates each;
    draws 1-4 failed there (``first``). Tested again with 8 replicates, draw ``d``'s
    difference is ``effect[d]``: a real effect shows, none does not."""
    from types import SimpleNamespace

    from pathways_sim.calibration import validate as v

    calls: list[tuple[tuple[int, ...], list[dict]]] = []
    rng = np.random.default_rng(0)

    def fake_runs(points, seeds, scenarios, executor):
        calls.append((tuple(seeds), scenarios))
        return [_frame(sets, effect, range(len(seeds)), rng) for sets in scenarios]

    monkeypatch.setattr(v, "_pattern_runs", fake_runs)
    checks = [{"name": "b above a", "option": {"scenario": "b"}, "baseline": {"scenario": "a"},
               "metric": "m", "expect": "increase"}]
    points = [{"point_id": 0, "role": "baseline", "factors": {"scenario": "a"}},
              {"point_id": 1, "role": "option", "factors": {"scenario": "b"}},
              {"point_id": 2, "role": "option", "factors": {"scenario": "c"}}]
    plan_points = [SimpleNamespace(point_id=p["point_id"]) for p in points]
    first = first or [(0, "PASS"), (1, "FAIL"), (2, "FAIL"), (3, "FAIL"), (4, "FAIL")]
    table = pd.DataFrame([{"name": "b above a", "option_points": [1], "baseline_points": [0],
                           "draws_passed": sum(r == "PASS" for _, r in first),
                           "draws": len(first), "draws_explanation": "fails."}])
    per_draw = pd.DataFrame({"draw": [d for d, _ in first], "check": "b above a", "_k": 0,
                             "result": [r for _, r in first], "diff": 0.0})
    draws = {}
    for d in sorted({d for d, _ in first}):
        sets = {0: ("a", d), 1: ("b", d), 2: ("c", d)}
        draws[d] = (sets, _frame({0: sets[0], 1: sets[1]}, effect, range(2), rng))
    v.power_follow_up(table, per_draw, draws, plan_points, checks, points, [], None,
                      replicates=8, exp_seed=1, base=2)
    return table, per_draw, calls


def test_the_power_follow_up_tests_every_draw_again_with_more_replicates(monkeypatch) -> None:
    """A check short of 90% of draws is tested again in every draw (passing ones too: a
    clean share) with more replicates: the runs already made plus the experiment's seeds
    extended, only the check's own two sides. A real effect then passes, a draw with no
    effect still fails, and the table gives the new share with its interval."""
    from pathways_sim.run import replicate_seeds

    table, per_draw, calls = _power_case(monkeypatch, {0: 0.01, 1: 0.01, 2: 0.01, 3: 0.0,
                                                       4: 0.0})
    assert len(calls) == 1
    seeds, scenarios = calls[0]
    assert seeds == tuple(replicate_seeds(1, 8))[2:]  # only the 6 runs not made yet
    assert [sorted(s) for s in scenarios] == [[0, 1]] * 5  # every draw; not point 2
    row = table.iloc[0]
    assert (row.power_replicates, row.power_draws_passed) == (8, 3)
    assert row.power_share_lo90 < 3 / 5 < row.power_share_hi90
    assert list(per_draw["power_result"]) == ["PASS", "PASS", "PASS", "FAIL", "FAIL"]
    assert "With 8 replicates in every draw (the first 2 the runs already made) it passes in 3 " \
           "of 5 draws" in row.draws_explanation
    assert "never clearly the opposite" in row.draws_explanation
    assert "in part of the posterior the effect is too small to see or absent" in (
        row.draws_explanation)


def test_the_power_follow_up_says_when_the_effect_is_in_every_draw(monkeypatch) -> None:
    table, per_draw, _ = _power_case(monkeypatch, dict.fromkeys(range(5), 0.02))
    assert table.iloc[0].power_draws_passed == 5
    text = table.iloc[0].draws_explanation
    assert "clearly on the pattern's side in every draw" in text
    weakest = per_draw["power_diff"].abs().min()  # how small a passing effect is
    assert f"(the smallest passing difference {weakest:.2g})" in text
    assert "passes a zero effect 1 time in 20" in text


def test_a_share_interval_is_never_shown_narrower_than_it_is() -> None:
    """58 of 60 has the exact interval 0.8988-0.9926: shown as 89-100%, never as starting
    at 90 (which would read as clearing the 90% the issue asks for)."""
    lo, hi = draw_share_interval(58, 60)
    assert lo < 0.9 < hi
    assert percent_interval(lo, hi) == "89-100%"
    assert percent_interval(0.95, 1.0) == "95-100%"  # exact bounds stay where they are
    assert percent_interval(*draw_share_interval(43, 60)) == "60-82%"


def test_a_repeated_draw_runs_once_and_counts_each_time(monkeypatch) -> None:
    """Draws are resampled with replacement: a draw sampled twice is run once and counted
    twice, as the check's own count does."""
    table, per_draw, calls = _power_case(
        monkeypatch, {0: 0.01, 1: 0.01, 3: 0.0},
        first=[(0, "PASS"), (1, "FAIL"), (1, "FAIL"), (3, "FAIL")])
    assert len(calls[0][1]) == 3  # draws 0, 1 and 3, once each
    assert list(per_draw["power_result"]) == ["PASS", "PASS", "PASS", "FAIL"]
    assert table.iloc[0].power_draws_passed == 3  # of 4: draw 1 counted twice


def test_no_follow_up_for_a_check_passing_in_nine_draws_of_ten(monkeypatch) -> None:
    from pathways_sim.calibration import validate as v

    monkeypatch.setattr(v, "_pattern_runs", lambda *a: pytest.fail("nothing to rerun"))
    table = pd.DataFrame([{"name": "x", "option_points": [1], "baseline_points": [0],
                           "draws_passed": 9, "draws": 10, "draws_explanation": ""}])
    per_draw = pd.DataFrame({"draw": range(10), "check": "x", "_k": 0,
                             "result": ["PASS"] * 9 + ["FAIL"], "diff": 0.0})
    v.power_follow_up(table, per_draw, {}, [], [], [], [], None, replicates=40, exp_seed=1,
                      base=10)
    assert table.iloc[0].power_replicates == 0 and table.iloc[0].power_draws_passed == 9
    # No more replicates than the check's own, or failures only for want of data: none.
    table.loc[0, "draws_passed"] = 5
    v.power_follow_up(table, per_draw, {}, [], [], [], [], None, replicates=10, exp_seed=1,
                      base=10)
    assert table.iloc[0].power_replicates == 0
    per_draw["result"] = ["PASS"] * 5 + ["NO DATA"] * 5
    v.power_follow_up(table, per_draw, {}, [], [], [], [], None, replicates=40, exp_seed=1,
                      base=10)
    assert table.iloc[0].power_replicates == 0


def test_a_check_failing_almost_everywhere_is_not_called_noise() -> None:
    """With fewer than two passing draws there is nothing to compare: the sentence says the
    posterior lacks the pattern, never 'noise around a small effect' or a median of nan."""
    d = _draws()
    d["result"] = "FAIL"
    d["reason"] = "the interval excludes 0 on the other side: the model contradicts the pattern"
    d.loc[0, "result"] = "PASS"
    text = explain_draw_failures(d, ["a", "b"])
    assert "in 59 the interval is on the wrong side of 0" in text
    assert "the posterior as a whole lacks the pattern" in text
    assert "noise" not in text and "nan" not in text


def test_failures_for_want_of_data_are_said_apart() -> None:
    d = _draws()
    fail = d.index[d["result"] == "FAIL"]
    d.loc[fail[:2], "result"] = "NO DATA"
    d.loc[fail[:2], "diff"] = np.nan
    text = explain_draw_failures(d, ["a", "b"])
    assert "in 2 there were too few runs with the metric to test" in text
    assert f"in {len(fail) - 2} it includes 0" in text and "nan" not in text
    # A named driver is labelled as a lead, not a finding.
    assert "by chance; a lead to check, not a finding" in text


def test_the_markdown_gives_the_follow_up_share_and_says_when_draws_repeat() -> None:
    d = _draws()
    d.loc[1, "draw"] = 0  # draw 0 resampled twice
    passed = int((d["result"] == "PASS").sum())
    lo, hi = draw_share_interval(passed, 60)
    patterns = pd.DataFrame([{
        "name": "b above a", "diff": 0.03, "lo": 0.02, "hi": 0.04, "result": "PASS",
        "reason": "ok", "draws_passed": passed, "draws": 60, "draws_share_lo90": lo,
        "draws_share_hi90": hi, "draws_explanation": "fails.", "power_replicates": 40,
        "power_draws_passed": 57, "power_share_lo90": 0.88, "power_share_hi90": 0.99}])
    targets = pd.DataFrame(columns=["target", "role", "likelihood", "observed", "obs_lo90",
                                    "obs_hi90", "sim_median", "ppi_lo90", "ppi_hi90",
                                    "inside"])
    v = Validation(targets, patterns, "test", None, d)
    s = v.summary()
    assert s["pattern_draws_distinct"] == 59 and s["power_replicates"] == 40
    assert s["patterns_in_90pct_of_draws_powered"] == 1
    md = v.markdown()
    assert "| at 40 replicates |" in md and "| 57/60 (88-99%) |" in md
    assert "59 of them distinct" in md


def test_checks_run_with_more_replicates_are_also_decided_on_the_experiments_own() -> None:
    """validate runs the pattern checks with the config's 40 replicates where the experiment
    has 10: its seeds are the first ones, so each check is decided on them alone too, at the
    point and in every draw, and both counts are reported: a small effect the experiment's
    replicates cannot resolve shows as a pass at 40 and a miss at 10, never the reverse
    labelled as the same thing."""
    from pathways_sim.calibration.validate import at_experiment, experiment_replicates
    from pathways_sim.sweep.analysis import evaluate_checks

    checks = [{"name": "b above a", "option": {"scenario": "b"}, "baseline": {"scenario": "a"},
               "metric": "m", "expect": "increase"}]
    points = [{"point_id": 0, "role": "baseline", "factors": {"scenario": "a"}},
              {"point_id": 1, "role": "option", "factors": {"scenario": "b"}}]

    def runs(diffs: list[float]) -> pd.DataFrame:  # option minus baseline, per replicate
        return pd.DataFrame([{"point_id": p, "replicate": r, "m": 0.5 + (d if p else 0.0)}
                             for r, d in enumerate(diffs) for p in (0, 1)])

    unclear_first = [0.01, -0.009] + [0.01 + 0.001 * i for i in range(6)]
    clear = [0.01 + 0.001 * i for i in range(8)]
    frames = [runs(unclear_first), runs(unclear_first), runs(clear)]
    table = evaluate_checks(frames[0], checks, points)
    per_draw = pd.concat([evaluate_checks(f, checks, points)[
        ["name", "diff", "lo", "hi", "result", "reason"]].assign(draw=d, _k=0)
        for d, f in enumerate(frames[1:])], ignore_index=True)
    table["draws_passed"] = int((per_draw["result"] == "PASS").sum())
    table["draws"] = 2
    table["replicates"] = 8

    at_experiment(table, per_draw, frames, 2, 8, checks, points, [])
    row = table.iloc[0]
    assert row.result == "PASS" and row.draws_passed == 2  # with all 8 replicates
    assert row.experiment_replicates == 2 and row.experiment_result == "FAIL"
    assert row.experiment_draws_passed == 1  # the clear draw passes on its first 2 too
    assert row.experiment_share_lo90 < 0.5 < row.experiment_share_hi90
    assert list(per_draw["experiment_result"]) == ["FAIL", "PASS"]
    # beside the draw's own columns, not after its parameter values
    cols = list(per_draw.columns)
    at = cols.index("reason") + 1
    assert cols[at:at + 5] == ["experiment_diff", "experiment_lo", "experiment_hi",
                               "experiment_result", "experiment_reason"]
    assert per_draw["experiment_lo"].iloc[0] < 0 < per_draw["experiment_lo"].iloc[1]
    assert experiment_replicates(table) == 2

    lo, hi = draw_share_interval(2, 2)
    table["draws_share_lo90"], table["draws_share_hi90"] = lo, hi
    targets = pd.DataFrame(columns=["target", "role", "likelihood", "observed", "obs_lo90",
                                    "obs_hi90", "sim_median", "ppi_lo90", "ppi_hi90",
                                    "inside"])
    v = Validation(targets, table, "test", None, per_draw)
    s = v.summary()
    assert (s["pattern_replicates"], s["experiment_replicates"]) == (8, 2)
    assert s["patterns_in_90pct_of_draws"] == 1
    assert s["patterns_passed_at_experiment_replicates"] == 0
    assert s["patterns_in_90pct_of_draws_at_experiment_replicates"] == 0
    md = v.markdown()
    assert ("in at least 90% of 2 posterior draws: 1/1 (8 replicates per design point; on "
            "the experiment's own 2, the first of them: 0/1 at the point, 0/1 in 90% of the "
            "draws)") in md
    assert "| at the experiment's 2 replicates: point; draws passed |" in md
    assert "| FAIL; 1/2 (" in md
    # the checks short of 90% on the experiment's replicates are named, with both counts
    assert "(short of it: b above a (1/2, 2/2 with all 8))" in md

    # With no more replicates than the experiment's nothing is added.
    plain = evaluate_checks(frames[0], checks, points)
    at_experiment(plain, per_draw.drop(columns=cols[at:at + 5]), frames, 8, 8, checks,
                  points, [])
    assert experiment_replicates(plain) == 0 and "experiment_result" not in plain


def test_the_text_says_how_many_replicates_ran_against_the_experiments() -> None:
    """Fewer replicates than the experiment's (validate --pattern-replicates 3 on an
    experiment of 5) are said as such, not as 'the experiment's seeds', with draws and at
    the point alone (the headline)."""
    from pathways_sim.calibration.validate import describe_pattern_draws, replicates_note

    table = pd.DataFrame([{"name": "x", "draws_passed": 2, "draws": 2, "replicates": 3,
                           "experiment_replicates": 5}])
    assert "each run with 3 replicates, the first of the experiment's 5" in (
        describe_pattern_draws(table))
    table["replicates"] = 5
    assert "each run with the experiment's 5 replicates" in describe_pattern_draws(table)
    assert replicates_note(table) == ""
    point = table.assign(result="PASS", draws=0, replicates=3, diff=0.1, lo=0.05, hi=0.15,
                         reason="r")
    assert replicates_note(point) == (" with 3 replicates per design point, fewer than the "
                                      "experiment's 5")
    v = Validation(pd.DataFrame(columns=["target", "role", "inside"]), point, "t")
    assert v.summary()["pattern_replicates"] == 3
    assert ("passed at the point with 3 replicates per design point, fewer than the "
            "experiment's 5: 1/1") in v.markdown()
