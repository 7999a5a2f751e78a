"""A calibrated parameter set on disk: point, posterior draws, history and manifest.

``calibrate`` writes a results folder, ``calibration/results/<name>/``::

    calibrated.json          the point estimate, priors and posterior summary (read this)
    posterior_draws.csv      posterior draws: draw, weight, one column per parameter
    posterior_draws.parquet  the same, typed
    history.csv              Optuna trials or ABC particles of every generation
    diagnostics.json         convergence: ESS, acceptance rates, tolerance schedule, timings
    fit.csv                  each target: observed (exact 90% interval) and simulated (90% PPI)
    predictive.parquet       simulated share of each target for each posterior draw
    manifest.json            targets and priors hashes, config, seeds, versions, git SHA, checksums
    report.html, report.md   the calibration report (figures embedded / in figures/)

``calibrated.json`` carries ``format_version`` and a ``version`` string
(``<name>-<UTC time>-<first 8 hex of the fit's fingerprint>``), so a scenario
run can say exactly which calibration it used.

Typical use::

    from pathways_sim.calibration.results import load_calibrated
    from pathways_sim.scenario import load_scenario

    cal = load_calibrated("calibration/results/default")
    sc = cal.apply(load_scenario("medium"))            # the point estimate
    sc3 = cal.apply(load_scenario("medium"), draw=3)   # posterior draw 3
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pathways_sim.calibration.objective import CALIBRATED, apply_values
from pathways_sim.calibration.priors import Prior
from pathways_sim.calibration.sites import Sites
from pathways_sim.integrity import read_json
from pathways_sim.scenario import Scenario, ScenarioError

__all__ = ["FORMAT_VERSION", "CalibrationResult", "load_calibrated", "weighted_quantile"]

FORMAT_VERSION = 1
"""Version of the results folder's layout."""

POINT_FILE = "calibrated.json"
DRAWS_CSV = "posterior_draws.csv"
DRAWS_PARQUET = "posterior_draws.parquet"
HISTORY = "history.csv"
DIAGNOSTICS = "diagnostics.json"
FIT = "fit.csv"
PREDICTIVE = "predictive.parquet"

DRAW_STREAM = 0xCA1D_4A3
"""Second word of the seed of a replicate's posterior draw: a stream of its own, so the
draw shares no random numbers with the replicate's simulation (which uses the seed alone)."""


