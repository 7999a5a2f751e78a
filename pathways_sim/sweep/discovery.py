"""Scenario discovery: which levers and uncertainties drive an outcome, and where.

Two questions an analyst asks of a sweep with many design points (a Latin
hypercube over regions, say), both answered by the
`EMA Workbench <https://emaworkbench.readthedocs.io>`_ (``ema_workbench``):

* **Which inputs matter?** :func:`feature_scores` fits the Workbench's
  extra-trees feature scoring (``ema_workbench.analysis.feature_scoring.
  get_ex_feature_scores``, an ``ExtraTreesRegressor`` of the outcome on the
  inputs, seeded so the same sweep gives the same scores) and reports each
  input's share of the trees' reduction of the outcome's variance: the
  scores of one outcome sum to 1, and an input that does nothing scores near
  0. Trees see interactions, so an input that matters only together with
  another still scores. Spearman's rank correlation gives the sign of a
  numeric input's effect.
* **Which input ranges give good outcomes?** :func:`prim` runs the
  Workbench's Patient Rule Induction Method (``ema_workbench.analysis.prim.
  Prim``; Friedman and Fisher 1999, as used in scenario discovery by Bryant
  and Lempert 2010) on the "cases of interest" (outcome above its ``q``-th
  percentile, or below for an outcome to minimise): starting from the box
  holding every point it peels off a ``peel_alpha`` share at one end of one
  numeric input (or one value of a categorical input), choosing the peel that
  raises the share of cases of interest most per point removed, until the box
  would hold less than ``mass_min`` of the points, then pastes back what
  helps. Each box on the way trades **coverage** (share of all cases of
  interest inside the box) against **density** (share of the box that are
  cases of interest); the box reported balances the two (largest
  ``coverage x density``) and keeps only restrictions whose quasi-p-value
  (the Workbench's one-sided binomial test of each limit) says they matter.

The Workbench is imported inside the functions that use it (it takes seconds
to import), and its log messages and warnings are silenced there. A sweep
with too few points, inputs that do not vary or an outcome that does not vary
gets a "not enough variation" reason (:class:`NotEnoughVariation`,
:func:`variation_problem`) instead of a result.

The inputs are design points (one row per point, the outcome averaged over
its replicates): :func:`point_table` builds them from a sweep's joined table.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FEATURE_SEED",
    "MIN_INPUTS",
    "MIN_POINTS",
    "NotEnoughVariation",
    "PrimBox",
    "PrimResult",
    "discovery_applies",
    "feature_score_table",
    "feature_scores",
    "point_table",
    "prim",
    "variation_problem",
    "varying_inputs",
]

MIN_INPUTS = 2
"""Varying inputs needed before a report shows scenario discovery."""

MIN_POINTS = 20
"""Design points needed before a report shows scenario discovery."""

FEATURE_SEED = 20261124
"""Seed of the extra trees of :func:`feature_scores`: the same sweep gives the same scores."""

NOT_SET = "(not set)"
"""Category of a point whose input has no value."""


class NotEnoughVariation(ValueError):
    """The inputs or the outcome do not vary enough for scenario discovery."""


# --------------------------------------------------------------------------- inputs


def point_table(joined: pd.DataFrame, inputs: Sequence[str], outcomes: Sequence[str],
                roles: Sequence[str] = ("option",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per design point: its input values and its mean outcomes.

    Args:
        joined: One row per finished run (``Sweep.joined()``): ``point_id``,
            ``role``, the input columns and the outcome columns.
        inputs: Factor columns (levers and uncertainties).
        outcomes: Metric columns.
        roles: Roles of the points to keep (default: options only).

    Returns:
        ``(X, Y)`` indexed by ``point_id``: ``X`` the inputs, ``Y`` the mean
        of each outcome over the point's finished replicates.
    """
    runs = joined[joined["role"].isin(list(roles))]
    x = runs.groupby("point_id", sort=True)[list(inputs)].first()
    y = runs.groupby("point_id", sort=True)[list(outcomes)].mean()
    return x, y


def varying_inputs(x: pd.DataFrame) -> list[str]:
    """Columns of ``x`` that take more than one value (NaN ignored)."""
    return [c for c in x.columns if x[c].dropna().nunique() > 1]


