"""The docs stay true to the code: generated reference current, every parameter sourced."""

from __future__ import annotations

import re
from pathlib import Path

from pathways_sim.scenario.reference import embed
from pathways_sim.scenario.registry import PARAMS

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_in_docs_is_current():
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert embed(doc) == doc, "docs/scenarios.md is stale: run `make docs`"


def test_every_parameter_cites_evidence_or_states_an_assumption():
    cited = re.compile(r"docs/evidence\.md §E|^assumption: \S")  # checked in full: test_evidence
    unsourced = [p.path for p in PARAMS if not cited.search(p.source)]
    assert unsourced == []


def test_readme_gives_the_two_quickstart_commands_and_ci_runs_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE)
