"""Fixed-seed regression baseline: a compact fingerprint of a few full runs.

A fingerprint holds, for one scenario run with :data:`SEED`, the count of
every event type in the log, key outcome metrics rounded to 6 decimals, and
the funder's Link Worker posts after each funding period. Any change to the
model's behaviour changes it; ``tests/test_regression.py`` compares the
current fingerprints with the stored ones exactly.

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
                              cohort_weeks=p.run.cohort_weeks,
                              cost_per_session=p.funding.cost_per_session,
                              cost_per_place_week=p.funding.cost_per_place_week)
    counts = log["event"].value_counts()
    return {
        "events": {e.name.lower(): int(counts.get(int(e), 0)) for e in Ev},
        "metrics": {k: _number(metrics[k]) for k in KEY_METRICS},
        "link_worker_posts": [row["link_workers_after"] for row in m.funder.ledger],
    }


def fingerprints() -> dict[str, dict[str, Any]]:
    """Fingerprints of every scenario in :data:`SCENARIOS`."""
    return {name: fingerprint(name) for name in SCENARIOS}


def load_baseline() -> dict[str, dict[str, Any]]:
    """The stored baseline."""
    return json.loads(BASELINE.read_text(encoding="utf-8"))


def write_baseline(data: dict[str, dict[str, Any]]) -> None:
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    BASELINE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def differences(expected: dict[str, Any], actual: dict[str, Any], path: str = "") -> list[str]:
    """Lines naming every entry where two fingerprints differ (``path: expected -> actual``)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(f"{sub}: {expected[key]!r} -> (missing)")
            elif key not in expected:
                out.append(f"{sub}: (missing) -> {actual[key]!r}")
            else:
                out += differences(expected[key], actual[key], sub)
        return out
    return [] if expected == actual else [f"{path}: {expected!r} -> {actual!r}"]


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
    diff = differences(load_baseline(), current)
    if diff:
        print("\n".join(diff), file=sys.stderr)
        print(f"{len(diff)} difference(s) from the baseline; {REFRESH_HINT}", file=sys.stderr)
        return 1
    print("matches the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
