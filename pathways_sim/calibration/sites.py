"""Sites: each evaluated service's own client mix around a pooled one (partial pooling).

A *site* is an evaluated service (Rotherham's mental-health scheme, Gloucestershire,
Tower Hamlets, Ways to Wellness, the EQOLISE trial) together with the target scenarios
that represent it (a calibration config's ``sites:``). What Link Workers, activities,
stepping stones and job entry do is **shared** by every site: those are the priors of
``calibration/priors.csv``. Who the clients are **varies by site**: the parameters listed
under ``site_parameters:`` (age mix, distance from work at referral, share looking for
work, interest in work) are partially pooled::

    value at site s = clip(base_s + sd * z_s, the parameter's allowed range)

* ``base_s`` is what the evidence says about the site: the site scenario's own value when
  its file (or a base it is built on) sets the parameter (with its source), otherwise the
  pooled value (the calibrated value when the parameter also has a prior in priors.csv, else
  the registry default). A value set on top of the site (a variant's own file, a sweep's
  lever) is kept as it is;
* ``sd`` is the between-site spread, an assumption stated with its basis in the config;
* ``z_s`` is the site's deviation, a calibrated parameter named ``<parameter>@<site>``
  with a standard normal prior truncated to ``[-Z_LIMIT, Z_LIMIT]``.

So every site has its own client mix, pulled towards what its evaluation reports and
towards the others' (a site's data move its ``z`` only as far as they must). A site that
is not in the fit (left out in cross-validation, or a service never evaluated) has no
fitted deviation: :func:`fresh_deviations` draws one from the prior, so predictions for a
new site carry the between-site uncertainty. Scenarios that belong to no site (the
service-model presets, the policy scenarios) use the pooled values.

Typical use::

    sites = config.sites
    site = sites.site_of(scenario)                    # "rotherham" or None
    changes = sites.site_values(scenario, values)     # path -> value at that site
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pathways_sim.calibration.priors import NORMAL, Prior
from pathways_sim.scenario import Scenario

__all__ = ["SEPARATOR", "Z_LIMIT", "SiteParameter", "Sites", "fresh_deviations",
           "is_deviation", "split_deviation"]

SEPARATOR = "@"
"""Between a site parameter's path and the site in a deviation's name."""

Z_LIMIT = 3.0
"""Site deviations are standard normal truncated to [-Z_LIMIT, Z_LIMIT]."""


def is_deviation(name: str) -> bool:
    """Whether a calibrated name is a site deviation (``<parameter>@<site>``)."""
    return SEPARATOR in name


def split_deviation(name: str) -> tuple[str, str]:
    """``(parameter, site)`` of a deviation's name."""
    parameter, site = name.rsplit(SEPARATOR, 1)
    return parameter, site


@dataclass(frozen=True)
class SiteParameter:
    """A client-mix parameter that varies by site.

    Attributes:
        parameter: Registry path (a float parameter).
        sd: Between-site standard deviation, in the parameter's units.
        source: Why it varies by site and why this spread.
    """

    parameter: str
    sd: float
    source: str = ""


