"""Tests of sweep analysis and reports: paired maths, costs, checks, discovery, the brief.

The maths is checked on small hand-made tables whose answers are worked out
in the comments; the report end to end on one tiny real sweep (short runs of
a 30%-scale medium service, three replicates, one run made to fail), written
once per module through the ``pathways-sim report`` command.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import math
import os
import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pathways_sim.cli import main
from pathways_sim.report import brief as brief_module
from pathways_sim.report.brief import write_report
from pathways_sim.report.document import Document, render_markdown
from pathways_sim.report.sweep_plots import format_diff, format_level
from pathways_sim.sweep import InProcessExecutor, load_experiment, run_sweep
from pathways_sim.sweep.analysis import (
    additional_outcome_costs,
    evaluate_checks,
    fieller_interval,
    paired_differences,
    summarise,
    t_interval,
)
from pathways_sim.sweep.discovery import (
    NotEnoughVariation,
    discovery_applies,
    feature_score_table,
    feature_scores,
    prim,
)
from pathways_sim.sweep.runner import FAIL_ENV

ROOT = Path(__file__).resolve().parents[1]
T90_2DF = 2.919985580355516  # t(0.95, 2): a 90% interval from 3 pairs


def runs(point: int, role: str, values: dict[str, list[float]], baseline: int | None = None,
         counterfactual: int | None = None, cohort: list[float] | None = None) -> pd.DataFrame:
    """The runs of one design point as a Sweep.joined()-like table, one row per replicate."""
    n = len(next(iter(values.values())))
    table = pd.DataFrame({
        "point_id": point, "replicate": range(n), "role": role,
        "baseline_point": baseline, "counterfactual_point": counterfactual, **values,
    })
    if cohort is not None:
        table["cohort_size"] = cohort
    return table


# --------------------------------------------------------------------------- paired maths


def test_paired_differences_pair_replicates_and_give_the_t_interval():
    # option - baseline per replicate: 0.02, 0.03, 0.01 -> mean 0.02, sd 0.01
    table = pd.concat([
        runs(0, "option", {"found_work_24m": [0.10, 0.12, 0.14],
                           "cost_per_job_24m": [900.0, 1000.0, 1100.0]}, baseline=1),
        runs(1, "baseline", {"found_work_24m": [0.08, 0.09, 0.13],
                             "cost_per_job_24m": [1000.0, 1000.0, 1000.0]}),
    ]).sample(frac=1.0, random_state=3)  # row order must not matter: pairs are by replicate
    out = paired_differences(table, ["found_work_24m", "cost_per_job_24m"],
                             {"found_work_24m": "maximize", "cost_per_job_24m": "minimize"})
    fw = out.set_index("metric").loc["found_work_24m"]
    half = T90_2DF * 0.01 / math.sqrt(3)
    assert fw["n"] == 3
    assert fw["diff"] == pytest.approx(0.02)
    assert (fw["lo"], fw["hi"]) == pytest.approx((0.02 - half, 0.02 + half))
    assert fw["mean"] == pytest.approx(0.12) and fw["partner_mean"] == pytest.approx(0.10)
    assert fw["verdict"] == "better"
    # cost per job: differences -100, 0, +100 -> mean 0, interval straddles 0
    cpj = out.set_index("metric").loc["cost_per_job_24m"]
    assert cpj["diff"] == pytest.approx(0.0)
    assert cpj["verdict"] == "no clear difference"


def test_paired_differences_verdicts_follow_the_direction_and_drop_unpaired_replicates():
    table = pd.concat([
        runs(0, "option", {"m": [1.0, 2.0, 3.0, 9.0]}, baseline=1),
        runs(1, "baseline", {"m": [2.0, 3.1, 4.0, np.nan]}),  # replicate 3 has no partner value
    ])
    down = paired_differences(table, ["m"], {"m": "maximize"}).iloc[0]
    assert down["n"] == 3 and down["diff"] == pytest.approx(-1.0333333)
    assert down["verdict"] == "worse"
    assert paired_differences(table, ["m"], {"m": "minimize"}).iloc[0]["verdict"] == "better"
    assert paired_differences(table, ["m"], {"m": "info"}).iloc[0]["verdict"] == "lower"
    same = pd.concat([runs(0, "option", {"m": [1.0, 2.0]}, baseline=1),
                      runs(1, "baseline", {"m": [1.0, 2.0]})])
    assert paired_differences(same, ["m"]).iloc[0]["verdict"] == "identical"


def test_t_interval_and_summaries_of_replicates():
    mean, lo, hi, n = t_interval([1.0, 2.0, 3.0, 4.0, np.nan])
    half = stats.t.ppf(0.95, 3) * np.std([1, 2, 3, 4], ddof=1) / 2.0
    assert (mean, n) == (2.5, 4) and (lo, hi) == pytest.approx((2.5 - half, 2.5 + half))
    assert math.isnan(t_interval([5.0])[1]) and t_interval([])[3] == 0
    table = runs(0, "option", {"m": [0.0, 1.0, 2.0, 3.0, 4.0]})
    row = summarise(table, ["m"]).iloc[0]
    # the 90% range of replicates is their 5th to 95th percentile
    assert (row["mean"], row["lo"], row["hi"]) == pytest.approx((2.0, 0.2, 3.8))


# --------------------------------------------------------------------------- costs


def test_cost_per_additional_job_pairs_each_run_with_its_counterfactual():
    # jobs = share x cohort: option 10, 12, 11; no service 5, 6, 5 -> extra 5, 6, 6
    # cost: option 1000, 1200, 1100; no service 100 each -> extra 900, 1100, 1000
    table = pd.concat([
        runs(0, "option", {"found_work_24m": [0.10, 0.12, 0.11],
                           "cost_total_24m": [1000.0, 1200.0, 1100.0]},
             counterfactual=1, cohort=[100.0, 100.0, 100.0]),
        runs(1, "counterfactual", {"found_work_24m": [0.05, 0.06, 0.05],
                                   "cost_total_24m": [100.0, 100.0, 100.0]},
             cohort=[100.0, 100.0, 100.0]),
    ])
    row = additional_outcome_costs(table).iloc[0]
    assert row["n"] == 3 and row["estimable"]
    assert row["extra_cost"] == pytest.approx(1000.0)
    assert row["extra_outcomes"] == pytest.approx(17 / 3)
    assert row["per_additional"] == pytest.approx(1000.0 / (17 / 3))  # £176.47 a job
    assert row["cost_per_outcome"] == pytest.approx(1100.0 / 11.0)  # £100 per job, all jobs
    # Fieller's ends solve (x̄ - θȳ)² = t² (sxx - 2θ sxy + θ² syy) / n
    x, y = np.array([900.0, 1100.0, 1000.0]), np.array([5.0, 6.0, 6.0])
    c = np.cov(x, y, ddof=1)
    for theta in (row["per_additional_lo"], row["per_additional_hi"]):
        lhs = (x.mean() - theta * y.mean()) ** 2
        rhs = T90_2DF ** 2 * (c[0, 0] - 2 * theta * c[0, 1] + theta ** 2 * c[1, 1]) / 3
        assert lhs == pytest.approx(rhs)
    assert row["per_additional_lo"] < row["per_additional"] < row["per_additional_hi"]


def test_cost_per_additional_job_is_not_estimable_when_extra_jobs_may_be_zero():
    # extra jobs +2, -1, +1: their interval includes 0, so the ratio has no bounded interval
    table = pd.concat([
        runs(0, "option", {"found_work_24m": [0.12, 0.05, 0.06], "cost_total_24m": [500.0] * 3},
             counterfactual=1, cohort=[100.0] * 3),
        runs(1, "counterfactual", {"found_work_24m": [0.10, 0.06, 0.05],
                                   "cost_total_24m": [0.0] * 3}, cohort=[100.0] * 3),
    ])
    row = additional_outcome_costs(table).iloc[0]
    assert not row["estimable"] and "includes 0" in row["note"]
    assert math.isnan(row["per_additional_lo"]) and math.isnan(row["per_additional_hi"])
    assert row["per_additional"] == pytest.approx(500.0 / (2 / 3))
    assert not fieller_interval([1.0, 2.0], [1.0, -1.0])[3]


# --------------------------------------------------------------------------- checks


def test_checks_pass_only_when_the_interval_excludes_zero_in_the_expected_direction():
    points = [
        {"point_id": 0, "role": "option", "factors": {"scenario": "holistic"}},
        {"point_id": 1, "role": "option", "factors": {"scenario": "medium"}},
        {"point_id": 2, "role": "baseline", "factors": {"scenario": "medium"}},
    ]
    table = pd.concat([
        runs(0, "option", {"a": [0.30, 0.32, 0.31], "b": [0.05, 0.06, 0.07]}, baseline=2),
        runs(1, "option", {"a": [0.20, 0.21, 0.19], "b": [0.05, 0.01, 0.03]}, baseline=2),
        runs(2, "baseline", {"a": [0.20, 0.21, 0.19], "b": [0.05, 0.01, 0.03]}),
    ])
    holistic, medium = {"scenario": "holistic"}, {"scenario": "medium"}
    checks = [
        {"name": "up", "option": holistic, "baseline": medium, "metric": "a",
         "expect": "increase"},
        {"name": "wrong way", "option": holistic, "baseline": medium, "metric": "a",
         "expect": "decrease"},
        {"name": "unclear", "option": holistic, "baseline": medium, "metric": "b",
         "expect": "increase"},
        # a - 4 x b within the same point: 0.10, 0.08, 0.03 -> mean 0.07
        {"name": "scaled", "option": holistic, "baseline": holistic, "metric": "a",
         "baseline_metric": "b", "scale": 4, "expect": "increase"},
        {"name": "missing", "option": {"scenario": "light"}, "baseline": medium,
         "metric": "a", "expect": "increase"},
    ]
    res = evaluate_checks(table, checks, points).set_index("name")
    assert res.loc["up", "result"] == "PASS"
    assert res.loc["up", "option_points"] == [0] and res.loc["up", "baseline_points"] == [1]
    assert res.loc["up", "diff"] == pytest.approx(0.11)
    assert res.loc["wrong way", "result"] == "FAIL"
    assert "other side" in res.loc["wrong way", "reason"]
    # b: differences 0, 0.05, 0.04 -> mean 0.03, sd 0.0265, half-width 0.0446: includes 0
    assert res.loc["unclear", "result"] == "FAIL" and "includes 0" in res.loc["unclear", "reason"]
    assert res.loc["scaled", "diff"] == pytest.approx(0.07)
    assert res.loc["scaled", "baseline_mean"] == pytest.approx(4 * 0.06)
    assert res.loc["scaled", "result"] == "PASS"  # half-width 2.92 x 0.0361 / 1.73 = 0.061
    assert res.loc["missing", "result"] == "NO DATA"


# --------------------------------------------------------------------------- discovery


def synthetic(n: int = 120, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    """Four inputs; the outcome is driven by ``demand`` and ``scenario`` (plus a little noise)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "demand": rng.uniform(0.7, 1.3, n),
        "distance": rng.uniform(-0.1, 0.2, n),
        "referrals": rng.integers(1000, 6000, n),
        "scenario": rng.choice(["light", "medium", "holistic"], n),
    })
    y = (0.1 * x["demand"].to_numpy() + 0.05 * (x["scenario"] == "holistic").to_numpy()
         + rng.normal(0, 0.003, n))
    return x, y


