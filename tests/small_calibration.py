"""A small, fast calibration problem for the tests of calibrate's folders, locks and signals.

One scenario (``small.yaml``: the medium service, 39 weeks), one fit target (uptake), one
prior (``service.uptake_base``) and a config whose fit takes a second or two.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

TARGET_HEADER = "id,scenario,cohort,observable,window_months,k,n,n_max,likelihood,role,source\n"
PRIORS_TABLE = ("parameter,low,high,prior,default,informed_by,source\n"
                "service.uptake_base,0.05,0.6,uniform,0.35,uptake,test\n")
"""One prior: the uptake rate, which the uptake targets inform."""


def write_small_scenario(path: Path) -> Path:
    """A small fast service (the medium one, 39 weeks, 2,000 referrals a year) at ``path``."""
    path.write_text(textwrap.dedent("""\
        description: A small fast service for the calibration tests.
        base: medium
        params:
          run: {weeks: 39, cohort_weeks: 13, follow_up_weeks: 26}
          referrals: {per_year: 2000}
        """), encoding="utf-8")
    return path


def write_small_calibration(folder: Path, *, validate_target: bool = False,
                            budget: int = 2) -> Path:
    """Write the problem's scenario, targets, priors and config into ``folder``.

    Args:
        folder: Where to write (must exist).
        validate_target: Also hold out a volunteering target (role ``validate``).
        budget: Optuna trials of the config (batches of 2).

    Returns:
        The config file.
    """
    scenario = write_small_scenario(folder / "small.yaml")
    rows = [f"uptake,{scenario},all,took_up_service,6,320,500,,binomial,fit,test\n"]
    if validate_target:
        rows.append(f"vol,{scenario},all,volunteering,6,20,500,,binomial,validate,test\n")
    (folder / "targets.csv").write_text(TARGET_HEADER + "".join(rows), encoding="utf-8")
    (folder / "priors.csv").write_text(PRIORS_TABLE, encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: small
        targets: targets.csv
        priors: priors.csv
        replicates: 1
        seed: 5
        optuna: {{budget: {budget}, batch: 2, startup_trials: 2}}
        abc: {{population: 4, generations: 2, budget: 60}}
        predictive: {{draws: 2, seed: 9}}
        """), encoding="utf-8")
    return config
