"""Scenario discovery: which levers and uncertainties drive an outcome, and where.

Two questions an analyst asks of a sweep with many design points (a Latin
hypercube over regions, say):

* **Which inputs matter?** :func:`feature_scores` scores each input by the
  share of the outcome's variance it explains on its own: the outcome is
  averaged within bins of the input (quantile bins of a number, each value
  of a category) and the score is the *adjusted* correlation ratio
  (omega squared, ``(SSB - (k - 1) MSW) / (SST + MSW)``), which is about 0
  for an input that does nothing however many bins it has, and 1 when the
  input fixes the outcome. Spearman's rank correlation gives the sign for
  numeric inputs. The scores are marginal (one input at a time): an input
  that matters only through an interaction scores low. No dependency beyond
  numpy and scipy, so results do not change with what else is installed;
  tree-based scores are one ``pip install ema_workbench`` away
  (``ema_workbench.analysis.feature_scoring``, see ``examples/ema_workbench.py``).
* **Which input ranges give good outcomes?** :func:`prim` is the Patient
  Rule Induction Method (Friedman and Fisher 1999) as used in scenario
  discovery (Bryant and Lempert 2010): start from the box holding every
  point and repeatedly peel off the ``peel_alpha`` share of points at one
  end of one numeric input (or one value of a categorical input) that
  raises the share of "cases of interest" (outcome above its ``q``-th
  percentile) in the box most per point removed (the EMA Workbench's
  default objective, which keeps a categorical input from being peeled a
  whole value at a time just because that is a big step), until the box
  holds less than ``mass_min`` of the points. Each box on the way is a trade-off between
  **coverage** (share of all cases of interest inside the box) and
  **density** (share of the box that are cases of interest); the box chosen
  balances the two (largest ``coverage x density``) and keeps only the
  restrictions whose quasi-p-value says they matter.

The inputs are design points (one row per point, the outcome averaged over
its replicates): :func:`point_table` builds them from a sweep's joined table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "MIN_INPUTS",
    "MIN_POINTS",
    "PrimBox",
    "PrimResult",
    "discovery_applies",
    "feature_score_table",
    "feature_scores",
    "point_table",
    "prim",
    "varying_inputs",
]

MIN_INPUTS = 2
"""Varying inputs needed before a report shows scenario discovery."""

MIN_POINTS = 20
"""Design points needed before a report shows scenario discovery."""


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
            f"scenario discovery needs at least {MIN_INPUTS} varying levers or uncertainties "
            f"and {MIN_POINTS} design points; this sweep has {len(varying)} and {n} (a "
            "full factorial of a few options is read from the tables above instead; sample "
            "many points with a latin_hypercube or sobol design, e.g. national_rollout)")
    return True, ""


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _bins(s: pd.Series, bins: int) -> np.ndarray:
    """Bin label of each value: quantile bins of a number, each value of a category."""
    if _is_numeric(s) and s.nunique() > bins:
        edges = np.unique(np.quantile(s.to_numpy(float), np.linspace(0, 1, bins + 1)))
        return np.clip(np.searchsorted(edges, s.to_numpy(float), side="right") - 1, 0,
                       len(edges) - 2)
    return pd.factorize(s.astype(str) if not _is_numeric(s) else s)[0]


def _omega_squared(y: np.ndarray, groups: np.ndarray) -> float:
    """Adjusted correlation ratio: share of variance between groups, beyond chance."""
    n = len(y)
    labels = np.unique(groups)
    k = len(labels)
    if k < 2 or n <= k:
        return 0.0
    grand = y.mean()
    sst = float(((y - grand) ** 2).sum())
    if sst <= 0:
        return 0.0
    ssb = 0.0
    for g in labels:
        yg = y[groups == g]
        ssb += len(yg) * float((yg.mean() - grand) ** 2)
    msw = (sst - ssb) / (n - k)
    return float(max(0.0, (ssb - (k - 1) * msw) / (sst + msw)))


def feature_scores(x: pd.DataFrame, y: pd.Series | np.ndarray, bins: int = 5) -> pd.DataFrame:
    """Score each input by the share of the outcome's variance it explains alone.

    Args:
        x: Inputs, one row per design point (numbers, booleans or categories).
        y: The outcome of each point (same order); NaN rows are dropped.
        bins: Quantile bins of a numeric input with more distinct values.

    Returns:
        One row per input, highest score first: ``input``, ``score`` (adjusted
        correlation ratio, 0-1), ``spearman`` (rank correlation, NaN for a
        categorical input), ``kind`` (``numeric`` or ``categorical``) and
        ``rank`` (1 = most influential).
    """
    yv = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(yv)
    xs, yv = x.loc[ok], yv[ok]
    rows = []
    for col in xs.columns:
        s = xs[col]
        numeric = _is_numeric(s)
        score = _omega_squared(yv, _bins(s, bins)) if s.nunique() > 1 else 0.0
        rho = math.nan
        if numeric and s.nunique() > 1 and np.ptp(yv) > 0:
            rho = float(stats.spearmanr(s.to_numpy(float), yv).statistic)
        rows.append({"input": col, "score": score, "spearman": rho,
                     "kind": "numeric" if numeric else "categorical"})
    out = pd.DataFrame(rows, columns=["input", "score", "spearman", "kind"])
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def feature_score_table(x: pd.DataFrame, y: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Feature scores of every input (rows) for every outcome (columns).

    Args:
        x: Inputs, one row per design point.
        y: Outcomes, one column per metric, same rows.
        bins: See :func:`feature_scores`.

    Returns:
        A table input x outcome of scores, inputs in ``x``'s column order.
    """
    table = {}
    for m in y.columns:
        s = feature_scores(x, y[m], bins).set_index("input")["score"]
        table[m] = s.reindex(x.columns)
    return pd.DataFrame(table, index=pd.Index(list(x.columns), name="input"))


