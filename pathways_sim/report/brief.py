"""The brief of a sweep: a baseline-vs-option report in HTML and Markdown.

:func:`write_report` reads a sweep's results folder
(:func:`~pathways_sim.sweep.results.load_sweep`) and writes

* ``report.html``: one self-contained page (figures embedded as base64 PNG,
  styles inline, no external asset: it opens offline and can be e-mailed);
* ``report.md``: the same text in Markdown, its figures as PNG files beside it.

The brief is built once as a :class:`~pathways_sim.report.document.Document`
(headings, paragraphs, tables, figures, banners) and rendered twice by the
document model every report shares, so the two files always say the same.
Its sections:

1. **In brief**: what is clearly better or worse than the baseline, checks, costs.
2. **Headline table**: each option against the baseline on the experiment's
   outcomes, paired differences with 90% intervals, coloured and arrowed by
   the outcome's direction.
3. **Effects**: a forest plot of the same paired differences.
4. **Over time**: fan charts of weekly stocks (median, 50% and 90% bands).
5. **Pathway funnel**: shares of the cohort reaching each stage.
6. **Equity**: outcomes and support of the clients closest to and furthest
   from work (the creaming index).
7. **Staffing and costs**: Link Worker posts funded (payment by results changes
   them), the capacity effect against the behaviour effect when the sweep holds posts
   fixed in a twin of a payment-by-results option (``funding.capacity_responds``),
   the cohort's share of what the funder paid (one cost account, the funder's ledger),
   cost per job and cost per additional job against the no-service counterfactual.
8. **Pattern checks** (when the experiment has ``checks:``): PASS / FAIL.
9. **Scenario discovery** (with at least 2 varying inputs and 20 design
   points): feature scores and PRIM boxes from the EMA Workbench; otherwise
   why it is left out (not enough variation).
10. **Outcome levels**, **assumptions and sources**, **run settings** and
    **failed runs**.

Every number is computed by :mod:`pathways_sim.sweep.analysis` and
:mod:`pathways_sim.sweep.discovery` from the metrics the sweep stored (which
:mod:`pathways_sim.outcomes` computed from the event log); this module only
lays them out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pathways_sim.report.document import (
    Block,
    BulletList,
    Callout,
    Cell,
    Code,
    Document,
    Figure,
    Heading,
    Paragraph,
    Table,
    write_document,
)
from pathways_sim.report.sweep_plots import (
    cost_figure,
    equity_figure,
    fan_figure,
    feature_score_figure,
    figure_png,
    forest_figure,
    format_diff,
    format_level,
    funnel_figure,
    metric_label,
    prim_figure,
    staffing_figure,
    stage_text,
)
from pathways_sim.sweep.analysis import (
    EQUITY_METRICS,
    FUNNEL_METRICS,
    LEVEL,
    additional_outcome_costs,
    capacity_behaviour,
    evaluate_checks,
    paired_differences,
    summarise,
)
from pathways_sim.sweep.discovery import (
    NotEnoughVariation,
    discovery_applies,
    feature_score_table,
    point_table,
    prim,
    varying_inputs,
)
from pathways_sim.sweep.results import Sweep, load_sweep

__all__ = ["MAX_POINTS", "STOCKS", "build_brief", "write_report"]

MAX_POINTS = 12
"""Options shown one by one; with more, options are grouped by their categorical levers."""

STOCKS = ("in_work", "stepping_stone", "waiting")
"""Weekly stocks drawn as fan charts."""

_PCT = int(round(LEVEL * 100))
_DIRECTION_WORDS = {"maximize": "higher is better", "minimize": "lower is better",
                    "info": "for information"}
_VERDICT_CLASS = {"better": "better", "worse": "worse", "higher": "info", "lower": "info"}

# --------------------------------------------------------------------------- labels


def _short_key(name: str, names: Sequence[str]) -> str:
    """``funding.regime`` -> ``regime`` unless another factor ends the same way."""
    tail = name.rsplit(".", 1)[-1]
    return tail if sum(n.rsplit(".", 1)[-1] == tail for n in names) == 1 else name


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _factor_text(values: Mapping[str, Any], names: Sequence[str], all_names: Sequence[str]) -> str:
    parts = []
    for n in names:
        if n not in values or values[n] is None:
            continue
        if n == "scenario":
            parts.append(str(values[n]))
        else:
            parts.append(f"{_short_key(n, all_names)}={_value_text(values[n])}")
    return ", ".join(parts)


@dataclass
class _Layout:
    """How design points are shown: a label per point, and the labels in order."""

    label: dict[int, str]
    options: list[str]
    baselines: list[str]
    counterfactuals: list[str]
    pooled: bool
    grouped_by: list[str]

    @property
    def all(self) -> list[str]:
        return self.options + self.baselines + self.counterfactuals


def _layout(sweep: Sweep) -> _Layout:
    exp = sweep.experiment
    factor_names = list(exp.get("levers", {})) + list(exp.get("uncertainties", {}))
    lever_names = list(exp.get("levers", {}))
    points = sweep.points
    options = [p for p in points if p["role"] == "option"]
    varying = [n for n in factor_names
               if len({json.dumps(p["factors"].get(n)) for p in options}) > 1]
    label: dict[int, str] = {}
    pooled = len(options) > MAX_POINTS
    grouped_by: list[str] = []
    if not pooled:
        for p in options:
            text = _factor_text(p["factors"], varying, factor_names) or "option"
            label[int(p["point_id"])] = text
    else:
        # group by the levers listed as values (categories), as few as give <= MAX_POINTS groups
        listed = [n for n in lever_names if n in varying
                  and isinstance(exp["levers"][n], list)]
        combos = {_factor_text(p["factors"], listed, factor_names) for p in options}
        if listed and len(combos) <= MAX_POINTS:
            grouped_by = listed
        else:
            grouped_by = next(([n] for n in listed if len(
                {json.dumps(p["factors"].get(n)) for p in options}) <= MAX_POINTS), [])
        for p in options:
            text = _factor_text(p["factors"], grouped_by, factor_names) or "all options"
            label[int(p["point_id"])] = text
    # make option labels unique when they are one per point
    if not pooled:
        seen: dict[str, int] = {}
        for pid in sorted(label):
            text = label[pid]
            seen[text] = seen.get(text, 0) + 1
            if seen[text] > 1:
                label[pid] = f"{text} #{pid}"
    baselines = [p for p in points if p["role"] == "baseline"]
    base_values = exp.get("baseline") or {}
    base_text = _factor_text(base_values, list(base_values), factor_names)
    for p in baselines:
        text = f"baseline ({base_text})" if base_text else "baseline"
        if len(baselines) > 1 and not pooled:
            unc = _factor_text(p["factors"], list(exp.get("uncertainties", {})), factor_names)
            text = f"{text}, {unc}" if unc else text
        label[int(p["point_id"])] = text
    cf_name = str(exp.get("counterfactual") or "counterfactual").replace("_", " ")
    cfs = [p for p in points if p["role"] == "counterfactual"]
    by_id = {int(p["point_id"]): p for p in points}
    for p in cfs:
        pid = int(p["point_id"])
        users = [q for q in points if q.get("counterfactual_point") == pid]
        text = cf_name
        if not pooled and len(cfs) > 1:
            # name a counterfactual by the lever values its paired points share, else by
            # the values of the first lever (at most three) they differ in
            values = {n: list(dict.fromkeys(
                _factor_text({n: by_id[int(q["point_id"])]["factors"].get(n)}, [n],
                             factor_names) for q in users))
                for n in varying if n in lever_names}
            shown = [v[0] for v in values.values() if len(v) == 1]
            if not shown:
                shown = [" / ".join(v) for v in values.values() if len(v) <= 3][:1]
            if users and shown:
                text = f"{cf_name} ({', '.join(shown)})"
            unc = _factor_text(p["factors"], list(exp.get("uncertainties", {})), factor_names)
            if unc:
                text = f"{text}, {unc}"
        label[pid] = text

    def rank(p: Mapping[str, Any]) -> tuple[int, ...]:
        """Position of a point's group in the experiment file's order of lever values."""
        out = []
        for n in grouped_by:
            values = [json.dumps(v) for v in exp["levers"][n]]
            v = json.dumps(p["factors"].get(n))
            out.append(values.index(v) if v in values else len(values))
        return tuple(out)

    def ordered(role: str) -> list[str]:
        out: list[str] = []
        chosen = [p for p in points if p["role"] == role]
        if pooled and role == "option":
            chosen = sorted(chosen, key=rank)
        for p in chosen:
            if label[int(p["point_id"])] not in out:
                out.append(label[int(p["point_id"])])
        return out

    lay = _Layout(label, ordered("option"), ordered("baseline"), ordered("counterfactual"),
                  pooled, grouped_by)
    # a counterfactual label equal to an option's would merge them: keep them apart
    for pid, text in list(label.items()):
        if by_id[pid]["role"] == "counterfactual" and text in lay.options + lay.baselines:
            label[pid] = f"{text} [counterfactual]"
    lay.counterfactuals = ordered("counterfactual")
    return lay


# --------------------------------------------------------------------------- formatting


def _cell_interval(metric: str, diff: float, lo: float, hi: float, bold: bool = False) -> str:
    if not math.isfinite(diff):
        return "–"
    # one more decimal when an end of a clear interval would round to 0
    extra = 0
    while extra < 2 and any(v != 0 and format_diff(metric, v, unit=False, extra=extra)
                            .lstrip("+−").strip("0.") == "" for v in (lo, hi)
                            if math.isfinite(v)):
        extra += 1
    main = format_diff(metric, diff, extra=extra)
    main = f"**{main}**" if bold else main
    if math.isfinite(lo) and math.isfinite(hi):
        ends = [format_diff(metric, v, unit=False, extra=extra) for v in (lo, hi)]
        return f"{main} [{ends[0]}, {ends[1]}]"
    return main


def _range_text(metric: str, mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(mean):
        return "–"
    if math.isfinite(lo) and math.isfinite(hi) and lo != hi:
        return (f"{format_level(metric, mean)} ({format_level(metric, lo, unit=False)}–"
                f"{format_level(metric, hi, unit=False)})")
    return format_level(metric, mean)


def _stats(sub: pd.DataFrame, metric: str) -> tuple[float, float, float]:
    """(mean, lo, hi) of a metric in a summary indexed by metric; NaN when it has no run."""
    if metric not in sub.index:
        return math.nan, math.nan, math.nan
    row = sub.loc[metric]
    return float(row["mean"]), float(row["lo"]), float(row["hi"])


def _arrow(diff: float) -> str:
    if not math.isfinite(diff) or diff == 0:
        return "="
    return "↑" if diff > 0 else "↓"


def _money(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"£{x:,.0f}" if x >= 0 else f"−£{-x:,.0f}"


def _people(x: float) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:,.1f}".replace("-", "−")


def _names(items: Sequence[str], limit: int = 5) -> str:
    items = list(items)
    if len(items) <= limit:
        return "; ".join(items)
    return "; ".join(items[:limit]) + f" and {len(items) - limit} more"


# --------------------------------------------------------------------------- sections


@dataclass
class _Data:
    sweep: Sweep
    exp: dict[str, Any]
    outcomes: dict[str, str]
    joined: pd.DataFrame
    lay: _Layout
    diffs: pd.DataFrame
    figures: int = 0
    _checks: pd.DataFrame | None = None

    def checks(self) -> pd.DataFrame:
        """The experiment's checks evaluated (once)."""
        if self._checks is None:
            self._checks = evaluate_checks(self.joined, self.sweep.checks, self.sweep.points,
                                           list(self.exp.get("uncertainties", {})), LEVEL)
        return self._checks

    def fig(self, stem: str, figure: Any, alt: str) -> Figure:
        self.figures += 1
        return Figure(f"fig{self.figures:02d}-{stem}.png", figure_png(figure), alt)


