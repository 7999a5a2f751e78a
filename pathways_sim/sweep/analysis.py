"""Analysis of a sweep's results: summaries, paired differences, equity, costs and checks.

Every function here works on the one tidy table a sweep gives,
:meth:`Sweep.joined() <pathways_sim.sweep.results.Sweep.joined>` (one row
per finished run: ``point_id``, ``replicate``, ``role``, ``baseline_point``,
``counterfactual_point``, the factors and every metric), or on a hand-made
table with those columns, so each number can be checked by hand. Nothing
here computes an outcome: the metrics come from the event log
(:mod:`pathways_sim.outcomes`); this module only compares them.

Two kinds of 90% interval, for two questions:

* **How much do replicates vary?** :func:`summarise` gives the mean and the
  5th-95th percentile range of the replicates of each design point (the
  same as :func:`pathways_sim.outcomes.metrics.metric_table`).
* **How sure are we of a difference?** :func:`paired_differences` pairs
  replicate ``r`` of an option with replicate ``r`` of its baseline (same
  seed, so the same clients and the same random draws: common random
  numbers) and gives the mean of the paired differences ``option_r -
  baseline_r`` with a Student-t 90% confidence interval,
  ``mean ± t(0.95, n-1) * sd / sqrt(n)``. Pairing removes the noise both
  runs share, so the interval is much narrower than comparing the two
  ranges by eye.

Costs per **additional** outcome compare each point with its no-service
counterfactual run on the same seeds: ``(cost_option - cost_counterfactual)
/ (outcomes_option - outcomes_counterfactual)`` with outcomes in people
(``share x cohort_size``). The ratio is of the mean paired differences, and
its interval is Fieller's (:func:`fieller_interval`), which is bounded only
when the extra outcomes' own interval excludes 0; when it includes 0 the
cost per additional outcome is not estimable and we say so.

When many design points share a label (a sampled design summarised by
lever values), pass ``by="group"`` with a ``group`` column: the pairs of all
points in a group are pooled, and the interval is then of the mean effect
over the sampled points (regions and random draws together).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CAPACITY_LEVER",
    "COST_METRIC",
    "EQUITY_METRICS",
    "FUNNEL_METRICS",
    "LEVEL",
    "ROLE_ORDER",
    "additional_outcome_costs",
    "capacity_behaviour",
    "evaluate_checks",
    "fieller_interval",
    "pair_runs",
    "paired_differences",
    "replicate_range",
    "summarise",
    "t_interval",
    "verdict",
]

LEVEL = 0.90
"""Level of every interval in reports (a 90% interval)."""

ROLE_ORDER = ("option", "baseline", "counterfactual")
"""Roles of design points, in the order reports show them."""

EQUITY_METRICS = (
    "found_work_24m_near",
    "found_work_24m_far",
    "found_work_ratio_near_far_24m",
    "sessions_per_client_near",
    "sessions_per_client_far",
    "support_ratio_near_far",
)
"""Outcomes and support by distance from work (``support_ratio_near_far`` is the
creaming index: above 1, Link Worker sessions go more to clients close to work)."""

FUNNEL_METRICS = (
    "took_up_service",
    "stepping_stone_12m",
    "work_goal_12m",
    "direct_support_12m",
    "found_work_24m",
    "sustained_work_26w_24m",
)
"""The pathway, as shares of the cohort reaching each stage."""

COST_METRIC = "cost_total_24m"
"""Cost of the cohort's support within 24 months (GBP)."""

_PAIR_COLUMNS = {"baseline": "baseline_point", "counterfactual": "counterfactual_point"}


# --------------------------------------------------------------------------- intervals


def _clean(x: Iterable[float] | np.ndarray | pd.Series) -> np.ndarray:
    arr = np.asarray(list(x) if not isinstance(x, np.ndarray | pd.Series) else x,
                     dtype=np.float64)
    return arr[np.isfinite(arr)]