# --------------------------------------------------------------------------- PRIM


@dataclass(frozen=True)
class PrimBox:
    """One box of a PRIM peeling trajectory.

    Attributes:
        limits: Input -> ``(low, high)`` (numeric: the values of the points in
            the box) or the tuple of categories kept, for every input.
        restricted: Inputs whose limits are narrower than the data's.
        coverage: Share of all cases of interest inside the box.
        density: Share of the points in the box that are cases of interest.
        mass: Share of all points inside the box.
        n: Points inside the box.
        p_values: Restricted input -> one-sided binomial quasi-p-value of its
            restriction (the chance of the box's density or more if that
            restriction were lifted); small values mean the restriction matters.
        categorical: Inputs treated as categories (limits are the values kept).
    """

    limits: Mapping[str, tuple[Any, ...]]
    restricted: tuple[str, ...]
    coverage: float
    density: float
    mass: float
    n: int
    p_values: Mapping[str, float] = field(default_factory=dict)
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
    """A PRIM peeling trajectory and the box chosen from it.

    Attributes:
        outcome: Name of the outcome.
        threshold: Cases of interest are above (or below) this value.
        above: True when cases of interest are above the threshold.
        q: Percentile (0-1) the threshold was taken at.
        cases: Cases of interest among all points.
        n: Points.
        boxes: Every box of the peeling trajectory, the full box first; when
            restrictions of the chosen box were lifted, the resulting box last.
        chosen: Index of the chosen box in ``boxes``.
        categorical: Inputs treated as categories.
        peeled: Boxes of the peeling trajectory (the first ``peeled`` of ``boxes``).
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
        """Coverage, density, mass and restricted inputs of every box, in peeling order.

        Column ``peeled`` is False for the last box when it is the chosen box
        with restrictions lifted (not a step of the peeling).
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


def _full_limits(x: pd.DataFrame, categorical: Sequence[str]) -> dict[str, tuple]:
    """Limits of the box holding every point: each input's range or set of categories."""
    out: dict[str, tuple] = {}
    for col in x.columns:
        vals = x[col].to_numpy()
        if col in categorical:
            out[col] = tuple(sorted({v for v in vals if not pd.isna(v)}, key=str))
        else:
            fv = vals.astype(float)
            fv = fv[np.isfinite(fv)]
            out[col] = (float(fv.min()), float(fv.max())) if len(fv) else (math.nan, math.nan)
    return out


def _in_limits(x: pd.DataFrame, limits: Mapping[str, tuple], categorical: Sequence[str],
               skip: str | None = None) -> np.ndarray:
    """Points inside the box (ignoring the limits of ``skip``)."""
    mask = np.ones(len(x), dtype=bool)
    for col, lim in limits.items():
        if col == skip:
            continue
        v = x[col].to_numpy()
        if col in categorical:
            mask &= np.isin(v.astype(object), np.asarray(lim, dtype=object))
        else:
            fv = v.astype(float)
            mask &= (fv >= lim[0]) & (fv <= lim[1])
    return mask


def _peels(x: pd.DataFrame, limits: Mapping[str, tuple], mask: np.ndarray,
           categorical: Sequence[str], k_peel: int) -> list[tuple[str, tuple]]:
    """Candidate peels: (input, new limits) removing at least ``k_peel`` points of the box."""
    out: list[tuple[str, tuple]] = []
    for col in x.columns:
        v = x[col].to_numpy()
        if col in categorical:
            present = [c for c in limits[col] if (mask & (v == c)).any()]
            if len(present) > 1:
                out.extend((col, tuple(c for c in present if c != drop)) for drop in present)
            continue
        fv = v.astype(float)
        inner = np.sort(fv[mask])
        uniq = np.unique(inner)
        if len(uniq) < 2:
            continue
        k = min(k_peel, len(inner))
        lo, hi = limits[col]
        # low end: the smallest cut removing at least k points (tied values go together)
        i_lo = int(np.searchsorted(uniq, inner[k - 1], side="right"))
        if i_lo < len(uniq):
            out.append((col, (float(uniq[i_lo]), hi)))
        # high end: the largest cut removing at least k points
        i_hi = int(np.searchsorted(uniq, inner[len(inner) - k], side="left")) - 1
        if i_hi >= 0:
            out.append((col, (lo, float(uniq[i_hi]))))
    return out