def planted(n: int = 500, seed: int = 11) -> tuple[pd.DataFrame, np.ndarray]:
    """A planted box: cases of interest are x1 > 0.7 and x2 < 0.3, 2% of labels flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n), "x3": rng.uniform(0, 1, n),
        "region": rng.choice(["north", "south", "east"], n),
        "fixed": 3,  # a constant column: ignored, never restricted
    })
    y = ((x["x1"] > 0.7) & (x["x2"] < 0.3)).to_numpy() ^ (rng.uniform(size=n) < 0.02)
    return x, y


def test_feature_scores_rank_the_informative_inputs_first():
    x, y = synthetic()
    scores = feature_scores(x, y)
    assert set(scores["input"][:2]) == {"demand", "scenario"}
    assert list(scores["rank"]) == [1, 2, 3, 4]
    assert scores["score"].sum() == pytest.approx(1.0)
    by = scores.set_index("input")
    assert by.loc["demand", "spearman"] > 0.4 and math.isnan(by.loc["scenario", "spearman"])
    assert by.loc[["distance", "referrals"], "score"].max() < 0.15  # noise inputs: little
    # seeded: the same sweep gives the same report, and the ranking does not hang on the seed
    pd.testing.assert_frame_equal(feature_scores(x, y), scores)
    assert set(feature_scores(x, y, seed=7)["input"][:2]) == {"demand", "scenario"}
    # the planted box's two inputs come first whatever else is in the table
    px, py = planted()
    top = feature_scores(px, py.astype(float))["input"][:2]
    assert set(top) == {"x1", "x2"}


def test_prim_finds_a_planted_box():
    x, y = planted()
    res = prim(x, y, outcome="found_work_24m")
    box = res.box
    assert box.restricted == ("x1", "x2")
    lo1, hi1 = box.limits["x1"]
    lo2, hi2 = box.limits["x2"]
    assert 0.6 < lo1 < 0.8 and hi1 == pytest.approx(x["x1"].max())
    assert lo2 == pytest.approx(x["x2"].min()) and 0.2 < hi2 < 0.4
    assert box.coverage >= 0.8 and box.density >= 0.8
    assert box.p_values["x1"] < 1e-6 and box.p_values["x2"] < 1e-6
    # one-sided restrictions: only the limit that moved has a quasi-p-value
    assert math.isnan(box.limit_p_values["x1"][1]) and math.isnan(box.limit_p_values["x2"][0])
    # coverage and density are what the box holds, counted here independently
    inside = x["x1"].between(lo1, hi1) & x["x2"].between(lo2, hi2)
    assert box.coverage == pytest.approx(y[inside].sum() / y.sum())
    assert box.density == pytest.approx(y[inside].mean())
    assert box.n == inside.sum() and res.cases == y.sum() and res.n == len(x)
    assert box.limits["fixed"] == (3.0, 3.0) and box.limits["region"] == ("east", "north",
                                                                         "south")
    traj = res.trajectory()
    assert traj["coverage"].iloc[0] == 1 and traj["mass"].iloc[0] == 1
    assert traj["mass"].is_monotonic_decreasing or not traj["peeled"].all()
    assert box.describe()[0].startswith("x1 from 0.")


def test_prim_thresholds_an_outcome_and_finds_categorical_and_low_boxes():
    x, y = synthetic()
    res = prim(x, y, q=0.8, outcome="found_work_24m")
    # the best fifth is holistic points with high enough demand: the box says just that
    box = res.box
    assert box.restricted == ("demand", "scenario") and box.limits["scenario"] == ("holistic",)
    assert 0.85 < box.limits["demand"][0] < 1.0 and box.coverage > 0.9 and box.density > 0.9
    assert res.threshold == pytest.approx(np.quantile(y, 0.8))
    assert res.cases == int((y > res.threshold).sum()) == 24
    # low outcomes (worst fifth): the box moves to low demand and the other scenarios
    low = prim(x, y, q=0.8, above=False).box
    assert low.limits["demand"][1] < 1.0 and low.limits["scenario"] == ("light", "medium")
    # a categorical driver is found as a set of values
    y_cat = (x["scenario"] == "holistic").to_numpy(float) + np.random.default_rng(1).normal(
        0, 0.01, len(x))
    res = prim(x, y_cat, q=0.6)
    cat = res.box
    assert cat.restricted == ("scenario",) and cat.limits["scenario"] == ("holistic",)
    holistic = x["scenario"] == "holistic"  # all holistic points are among the best 40%
    assert cat.density == 1.0 and cat.coverage == pytest.approx(holistic.sum() / res.cases)


def test_degenerate_inputs_give_a_not_enough_variation_reason():
    x, y = planted(n=60)
    flat = np.full(len(x), 0.25)
    for outcome in (flat, np.zeros(len(x), dtype=bool), np.ones(len(x), dtype=bool)):
        with pytest.raises(NotEnoughVariation, match="not enough variation"):
            prim(x, outcome, outcome="found_work_24m")
    with pytest.raises(NotEnoughVariation, match="not enough variation.*at every design point"):
        feature_scores(x, flat)
    with pytest.raises(NotEnoughVariation, match="10 design points"):  # too few runs
        prim(x.head(10), y[:10])
    with pytest.raises(NotEnoughVariation, match="1 varying inputs"):  # constant columns
        prim(x[["x1", "fixed"]].assign(region="north"), y)
    nan_y = np.where(np.arange(len(x)) < 50, np.nan, 1.0 * y)
    with pytest.raises(NotEnoughVariation, match="has a value at 10 design points"):
        prim(x, nan_y, outcome="cost_per_job_24m")
    table, skipped = feature_score_table(x, pd.DataFrame({"good": y * 1.0, "flat": flat}))
    assert table["flat"].isna().all() and table["good"].notna().all()
    assert skipped == {"flat": "not enough variation: flat is 0.25 at every design point"}
    # the report's gate: few design points or inputs
    sx, _ = synthetic(n=30)
    assert discovery_applies(sx)[0]
    ok, why = discovery_applies(sx.head(19))
    assert not ok and why.startswith("not enough variation") and "20 design points" in why
    assert not discovery_applies(sx[["demand"]].assign(fixed=1.0))[0]


def test_report_discovery_section_for_a_small_sweep(monkeypatch: pytest.MonkeyPatch):
    # 24 option points x 2 replicates of a latin-hypercube-like sweep: found work is high
    # where labour demand is high; the cost does not vary (not enough variation)
    rng = np.random.default_rng(3)
    demand = rng.uniform(0.7, 1.3, 24)
    frames = []
    for point, dem in enumerate(demand):
        frames.append(runs(point, "option", {
            "found_work_24m": list(0.2 * dem + rng.normal(0, 0.002, 2)),
            "cost_per_job_24m": [5000.0, 5000.0]}))
        frames[-1]["jobs.labour_demand"] = dem
        frames[-1]["scenario"] = ["light", "medium", "holistic"][point % 3]
    joined = pd.concat(frames, ignore_index=True)
    figures: list[str] = []
    monkeypatch.setattr("pathways_sim.report.brief.figure_png",
                        lambda fig: figures.append(fig.texts[0].get_text()) or b"\x89PNG")
    data = brief_module._Data(
        None, {"levers": {"scenario": []}, "uncertainties": {"jobs.labour_demand": {}}},
        {"found_work_24m": "maximize", "cost_per_job_24m": "minimize"}, joined, None, None)
    md = render_markdown(Document("t", brief_module._discovery(data)))
    assert "## Scenario discovery" in md and "24 option points" in md and "EMA Workbench" in md
    assert "Not scored: Cost per job (24 months): not enough variation" in md
    assert len(figures) == 2  # feature scores and the PRIM trajectory
    row = next(line for line in md.splitlines() if line.startswith("| Found work within 24"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "5 of 24"  # best fifth of 24 points
    assert cells[2].endswith("%") and cells[3].endswith("%")
    assert cells[4].startswith("jobs.labour_demand ") and "p = " in cells[4]
    cost = next(line for line in md.splitlines() if line.startswith("| Cost per job"))
    assert "no box: not enough variation" in cost
    assert "Coverage: share of the cases of interest inside the box" in md


def test_formats_for_people():
    assert format_level("found_work_24m", 0.1234) == "12.3%"
    assert format_diff("found_work_24m", 0.012) == "+1.2 pp"
    assert format_diff("found_work_24m", -0.0001) == "0.0 pp"
    assert format_level("cost_per_job_24m", 4560.4) == "£4,560"
    assert format_diff("cost_per_job_24m", -340.0) == "−£340"
    assert format_level("support_ratio_near_far", 1.234) == "1.23"


# --------------------------------------------------------------------------- the report

SMALL_BASE = """\
title: Medium service at 30% scale (tests)
description: The medium service with every count at 30%, for quick test sweeps.
base: medium
params:
  run:
    scale: {value: 0.3, source: "assumption: small runs for tests"}