def _banners(d: _Data) -> list[Block]:
    out: list[Block] = []
    sw = d.sweep
    total = sw.runs_planned
    done = sw.runs_recorded
    failed = len(sw.errors)
    writer = sw.writer
    if writer is not None:
        out.append(Callout(
            f"**A sweep is still writing to this folder** (pid {writer.get('pid', '?')}, started "
            f"{writer.get('started_utc', '?')}): this report shows the runs recorded so far."))
    if not sw.complete:
        damaged = [p for parts in sw.damaged.values() for p, _ in parts]
        lost = (f"; {len(damaged)} part{'s' if len(damaged) != 1 else ''} damaged or missing ("
                + ", ".join(f"`{p.relative_to(sw.path).as_posix()}`" for p in damaged[:4])
                + (", …" if len(damaged) > 4 else "") + "), their runs left out"
                ) if damaged else ""
        out.append(Callout(
            f"**Incomplete sweep**: {done} of {total} runs are recorded{lost}. The numbers below "
            "use only the finished runs, and a comparison leaves out a replicate whose partner "
            "run is missing. Finish it with `pathways-sim sweep "
            f"{d.exp.get('name', 'EXPERIMENT')} --out {sw.path} --resume`"
            f"{' (it reruns the damaged parts)' if damaged else ''}, then write the "
            "report again."))
    if failed:
        out.append(Callout(f"**{failed} run(s) failed** and are left out of every number; see "
                          "[Failed runs](#failed-runs)."))
    return out


