"""Fixed-seed regression: full runs must match the stored baseline (exactly on its CPU kind).

The baseline (``tests/baseline/regression.json``) is refreshed only by an
explicit command, ``make baseline``, when a change of behaviour is intended.
"""

from __future__ import annotations

import pytest

from tests.regression import (
    REFRESH_HINT,
    SCENARIOS,
    SIGNATURE_KEY,
    cpu_signature,
    differences,
    fingerprint,
    load_baseline,
)


@pytest.mark.parametrize("name", SCENARIOS)
def test_fixed_seed_run_matches_the_baseline(name):
    baseline = load_baseline()
    assert name in baseline, f"no baseline for {name}; {REFRESH_HINT}"
    drift = baseline.get(SIGNATURE_KEY) != cpu_signature()
    diff = differences(baseline[name], fingerprint(name), drift=drift)
    where = (f" (baseline made on '{baseline.get(SIGNATURE_KEY)}', this CPU is "
             f"'{cpu_signature()}': small drift allowed)" if drift else "")
    assert not diff, (f"{name} differs from the baseline{where}; {REFRESH_HINT}:\n"
                      + "\n".join(diff))


def test_differences_name_each_changed_entry():
    old = {"events": {"referred": 10, "job_start": 2}, "metrics": {"found_work_24m": 0.1}}
    new = {"events": {"referred": 10, "job_start": 3}, "metrics": {}}
    assert differences(old, new) == ["events.job_start: 2 -> 3",
                                     "metrics.found_work_24m: 0.1 -> (missing)"]
    assert differences(old, old) == []


def test_metrics_allow_only_a_rounding_flip_in_the_last_decimal():
    old = {"metrics": {"a": 8.791204, "b": 0.5}}
    assert differences(old, {"metrics": {"a": 8.791205, "b": 0.5}}) == []
    assert differences(old, {"metrics": {"a": 8.79121, "b": 0.5}}) == [
        "metrics.a: 8.791204 -> 8.79121"]


def test_on_another_cpu_a_small_drift_passes_and_a_change_does_not():
    old = {"events": {"job_start": 85, "declined": 578}, "metrics": {"m": 0.2}, "posts": [30, 40]}
    near = {"events": {"job_start": 86, "declined": 570}, "metrics": {"m": 0.2004},
            "posts": [30, 40]}
    assert differences(old, near, drift=True) == []
    assert differences(old, near) != []
    far = {"events": {"job_start": 85, "declined": 620}, "metrics": {"m": 0.25}, "posts": [30, 50]}
    assert differences(old, far, drift=True) == ["events.declined: 578 -> 620",
                                                 "metrics.m: 0.2 -> 0.25", "posts[1]: 40 -> 50"]
