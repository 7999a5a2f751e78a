"""Fixed-seed regression: full runs must match the stored baseline exactly.

The baseline (``tests/baseline/regression.json``) is refreshed only by an
explicit command, ``make baseline``, when a change of behaviour is intended.
"""

from __future__ import annotations

import pytest

from tests.regression import REFRESH_HINT, SCENARIOS, differences, fingerprint, load_baseline


@pytest.mark.parametrize("name", SCENARIOS)
def test_fixed_seed_run_matches_the_baseline(name):
    baseline = load_baseline()
    assert name in baseline, f"no baseline for {name}; {REFRESH_HINT}"
    diff = differences(baseline[name], fingerprint(name))
    assert not diff, f"{name} differs from the baseline; {REFRESH_HINT}:\n" + "\n".join(diff)


def test_differences_name_each_changed_entry():
    old = {"events": {"referred": 10, "job_start": 2}, "metrics": {"found_work_24m": 0.1}}
    new = {"events": {"referred": 10, "job_start": 3}, "metrics": {}}
    assert differences(old, new) == ["events.job_start: 2 -> 3",
                                     "metrics.found_work_24m: 0.1 -> (missing)"]
    assert differences(old, old) == []