def _caveats(d: _Data) -> list[str]:
    out = []
    params = d.sweep.manifest.get("scenario", {}).get("params", {}).get("run", {})
    weeks = d.exp.get("weeks") or params.get("weeks")
    cohort, follow = params.get("cohort_weeks"), params.get("follow_up_weeks")
    if weeks and cohort and follow and weeks < cohort + follow:
        out.append(f"The runs last {weeks} weeks, less than the {cohort + follow} weeks that "
                   f"give every client of the {cohort}-week cohort {follow} weeks of "
                   "follow-up: outcomes over long windows (24 months) are understated.")
    # a lever the baseline does not fix keeps the base scenario's value there: flag the
    # single-valued ones, which an analyst may well expect to hold for the baseline too
    fixed = d.exp.get("baseline") or {}
    points = d.sweep.points
    for name, values in d.exp.get("levers", {}).items():
        if name in fixed or not isinstance(values, list) or len(values) != 1:
            continue
        in_base = {json.dumps(p["factors"].get(name)) for p in points if p["role"] == "baseline"}
        if in_base and in_base != {json.dumps(values[0])}:
            shown = ", ".join(sorted(in_base))
            out.append(f"Lever `{name}` is {_value_text(values[0])} in every option but "
                       f"{shown} in the baseline (the baseline fixes only "
                       f"{', '.join(f'`{k}`' for k in fixed)}; other levers keep the base "
                       "scenario's value), so differences against the baseline include "
                       "this change too.")
    reps = int(d.exp.get("replicates", 0))
    if reps < 5:
        out.append(f"Only {reps} replicates per design point: intervals are wide and rest on "
                   "few pairs. Use at least 10 for conclusions.")
    return out


def _headline(d: _Data) -> list[Block]:
    out: list[Block] = [Heading("Headline: each option against the baseline")]
    metrics = list(d.outcomes)
    if d.diffs.empty:
        out.append(Paragraph("The experiment has no baseline (or no finished pair), so options "
                        "cannot be compared with one; see [Outcome levels](#outcome-levels)."))
        return out
    pooled = (" Options are grouped by " + ", ".join(f"`{g}`" for g in d.lay.grouped_by)
              + ": each row pools the pairs of every design point in the group (the "
              "interval is then of the mean effect over the sampled points)."
              if d.lay.pooled else "")
    out.append(Paragraph(
        f"Each cell: the mean of the paired differences option − baseline over replicates "
        f"run with the same seeds, and its {_PCT}% confidence interval in brackets; the "
        "arrow is the direction of the change, the word and colour say whether that is "
        f"better or worse for the outcome (when the interval excludes 0).{pooled}"))
    header = ["Option"] + [f"{metric_label(m)} ({_DIRECTION_WORDS.get(d.outcomes[m], '')})"
                           for m in metrics]
    rows: list[list[Cell]] = []
    base = summarise(d.joined[d.joined["role"] == "baseline"], metrics, by="role")
    brow: list[Cell] = ["Baseline level (mean, 90% of runs)"]
    for m in metrics:
        r = base[base["metric"] == m]
        brow.append(("—" if r.empty else _range_text(m, *r[["mean", "lo", "hi"]].iloc[0]),
                     "level"))
    rows.append(brow)
    for label in d.lay.options:
        sub = d.diffs[d.diffs["label"] == label].set_index("metric")
        if sub.empty:
            rows.append([label] + [("no finished pair", "unclear")] * len(metrics))
            continue
        same = bool(sub["identical"].all())
        row: list[Cell] = [label + (" (same runs as the baseline)"
                                                     if same else "")]
        for m in metrics:
            if m not in sub.index:
                row.append("–")
                continue
            r = sub.loc[m]
            verdict = str(r["verdict"])
            cell = _cell_interval(m, r["diff"], r["lo"], r["hi"], bold=True)
            text = f"{cell} {_arrow(r['diff'])} {verdict}"
            row.append((text, _VERDICT_CLASS.get(verdict, "unclear")))
        rows.append(row)
    out.append(Table(header, rows))
    return out


def _forest(d: _Data) -> list[Block]:
    if d.diffs.empty:
        return []
    metrics = list(d.outcomes)
    fig = forest_figure(d.diffs, metrics, d.lay.options, level=LEVEL)
    return [Heading("Effects"), d.fig("effects", fig, "Forest plot of paired differences "
                                      "against the baseline, per outcome")]


def _fans(d: _Data) -> list[Block]:
    weekly = d.sweep.weekly
    if weekly.empty:
        return []
    label_of = pd.Series(d.lay.label)
    runs = d.sweep.design.set_index("run_id")["point_id"].map(label_of)
    weekly = weekly.assign(label=weekly["run_id"].map(runs))
    out: list[Block] = [Heading("Over time"), Paragraph(
        "Clients in each state at the end of every week (every client referred in the run, "
        "not only the outcome cohort). Line: median of the runs; dark band: the middle 50%; "
        "light band: the middle 90%; dashed: the baseline's median. No service is shown for "
        "clients in work only (with no service nobody is supported or placed).")]
    reference = d.lay.baselines[0] if len(d.lay.baselines) == 1 else None
    for stock in STOCKS:
        if stock not in weekly.columns:
            continue
        # with no service nobody is supported or placed: its panels add nothing there
        labels = d.lay.all if stock == "in_work" else d.lay.options + d.lay.baselines
        fig = fan_figure(weekly, stock, labels, reference=reference)
        out.append(d.fig(f"fan-{stock.replace('_', '-')}", fig,
                         f"Fan chart of clients by week: {stage_text(stock).lower()}"))
    return out


def _funnel(d: _Data) -> list[Block]:
    stages = [m for m in FUNNEL_METRICS if m in d.joined.columns]
    summ = summarise(d.joined, stages, by="label")
    fig = funnel_figure(summ, d.lay.all, stages, baselines=d.lay.baselines,
                        counterfactuals=d.lay.counterfactuals)
    rows: list[list[Cell]] = []
    for label in d.lay.all:
        sub = summ[summ["label"] == label].set_index("metric")
        rows.append([label] + [_range_text(m, *_stats(sub, m))
                               for m in stages])
    return [Heading("Pathway funnel"), Paragraph(
        "Share of the outcome cohort reaching each stage of the pathway (mean and 90% of "
        "runs). Stages are not nested: a client can find work without a stepping stone."),
        d.fig("funnel", fig, "Pathway funnel by design point"),
        Table(["Design point"] + [metric_label(m) for m in stages], rows)]


