"""Fixed-seed regression baseline: a compact fingerprint of a few full runs.

A fingerprint holds, for one scenario run with :data:`SEED`, the count of
every event type in the log, key outcome metrics rounded to 6 decimals, and
the funder's Link Worker posts after each funding period. Any change to the
model's behaviour changes it; ``tests/test_regression.py`` compares the
current fingerprints with the stored ones.

**Across CPUs.** numpy picks its vectorised float kernels (and OpenBLAS its
matrix kernels) by the CPU's instruction sets, so on a CPU with other SIMD
features a float32 sum or ``exp`` can differ in the last bit, a threshold
comparison can flip, and a run drifts a little from the baseline. The
baseline records the CPU signature it was made on (:func:`cpu_signature`):
on the same signature the comparison is exact (metrics to the 6th decimal,
within two units of it); on another it allows a small drift
(:data:`DRIFT_REL` of each count or metric), enough to catch a change of
behaviour, not the CPU's last bits.

When a change is intended, refresh the stored baseline explicitly::

    make baseline            # runs: python -m tests.regression --refresh

``python -m tests.regression`` alone compares and lists the differences.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import compute_metrics
from pathways_sim.scenario import load_scenario

SCENARIOS = ("medium", "holistic", "pbr_job_outcomes")
SEED = 12345
BASELINE = Path(__file__).parent / "baseline" / "regression.json"
REFRESH_HINT = "run `make baseline` if the change is intended"
DRIFT_REL = 0.03
"""Relative drift allowed on a CPU with another signature than the baseline's."""
DRIFT_ABS = 5
"""... and absolute drift in event counts (small counts move by a few events)."""
SIGNATURE_KEY = "_cpu_signature"

KEY_METRICS = (
    "cohort_size", "referrals_total", "rejected_share", "engaged", "wait_weeks_median",
    "took_up_service", "disengaged_12m", "discharged_12m", "work_goal_12m",
    "stepping_stone_12m", "stepping_stone_24m", "direct_support_12m", "found_work_6m",
    "found_work_12m", "found_work_24m", "sustained_work_13w_24m", "sustained_work_52w_24m",
    "distance_change_12m", "wellbeing_change_12m", "support_ratio_near_far",
    "sessions_24m", "place_weeks_24m", "pbr_payments_total",
)


def _number(x: float) -> float | None:
    """Rounded to 6 decimals; None for NaN (JSON has no NaN)."""
    return None if math.isnan(x) else round(float(x), 6)


def fingerprint(name: str, seed: int = SEED) -> dict[str, Any]:
    """The fingerprint of one full run of scenario ``name`` with ``seed``."""
    m = PathwaysModel(load_scenario(name), seed=seed)
    m.run()
    log, p = m.log.frame(), m.p
    metrics = compute_metrics(log, m.client_attributes(), run_weeks=p.run.weeks,
                              follow_up_weeks=p.run.follow_up_weeks,
                              cohort_weeks=p.run.cohort_weeks)
    counts = log["event"].value_counts()
    return {
        "events": {e.name.lower(): int(counts.get(int(e), 0)) for e in Ev},
        "metrics": {k: _number(metrics[k]) for k in KEY_METRICS},
        "link_worker_posts": [row["link_workers_after"] for row in m.funder.ledger],
    }


def cpu_signature() -> str:
    """The machine and the SIMD features numpy dispatches on (e.g. ``x86_64 AVX2 AVX512F``)."""
    import platform

    import numpy as np

    try:
        features = np._core._multiarray_umath.__cpu_features__
    except AttributeError:  # pragma: no cover - another numpy layout
        features = {}
    simd = sorted(k for k, on in features.items() if on and k.startswith(("AVX", "FMA", "SVE")))
    return " ".join([platform.machine(), *simd])


def fingerprints() -> dict[str, Any]:
    """Fingerprints of every scenario in :data:`SCENARIOS`, with :func:`cpu_signature`."""
    return {SIGNATURE_KEY: cpu_signature()} | {name: fingerprint(name) for name in SCENARIOS}


def load_baseline() -> dict[str, dict[str, Any]]:
    """The stored baseline."""
    return json.loads(BASELINE.read_text(encoding="utf-8"))


def write_baseline(data: dict[str, dict[str, Any]]) -> None:
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    BASELINE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def differences(expected: dict[str, Any], actual: dict[str, Any], path: str = "",
                drift: bool = False) -> list[str]:
    """Lines naming every entry where two fingerprints differ (``path: expected -> actual``).

    ``drift``: allow :data:`DRIFT_REL` (and :data:`DRIFT_ABS` events), for a baseline made on
    a CPU with another signature.
    """
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [line for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for line in differences(e, a, f"{path}[{i}]", drift)]
    if drift and isinstance(expected, int | float) and isinstance(actual, int | float):
        tol = max(DRIFT_REL * abs(expected), DRIFT_ABS if isinstance(expected, int) else 1e-3)
        same = abs(expected - actual) <= tol
        return [] if same else [f"{path}: {expected!r} -> {actual!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(f"{sub}: {expected[key]!r} -> (missing)")
            elif key not in expected:
                out.append(f"{sub}: (missing) -> {actual[key]!r}")
            else:
                out += differences(expected[key], actual[key], sub, drift)
        return out
    if isinstance(expected, float) and isinstance(actual, float):
        # Floats are stored rounded to 6 decimals; a sum of float32 values can land on either
        # side of a rounding boundary on another CPU (numpy picks SIMD kernels by CPU), so
        # allow two units of the last stored decimal. Event counts stay exact.
        same = math.isclose(expected, actual, rel_tol=0.0, abs_tol=2e-6)
    else:
        same = expected == actual
    return [] if same else [f"{path}: {expected!r} -> {actual!r}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.regression", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh", action="store_true",
                        help="rewrite tests/baseline/regression.json from the current model")
    args = parser.parse_args(argv)
    current = fingerprints()
    if args.refresh:
        write_baseline(current)
        print(f"wrote {BASELINE} ({', '.join(SCENARIOS)}; seed {SEED})")
        return 0
    if not BASELINE.exists():
        print(f"no baseline at {BASELINE}: run `make baseline`", file=sys.stderr)
        return 1
    baseline = load_baseline()
    drift = baseline.get(SIGNATURE_KEY) != current[SIGNATURE_KEY]
    diff = differences({k: v for k, v in baseline.items() if k != SIGNATURE_KEY},
                       {k: v for k, v in current.items() if k != SIGNATURE_KEY}, drift=drift)
    if diff:
        print("\n".join(diff), file=sys.stderr)
        print(f"{len(diff)} difference(s) from the baseline; {REFRESH_HINT}", file=sys.stderr)
        return 1
    print("matches the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