"""

# 3 options + 1 baseline + 2 counterfactuals (medium-like and holistic) = 6 points x 3 = 18 runs
EXPERIMENT = """\
title: Report test
description: Three service models against the medium one, with two pattern checks.
base: small_medium.yaml
levers:
  scenario: [medium, holistic, pbr_job_outcomes]
outcomes:
  found_work_12m: maximize
  stepping_stone_12m: maximize
  cost_per_job_24m: minimize
  support_ratio_near_far: info
design: {type: full_factorial}
replicates: 3
seed: 5
weeks: 60
baseline: {scenario: medium}
counterfactual: no_service
calibration: none  # the checks are about the registry model
checks:
  - name: holistic beats medium on stepping stones
    option: {scenario: holistic}
    baseline: {scenario: medium}
    metric: stepping_stone_12m
    expect: increase
  - name: stepping stones exceed 4x job starts
    option: {scenario: holistic}
    baseline: {scenario: holistic}
    metric: stepping_stone_12m
    baseline_metric: found_work_12m
    scale: 4
    expect: increase
"""
FAILED_RUN = 17  # the last replicate of the last counterfactual point


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test experiment swept in this process, one run made to fail."""
    folder = tmp_path_factory.mktemp("report-experiment")
    (folder / "small_medium.yaml").write_text(SMALL_BASE, encoding="utf-8")
    (folder / "report_test.yaml").write_text(textwrap.dedent(EXPERIMENT), encoding="utf-8")
    out = tmp_path_factory.mktemp("report-sweep") / "sweep"
    os.environ[FAIL_ENV] = str(FAILED_RUN)
    try:
        run_sweep(load_experiment(folder / "report_test.yaml"), out, InProcessExecutor(),
                  progress=False)
    finally:
        del os.environ[FAIL_ENV]
    return out