def _equity(d: _Data) -> list[Block]:
    metrics = [m for m in EQUITY_METRICS if m in d.joined.columns]
    summ = summarise(d.joined, metrics, by="label")
    fig = equity_figure(summ, d.lay.all)
    out: list[Block] = [Heading("Equity: clients near to and far from work"), Paragraph(
        "The cohort split into thirds by distance from the labour market at referral. The "
        "**creaming index** (`support_ratio_near_far`) is Link Worker sessions per client of "
        "the closest third over the furthest third: above 1, support is skewed towards "
        "clients who were already close to work. (`found_work_ratio_near_far_24m`: the same "
        "ratio for job starts.)"), d.fig("equity", fig, "Equity panel")]
    if not d.diffs.empty:
        eq = paired_differences(d.joined, metrics, {"found_work_24m_far": "maximize",
                                                    "found_work_24m_near": "maximize"},
                                by="label")
        rows: list[list[Cell]] = []
        for label in d.lay.options:
            sub = eq[eq["label"] == label].set_index("metric")
            row: list[Cell] = [label]
            for m in metrics:
                if m not in sub.index:
                    row.append("–")
                    continue
                r = sub.loc[m]
                verdict = str(r["verdict"])
                row.append((f"{_cell_interval(m, r['diff'], r['lo'], r['hi'])} "
                            f"{_arrow(r['diff'])}", _VERDICT_CLASS.get(verdict, "unclear")))
            rows.append(row)
        out.append(Table(["Option − baseline"] + [metric_label(m) for m in metrics], rows,
                         caption=f"Paired differences against the baseline, {_PCT}% "
                                 "confidence intervals."))
    return out


def _costs(d: _Data) -> list[Block]:
    out: list[Block] = [Heading("Costs")]
    joined = d.joined
    if "cost_per_job_24m" not in joined.columns:
        return []
    served = d.lay.options + d.lay.baselines
    cpj = summarise(joined, ["cost_per_job_24m", "cost_total_24m"], by="label")
    has_cf = joined["counterfactual_point"].notna().any()
    add = additional_outcome_costs(joined, "found_work_24m", by="label") if has_cf else None
    add26 = (additional_outcome_costs(joined, "sustained_work_26w_24m", by="label")
             if has_cf else None)
    table = pd.DataFrame({"label": served})
    c = cpj[cpj["metric"] == "cost_per_job_24m"].set_index("label")
    table["cpj_mean"] = table["label"].map(c["mean"])
    table["cpj_lo"] = table["label"].map(c["lo"])
    table["cpj_hi"] = table["label"].map(c["hi"])
    if add is not None:
        a = add.set_index("label")
        for col in ("per_additional", "per_additional_lo", "per_additional_hi", "estimable"):
            table[col] = table["label"].map(a[col])
    fig = cost_figure(table, served, level=LEVEL)
    out.append(Paragraph(
        "**Cost** is the cohort's share of what the funder paid, within each member's 24 "
        "months (`cost_total_24m`), from one account, the funder's ledger: every funding "
        "period's guaranteed Link Worker contract is shared over that period's sessions, the "
        "VCS places funded over that period's place-weeks, and results payments go to the "
        "clients whose outcomes earned them. No separate unit price enters: the cost of a "
        "session is the posts' cost over the sessions delivered. A design point with fewer "
        "posts costs less and gives less support: read costs with the staffing above. "
        "**Cost per job** divides the cohort's cost by the clients who found work within "
        "24 months, including those who would have found work anyway. **Cost per additional "
        "job** divides the extra cost by the extra jobs against the no-service counterfactual "
        "run with the same seeds: (cost − cost without service) / (jobs − jobs without "
        "service), jobs = `found_work_24m` × cohort size, as a ratio of mean paired "
        f"differences with a {_PCT}% Fieller interval. When the interval of the extra jobs "
        "includes 0 the ratio is not estimable (it could be any size, or negative), and the "
        "table says so."))
    out.append(d.fig("costs", fig, "Cost per job and per additional job"))
    tot = cpj[cpj["metric"] == "cost_total_24m"].set_index("label")
    rows: list[list[Cell]] = []
    for label in served:
        row: list[Cell] = [
            label,
            _money(tot["mean"].get(label, math.nan)),
            _range_text("cost_per_job_24m", c["mean"].get(label, math.nan),
                        c["lo"].get(label, math.nan), c["hi"].get(label, math.nan)),
        ]
        for frame in (add, add26):
            if frame is None:
                continue
            r = frame.set_index("label").reindex([label]).iloc[0]
            extra = (f"{_people(r['extra_outcomes'])} [{_people(r['extra_outcomes_lo'])}, "
                     f"{_people(r['extra_outcomes_hi'])}]")
            pairs = int(r["n"]) if pd.notna(r["n"]) else 0
            if pd.notna(r["estimable"]) and bool(r["estimable"]):
                per = (f"{_money(r['per_additional'])} [{_money(r['per_additional_lo'])}, "
                       f"{_money(r['per_additional_hi'])}]")
                cls = "level"
            elif pairs >= 2:
                per, cls = "not estimable: additional jobs may be 0", "unclear"
            else:
                per, cls = ("no finished pair" if pairs == 0 else str(r["note"])), "unclear"
            row += [extra, (per, cls)]
        rows.append(row)
    header = ["Design point", "Cost (24 months)", "Cost per job (90% of runs)"]
    if add is not None:
        header += ["Additional jobs vs no service", "Cost per additional job",
                   "Additional jobs sustained 26 weeks", "Cost per additional sustained job"]
    out.append(Table(header, rows, caption=f"Additional outcomes and their costs: means of "
                     f"paired differences with {_PCT}% intervals."))
    # A run where no one found work has no cost per job: say so, never drop it silently.
    runs = joined.groupby("label").size()
    short = [f"{label}: n/a in {int(runs[label]) - int(c['n'][label])} of {int(runs[label])} "
             "runs" for label in served
             if label in runs.index and label in c.index and int(c["n"][label]) < runs[label]]
    if short:
        out.append(Paragraph("Cost per job is undefined in a run where no cohort member found work "
                        "within 24 months; its range is over the other runs. " + "; ".join(short)
                        + "."))
    cost_params = _cost_params(d.sweep)
    if cost_params:
        out.append(Paragraph("Prices of the cost account (base scenario): "
                             + "; ".join(cost_params) + "."))
    return out


