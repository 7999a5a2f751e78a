"""Every source points inside the repository: to a section of docs/evidence.md, or an assumption.

A user of the repository must be able to open what a scenario or a registry default cites, so
a ``source`` either begins with ``assumption`` or cites ``docs/evidence.md §E<n>[.<m>]``, and
every section it names exists on that page (with a stable anchor). Files outside the
repository (the design notes' EVIDENCE.md and MODEL.md, anything under ``shared/``) are never
cited, and neither are scenario descriptions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pathways_sim.scenario import load_scenario
from pathways_sim.scenario.loader import default_scenarios_dir
from pathways_sim.scenario.registry import PARAMS

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = ROOT / "docs" / "evidence.md"
CITES = "docs/evidence.md §E"
SECTION = re.compile(r"§(E\d+(?:\.\d+)?)\b")
BARE_SECTION = re.compile(r"§(?!E\d)")
OUTSIDE = re.compile(r"EVIDENCE(?:\.md| §)|MODEL\.md|shared/|\.\./evidence|ARCHITECTURE\.md")
HEADING = re.compile(r"^#{2,3} (E\d+(?:\.\d+)?)\.? \S", re.MULTILINE)
SCENARIOS = sorted(p.stem for p in default_scenarios_dir().glob("*.yaml"))


def evidence_sections() -> dict[str, str]:
    """Section id (``E2.1``) -> its anchor (``e2-1``), for every numbered heading of the page."""
    text = EVIDENCE.read_text(encoding="utf-8")
    sections = {}
    for match in HEADING.finditer(text):
        sid = match.group(1)
        anchor = sid.lower().replace(".", "-")
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        assert before == f'<a id="{anchor}"></a>', f"{sid}: no stable anchor {anchor!r} above it"
        assert sid not in sections, f"{sid} numbered twice"
        sections[sid] = anchor
    return sections


SECTIONS = evidence_sections()


def problems(source: str) -> list[str]:
    """What is wrong with one source string (empty when it is sound)."""
    found = []
    if OUTSIDE.search(source):
        found.append("cites a file outside the repository")
    if BARE_SECTION.search(source):
        found.append("names a section that is not a docs/evidence.md section (§E<n>)")
    missing = [s for s in SECTION.findall(source) if s not in SECTIONS]
    if missing:
        found.append(f"cites sections not in docs/evidence.md: {missing}")
    if not (source.startswith("assumption") or CITES in source):
        found.append("neither starts with 'assumption' nor cites docs/evidence.md §E...")
    if source.startswith("assumption") and not re.match(r"assumption: \S", source):
        found.append("an assumption needs a reason: 'assumption: <reason>'")
    return found


def test_the_evidence_page_numbers_its_sections_with_stable_anchors() -> None:
    assert len(SECTIONS) >= 40
    # The figures the model leans on most are there, under their numbers.
    text = EVIDENCE.read_text(encoding="utf-8")
    for figure in ("3/156", "24/156", "14/156", "136/156", "85 of 156", "75 were about",
                   "200–250", "about 160 clients in 2016/17", "four-weekly", "≈18 months"):
        assert figure in text, figure


def test_the_checker_rejects_what_a_user_could_not_open() -> None:
    assert problems("docs/evidence.md §E2.1: caseload 200-250 a year") == []
    assert problems("assumption: a mid-sized service (docs/evidence.md §E2.4)") == []
    assert problems("EVIDENCE §2: NHS England guide")
    assert problems("MODEL.md §4: co-located in GP practices")
    assert problems("docs/evidence.md §E9.9: a section that does not exist")
    assert problems("docs/evidence.md §E2.1, §3: half-converted")
    assert problems("Work Foundation 2019: uncited")
    assert problems("assumption:")


def test_every_registry_source_points_inside_the_repository() -> None:
    bad = {p.path: problems(p.source) for p in PARAMS if problems(p.source)}
    assert bad == {}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_source_points_inside_the_repository(name: str) -> None:
    sc = load_scenario(name)
    own = [path for path, setter in sc.set_by.items() if setter == name]
    bad = {}
    for path in own:
        source = sc.sources[path] or ""
        if "set without a source; registry:" in source:
            continue  # a plain value: the registry's source (checked above) stands
        if problems(source):
            bad[path] = problems(source)
    assert bad == {}
    described = [p for p in problems(sc.description) if "neither starts" not in p]
    assert described == [], f"{name}: description {described}"
