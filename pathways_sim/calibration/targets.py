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
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from scipy import stats

from pathways_sim.outcomes.observables import COHORTS, OBSERVABLES
from pathways_sim.scenario.errors import ScenarioError, TargetsError, clip
from pathways_sim.scenario.inputs import (
    CsvRow,
    FileKind,
    cell_integer,
    cell_number,
    locate,
    one_of,
    read_csv_rows,
)

__all__ = [
    "COLUMNS",
    "LIKELIHOODS",
    "ROLES",
    "TARGETS",
    "Target",
    "clopper_pearson",
    "file_hash",
    "load_targets",
]

LIKELIHOODS = ("binomial", "beta_binomial", "binomial_uncertain_n", "lower_bound",
               "upper_bound")
"""Likelihoods a target may name (see :mod:`pathways_sim.calibration.likelihood`)."""

ROLES = ("fit", "validate")
"""``fit``: in the objective; ``validate``: held out and only checked afterwards."""

COLUMNS = ("id", "scenario", "cohort", "observable", "window_months", "k", "n", "n_max",
           "likelihood", "role", "source")
"""Columns of a targets table (all required but ``source``)."""

TARGETS = FileKind("targets table", TargetsError, COLUMNS, COLUMNS[:-1], format="CSV")
"""Targets tables (``calibration/targets.csv``), read by :mod:`pathways_sim.scenario.inputs`."""


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


MAX_COUNT = 1_000_000_000
"""Largest ``k``, ``n`` or ``n_max`` (a billion: more people than any service reports on)."""

MAX_WINDOW_MONTHS = 120.0
"""Longest window: ``run.follow_up_weeks`` is at most 520 weeks (120 months)."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_ALLOWED_ID = ("letters, digits, '_', '-' and '.', starting with a letter or digit, at most "
               "100 characters, each id once (ids name columns of the fit's tables)")


def load_targets(path: str | Path, roles: tuple[str, ...] | None = None) -> list[Target]:
    """Read and check a targets table.

    The table is read strictly (:func:`~pathways_sim.scenario.inputs.read_csv_rows`:
    known columns, each once, every row complete, no repeated row) and every
    cell is checked: a unique id, a scenario that exists, a known cohort,
    observable, likelihood and role, a window from 0 to 120 months (blank:
    the whole follow-up), whole counts with ``0 <= k <= n``, ``n >= 1`` and
    ``n_max >= n`` given exactly for ``binomial_uncertain_n`` targets.

    Args:
        path: A CSV with the columns of ``calibration/targets.csv``.
        roles: Keep only these roles (default: all).

    Returns:
        The targets, in file order.

    Raises:
        TargetsError: A missing, empty, binary or malformed file, or any problem
            in a row, naming the file, the line, the column, the problem and
            what is allowed (a ``ScenarioError``: exit 2 from the command line).
    """
    from pathways_sim.scenario.loader import SCENARIO, default_scenarios_dir

    path = Path(path)
    rows = read_csv_rows(path, TARGETS)
    if not rows:
        raise TARGETS.fail(path, None, "no targets (the table has a header and no rows)",
                           "at least one row: a reported count k of n")
    out: list[Target] = []
    first: dict[str, int] = {}
    scenarios = default_scenarios_dir()
    for row in rows:
        c = row.cells

        def key(column: str, row: CsvRow = row) -> str:
            return row.key(column)

        if not _ID.match(c["id"]):
            problem = "is empty" if not c["id"] else f"not a valid id: {clip(c['id'])!r}"
            raise TARGETS.fail(path, key("id"), problem, _ALLOWED_ID)
        if c["id"] in first:
            raise TARGETS.fail(path, key("id"), f"repeated id {c['id']!r} (first at line "
                               f"{first[c['id']]})", _ALLOWED_ID)
        first[c["id"]] = row.line
        if not c["scenario"]:
            raise TARGETS.fail(path, key("scenario"), "is empty",
                               "a scenario name in scenarios/ or a path to a scenario file")
        try:
            locate(c["scenario"], scenarios, SCENARIO)
        except ScenarioError as exc:
            shown = clip(c["scenario"])
            problem = exc.problem if shown in exc.problem else f"{shown!r}: {exc.problem}"
            raise TARGETS.fail(path, key("scenario"), problem, exc.allowed) from None
        one_of(c["cohort"], COHORTS, TARGETS, path, key("cohort"), "cohort")
        one_of(c["observable"], sorted(OBSERVABLES), TARGETS, path, key("observable"),
               "observable")
        one_of(c["likelihood"], LIKELIHOODS, TARGETS, path, key("likelihood"), "likelihood")
        one_of(c["role"], ROLES, TARGETS, path, key("role"), "role")
        window = None if not c["window_months"] else cell_number(
            c["window_months"], TARGETS, path, key("window_months"), low=0.0,
            high=MAX_WINDOW_MONTHS, why="months from referral; blank for the whole follow-up, "
            "which is at most 520 weeks")
        why = "a count of people or goals"
        k = cell_integer(c["k"], TARGETS, path, key("k"), low=0, high=MAX_COUNT, why=why)
        n = cell_integer(c["n"], TARGETS, path, key("n"), low=1, high=MAX_COUNT, why=why)
        if k > n:
            raise TARGETS.fail(path, key("k"), f"k={k} out of n={n}: k is more than n",
                               "0 <= k <= n")
        uncertain = c["likelihood"] == "binomial_uncertain_n"
        n_max = None
        if c["n_max"]:
            if not uncertain:
                raise TARGETS.fail(path, key("n_max"), "n_max is given exactly for "
                                   "binomial_uncertain_n targets, and this one is "
                                   f"{c['likelihood']}", "blank")
            n_max = cell_integer(c["n_max"], TARGETS, path, key("n_max"), low=n,
                                 high=MAX_COUNT, why=why)
        elif uncertain:
            raise TARGETS.fail(path, key("n_max"), "n_max is given exactly for "
                               "binomial_uncertain_n targets, and it is blank",
                               f"a whole number from n ({n}) up: the upper end of n")
        target = Target(c["id"], c["scenario"], c["cohort"], c["observable"], window,
                        k, n, n_max, c["likelihood"], c["role"], c["source"])
        if roles is None or target.role in roles:
            out.append(target)
    return out