def _cost_params(sweep: Sweep) -> list[str]:
    sc = sweep.manifest.get("scenario", {})
    params, sources = sc.get("params", {}), sc.get("sources", {})
    out = []
    funding = params.get("funding", {})
    keys = [("cost_per_link_worker", " a post a year"), ("cost_per_place_week", " a place a week")]
    if funding.get("pays_employment_adviser"):
        keys.append(("employment_adviser_cost", " a year for the employment adviser"))
    for key, unit in keys:
        v = funding.get(key)
        if v is not None:
            src = sources.get("funding", {}).get(key, "")
            out.append(f"`funding.{key}` = £{v:,.0f}{unit} ({src})")
    return out


STAFFING = ("link_worker_posts_start", "link_worker_posts_min", "link_worker_posts_mean",
            "link_worker_posts_end")
"""The staffing metrics of every run (posts funded, from the funder's ledger)."""


def _staffing_table(d: _Data) -> pd.DataFrame | None:
    """Median over runs of each staffing metric, and of the service's spend, per label."""
    joined = d.joined
    if not all(m in joined.columns for m in STAFFING) or joined[STAFFING[0]].isna().all():
        return None
    extra = [m for m in ("service_spend_total", "cost_per_session") if m in joined.columns]
    med = joined.groupby("label")[[*STAFFING, *extra]].median()
    med = med.rename(columns={f"link_worker_posts_{k}": k for k in ("start", "min", "mean",
                                                                    "end")})
    return med.reset_index()


def _staffing(d: _Data) -> list[Block]:
    table = _staffing_table(d)
    if table is None:
        return [Heading("Staffing"), Paragraph(
            "This sweep's results do not record Link Worker posts (they were written by an "
            "older pathways-sim): run it again to see staffing.")]
    served = [lb for lb in d.lay.options + d.lay.baselines if lb in set(table["label"])]
    t = table.set_index("label")
    rows: list[list[Cell]] = []
    for label in served:
        r = t.loc[label]
        rows.append([label, *(format_level("link_worker_posts_mean", float(r[k]))
                              for k in ("start", "min", "mean", "end")),
                     _money(float(r.get("service_spend_total", math.nan))),
                     _money(float(r.get("cost_per_session", math.nan)))])
    return [Heading("Staffing"), Paragraph(
        "Link Worker posts funded in each funding period, from the funder's ledger (median "
        "over runs). Under a block grant the posts stay as commissioned; under payment by "
        "results each period's income (the guaranteed part of the contract plus the results "
        "payments earned) sets the next period's posts, so an option can look cheaper only "
        "because it bought fewer staff. The funder's spend is the whole service's over the "
        "run (contract, results payments and VCS places); the cost of a session is derived "
        "from it (posts' cost / sessions delivered)."),
        d.fig("staffing", staffing_figure(table, served), "Link Worker posts funded"),
        Table(["Design point", "Posts at the start", "Fewest posts", "Mean posts",
               "Posts at the end", "Funder's spend (whole run)", "Cost per session"], rows,
              align=("left",) + ("right",) * 6,
              caption="Medians over runs; run `pathways-sim run` on a design point for its "
                      "posts period by period (staffing.csv).")]


_CAPACITY_METRICS = ("link_worker_posts_mean", "support_ratio_near_far")
"""Shown in the capacity/behaviour split besides the experiment's own outcomes."""


def _capacity(d: _Data) -> list[Block]:
    """Capacity effect against behaviour effect, where the sweep holds posts fixed in a twin."""
    directed = [m for m, v in d.outcomes.items() if v in ("maximize", "minimize")]
    metrics = [*directed, *(m for m in _CAPACITY_METRICS if m not in directed)]
    split = capacity_behaviour(d.joined, d.sweep.points, metrics, LEVEL)
    if split.empty:
        return []
    rows: list[list[Cell]] = []
    for (pid, metric), sub in split.groupby(["point_id", "metric"], sort=False):
        part = sub.set_index("part")
        cells = [_cell_interval(metric, *(float(part.loc[k, c]) for c in ("diff", "lo", "hi")))
                 for k in ("total", "behaviour", "capacity")]
        rows.append([d.lay.label[int(pid)], metric_label(metric), *cells])
    return [Heading("Capacity and behaviour"), Paragraph(
        "Payment by results changes two things at once: how Link Workers treat clients "
        "(whom they take from the waiting list and how often they see them: the **behaviour "
        "effect**) and, when posts follow income, how many Link Workers the money buys (the "
        "**capacity effect**). Each option whose posts follow income is run again with posts "
        "held at the block level (`funding.capacity_responds: false`), on the same random "
        "numbers: behaviour = fixed posts − baseline; capacity = full regime − fixed posts; "
        "the two add up to the total against the baseline."),
        Table(["Option (posts follow income)", "Outcome", "Total", "Behaviour (posts fixed)",
               "Capacity (posts following income)"], rows,
              align=("left", "left", "right", "right", "right"),
              caption=f"Paired differences, {_PCT}% confidence intervals.")]


def _staffing_note(d: _Data) -> str | None:
    """An "In brief" line when an option's staffing differs from its baseline's."""
    table = _staffing_table(d)
    if table is None or not d.lay.baselines:
        return None
    t = table.set_index("label")["mean"]
    base = d.lay.baselines[0]
    if base not in t.index:
        return None
    differ = [f"{lb} {format_level('link_worker_posts_mean', float(t[lb]))}"
              for lb in d.lay.options if lb in t.index and abs(float(t[lb]) - float(t[base]))
              >= 0.05]
    if not differ:
        return None
    return ("**Staffing**: Link Worker posts funded (mean over the run, median of runs) "
            f"differ from the baseline's {format_level('link_worker_posts_mean', float(t[base]))}"
            f": {_names(differ)}. Costs and outcomes of those options include what the "
            "change in staff buys or loses.")