def discovery_applies(x: pd.DataFrame) -> tuple[bool, str]:
    """Whether a sweep has enough points and varying inputs for discovery, and why not.

    Args:
        x: Inputs of the design points (:func:`point_table`).

    Returns:
        ``(True, "")`` with at least :data:`MIN_INPUTS` varying inputs and
        :data:`MIN_POINTS` points, else ``(False, reason)``.
    """
    varying = varying_inputs(x)
    n = len(x)
    if len(varying) < MIN_INPUTS or n < MIN_POINTS:
        return False, (
            f"not enough variation for scenario discovery: it needs at least {MIN_INPUTS} "
            f"varying levers or uncertainties and {MIN_POINTS} design points; this sweep has "
            f"{len(varying)} and {n} (a full factorial of a few options is read from the tables "
            "above instead; sample many points with a latin_hypercube or sobol design, e.g. "
            "national_rollout)")
    return True, ""


def variation_problem(y: pd.Series | np.ndarray, name: str = "the outcome",
                      min_points: int = MIN_POINTS) -> str:
    """Why an outcome cannot be scored or boxed, or ``""`` when it can.

    Args:
        y: The outcome of each design point (NaN for a point without a value).
        name: The outcome's name, for the message.
        min_points: Points with a value needed.

    Returns:
        ``""`` when at least ``min_points`` points have a value and the
        values differ, else a one-line reason starting "not enough variation".
    """
    yv = np.asarray(y, dtype=np.float64)
    yv = yv[np.isfinite(yv)]
    if len(yv) < max(2, min_points):
        return (f"not enough variation: {name} has a value at {len(yv)} design points, "
                f"fewer than {max(2, min_points)}")
    if np.ptp(yv) == 0:
        return f"not enough variation: {name} is {yv[0]:.4g} at every design point"
    return ""


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _workbench_inputs(x: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The inputs as the Workbench handles them, and how to read its categories back.

    Columns are renamed ``input0``, ``input1``... in order (the Workbench silently
    drops a column named ``scenario``, its own name for the scenario id, and
    ours is a lever). Numbers become ``float64`` (the Workbench's integer
    peeling and pasting fails on integer columns under pandas 3; a float column
    is peeled the same way between data values). Everything else (text,
    booleans, numbers with a missing value) becomes text categories; the map,
    by our column name, gives back each category's original value.
    """
    out: dict[str, pd.Series] = {}
    back: dict[str, dict[str, Any]] = {}
    for i, col in enumerate(x.columns):
        s = x[col]
        if _is_numeric(s) and not s.isna().any():
            out[f"input{i}"] = s.astype(np.float64)
            continue
        text = s.map(lambda v: NOT_SET if pd.isna(v) else str(v)).astype(object)
        back[col] = {t: (None if t == NOT_SET else v) for t, v in zip(text, s, strict=True)}
        out[f"input{i}"] = text
    return pd.DataFrame(out, index=x.index).reset_index(drop=True), back


@contextlib.contextmanager
def _quiet_workbench() -> Iterator[None]:
    """Silence the Workbench's log messages and warnings (import notes, sklearn, pandas)."""
    ema_log = logging.getLogger("EMA")
    level = ema_log.level
    ema_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        ema_log.setLevel(level)


# --------------------------------------------------------------------------- feature scores


def feature_scores(x: pd.DataFrame, y: pd.Series | np.ndarray, *,
                   seed: int = FEATURE_SEED) -> pd.DataFrame:
    """Score each input by how much of the outcome's variation it accounts for.

    The EMA Workbench's extra-trees feature scoring (regression, its default
    settings: 100 trees, a third of the inputs tried at each split), seeded.

    Args:
        x: Inputs, one row per design point (numbers, booleans or categories).
        y: The outcome of each point (same order); NaN rows are dropped.
        seed: Seed of the trees (the same data and seed give the same scores).

    Returns:
        One row per input, highest score first: ``input``, ``score`` (share of
        the trees' variance reduction, 0-1, summing to 1 over the inputs),
        ``spearman`` (rank correlation with the outcome, NaN for a categorical
        input), ``kind`` (``numeric`` or ``categorical``) and ``rank``
        (1 = most influential).

    Raises:
        NotEnoughVariation: Fewer than 2 points with a value, or the outcome
            is the same at every point. (The report scores only sweeps with
            :data:`MIN_POINTS` points or more: :func:`discovery_applies`,
            :func:`feature_score_table`.)
    """
    yv = np.asarray(y, dtype=np.float64)
    problem = variation_problem(yv, min_points=2)
    if problem:
        raise NotEnoughVariation(problem)
    ok = np.isfinite(yv)
    xs, yv = x.loc[ok], yv[ok]
    prepared, _ = _workbench_inputs(xs)
    with _quiet_workbench():
        from ema_workbench.analysis.feature_scoring import get_ex_feature_scores
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

        table, _ = get_ex_feature_scores(
            prepared, yv, mode=RuleInductionType.REGRESSION, random_state=seed,
            # the Workbench's default (a third of the inputs) rounds to 0 for one input
            max_features=max(1, round(prepared.shape[1] / 3)),
            oob_score=False)  # the out-of-bag fit is not used: skip it
    # the Workbench drops a categorical input with a single value: it scores 0
    score = table.iloc[:, 0].reindex(list(prepared.columns)).fillna(0.0).astype(float)
    score.index = list(x.columns)
    rows = []
    for col in x.columns:
        s = xs[col]
        numeric = _is_numeric(s)
        rho = math.nan
        if numeric and s.nunique() > 1:
            rho = float(stats.spearmanr(s.to_numpy(float), yv, nan_policy="omit").statistic)
        rows.append({"input": col, "score": float(score[col]), "spearman": rho,
                     "kind": "numeric" if numeric else "categorical"})
    out = pd.DataFrame(rows, columns=["input", "score", "spearman", "kind"])
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def feature_score_table(x: pd.DataFrame, y: pd.DataFrame, *,
                        seed: int = FEATURE_SEED) -> tuple[pd.DataFrame, dict[str, str]]:
    """Feature scores of every input (rows) for every outcome (columns).

    Args:
        x: Inputs, one row per design point.
        y: Outcomes, one column per metric, same rows.
        seed: See :func:`feature_scores`.

    Returns:
        ``(table, skipped)``: the table input x outcome of scores, inputs in
        ``x``'s column order, NaN for an outcome that could not be scored; and
        outcome -> why it could not be scored ("not enough variation: ...").
    """
    table: dict[str, pd.Series] = {}
    skipped: dict[str, str] = {}
    for m in y.columns:
        problem = variation_problem(y[m], m)
        if problem:
            skipped[m] = problem
            s = pd.Series(math.nan, index=x.columns)
        else:
            s = feature_scores(x, y[m], seed=seed).set_index("input")["score"]
        table[m] = s.reindex(x.columns)
    frame = pd.DataFrame(table, index=pd.Index(list(x.columns), name="input"),
                         columns=list(y.columns), dtype=float)
    return frame, skipped


# --------------------------------------------------------------------------- PRIM


@dataclass(frozen=True)
class PrimBox:
    """One box of a PRIM trajectory.

    Attributes:
        limits: Input -> ``(low, high)`` (numeric) or the tuple of categories
            kept, for every input.
        restricted: Inputs whose limits are narrower than the data's.
        coverage: Share of all cases of interest inside the box.
        density: Share of the points in the box that are cases of interest.
        mass: Share of all points inside the box.
        n: Points inside the box.
        p_values: Restricted input -> quasi-p-value of its restriction: the
            smallest of its limits' (a restriction is worth keeping when one of
            its limits is); small values mean the restriction matters.
        limit_p_values: Restricted input -> ``(low, high)`` quasi-p-values of
            its two limits (the Workbench's one-sided binomial test of the
            box's density if that limit alone were lifted; NaN for a limit left
            at the data's edge; a categorical input has one, in ``low``).
        categorical: Inputs treated as categories (limits are the values kept).
    """

    limits: Mapping[str, tuple[Any, ...]]
    restricted: tuple[str, ...]
    coverage: float
    density: float
    mass: float
    n: int
    p_values: Mapping[str, float] = field(default_factory=dict)
    limit_p_values: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    categorical: tuple[str, ...] = ()

    def describe(self, fmt: Callable[[float], str] | None = None) -> list[str]:
        """The box's restrictions in words, one per restricted input.

        Args:
            fmt: Formats a number (default 4 significant digits).
        """
        fmt = fmt or (lambda v: f"{v:.4g}")
        out = []
        for name in self.restricted:
            lim = self.limits[name]
            if name in self.categorical:
                out.append(f"{name} in {{{', '.join(str(v) for v in lim)}}}")
            else:
                out.append(f"{name} from {fmt(lim[0])} to {fmt(lim[1])}")
        return out


@dataclass(frozen=True)
class PrimResult:
    """A PRIM trajectory and the box chosen from it.

    Attributes:
        outcome: Name of the outcome.
        threshold: Cases of interest are above (or below) this value (NaN
            when the cases were given as booleans).
        above: True when cases of interest are above the threshold.
        q: Percentile (0-1) the threshold was taken at.
        cases: Cases of interest among all points.
        n: Points.
        boxes: Every box of the Workbench's peeling and pasting trajectory, the
            full box first; then, when restrictions of the chosen box were
            lifted, the boxes that gave.
        chosen: Index of the chosen box in ``boxes``.
        categorical: Inputs treated as categories.
        peeled: Boxes of the peeling and pasting trajectory (the first
            ``peeled`` of ``boxes``).
    """

    outcome: str
    threshold: float
    above: bool
    q: float
    cases: int
    n: int
    boxes: tuple[PrimBox, ...]
    chosen: int
    categorical: tuple[str, ...] = ()
    peeled: int = 0

    @property
    def box(self) -> PrimBox:
        """The chosen box."""
        return self.boxes[self.chosen]

    def trajectory(self) -> pd.DataFrame:
        """Coverage, density, mass and restricted inputs of every box, in order.

        Column ``peeled`` is False for the boxes made by lifting restrictions
        of the chosen box (not steps of the peeling and pasting).
        """
        return pd.DataFrame({
            "step": range(len(self.boxes)),
            "coverage": [b.coverage for b in self.boxes],
            "density": [b.density for b in self.boxes],
            "mass": [b.mass for b in self.boxes],
            "restricted": [len(b.restricted) for b in self.boxes],
            "peeled": [i < (self.peeled or len(self.boxes)) for i in range(len(self.boxes))],
        })

    def limits_table(self) -> pd.DataFrame:
        """The chosen box's restricted inputs: range kept, data range, quasi-p-value."""
        rows = []
        box = self.box
        full = self.boxes[0]
        for name in box.restricted:
            cat = name in self.categorical
            rows.append({
                "input": name,
                "kind": "categorical" if cat else "numeric",
                "box": box.limits[name],
                "data": full.limits[name],
                "p_value": box.p_values.get(name, math.nan),
            })
        return pd.DataFrame(rows, columns=["input", "kind", "box", "data", "p_value"])


def _box_of(wb_box: Any, i: int, columns: Sequence[str],
            back: Mapping[str, Mapping[str, Any]]) -> PrimBox:
    """Box ``i`` of a Workbench ``PrimBox``'s trajectory in our terms.

    ``columns`` are our names of the Workbench's ``input0``, ``input1``...
    """
    lims = wb_box.box_lims[i]
    row = wb_box.peeling_trajectory.iloc[i]
    limits: dict[str, tuple[Any, ...]] = {}
    for j, col in enumerate(columns):
        wb_col = f"input{j}"
        if col in back:
            kept = sorted(lims.loc[0, wb_col], key=str)
            limits[col] = tuple(back[col].get(v, v) for v in kept)
        else:
            limits[col] = (float(lims.loc[0, wb_col]), float(lims.loc[1, wb_col]))
    qp = wb_box.p_values[i]
    limit_p: dict[str, tuple[float, float]] = {}
    for j, col in enumerate(columns):
        if f"input{j}" in qp:
            low, high = (math.nan if v is None or v < 0 else float(v)
                         for v in qp[f"input{j}"])
            limit_p[col] = (low, high)
    restricted = tuple(c for c in columns if c in limit_p)
    p_values = {c: float(np.nanmin(limit_p[c])) if not all(map(math.isnan, limit_p[c]))
                else math.nan for c in restricted}
    return PrimBox(limits, restricted, float(row["coverage"]), float(row["density"]),
                   float(row["mass"]), int(row["n"]), p_values, limit_p, tuple(back))


def prim(x: pd.DataFrame, y: pd.Series | np.ndarray, *, q: float = 0.8, above: bool = True,
         peel_alpha: float = 0.05, paste_alpha: float = 0.05, mass_min: float = 0.05,
         p_max: float = 0.05, outcome: str = "outcome") -> PrimResult:
    """PRIM through the EMA Workbench: the input ranges where the outcome is at its best.

    The Workbench's ``Prim`` peels and pastes one box (its default "lenient1"
    objective: gain in density per point removed). The box chosen from the
    trajectory is the one with the largest ``coverage x density``; then, one
    at a time and while more than one is left, the restriction with the
    largest quasi-p-value above ``p_max`` is lifted (the Workbench's
    ``drop_restriction``), so that the box keeps only restrictions that matter
    (a last one is kept whatever its p-value, which says how much to trust it).

    Args:
        x: Inputs, one row per design point (numbers, booleans or categories).
        y: The outcome of each point (same order; NaN rows are dropped), or
            booleans: the cases of interest themselves (``q`` and ``above``
            are then not used).
        q: Percentile of the threshold (0.8: cases of interest are the points
            above the 80th percentile, or below the 20th when ``above`` is False).
        above: Cases of interest are high (True) or low (False) outcomes.
        peel_alpha: Share of the box's points peeled at each step.
        paste_alpha: Share of points pasted back at each step.
        mass_min: Stop before the box holds less than this share of the points.
        p_max: Lift restrictions of the chosen box whose quasi-p-value is above
            this (all but one at most).
        outcome: Name of the outcome, for display and messages.

    Returns:
        The trajectory and the chosen box.

    Raises:
        ValueError: ``q`` outside (0, 1).
        NotEnoughVariation: Fewer than :data:`MIN_POINTS` points with a value,
            fewer than :data:`MIN_INPUTS` varying inputs, or every point or no
            point is a case of interest.
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q}")
    given = np.asarray(y)
    if given.dtype == bool:
        interest_all = given
        yv = np.where(given, 1.0, 0.0)
    else:
        yv = given.astype(np.float64)
        problem = variation_problem(yv, outcome)
        if problem:
            raise NotEnoughVariation(problem)
    ok = np.isfinite(yv)
    xs = x.loc[ok]
    yv = yv[ok]
    n = len(yv)
    if given.dtype == bool:
        threshold = math.nan
        interest = interest_all[ok]
    elif above:
        threshold = float(np.quantile(yv, q))
        interest = yv > threshold
    else:
        threshold = float(np.quantile(yv, 1 - q))
        interest = yv < threshold
    cases = int(interest.sum())
    varying = varying_inputs(xs)
    if n < MIN_POINTS or len(varying) < MIN_INPUTS:
        raise NotEnoughVariation(
            f"not enough variation: {n} design points and {len(varying)} varying inputs "
            f"(at least {MIN_POINTS} and {MIN_INPUTS} needed)")
    if cases == 0 or cases == n:
        raise NotEnoughVariation(
            f"not enough variation: {'no' if cases == 0 else 'every'} design point is a case "
            f"of interest ({outcome} does not vary enough)")
    prepared, back = _workbench_inputs(xs[varying])
    with _quiet_workbench():
        from ema_workbench.analysis.prim import Prim

        wb = Prim(prepared, interest.copy(), peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                  mass_min=mass_min)
        wb_box = wb.find_box()
        peeled = len(wb_box.box_lims)
        boxes = [_box_of(wb_box, i, varying, back) for i in range(peeled)]
        pick = max(range(peeled), key=lambda i: (boxes[i].coverage * boxes[i].density, -i))
        chosen = boxes[pick]
        while len(chosen.p_values) > 1:  # the last restriction stays, with its p-value shown
            worst = max(chosen.p_values, key=lambda c: chosen.p_values[c])
            if not chosen.p_values[worst] > p_max:
                break
            wb_box.drop_restriction(f"input{varying.index(worst)}", i=pick)
            pick = len(wb_box.box_lims) - 1
            chosen = _box_of(wb_box, pick, varying, back)
            boxes.append(chosen)
    # inputs that do not vary are in every box, unrestricted
    categorical = tuple(c for c in x.columns if c in back or not _is_numeric(xs[c]))
    constant: dict[str, tuple[Any, ...]] = {}
    for c in x.columns:
        if c not in varying:
            v = tuple(xs[c].dropna().unique()[:1].tolist())
            constant[c] = v if c in categorical else (v * 2 if v else (math.nan, math.nan))
    boxes = [PrimBox({c: {**b.limits, **constant}[c] for c in x.columns}, b.restricted,
                     b.coverage, b.density, b.mass, b.n, b.p_values, b.limit_p_values,
                     categorical) for b in boxes]
    return PrimResult(outcome, threshold, above, q, cases, n, tuple(boxes), pick, categorical,
                      peeled)
