"""The docs stay true to the code: generated reference current, every parameter sourced."""

from __future__ import annotations

import re
from pathlib import Path

from pathways_sim.scenario.reference import embed
from pathways_sim.scenario.registry import PARAMS

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_in_docs_is_current():
    for name in ("scenarios.md", "odd.md"):  # odd.md: its appendix of every parameter
        doc = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert embed(doc) == doc, f"docs/{name} is stale: run `make docs`"


def test_every_parameter_cites_evidence_or_states_an_assumption():
    cited = re.compile(r"docs/evidence\.md §E|^assumption: \S")  # checked in full: test_evidence
    unsourced = [p.path for p in PARAMS if not cited.search(p.source)]
    assert unsourced == []


def test_readme_gives_the_two_quickstart_commands_and_ci_runs_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_odd_counts_of_calibrated_and_assumed_parameters_are_current():
    """docs/odd.md's "Assumptions awaiting calibration" counts are outputs of the registry."""
    from pathways_sim.scenario.registry import REGISTRY

    text = (ROOT / "docs" / "odd.md").read_text(encoding="utf-8")
    calibrated = sum(1 for p in REGISTRY.values() if p.calibrate)
    assumed = sum(1 for p in REGISTRY.values() if str(p.source).startswith("assumption"))
    said = re.search(r"\((\d+) in all\)\. Until the", text)
    assert said and int(said.group(1)) == calibrated, (said and said.group(0), calibrated)
    said = re.search(r"(\d+) of the (\d+) registry parameters cite `assumption:`", text)
    assert said and (int(said.group(1)), int(said.group(2))) == (assumed, len(REGISTRY)), (
        said and said.group(0), assumed, len(REGISTRY))
    for name, p in REGISTRY.items():  # every calibrated parameter is named (or its family)
        if p.calibrate and not name.startswith("provision."):
            assert f"`{name}`" in text, name