def _checks(d: _Data) -> list[Block]:
    checks = d.sweep.checks
    if not checks:
        return []
    res = d.checks()
    passed = int((res["result"] == "PASS").sum())
    out: list[Block] = [Heading("Pattern checks"), Paragraph(
        f"**{passed} of {len(res)} checks pass.** Each check compares two design points run "
        "with the same seeds: per replicate, difference = option's metric − scale × "
        "baseline's metric; it **passes** when the "
        f"{_PCT}% confidence interval of the mean difference excludes 0 in the expected "
        "direction (the patterns of docs/evidence.md §E4.8). A FAIL either has an interval that "
        "includes 0 (not enough evidence) or one on the wrong side (the model contradicts "
        "the pattern).")]
    rows: list[list[Cell]] = []
    for _, r in res.iterrows():
        scale = float(r["scale"])
        what = r["metric"] if r["baseline_metric"] == r["metric"] and scale == 1 else (
            f"{r['metric']} − {scale:g} × {r['baseline_metric']}")
        opt = _factor_text(next(c for c in checks if c["name"] == r["name"])["option"],
                           list(d.exp.get("levers", {})), list(d.exp.get("levers", {})))
        base = _factor_text(next(c for c in checks if c["name"] == r["name"])["baseline"],
                            list(d.exp.get("levers", {})), list(d.exp.get("levers", {})))
        mark = {"PASS": ("✔ PASS", "pass"), "FAIL": ("✘ FAIL", "fail")}.get(
            str(r["result"]), (str(r["result"]), "unclear"))
        rows.append([
            str(r["name"]), f"{opt} vs {base}", f"`{what}`", str(r["expect"]),
            _cell_interval(str(r["metric"]), r["diff"], r["lo"], r["hi"]), mark,
            str(r["reason"]),
        ])
    out.append(Table(["Check", "Option vs baseline", "Difference", "Expected",
                      f"Mean difference [{_PCT}% CI]", "Result", "Why"], rows))
    return out


def _discovery(d: _Data) -> list[Block]:
    out: list[Block] = [Heading("Scenario discovery")]
    exp = d.exp
    inputs = [n for n in list(exp.get("levers", {})) + list(exp.get("uncertainties", {}))
              if n in d.joined.columns]
    metrics = list(d.outcomes)
    x, y = point_table(d.joined, inputs, metrics)
    ok, why = discovery_applies(x)
    if not ok:
        out.append(Paragraph(f"Left out: {why}."))
        return out
    x = x[varying_inputs(x)]
    scores, skipped = feature_score_table(x, y)
    out.append(Paragraph(
        f"Over the {len(x)} option points (each outcome averaged over its replicates), with "
        "the EMA Workbench: which inputs drive each outcome (feature scores: each input's "
        "share of what an extra-trees model of the outcome learns from the inputs, summing to "
        "1 over the inputs), and which input ranges give the best fifth of outcomes (PRIM "
        "boxes: the ranges to keep, with the share of the best points they cover and how "
        "pure they are)."))
    if skipped:
        out.append(Paragraph("Not scored: " + "; ".join(
            f"{metric_label(m)}: {why}" for m, why in skipped.items()) + "."))
    if scores.notna().any().any():
        out.append(d.fig("feature-scores", feature_score_figure(scores.dropna(axis=1,
                                                                                how="all")),
                         "Feature scores of the inputs for each outcome"))
    targets = [m for m in metrics if d.outcomes[m] != "info"] or metrics
    trajectories: dict[str, pd.DataFrame] = {}
    chosen: dict[str, int] = {}
    rows: list[list[Cell]] = []
    for m in targets:
        above = d.outcomes[m] != "minimize"
        try:
            res = prim(x, y[m], q=0.8, above=above, outcome=m)
        except NotEnoughVariation as exc:
            rows.append([metric_label(m), "–", "–", "–", f"no box: {exc}"])
            continue
        trajectories[m], chosen[m] = res.trajectory(), res.chosen
        box = res.box
        word = "above" if above else "below"
        limits = []
        for name in box.restricted:
            lim = box.limits[name]
            text = (f"{name} in {{{', '.join(_value_text(v) for v in lim)}}}"
                    if name in box.categorical else
                    f"{name} {_value_text(lim[0])} to {_value_text(lim[1])}")
            limits.append(f"{text} ({_p_text(box.limit_p_values.get(name))})")
        rows.append([
            f"{metric_label(m)} {word} {format_level(m, res.threshold)}",
            f"{res.cases} of {res.n}",
            f"{box.coverage:.0%}", f"{box.density:.0%}",
            "; ".join(limits) if limits else "no restriction helps",
        ])
    if trajectories:
        out.append(d.fig("prim", prim_figure(trajectories, chosen),
                         "PRIM peeling trajectories"))
    out.append(Table(["Cases of interest (best fifth)", "Points", "Coverage", "Density",
                      "Box (quasi-p-value of each restriction)"], rows,
                     align=("left", "right", "right", "right", "left"),
                     caption="Coverage: share of the cases of interest inside the box; density: "
                     "share of the box's points that are cases of interest. A quasi-p-value "
                     "(of the lower and upper limit when both are restricted) above 0.05 means "
                     "the restriction may well be chance."))
    return out


def _p_text(pair: tuple[float, float] | None) -> str:
    """Quasi-p-values of a restriction's limits: one, or lower / upper when both are set."""
    vals = [v for v in (pair or ()) if not math.isnan(v)]
    if len(vals) == 2:
        return f"p = {vals[0]:.2g} lower, {vals[1]:.2g} upper"
    return f"p = {vals[0]:.2g}" if vals else "p = n/a"