def weighted_quantile(x: np.ndarray, q: float | np.ndarray, w: np.ndarray | None = None) -> Any:
    """Quantile(s) of weighted values (the weights need not sum to 1)."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if len(x) == 0:
        return np.full(np.shape(q), np.nan) if np.ndim(q) else math.nan
    order = np.argsort(x)
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, x)


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


@dataclass
class CalibrationResult:
    """A calibrated parameter set: point estimate and posterior draws.

    Attributes:
        name: The configuration's name.
        method: ``optuna`` (a point; the draws are the point alone) or ``abc``.
        priors: The priors of the calibrated parameters.
        point: Parameter path -> point estimate (Optuna's best trial; ABC's
            weighted posterior median).
        draws: Posterior draws: ``draw``, ``weight`` and one column per parameter.
        history: Optuna trials or ABC particles of every generation.
        diagnostics: Method-specific convergence diagnostics (JSON-serialisable).
        config: The configuration as plain data.
        fingerprint: The fit's fingerprint (targets, priors, seeds, replicates).
        created: UTC time of the fit (ISO 8601).
        point_nll: Negative log-likelihood of the point (with the fit's seeds).
        fit: Per-target fit table (after the posterior predictive), or None.
        predictive: Simulated share per posterior predictive draw and target, or None.
        path: The folder it was loaded from or saved to.
    """

    name: str
    method: str
    priors: tuple[Prior, ...]
    point: dict[str, float]
    draws: pd.DataFrame
    history: pd.DataFrame
    diagnostics: dict[str, Any]
    config: dict[str, Any]
    fingerprint: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    point_nll: float = math.nan
    fit: pd.DataFrame | None = None
    predictive: pd.DataFrame | None = None
    path: Path | None = None

    @property
    def version(self) -> str:
        """``<name>-<UTC time>-<fingerprint[:8]>``: which calibration this is."""
        stamp = self.created.replace(":", "").replace("-", "").replace("+0000", "Z")
        return f"{self.name}-{stamp}-{self.fingerprint[:8]}"

    @property
    def parameters(self) -> list[str]:
        """The calibrated parameter paths."""
        return [p.parameter for p in self.priors]

    def weights(self) -> np.ndarray:
        """Normalised weights of the draws."""
        w = self.draws["weight"].to_numpy(dtype=float)
        return w / w.sum()

    def draw_values(self, i: int) -> dict[str, float]:
        """Parameter set of posterior draw ``i`` (row ``i`` of :attr:`draws`)."""
        row = self.draws.iloc[int(i) % len(self.draws)]
        return {p: float(row[p]) for p in self.parameters}

    def sample_indices(self, k: int, seed: int) -> np.ndarray:
        """Row numbers of ``k`` draws resampled by weight (systematic resampling)."""
        w = self.weights()
        rng = np.random.default_rng(seed)
        positions = (rng.random() + np.arange(k)) / k
        idx = np.minimum(np.searchsorted(np.cumsum(w), positions), len(w) - 1)
        rng.shuffle(idx)
        return idx

    def sample(self, k: int, seed: int) -> list[dict[str, float]]:
        """``k`` parameter sets resampled from the draws by weight (systematic resampling)."""
        return [self.draw_values(i) for i in self.sample_indices(k, seed)]

    def replicate_draw(self, seed: int) -> int:
        """The posterior draw (a row of :attr:`draws`) that a replicate with ``seed`` runs.

        Picked by weight with ``np.random.default_rng([seed, DRAW_STREAM])``: it
        depends on the replicate's seed alone, so the same seed gets the same
        draw in any executor and in any order, and every design point of a sweep
        (whose replicate ``r`` has the same seed at every point) runs replicate
        ``r`` with the same parameter set: common random numbers extend to the
        parameters.

        Args:
            seed: The replicate's seed (non-negative).

        Returns:
            The row number of the draw.
        """
        u = np.random.default_rng([int(seed), DRAW_STREAM]).random()
        cdf = np.cumsum(self.weights())
        return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1))

    def replicate_draws(self, seeds: Sequence[int]) -> list[int]:
        """:meth:`replicate_draw` of each seed."""
        return [self.replicate_draw(s) for s in seeds]

    def record(self, draws: Sequence[int] | None = None) -> dict[str, Any]:
        """What a manifest says about this calibration (and the draws each replicate ran).

        Args:
            draws: The draw of each replicate, in replicate order; None when the
                runs used the posterior point.

        Returns:
            ``{"version", "path", "method", "n_draws", "used"}`` plus
            ``"replicate_draws"`` when draws are given.
        """
        out: dict[str, Any] = {
            "version": self.version, "path": None if self.path is None else str(self.path),
            "method": self.method, "n_draws": len(self.draws),
            "used": "posterior point" if draws is None else "one posterior draw per replicate",
        }
        if draws is not None:
            out["replicate_draws"] = [int(d) for d in draws]
        return out

    def apply(self, scenario: Scenario, draw: int | None = None) -> Scenario:
        """The scenario with calibrated values where no scenario file set the parameter.

        Args:
            scenario: Any scenario.
            draw: A posterior draw's row number; None for the point estimate.

        A scenario of one of the fit's sites (:mod:`pathways_sim.calibration.sites`)
        also gets that site's client mix (its fitted deviations).

        Returns:
            The scenario, its calibrated parameters' source naming this calibration.
        """
        values = self.point if draw is None else self.draw_values(draw)
        return apply_values(scenario, values, source=f"{CALIBRATED}: {self.version}",
                            sites=self.sites)

    @property
    def sites(self) -> Sites:
        """The fit's sites: a scenario of a site gets that site's client mix."""
        return Sites.from_dict(self.config.get("sites"))

    def summary(self) -> pd.DataFrame:
        """One row per parameter: prior, default, point, posterior median and 90% interval."""
        w = self.weights()
        rows = []
        for p in self.priors:
            x = self.draws[p.parameter].to_numpy(dtype=float)
            med, lo, hi = weighted_quantile(x, [0.5, 0.05, 0.95], w)
            rows.append({"parameter": p.parameter, "prior": p.prior, "low": p.low,
                         "high": p.high, "default": p.default,
                         "point": self.point[p.parameter], "median": float(med),
                         "lo90": float(lo), "hi90": float(hi)})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ files

    def save(self, out: Path) -> list[Path]:
        """Write the results folder's data files (not the report or manifest).

        Returns:
            The files written.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        summary = self.summary()
        doc = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "method": self.method,
            "created_utc": self.created,
            "fingerprint": self.fingerprint,
            "point": self.point,
            "point_nll": self.point_nll,
            "n_draws": len(self.draws),
            "parameters": summary.to_dict("records"),
            "priors": [p.to_dict() for p in self.priors],
            "usage": "pathways-sim run SCENARIO --calibration <this folder> ...; "
                     "CalibrationResult.apply(scenario) in Python",
        }
        files = [out / POINT_FILE, out / DRAWS_CSV, out / DRAWS_PARQUET, out / HISTORY,
                 out / DIAGNOSTICS]
        files[0].write_text(json.dumps(_clean(doc), indent=2) + "\n", encoding="utf-8")
        self.draws.to_csv(files[1], index=False)
        self.draws.to_parquet(files[2], index=False)
        self.history.to_csv(files[3], index=False)
        files[4].write_text(json.dumps(_clean(self.diagnostics), indent=2) + "\n",
                            encoding="utf-8")
        (out / "config.json").write_text(json.dumps(_clean(self.config), indent=2) + "\n",
                                         encoding="utf-8")
        files.append(out / "config.json")
        if self.fit is not None:
            self.fit.to_csv(out / FIT, index=False)
            files.append(out / FIT)
        if self.predictive is not None:
            self.predictive.to_parquet(out / PREDICTIVE, index=False)
            files.append(out / PREDICTIVE)
        self.path = out
        return files


