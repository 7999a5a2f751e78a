"""Calibration targets: the reported counts the model is fitted to or checked against.

A target (one row of ``calibration/targets.csv``, described in
``calibration/README.md``) ties a reported count ``k`` out of ``n`` to a
named-service scenario and to an observable computed from the model's event
log (:mod:`pathways_sim.outcomes.observables`). ``role`` says whether it is
fitted (``fit``) or held out (``validate``); ``likelihood`` how the observed
count is compared with the simulated share (:mod:`pathways_sim.calibration.likelihood`).

Typical use::

    from pathways_sim.calibration.targets import load_targets

    targets = load_targets("calibration/targets.csv")
    fit = [t for t in targets if t.role == "fit"]
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from scipy import stats

from pathways_sim.outcomes.observables import COHORTS, OBSERVABLES
from pathways_sim.scenario import ScenarioError

__all__ = [
    "LIKELIHOODS",
    "ROLES",
    "Target",
    "clopper_pearson",
    "file_hash",
    "load_targets",
]

LIKELIHOODS = ("binomial", "beta_binomial", "binomial_uncertain_n", "lower_bound")
"""Likelihoods a target may name (see :mod:`pathways_sim.calibration.likelihood`)."""

ROLES = ("fit", "validate")
"""``fit``: in the objective; ``validate``: held out and only checked afterwards."""

COLUMNS = ("id", "scenario", "cohort", "observable", "window_months", "k", "n", "n_max",
           "likelihood", "role", "source")


@dataclass(frozen=True)
class Target:
    """One reported count and how the model reproduces it.

    Attributes:
        id: Unique target id.
        scenario: Scenario name (``scenarios/<name>.yaml``) or path to a scenario file.
        cohort: ``all``, ``working_age`` or ``not_in_work``.
        observable: A key of :data:`~pathways_sim.outcomes.observables.OBSERVABLES`.
        window_months: Months from each client's referral; None = the whole follow-up.
        k: The reported count.
        n: Its denominator (the lower end when uncertain).
        n_max: Upper end of an uncertain denominator, or None.
        likelihood: One of :data:`LIKELIHOODS`.
        role: ``fit`` or ``validate``.
        source: Where the count comes from.
    """

    id: str
    scenario: str
    cohort: str
    observable: str
    window_months: float | None
    k: int
    n: int
    n_max: int | None
    likelihood: str
    role: str
    source: str = ""

    @property
    def share(self) -> float:
        """The observed share ``k / n``."""
        return self.k / self.n

    @property
    def spec(self) -> tuple[str, str, float | None]:
        """``(observable, cohort, window_months)`` for :func:`observe_many`."""
        return self.observable, self.cohort, self.window_months

    def interval(self, level: float = 0.90) -> tuple[float, float]:
        """The exact (Clopper-Pearson) interval of the observed share.

        With an uncertain denominator the interval spans both ends: the lower
        bound at ``n_max`` and the upper bound at ``n``.
        """
        lo, hi = clopper_pearson(self.k, self.n, level)
        if self.n_max is not None:
            lo = min(lo, clopper_pearson(self.k, self.n_max, level)[0])
        return lo, hi

    def to_dict(self) -> dict[str, object]:
        """The target as a plain dict (for manifests and tables)."""
        return asdict(self)


def clopper_pearson(k: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """The exact binomial (Clopper-Pearson) confidence interval of ``k / n``.

    Args:
        k: Successes (0 <= k <= n).
        n: Trials (>= 1).
        level: Confidence level.

    Returns:
        ``(lo, hi)``: beta quantiles ``Beta(a/2; k, n-k+1)`` and
        ``Beta(1-a/2; k+1, n-k)``, with 0 and 1 at the edges.
    """
    alpha = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), recorded in manifests (targets and priors hashes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _blank(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or str(x).strip() == ""


def _int(value: object, where: str, column: str) -> int:
    try:
        f = float(str(value))
    except ValueError:
        raise ScenarioError(where, column, f"not a number: {value!r}", "a whole number") from None
    if not f.is_integer() or f < 0:
        raise ScenarioError(where, column, f"not a whole number >= 0: {value!r}",
                            "a whole number") from None
    return int(f)


def load_targets(path: str | Path, roles: tuple[str, ...] | None = None) -> list[Target]:
    """Read and check a targets table.

    Args:
        path: A CSV with the columns of ``calibration/targets.csv``.
        roles: Keep only these roles (default: all).

    Returns:
        The targets, in file order.

    Raises:
        ScenarioError: A missing file or column, a repeated id, an unknown
            observable, cohort, likelihood or role, or counts that do not add up;
            the message names the file, the row and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), None, "targets file not found", "a CSV like "
                            "calibration/targets.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns and c != "source"]
    if missing:
        raise ScenarioError(str(path), None, f"missing columns {missing}",
                            "columns " + ", ".join(COLUMNS))
    out: list[Target] = []
    seen: set[str] = set()
    for i, row in enumerate(df.to_dict("records")):
        where = f"{path}: row {i + 2} ({row['id']})"
        if row["id"] in seen or not row["id"]:
            raise ScenarioError(where, "id", "empty or repeated id", "unique ids")
        seen.add(row["id"])
        if row["observable"] not in OBSERVABLES:
            raise ScenarioError(where, "observable", f"unknown observable {row['observable']!r}",
                                "one of " + ", ".join(sorted(OBSERVABLES)))
        if row["cohort"] not in COHORTS:
            raise ScenarioError(where, "cohort", f"unknown cohort {row['cohort']!r}",
                                "one of " + ", ".join(COHORTS))
        if row["likelihood"] not in LIKELIHOODS:
            raise ScenarioError(where, "likelihood", f"unknown likelihood {row['likelihood']!r}",
                                "one of " + ", ".join(LIKELIHOODS))
        if row["role"] not in ROLES:
            raise ScenarioError(where, "role", f"unknown role {row['role']!r}",
                                "one of " + ", ".join(ROLES))
        k, n = _int(row["k"], where, "k"), _int(row["n"], where, "n")
        n_max = None if _blank(row["n_max"]) else _int(row["n_max"], where, "n_max")
        if n < 1 or k > n:
            raise ScenarioError(where, "k", f"k={k} out of n={n}", "0 <= k <= n, n >= 1")
        if (row["likelihood"] == "binomial_uncertain_n") != (n_max is not None):
            raise ScenarioError(where, "n_max", "n_max is given exactly for "
                                "binomial_uncertain_n targets", "n_max >= n with "
                                "binomial_uncertain_n, blank otherwise")
        if n_max is not None and n_max < n:
            raise ScenarioError(where, "n_max", f"n_max={n_max} below n={n}", "n_max >= n")
        window = None if _blank(row["window_months"]) else float(row["window_months"])
        target = Target(row["id"], row["scenario"], row["cohort"], row["observable"], window,
                        k, n, n_max, row["likelihood"], row["role"], row.get("source", ""))
        if roles is None or target.role in roles:
            out.append(target)
    return out