def _levels(d: _Data) -> list[Block]:
    metrics = list(dict.fromkeys([*d.outcomes, "cohort_size", "found_work_24m",
                                  "cost_total_24m"]))
    metrics = [m for m in metrics if m in d.joined.columns]
    summ = summarise(d.joined, metrics, by="label")
    n = d.joined.groupby("label").size()
    rows: list[list[Cell]] = []
    for label in d.lay.all:
        sub = summ[summ["label"] == label].set_index("metric")
        rows.append([label, str(int(n.get(label, 0)))]
                    + [_range_text(m, *_stats(sub, m)) for m in metrics])
    return [Heading("Outcome levels"), Paragraph(
        "Mean of the runs of each design point and, in brackets, the range of the middle 90% "
        "of runs (5th to 95th percentile): how much single runs vary, not how sure we are of "
        "the mean."), Table(["Design point", "Runs"] + [metric_label(m) for m in metrics],
                            rows, align=("left", "right") + ("left",) * len(metrics))]


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping (a scenario's ``params``) as ``section.key`` -> value."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _point_sources(sweep: Sweep) -> dict[int, dict[str, str]]:
    """Point id -> parameter path -> source of the value the point runs with.

    From the manifest when it records sources. Otherwise the experiment file
    is planned again and a source is kept only where the point re-planned
    today has the very value the sweep recorded (files may have changed
    since). Empty when neither works.
    """
    points = sweep.points
    if points and all("sources" in p for p in points):
        return {int(p["point_id"]): dict(p["sources"]) for p in points}
    try:
        from pathways_sim.sweep.design import plan_sweep
        from pathways_sim.sweep.experiment import default_experiments_dir, load_experiment

        file = Path(str(sweep.experiment.get("file", "")))
        candidates = [file, default_experiments_dir().parent / file,
                      default_experiments_dir() / file.name]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            return {}
        plan = plan_sweep(load_experiment(path))
        if len(plan.points) != len(points):
            return {}
        out: dict[int, dict[str, str]] = {}
        for p, recorded in zip(plan.points, points, strict=True):
            values, srcs = p.scenario.values, p.scenario.sources
            out[p.point_id] = {k: srcs[k] for k, v in recorded.get("changes", {}).items()
                               if k in values and values[k] == v}
        return out
    except Exception:  # noqa: BLE001 - sources are a courtesy: never fail the report on them
        return {}


def _assumptions(d: _Data) -> list[Block]:
    sw = d.sweep
    sc = sw.manifest.get("scenario", {})
    out: list[Block] = [Heading("Assumptions and sources")]
    chain = ", ".join(Path(c).name for c in sc.get("chain", []))
    out.append(Paragraph(
        f"Every design point starts from the base scenario **{sc.get('name', d.exp.get('base'))}**"
        + (f" (files {chain})" if chain else "") + " and changes the parameters below. The "
        "full resolved base scenario, with the source of every value, is in the sweep's "
        f"`manifest.json` (`scenario`); `pathways-sim scenarios show {d.exp.get('base')}` "
        "prints it."))
    base_rows: list[list[Cell]] = []
    flat_values, flat_sources = _flatten(sc.get("params", {})), _flatten(sc.get("sources", {}))
    for path, setter in _flatten(sc.get("set_by", {})).items():
        if setter != "default":
            base_rows.append([f"`{path}`", _value_text(flat_values.get(path)),
                              str(flat_sources.get(path, "")), str(setter)])
    if base_rows:
        out.append(Table(["Parameter", "Value", "Source", "Set by"], base_rows,
                         caption="What the base scenario sets beyond the parameter registry's "
                         "defaults (every other value is the registry's default, with its "
                         "source in docs/scenarios.md)."))
    sources = _point_sources(sw)
    factors = {**d.exp.get("levers", {}), **d.exp.get("uncertainties", {})}
    ranges = {k: v for k, v in factors.items() if isinstance(v, dict)}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for p in sw.points:
        pid = int(p["point_id"])
        label = d.lay.label.get(pid, str(pid))
        for path, value in p.get("changes", {}).items():
            if path in ranges and path in factors:
                lo, hi = ranges[path].get("low"), ranges[path].get("high")
                shown = f"varied by the design over [{_value_text(lo)}, {_value_text(hi)}]"
                src = "experiment file: " + ("lever" if path in d.exp.get("levers", {})
                                             else "uncertainty")
            elif path in factors:
                shown = _value_text(value)
                src = "experiment file: " + ("lever" if path in d.exp.get("levers", {})
                                             else "uncertainty")
            elif path == "run.weeks" and d.exp.get("weeks") is not None:
                shown, src = _value_text(value), "experiment file: weeks"
            else:
                shown = _value_text(value)
                src = sources.get(pid, {}).get(path) or "not recorded in the manifest"
            key = (path, shown, src)
            groups.setdefault(key, [])
            if label not in groups[key]:
                groups[key].append(label)
    rows: list[list[Cell]] = []
    every = set(d.lay.all)
    for (path, shown, src), labels in sorted(groups.items()):
        where = "every design point" if set(labels) >= every else _names(labels, 4)
        rows.append([f"`{path}`", shown, src, where])
    if rows:
        out.append(Table(["Parameter", "Value", "Source", "Design points"], rows,
                         caption="Parameters that differ from the base scenario, with the "
                         "source of each value."))
    else:
        out.append(Paragraph("No design point changes any parameter of the base scenario."))
    cost = _cost_params(sw)
    if cost:
        out.append(Paragraph("Prices of the cost account: " + "; ".join(cost) + "."))
    return out


def _settings(d: _Data) -> list[Block]:
    m = d.sweep.manifest
    exp = d.exp
    swm = m.get("sweep", {})
    roles = m.get("plan", {}).get("roles", {})
    design = exp.get("design", {})
    seeds = m.get("seeds", [])
    sessions = swm.get("sessions", [])
    libs = ", ".join(f"{k} {v}" for k, v in (m.get("libraries") or {}).items())
    sha = m.get("git_sha") or "unknown"
    dirty = " (with uncommitted changes)" if m.get("git_dirty") else ""
    rows: list[list[Cell]] = [
        ["Experiment", f"{exp.get('name')} ({exp.get('file')})"],
        ["Design", design.get("type", "") + (f", {design['samples']} samples"
                                             if design.get("samples") else "")],
        ["Design points", ", ".join(f"{v} {k}" for k, v in roles.items())],
        ["Runs", f"{d.sweep.runs_planned} planned, {d.sweep.runs_recorded} recorded"
                 + (f" ({sum(map(len, d.sweep.damaged.values()))} damaged part(s) left out)"
                    if d.sweep.damaged else "") + f", {len(d.sweep.errors)} failed"],
        ["Replicates", str(exp.get("replicates"))],
        ["Root seed", str(exp.get("seed"))],
        ["Replicate seeds", ", ".join(str(s) for s in seeds)],
        ["Weeks", str(exp.get("weeks") or m.get("scenario", {}).get("params", {})
                      .get("run", {}).get("weeks", ""))],
        ["Baseline", json.dumps(exp["baseline"]) if exp.get("baseline") else "none"],
        ["Counterfactual", str(exp.get("counterfactual") or "none")],
        ["Package", f"{m.get('package')} {m.get('package_version')}, Python {m.get('python')}"],
        ["Libraries", libs],
        ["Git commit", f"{sha}{dirty}"],
        ["Started / finished (UTC)", f"{swm.get('started_utc')} / {swm.get('finished_utc')}"],
        ["Fingerprint", str(swm.get("fingerprint"))],
    ]
    for i, s in enumerate(sessions, 1):
        rows.append([f"Session {i}", f"`{' '.join(s.get('command', []))}` on "
                     f"{s.get('executor')}, {s.get('runs', '?')} runs"])
    return [Heading("Run settings"), Paragraph(
        "Everything needed to run the sweep again: replicate r of every design point uses "
        "seed r of the list below (common random numbers)."),
        Table(["Setting", "Value"], rows)]


def _failures(d: _Data) -> list[Block]:
    err = d.sweep.errors
    if err.empty:
        return []
    design = d.sweep.design.set_index("run_id")
    rows: list[list[Cell]] = []
    for _, r in err.iterrows():
        run = design.loc[int(r["run_id"])]
        rows.append([str(int(r["run_id"])), d.lay.label.get(int(run["point_id"]), "?"),
                     str(int(run["replicate"])), str(int(run["seed"])),
                     str(r["error"]).splitlines()[0] if str(r["error"]) else ""])
    out: list[Block] = [Heading("Failed runs"), Paragraph(
        f"{len(err)} run(s) raised an error and are left out; their partners' replicates are "
        "left out of the paired comparisons."),
        Table(["Run", "Design point", "Replicate", "Seed", "Error"], rows,
              align=("right", "left", "right", "right", "left"))]
    seen: set[str] = set()
    for _, r in err.iterrows():
        key = str(r["error"])
        if key in seen:
            continue
        seen.add(key)
        tb = "\n".join(str(r["traceback"]).strip().splitlines()[-15:])
        out.append(Code(tb, summary=f"Traceback of run {int(r['run_id'])}: {key[:120]}"))
    return out


def calibration_text(manifest: dict[str, Any]) -> str:
    """Which calibration a sweep ran with, and whether its intervals include parameter
    uncertainty (from the manifest's ``calibration`` entry)."""
    cal = manifest.get("calibration")
    if not isinstance(cal, dict):
        return ("**Model**: the manifest does not say which calibration the runs used (a "
                "sweep from before calibrations were recorded: the registry values); the "
                "intervals show chance alone.")
    if cal.get("version") in (None, "none"):
        return ("**Model**: the parameter registry's values (no calibration): the intervals "
                "show chance alone, not uncertainty about the parameters.")
    where = f" (`{Path(str(cal['path'])).name}`, {cal.get('method')})" if cal.get("path") else ""
    n = cal.get("n_draws")
    if n == 1:
        how = ("a point fit with a single draw, so the intervals show chance alone, not "
               "uncertainty about the parameters")
    else:
        how = (f"each replicate drew the calibrated parameters from its posterior ({n} "
               "draws; replicate r of every design point the same draw), so the intervals "
               "include parameter uncertainty as well as chance")
    return f"**Model**: calibration `{cal['version']}`{where}; {how}."


def _in_brief(d: _Data, caveats: Sequence[str]) -> list[Block]:
    items: list[str] = [calibration_text(d.sweep.manifest)]
    desc = d.exp.get("description")
    if not d.diffs.empty:
        for m, direction in d.outcomes.items():
            if direction == "info":
                continue
            sub = d.diffs[d.diffs["metric"] == m]
            better = [f"{r['label']} ({format_diff(m, r['diff'])})"
                      for _, r in sub[sub["verdict"] == "better"].iterrows()]
            worse = [f"{r['label']} ({format_diff(m, r['diff'])})"
                     for _, r in sub[sub["verdict"] == "worse"].iterrows()]
            parts = []
            if better:
                parts.append("better than the baseline for " + _names(better))
            if worse:
                parts.append("worse for " + _names(worse))
            if not parts:
                parts.append("no option clearly differs from the baseline")
            items.append(f"**{metric_label(m)}**: " + "; ".join(parts) + ".")
    if d.sweep.checks:
        res = d.checks()
        failing = list(res.loc[res["result"] != "PASS", "name"])
        items.append(f"**Pattern checks**: {len(res) - len(failing)} of {len(res)} pass"
                     + (f"; not passing: {_names(failing, 6)}." if failing else "."))
    staff = _staffing_note(d)
    if staff:
        items.append(staff)
    items += [f"**Caveat**: {c}" for c in caveats]
    out: list[Block] = [Heading("In brief")]
    if desc:
        out.append(Paragraph(str(desc)))
    if items:
        out.append(BulletList(items))
    out.append(Callout(
        "**How to read the comparisons.** Every design point runs replicate r with the same "
        "seed, so the option and the baseline meet the same clients and the same random "
        "draws: the paired difference of replicate r isolates the effect of the option. "
        f"Brackets give the {_PCT}% confidence interval of the mean paired difference "
        "(Student t over replicates); an interval that excludes 0 is a clear difference. "
        "Ranges of levels in round brackets show how much single runs vary (the middle 90% "
        "of runs), which is wider.", kind="note"))
    return out


def build_brief(sweep: Sweep) -> Document:
    """Lay out the brief of a sweep as a document (figures already rendered to PNG).

    Args:
        sweep: A sweep's results (complete or not).

    Returns:
        The brief, ready for :func:`~pathways_sim.report.document.write_document`.
    """
    exp = sweep.experiment
    outcomes = dict(exp.get("outcomes", {}))
    lay = _layout(sweep)
    joined = sweep.joined()
    joined["label"] = joined["point_id"].map(lay.label)
    diffs = paired_differences(joined, list(outcomes), outcomes, "baseline", by="label")
    d = _Data(sweep, exp, outcomes, joined, lay, diffs)
    title = exp.get("title") or f"Sweep {exp.get('name')}"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = (f"Experiment `{exp.get('name')}` · results in `{sweep.path}` · "
            f"report written {generated} by pathways-sim "
            f"{sweep.manifest.get('package_version') or ''}").rstrip()
    blocks: list[Block] = [*_banners(d)]
    if joined.empty:
        blocks.append(Callout("No run has finished: there is nothing to report yet."))
        blocks += [*_settings(d), *_failures(d)]
        return Document(str(title), tuple(blocks), meta=meta)
    sections = [
        _in_brief(d, _caveats(d)), _headline(d), _forest(d), _fans(d), _funnel(d),
        _equity(d), _staffing(d), _capacity(d), _costs(d), _checks(d), _discovery(d),
        _levels(d), _assumptions(d),
        _settings(d), _failures(d),
    ]
    for section in sections:
        blocks += section
    return Document(str(title), tuple(blocks), meta=meta)


def write_report(sweep_dir: Path | str, out_dir: Path | str | None = None) -> tuple[Path, Path]:
    """Write the brief of a sweep as ``report.html`` and ``report.md``.

    Args:
        sweep_dir: A sweep's results folder (``pathways-sim sweep --out``).
        out_dir: Where to write (default ``<sweep_dir>/report``); created if
            needed. Figures of the Markdown file are PNG files there.

    Returns:
        ``(html_path, markdown_path)``.

    Raises:
        SweepError: ``sweep_dir`` is not a sweep results folder.
    """
    sweep = load_sweep(sweep_dir)
    out = Path(out_dir) if out_dir is not None else Path(sweep_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("fig[0-9][0-9]-*.png"):
        old.unlink()  # figures of an earlier report of this folder
    md_path, html_path, *_ = write_document(build_brief(sweep), out)
    return html_path, md_path