@dataclass(frozen=True)
class Sites:
    """The sites of a calibration and the parameters that vary between them.

    Attributes:
        scenarios: Site name -> the scenario names that represent it.
        parameters: The site-varying parameters.
    """

    scenarios: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    parameters: tuple[SiteParameter, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.scenarios) and bool(self.parameters)

    @property
    def names(self) -> list[str]:
        """Site names, in config order."""
        return list(self.scenarios)

    def site_of(self, scenario: Scenario | str) -> str | None:
        """The site a scenario represents: its name, or a scenario it is built on, is listed.

        Args:
            scenario: A scenario, or a scenario name or path.

        Returns:
            The site's name, or None for a scenario of no site.
        """
        if isinstance(scenario, str):
            stems = [Path(scenario).stem]
        else:
            # The scenario itself first, then its bases (a variant of a site is that site).
            stems = [scenario.name] + [Path(f).stem for f in reversed(scenario.chain)]
        for stem in stems:
            for site, names in self.scenarios.items():
                if stem in {Path(n).stem for n in names}:  # a name, or a path to the file
                    return site
        return None

    def deviation(self, parameter: str, site: str) -> str:
        """Name of a site's deviation of a parameter: ``<parameter>@<site>``."""
        return f"{parameter}{SEPARATOR}{site}"

    def deviations(self, sites: Sequence[str]) -> list[str]:
        """Names of the deviations of the given sites (site order, then parameter order)."""
        return [self.deviation(p.parameter, s) for s in sites for p in self.parameters]

    def priors(self, sites: Sequence[str]) -> list[Prior]:
        """The deviations' priors: standard normal on [-Z_LIMIT, Z_LIMIT], default 0."""
        out = []
        for s in sites:
            for p in self.parameters:
                out.append(Prior(
                    self.deviation(p.parameter, s), -Z_LIMIT, Z_LIMIT, NORMAL, 0.0,
                    informed_by=f"the targets of {s}",
                    source=f"site deviation of {p.parameter} in between-site sds "
                           f"(sd {p.sd:g}): {p.source}".strip()))
        return out

    def site_values(self, scenario: Scenario, values: Mapping[str, float],
                    site: str | None = None) -> dict[str, float]:
        """The site-varying parameters' values for a scenario of a site.

        Args:
            scenario: The scenario as its files define it (before calibrated values).
            values: Calibrated values: shared parameters and ``<parameter>@<site>``
                deviations.
            site: The site (default :meth:`site_of` the scenario).

        Returns:
            Path -> value for each site parameter whose deviation is in ``values``
            (empty for a scenario of no site).
        """
        site = self.site_of(scenario) if site is None else site
        if site is None:
            return {}
        own = self._own_files(scenario, site)
        out = {}
        for p in self.parameters:
            z = values.get(self.deviation(p.parameter, site))
            if z is None:
                continue
            setter = scenario.set_by.get(p.parameter, "default")
            if setter == "default":
                base = float(values.get(p.parameter, scenario.values[p.parameter]))
            elif setter in own:
                base = float(scenario.values[p.parameter])  # the site's evidence
            else:
                continue  # set on top of the site (a variant's file, a sweep's lever): kept
            reg = scenario.registry[p.parameter] if scenario.registry else None
            lo = -np.inf if reg is None or reg.low is None else reg.low
            hi = np.inf if reg is None or reg.high is None else reg.high
            out[p.parameter] = float(np.clip(base + p.sd * float(z), lo, hi))
        return out

    def _own_files(self, scenario: Scenario, site: str) -> set[str]:
        """Names of the files that define the site: its scenario's file and that file's bases
        (a value they set is the site's evidence; anything set after them is not)."""
        names = {Path(n).stem for n in self.scenarios[site]}
        stems = [Path(f).stem for f in scenario.chain]
        for i in range(len(stems) - 1, -1, -1):
            if stems[i] in names:
                return set(stems[: i + 1])
        return {scenario.name} if scenario.name in names else set()

    def to_dict(self) -> dict:
        """Plain data (for the manifest and ``calibrated.json``)."""
        return {"scenarios": {k: list(v) for k, v in self.scenarios.items()},
                "parameters": [{"parameter": p.parameter, "sd": p.sd, "source": p.source}
                               for p in self.parameters]}

    @classmethod
    def from_dict(cls, doc: Mapping | None) -> Sites:
        """Inverse of :meth:`to_dict` (an empty ``Sites`` for None)."""
        if not doc:
            return cls()
        return cls({k: tuple(v) for k, v in doc.get("scenarios", {}).items()},
                   tuple(SiteParameter(**p) for p in doc.get("parameters", [])))


def fresh_deviations(sites: Sites, site: str, k: int, seed: int) -> list[dict[str, float]]:
    """``k`` draws of a site's deviations from their prior (a site the fit did not see).

    Args:
        sites: The sites.
        site: The site.
        k: Draws.
        seed: Root seed.

    Returns:
        ``k`` mappings ``<parameter>@<site> -> z``.
    """
    priors = sites.priors([site])
    # Each site its own stream: two unseen sites never share their deviations.
    rng = np.random.default_rng(np.random.SeedSequence(
        seed, spawn_key=(0x517E, zlib.crc32(site.encode()))))
    u = rng.random((k, len(priors)))
    return [{p.parameter: float(p.from_unit(x)) for p, x in zip(priors, row, strict=True)}
            for row in u]