def _t_quantile(n: int, level: float) -> float:
    return float(stats.t.ppf(0.5 + level / 2.0, n - 1))


def t_interval(x: Iterable[float] | np.ndarray | pd.Series,
               level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean and Student-t confidence interval of the mean.

    Args:
        x: Values (paired differences, usually); NaN and infinite values are
            dropped.
        level: Confidence level (default 0.90).

    Returns:
        ``(mean, lo, hi, n)``: ``mean ± t((1 + level) / 2, n - 1) * sd / sqrt(n)``
        with ``sd`` the sample standard deviation. With one value the interval
        is NaN; with none every number is NaN and ``n`` is 0.
    """
    v = _clean(x)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(v.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = _t_quantile(n, level) * float(v.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def replicate_range(x: Iterable[float] | np.ndarray | pd.Series,
                    level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean and the central ``level`` range of replicates (percentiles).

    Args:
        x: Values, one per replicate; NaN and infinite values are dropped.
        level: Share of replicates inside the range (default 0.90: the 5th to
            the 95th percentile, linear interpolation).

    Returns:
        ``(mean, lo, hi, n)``; NaN with ``n`` 0 when no value is left.
    """
    v = _clean(x)
    if len(v) == 0:
        return math.nan, math.nan, math.nan, 0
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(v, [tail, 100.0 - tail])
    return float(v.mean()), float(lo), float(hi), len(v)


def fieller_interval(num: Iterable[float] | np.ndarray, den: Iterable[float] | np.ndarray,
                     level: float = LEVEL) -> tuple[float, float, float, bool]:
    """Ratio of two paired means and Fieller's confidence interval for it.

    With pairs ``(x_r, y_r)`` (for example the extra cost and the extra jobs of
    replicate ``r``), the ratio ``theta = mean(x) / mean(y)`` has the
    confidence set ``{theta : (x̄ - theta ȳ)^2 <= t^2 (s_xx - 2 theta s_xy +
    theta^2 s_yy) / n}``. It is a bounded interval exactly when ``ȳ`` is
    significantly different from 0 (its own t-interval excludes 0); otherwise
    it is unbounded and the ratio cannot be estimated.

    Args:
        num: Numerator of each pair.
        den: Denominator of each pair (same length); pairs with a NaN are dropped.
        level: Confidence level.

    Returns:
        ``(ratio, lo, hi, bounded)``. ``bounded`` is False (and ``lo``/``hi``
        NaN) when the denominator's interval includes 0 or fewer than two
        pairs are left; ``ratio`` is NaN when ``mean(y)`` is 0.
    """
    x = np.asarray(list(num), dtype=np.float64)
    y = np.asarray(list(den), dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"numerator and denominator differ in length: {x.shape} vs {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, False
    xm, ym = float(x.mean()), float(y.mean())
    ratio = xm / ym if ym != 0 else math.nan
    if n < 2:
        return ratio, math.nan, math.nan, False
    t2 = _t_quantile(n, level) ** 2
    cov = np.cov(np.vstack([x, y]), ddof=1)
    sxx, sxy, syy = float(cov[0, 0]) / n, float(cov[0, 1]) / n, float(cov[1, 1]) / n
    a = ym * ym - t2 * syy
    if a <= 0:
        return ratio, math.nan, math.nan, False
    b = xm * ym - t2 * sxy
    c = xm * xm - t2 * sxx
    disc = max(b * b - a * c, 0.0)  # >= 0 whenever a > 0 (Cauchy-Schwarz); guard rounding
    root = math.sqrt(disc)
    return ratio, (b - root) / a, (b + root) / a, True


def verdict(direction: str, lo: float, hi: float, identical: bool = False) -> str:
    """Words for a paired difference's interval, given the outcome's direction.

    Args:
        direction: ``maximize``, ``minimize`` or ``info``.
        lo: Lower end of the interval of the difference.
        hi: Upper end.
        identical: Every paired difference was exactly 0 (same runs).

    Returns:
        ``"identical"``; ``"better"`` / ``"worse"`` when the interval excludes 0
        (for a maximize or minimize outcome); ``"higher"`` / ``"lower"`` for an
        ``info`` outcome; ``"no clear difference"`` when the interval includes
        0; ``"too few pairs"`` when there is no interval.
    """
    if identical:
        return "identical"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "too few pairs"
    if lo > 0:
        up = True
    elif hi < 0:
        up = False
    else:
        return "no clear difference"
    if direction == "maximize":
        return "better" if up else "worse"
    if direction == "minimize":
        return "worse" if up else "better"
    return "higher" if up else "lower"


# --------------------------------------------------------------------------- summaries


def _metrics_in(table: pd.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    if metrics is None:
        from pathways_sim.outcomes.metrics import METRICS

        return [m for m in METRICS if m in table.columns]
    missing = [m for m in metrics if m not in table.columns]
    if missing:
        raise KeyError(f"metrics not in the table: {missing}")
    return list(metrics)


def summarise(joined: pd.DataFrame, metrics: Sequence[str] | None = None, by: str = "point_id",
              level: float = LEVEL) -> pd.DataFrame:
    """Mean and 90% range of replicates of each metric, per design point (or group).

    Args:
        joined: One row per finished run with a ``by`` column and the metric
            columns (e.g. ``Sweep.joined()``).
        metrics: Metrics to summarise (default: every metric of
            :data:`~pathways_sim.outcomes.metrics.METRICS` in the table).
        by: Column to group runs by (``point_id``, or a ``group`` label).
        level: Share of replicates in the range.

    Returns:
        One row per (``by``, metric) in order of first appearance: columns
        ``by``, ``metric``, ``n`` (replicates with a value), ``mean``, ``lo``,
        ``hi`` (percentiles).
    """
    names = _metrics_in(joined, metrics)
    rows: list[dict[str, Any]] = []
    for key, runs in joined.groupby(by, sort=False):
        for m in names:
            mean, lo, hi, n = replicate_range(runs[m].to_numpy(), level)
            rows.append({by: key, "metric": m, "n": n, "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows, columns=[by, "metric", "n", "mean", "lo", "hi"])


def pair_runs(joined: pd.DataFrame, metrics: Sequence[str], against: str = "baseline",
              keep: Sequence[str] = ()) -> pd.DataFrame:
    """Each run next to the run of its partner point with the same replicate number.

    Args:
        joined: One row per finished run with ``point_id``, ``replicate``, the
            ``baseline_point`` or ``counterfactual_point`` column and the metrics.
        metrics: Metrics to carry.
        against: ``"baseline"`` or ``"counterfactual"``: which partner.
        keep: More columns of the run to carry (e.g. ``group``).

    Returns:
        One row per pair with both runs finished: ``point_id``,
        ``partner_point``, ``replicate``, the ``keep`` columns, each metric of
        the run and ``<metric>_partner`` of its partner. Runs without a partner
        point (or whose partner replicate did not finish) are left out.

    Raises:
        ValueError: Unknown ``against``.
    """
    if against not in _PAIR_COLUMNS:
        raise ValueError(f"against must be one of {sorted(_PAIR_COLUMNS)}, got {against!r}")
    col = _PAIR_COLUMNS[against]
    names = list(dict.fromkeys(metrics))
    extra = [k for k in keep if k not in ("point_id", "replicate", *names)]
    runs = joined.loc[joined[col].notna(), ["point_id", "replicate", col, *extra, *names]]
    runs = runs.rename(columns={col: "partner_point"})
    runs["partner_point"] = runs["partner_point"].astype(np.int64)
    partner = joined[["point_id", "replicate", *names]].rename(
        columns={"point_id": "partner_point", **{m: f"{m}_partner" for m in names}})
    merged = runs.merge(partner, on=["partner_point", "replicate"], how="inner",
                        validate="m:1")
    return merged.reset_index(drop=True)


def paired_differences(joined: pd.DataFrame, metrics: Sequence[str],
                       directions: Mapping[str, str] | None = None, against: str = "baseline",
                       by: str = "point_id", level: float = LEVEL) -> pd.DataFrame:
    """Paired differences of each option against its baseline (or counterfactual).

    Replicate ``r`` of a point is paired with replicate ``r`` of its partner
    (same seed: common random numbers); the difference ``point_r - partner_r``
    is taken per pair and summarised by its mean and a Student-t interval
    (:func:`t_interval`). Pairs with a NaN on either side are dropped.

    Args:
        joined: One row per finished run (see :func:`pair_runs`).
        metrics: Metrics to compare.
        directions: Metric -> ``maximize`` | ``minimize`` | ``info`` for the
            verdict (default ``info``).
        against: ``"baseline"`` or ``"counterfactual"``.
        by: ``point_id``, or a column of labels whose pairs are pooled.
        level: Confidence level.

    Returns:
        One row per (``by``, metric): ``by``, ``metric``, ``n`` (pairs),
        ``mean`` (of the point), ``partner_mean``, ``diff`` (mean paired
        difference), ``lo``, ``hi``, ``relative`` (``diff / partner_mean``,
        NaN when that is 0), ``identical`` (every pair equal), ``direction``
        and ``verdict`` (:func:`verdict`).
    """
    names = _metrics_in(joined, metrics)
    directions = directions or {}
    pairs = pair_runs(joined, names, against, keep=[by] if by != "point_id" else [])
    cols = [by, "metric", "n", "mean", "partner_mean", "diff", "lo", "hi", "relative",
            "identical", "direction", "verdict"]
    rows: list[dict[str, Any]] = []
    for key, grp in pairs.groupby(by, sort=False):
        for m in names:
            a = grp[m].to_numpy(dtype=np.float64)
            b = grp[f"{m}_partner"].to_numpy(dtype=np.float64)
            ok = np.isfinite(a) & np.isfinite(b)
            a, b = a[ok], b[ok]
            diff, lo, hi, n = t_interval(a - b, level)
            identical = bool(n > 0 and np.array_equal(a, b))
            pm = float(b.mean()) if n else math.nan
            direction = directions.get(m, "info")
            rows.append({
                by: key, "metric": m, "n": n, "mean": float(a.mean()) if n else math.nan,
                "partner_mean": pm, "diff": diff, "lo": lo, "hi": hi,
                "relative": diff / pm if n and pm != 0 else math.nan,
                "identical": identical, "direction": direction,
                "verdict": verdict(direction, lo, hi, identical),
            })
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- costs


def additional_outcome_costs(joined: pd.DataFrame, outcome: str = "found_work_24m",
                             cost: str = COST_METRIC, by: str = "point_id",
                             level: float = LEVEL) -> pd.DataFrame:
    """Cost per outcome and cost per additional outcome against the counterfactual.

    For each run paired with its counterfactual run (same replicate, same
    seed): ``extra_cost_r = cost_r - cost_cf_r`` and ``extra_r = outcome_r *
    cohort_size_r - outcome_cf_r * cohort_size_cf_r`` (outcomes in people). The
    cost per additional outcome is ``mean(extra_cost) / mean(extra)`` with
    Fieller's interval (:func:`fieller_interval`), bounded only when the
    interval of ``extra`` excludes 0.

    Args:
        joined: One row per finished run with ``point_id``, ``replicate``,
            ``counterfactual_point``, ``cohort_size``, ``outcome`` and ``cost``.
        outcome: A share-of-cohort metric (e.g. ``found_work_24m``: jobs).
        cost: The cost metric (GBP).
        by: ``point_id`` or a column of labels whose pairs are pooled.
        level: Confidence level.

    Returns:
        One row per ``by`` value with a counterfactual: ``by``, ``outcome``,
        ``n`` (pairs), ``cost`` and ``outcomes`` (means per run, the point's),
        ``cost_per_outcome`` (``mean(cost) / mean(outcomes)``), ``cf_cost``,
        ``cf_outcomes``, ``extra_cost`` with ``extra_cost_lo``/``_hi``,
        ``extra_outcomes`` with ``extra_outcomes_lo``/``_hi`` (t-intervals),
        ``per_additional`` with ``per_additional_lo``/``_hi`` (Fieller),
        ``estimable`` (the interval is bounded) and ``note`` (why not).
    """
    need = ["cohort_size", outcome, cost]
    pairs = pair_runs(joined, need, "counterfactual", keep=[by] if by != "point_id" else [])
    cols = [by, "outcome", "n", "cost", "outcomes", "cost_per_outcome", "cf_cost",
            "cf_outcomes", "extra_cost", "extra_cost_lo", "extra_cost_hi", "extra_outcomes",
            "extra_outcomes_lo", "extra_outcomes_hi", "per_additional", "per_additional_lo",
            "per_additional_hi", "estimable", "note"]
    rows: list[dict[str, Any]] = []
    for key, grp in pairs.groupby(by, sort=False):
        people = grp[outcome].to_numpy(float) * grp["cohort_size"].to_numpy(float)
        people_cf = (grp[f"{outcome}_partner"].to_numpy(float)
                     * grp["cohort_size_partner"].to_numpy(float))
        c = grp[cost].to_numpy(float)
        c_cf = grp[f"{cost}_partner"].to_numpy(float)
        ok = np.isfinite(people) & np.isfinite(people_cf) & np.isfinite(c) & np.isfinite(c_cf)
        people, people_cf, c, c_cf = people[ok], people_cf[ok], c[ok], c_cf[ok]
        n = int(ok.sum())
        dc, dc_lo, dc_hi, _ = t_interval(c - c_cf, level)
        dy, dy_lo, dy_hi, _ = t_interval(people - people_cf, level)
        ratio, r_lo, r_hi, bounded = fieller_interval(c - c_cf, people - people_cf, level)
        if n < 2:
            note = "too few pairs for an interval"
        elif not bounded:
            note = (f"not estimable: the {int(round(level * 100))}% interval of additional "
                    "outcomes includes 0")
        elif dy <= 0:
            note = "fewer outcomes than with no service"
        else:
            note = ""
        mean_c = float(c.mean()) if n else math.nan
        mean_y = float(people.mean()) if n else math.nan
        rows.append({
            by: key, "outcome": outcome, "n": n, "cost": mean_c, "outcomes": mean_y,
            "cost_per_outcome": mean_c / mean_y if n and mean_y > 0 else math.nan,
            "cf_cost": float(c_cf.mean()) if n else math.nan,
            "cf_outcomes": float(people_cf.mean()) if n else math.nan,
            "extra_cost": dc, "extra_cost_lo": dc_lo, "extra_cost_hi": dc_hi,
            "extra_outcomes": dy, "extra_outcomes_lo": dy_lo, "extra_outcomes_hi": dy_hi,
            "per_additional": ratio, "per_additional_lo": r_lo, "per_additional_hi": r_hi,
            "estimable": bool(bounded), "note": note,
        })
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- checks


def _matching(points: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> list[int]:
    """Point ids whose factors include ``values``: options first, else any role."""
    def match(p: Mapping[str, Any]) -> bool:
        return all(p["factors"].get(k) == v for k, v in values.items())

    for roles in (("option",), ("baseline",), ROLE_ORDER):
        found = [int(p["point_id"]) for p in points if p["role"] in roles and match(p)]
        if found:
            return found
    return []


def _pair_points(points: Sequence[Mapping[str, Any]], option_ids: Sequence[int],
                 baseline_ids: Sequence[int],
                 uncertainties: Sequence[str]) -> list[tuple[int, int]]:
    """(option, baseline) point pairs with the same uncertainty values."""
    by_id = {int(p["point_id"]): p for p in points}
    out = []
    for o in option_ids:
        key = [by_id[o]["factors"].get(u) for u in uncertainties]
        for b in baseline_ids:
            if [by_id[b]["factors"].get(u) for u in uncertainties] == key:
                out.append((o, b))
                break
    return out


def evaluate_checks(joined: pd.DataFrame, checks: Sequence[Mapping[str, Any]],
                    points: Sequence[Mapping[str, Any]], uncertainties: Sequence[str] = (),
                    level: float = LEVEL) -> pd.DataFrame:
    """Test each expected direction (an experiment's ``checks:``) over replicates.

    For each check, the option point and the baseline point are the design
    points whose lever values match the check's (an option point when there
    is one, else the baseline point); with uncertainties, each option point is
    paired with the baseline point of the same uncertainty values and all
    pairs are pooled. Per replicate ``r`` (same seed on both sides)::

        d_r = option[metric]_r - scale * baseline[baseline_metric]_r

    The check **passes** when the ``level`` t-interval of the ``d_r``
    excludes 0 on the expected side (``increase``: ``lo > 0``; ``decrease``:
    ``hi < 0``). It **fails** when the interval includes 0 (the evidence is
    not strong enough) or lies on the other side (the model contradicts the
    pattern); ``reason`` says which.

    Args:
        joined: One row per finished run with ``point_id``, ``replicate`` and
            the metrics.
        checks: The checks (``name``, ``option``, ``baseline``, ``metric``,
            optional ``baseline_metric`` and ``scale``, ``expect``), e.g.
            ``Sweep.checks``.
        points: Design points (``point_id``, ``role``, ``factors``), e.g.
            ``Sweep.points``.
        uncertainties: Names of the uncertainties (to pair points).
        level: Confidence level.

    Returns:
        One row per check: ``name``, ``option_points``, ``baseline_points``
        (lists of ids), ``metric``, ``baseline_metric``, ``scale``, ``expect``,
        ``n`` (pairs), ``option_mean``, ``baseline_mean`` (of the scaled
        baseline metric), ``diff``, ``lo``, ``hi``, ``result`` (``PASS``,
        ``FAIL`` or ``NO DATA``) and ``reason``.
    """
    cols = ["name", "option_points", "baseline_points", "metric", "baseline_metric", "scale",
            "expect", "n", "option_mean", "baseline_mean", "diff", "lo", "hi", "result",
            "reason"]
    runs = joined.set_index(["point_id", "replicate"]).sort_index()
    rows: list[dict[str, Any]] = []
    for chk in checks:
        metric = str(chk["metric"])
        base_metric = str(chk.get("baseline_metric") or metric)
        scale = float(chk.get("scale", 1.0) or 1.0)
        expect = str(chk["expect"])
        opt_ids = _matching(points, chk["option"])
        base_ids = _matching(points, chk["baseline"])
        pairs = _pair_points(points, opt_ids, base_ids, uncertainties)
        a_vals: list[float] = []
        b_vals: list[float] = []
        for o, b in pairs:
            if o not in runs.index.get_level_values(0) or b not in runs.index.get_level_values(0):
                continue
            left = runs.loc[o, [metric]]
            right = runs.loc[b, [base_metric]].rename(columns={base_metric: "_b"})
            both = left.join(right, how="inner")
            a_vals.extend(both[metric].astype(float))
            b_vals.extend(both["_b"].astype(float))
        a = np.asarray(a_vals, dtype=np.float64)
        b = scale * np.asarray(b_vals, dtype=np.float64)
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        diff, lo, hi, n = t_interval(a - b, level)
        if not pairs:
            result, reason = "NO DATA", "no design point matches the check's option or baseline"
        elif n < 2:
            result, reason = "NO DATA", f"{n} finished pair(s): at least 2 needed for an interval"
        elif (expect == "increase" and lo > 0) or (expect == "decrease" and hi < 0):
            result, reason = "PASS", f"the {int(level * 100)}% interval excludes 0 as expected"
        elif lo > 0 or hi < 0:
            result, reason = "FAIL", ("the interval excludes 0 on the other side: the model "
                                      "contradicts the expected direction")
        else:
            result, reason = "FAIL", ("the interval includes 0: no clear difference over "
                                      f"{n} paired replicates")
        rows.append({
            "name": str(chk["name"]), "option_points": [o for o, _ in pairs],
            "baseline_points": [b for _, b in pairs], "metric": metric,
            "baseline_metric": base_metric, "scale": scale, "expect": expect, "n": n,
            "option_mean": float(a.mean()) if n else math.nan,
            "baseline_mean": float(b.mean()) if n else math.nan,
            "diff": diff, "lo": lo, "hi": hi, "result": result, "reason": reason,
        })
    return pd.DataFrame(rows, columns=cols)


CAPACITY_LEVER = "funding.capacity_responds"
"""The lever that holds Link Worker posts at their initial level (False) whatever the income."""


def capacity_behaviour(joined: pd.DataFrame, points: Sequence[Mapping[str, Any]],
                       metrics: Sequence[str], level: float = LEVEL) -> pd.DataFrame:
    """Split each payment-by-results option's effect into behaviour and capacity.

    An option whose posts follow income (``funding.capacity_responds`` true) is paired with
    its twin point that differs only in holding posts fixed; both are paired, replicate by
    replicate, with the option's baseline (common random numbers):

    * ``total`` = full regime - baseline;
    * ``behaviour`` = fixed posts - baseline (who is triaged and supported, at the block's
      capacity);
    * ``capacity`` = full regime - fixed posts (what the posts the money buys, or loses, do).

    Args:
        joined: One row per finished run (``point_id``, ``replicate``, ``baseline_point``
            and the metrics).
        points: The sweep's design points (``point_id``, ``role``, ``factors``).
        metrics: Metrics to split.
        level: Confidence level of the t-intervals.

    Returns:
        One row per (option point, metric, part) with ``point_id`` (the full regime's),
        ``twin_point``, ``metric``, ``part`` (total / behaviour / capacity), ``diff``, ``lo``,
        ``hi`` and ``n``; empty when the sweep has no such pairs.
    """
    cols = ["point_id", "twin_point", "metric", "part", "diff", "lo", "hi", "n"]
    options = [p for p in points if p["role"] == "option"]

    def others(p: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p["factors"].items() if k != CAPACITY_LEVER}

    rows = []
    names = [m for m in dict.fromkeys(metrics) if m in joined.columns]
    for full in options:
        if full["factors"].get(CAPACITY_LEVER) is not True:
            continue
        if full["factors"].get("funding.regime") == "block":
            continue  # a block grant's posts never follow income: nothing to split
        twin = next((q for q in options if q["factors"].get(CAPACITY_LEVER) is False
                     and others(q) == others(full)), None)
        if twin is None:
            continue
        runs = {}
        for name, pid in (("full", full["point_id"]), ("fixed", twin["point_id"])):
            runs[name] = joined[joined["point_id"] == int(pid)].set_index("replicate")
        base_ids = runs["full"]["baseline_point"].dropna().unique()
        if len(base_ids) != 1:
            continue
        runs["base"] = joined[joined["point_id"] == int(base_ids[0])].set_index("replicate")
        reps = runs["full"].index.intersection(runs["fixed"].index).intersection(
            runs["base"].index)
        for m in names:
            f, x, b = (runs[k].loc[reps, m].to_numpy(dtype=np.float64)
                       for k in ("full", "fixed", "base"))
            for part, diff in (("total", f - b), ("behaviour", x - b), ("capacity", f - x)):
                mean, lo, hi, n = t_interval(diff, level)
                rows.append([int(full["point_id"]), int(twin["point_id"]), m, part, mean, lo,
                             hi, n])
    return pd.DataFrame(rows, columns=cols)
