"""Scenario files: declared parameters, validated loading, composition and diffs.

Typical use::

    from pathways_sim.scenario import load_scenario

    sc = load_scenario("medium")
    sc.ns.link_workers.caseload
    sc.with_changes({"link_workers.caseload": 40}, name="medium-cl40")
"""

from pathways_sim.scenario.errors import CalibrationConfigError, ExperimentError, ScenarioError
from pathways_sim.scenario.loader import default_scenario, list_scenarios, load_scenario
from pathways_sim.scenario.scenario import Scenario, diff_scenarios

__all__ = [
    "CalibrationConfigError",
    "ExperimentError",
    "Scenario",
    "ScenarioError",
    "default_scenario",
    "diff_scenarios",
    "list_scenarios",
    "load_scenario",
]