def load_calibrated(path: str | Path) -> CalibrationResult:
    """Read a results folder written by ``calibrate``.

    Args:
        path: The folder, or its ``calibrated.json``.

    Returns:
        The calibration result.

    Raises:
        ScenarioError: No such folder or file, or an unknown format version.
    """
    path = Path(path)
    folder = path.parent if path.name == POINT_FILE else path
    point_file = folder / POINT_FILE
    if not point_file.is_file():
        raise ScenarioError(str(path), None, "not a calibration results folder (no "
                            f"{POINT_FILE})", "a folder written by 'pathways-sim calibrate', "
                            "e.g. calibration/results/default")
    fix = ("calibrate again (pathways-sim calibrate CONFIG --out FOLDER --overwrite), or a "
           "copy of this folder from a backup")
    doc = read_json(point_file, fix)
    if doc.get("format_version") != FORMAT_VERSION:
        raise ScenarioError(str(point_file), "format_version",
                            f"unknown format {doc.get('format_version')!r}",
                            str(FORMAT_VERSION))
    try:
        priors = tuple(Prior(**p) for p in doc["priors"])
        name, method, fingerprint, created = (doc["name"], doc["method"], doc["fingerprint"],
                                              doc["created_utc"])
        point = {k: float(v) for k, v in doc["point"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        key = str(exc.args[0]) if isinstance(exc, KeyError) else None
        raise ScenarioError(str(point_file), key, "is damaged (a key is missing or has the "
                            "wrong type)", fix) from None
    draws_file = folder / DRAWS_PARQUET
    draws = (pd.read_parquet(draws_file) if draws_file.is_file()
             else pd.read_csv(folder / DRAWS_CSV))
    history = pd.read_csv(folder / HISTORY) if (folder / HISTORY).is_file() else pd.DataFrame()
    diagnostics = read_json(folder / DIAGNOSTICS, fix) if (folder / DIAGNOSTICS).is_file() else {}
    config = (read_json(folder / "config.json", fix) if (folder / "config.json").is_file()
              else {})
    fit = pd.read_csv(folder / FIT) if (folder / FIT).is_file() else None
    pred = pd.read_parquet(folder / PREDICTIVE) if (folder / PREDICTIVE).is_file() else None
    nll = doc.get("point_nll")
    return CalibrationResult(
        name=name, method=method, priors=priors, point=point, draws=draws, history=history,
        diagnostics=diagnostics, config=config, fingerprint=fingerprint,
        created=created, point_nll=math.nan if nll is None or isinstance(nll, str)
        else float(nll),
        fit=fit, predictive=pred, path=folder,
    )