def prim(x: pd.DataFrame, y: pd.Series | np.ndarray, *, q: float = 0.8, above: bool = True,
         peel_alpha: float = 0.05, mass_min: float = 0.05, p_max: float = 0.05,
         outcome: str = "outcome") -> PrimResult:
    """PRIM peeling: the input ranges where the outcome is in its best ``1 - q`` share.

    The box chosen from the trajectory is the one with the largest
    ``coverage x density`` (a balance of the two); then, one at a time and
    while more than one is left, the restriction with the largest
    quasi-p-value above ``p_max`` is lifted, so that the box keeps only
    restrictions that matter (a last one is kept whatever its p-value, which
    says how much to trust it).

    Args:
        x: Inputs, one row per design point (numbers, booleans or categories).
        y: The outcome of each point (same order); NaN rows are dropped.
        q: Percentile of the threshold (0.8: cases of interest are the points
            above the 80th percentile, or below the 20th when ``above`` is False).
        above: Cases of interest are high (True) or low (False) outcomes.
        peel_alpha: Share of the box's points peeled at each step (at least one point).
        mass_min: Stop before the box holds less than this share of the points.
        p_max: Lift restrictions of the chosen box whose quasi-p-value is above
            this (all but one at most).
        outcome: Name of the outcome, for display.

    Returns:
        The trajectory and the chosen box.

    Raises:
        ValueError: No point left, ``q`` outside (0, 1), or no point is a case
            of interest (the outcome does not vary).
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q}")
    yv = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(yv)
    xs = x.loc[ok].reset_index(drop=True)
    yv = yv[ok]
    n = len(yv)
    if n == 0:
        raise ValueError("no design point with a finite outcome")
    if above:
        threshold = float(np.quantile(yv, q))
        interest = yv > threshold
    else:
        threshold = float(np.quantile(yv, 1 - q))
        interest = yv < threshold
    cases = int(interest.sum())
    if cases == 0:
        raise ValueError(f"no point is a case of interest ({outcome} does not vary enough)")
    categorical = tuple(c for c in xs.columns if not _is_numeric(xs[c]))
    full = _full_limits(xs, categorical)

    def restricted(limits: Mapping[str, tuple]) -> tuple[str, ...]:
        return tuple(c for c in xs.columns if tuple(limits[c]) != tuple(full[c]))

    def make_box(limits: Mapping[str, tuple]) -> PrimBox:
        mask = _in_limits(xs, limits, categorical)
        k, m = int(interest[mask].sum()), int(mask.sum())
        pvals = {}
        for col in restricted(limits):
            wider = _in_limits(xs, limits, categorical, skip=col)
            p0 = float(interest[wider].mean()) if wider.any() else 0.0
            pvals[col] = float(stats.binom.sf(k - 1, m, p0)) if m else math.nan
        return PrimBox(dict(limits), restricted(limits), k / cases,
                       k / m if m else math.nan, m / n, m, pvals, categorical)

    limits = dict(full)
    boxes = [make_box(limits)]
    min_points = max(1, math.ceil(mass_min * n))
    while True:
        mask = _in_limits(xs, limits, categorical)
        inside = int(mask.sum())
        density = float(interest[mask].mean())
        if density == 1.0:
            break
        best: tuple[float, int, str, tuple] | None = None
        for col, new in _peels(xs, limits, mask, categorical,
                               max(1, math.ceil(peel_alpha * inside))):
            cand = mask & _in_limits(xs, {col: new}, categorical)
            m = int(cand.sum())
            if m < min_points or m == inside:
                continue
            # gain in density per point peeled (the EMA Workbench's default "lenient1"
            # objective): plain density would favour dropping a whole category at once
            gain = (float(interest[cand].mean()) - density) / (inside - m)
            if best is None or gain > best[0] or (gain == best[0] and m > best[1]):
                best = (gain, m, col, new)
        if best is None:
            break
        limits = limits | {best[2]: best[3]}
        boxes.append(make_box(limits))

    peeled = len(boxes)
    pick = max(range(len(boxes)), key=lambda i: (boxes[i].coverage * boxes[i].density, -i))
    chosen = boxes[pick]
    while len(chosen.p_values) > 1:  # the last restriction stays, with its p-value shown
        worst = max(chosen.p_values, key=lambda c: chosen.p_values[c])
        if not chosen.p_values[worst] > p_max:
            break
        chosen = make_box(dict(chosen.limits) | {worst: full[worst]})
    if chosen.limits != boxes[pick].limits:
        boxes.append(chosen)
        pick = len(boxes) - 1
    return PrimResult(outcome, threshold, above, q, cases, n, tuple(boxes), pick, categorical,
                      peeled)