@pytest.fixture(scope="module")
def report(swept: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder, written through the command line."""
    out = tmp_path_factory.mktemp("report") / "brief"
    assert main(["report", str(swept), "--out", str(out)]) == 0
    return out


def test_report_html_is_self_contained_with_embedded_figures(report: Path):
    page = (report / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 6  # effects, 3 fan charts, funnel, equity, costs
    # the fan charts are named by the stages' labels (pathways_sim.stages), one definition
    for label in ("in work", "volunteer / training", "waiting"):
        assert f'alt="Fan chart of clients by week: {label}"' in page, label
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    # nothing is fetched from elsewhere: every src/href is embedded data or a page anchor
    links = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert links and all(x.startswith(("data:", "#")) for x in links)
    assert "<script" not in page and "<link" not in page and "url(" not in page


def test_report_markdown_has_the_headline_table_checks_and_figures_beside_it(report: Path):
    md = (report / "report.md").read_text(encoding="utf-8")
    head = next(line for line in md.splitlines() if line.startswith("| Option |"))
    assert "Found work within 12 months (higher is better)" in head
    assert "Cost per job (24 months) (lower is better)" in head
    rows = [line for line in md.splitlines() if line.startswith(("| holistic |",
                                                                  "| pbr_job_outcomes |"))]
    assert len(rows) >= 2 and "[" in rows[0] and "]" in rows[0]
    assert "| medium (same runs as the baseline) |" in md
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (report / figure).is_file() and not figure.startswith(("http", "/"))
    # the pattern checklist: holistic's stepping stones clearly exceed medium's
    assert "## Pattern checks" in md
    check = next(line for line in md.splitlines()
                 if line.startswith("| holistic beats medium on stepping stones"))
    assert "✔ PASS" in check
    assert re.search(r"\*\*\d of 2 checks pass\.\*\*", md)
    # which model: the experiment says calibration: none, and the brief says so
    assert ("- **Model**: the parameter registry's values (no calibration): the intervals "
            "show chance alone") in md
    # sections an analyst relies on
    for section in ("## Effects", "## Over time", "## Pathway funnel", "## Equity",
                    "## Costs", "## Assumptions and sources", "## Run settings"):
        assert section in md
    assert "Cost per additional job" in md and "Fieller" in md
    assert "not enough variation for scenario discovery: it needs at least 2 varying" in md
    assert "assumption: small runs for tests" in md  # a change from the base, with its source


def test_report_lists_failed_runs(report: Path):
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "1 run(s) failed" in md and "## Failed runs" in md
    assert f"| {FAILED_RUN} |" in md and "failed on purpose" in md


def test_incomplete_sweep_gets_a_warning_banner(swept: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    # figures are checked above: skip drawing them here to keep the test quick
    monkeypatch.setattr("pathways_sim.report.brief.figure_png", lambda fig: b"\x89PNG")
    copy = tmp_path / "partial"
    shutil.copytree(swept, copy, ignore=shutil.ignore_patterns("report"))
    index = json.loads((copy / "index.json").read_text(encoding="utf-8"))
    last = max(index["completed_chunks"], key=int)
    del index["completed_chunks"][last]
    index["complete"] = False
    index["runs_done"] = sum(c["runs"] for c in index["completed_chunks"].values())
    (copy / "index.json").write_text(json.dumps(index), encoding="utf-8")
    html_path, md_path = write_report(copy)
    assert html_path == copy / "report" / "report.html" and md_path.parent == html_path.parent
    page = html_path.read_text(encoding="utf-8")
    assert 'class="banner warning"' in page and "Incomplete sweep" in page
    assert f"{index['runs_done']} of 18 runs are recorded" in md_path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- EMA Workbench


def test_ema_workbench_example_runs_the_model_as_a_function():
    spec = importlib.util.spec_from_file_location("pathways_ema_example",
                                                  ROOT / "examples" / "ema_workbench.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    experiments, outcomes = example.run(scenarios=2, policies=2, weeks=40, scale=0.3)
    assert len(experiments) == 4
    assert set(experiments["service"].astype(str)) <= {"medium", "holistic"}
    for metric in ("found_work_24m", "stepping_stone_12m"):
        assert len(outcomes[metric]) == 4
        assert np.all((outcomes[metric] >= 0) & (outcomes[metric] <= 1))
    # the function the Workbench calls is an ordinary one: same inputs, same outputs
    # (assert_equal: a metric undefined in so short a run is NaN on both sides)
    once = example.simulate("medium", seed=3, weeks=30, **{"run.scale": 0.3})
    again = example.simulate("medium", seed=3, weeks=30, **{"run.scale": 0.3})
    np.testing.assert_equal(again, once)  # NaN (no job yet: no cost per job) equals NaN
