"""The model's structure: one step order, processes owning their parameters and streams,
agents whose attributes are their rows of the process arrays (one copy of the state)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import pathways_sim.model.model as model_module
from pathways_sim.model.clients import SUPPORTED
from pathways_sim.model.events import Ev
from pathways_sim.model.model import PHASES, PathwaysModel
from pathways_sim.model.process import Process
from tests.helpers import run_model, scenario, step

ODD = Path(__file__).resolve().parents[1] / "docs" / "odd.md"
SHORT = {"run.scale": 0.5, "service.decline_at_contact": 0.0, "link_workers.count": 4}


def test_the_docstring_and_odd_md_list_the_phases_in_the_order_step_runs_them():
    names = [name for name, _, _ in PHASES]
    doc = re.findall(r"^\d+\. ``(\w+)``", model_module.__doc__, flags=re.M)
    assert doc == names
    text = ODD.read_text(encoding="utf-8")
    block = text.split("<!-- phases:", 1)[1].split("<!-- /phases -->", 1)[0]
    listed = re.findall(r"^\d+\. `(\w+)` — `(\w+)\.(\w+)\.(\w+)`", block, flags=re.M)
    assert [row[0] for row in listed] == names
    m = PathwaysModel(scenario("medium", {"run.weeks": 2}))
    for (name, proc, method), (_, module, cls, meth) in zip(PHASES, listed, strict=True):
        process = getattr(m, proc)
        assert type(process).__module__ == f"pathways_sim.model.{module}", name
        assert (type(process).__name__, method) == (cls, meth), name


def test_step_runs_exactly_the_phases_in_order(monkeypatch):
    m = PathwaysModel(scenario("medium", {"run.weeks": 3}))
    ran = []
    for name, proc, method in PHASES:
        original = getattr(getattr(m, proc), method)
        monkeypatch.setattr(getattr(m, proc), method,
                            lambda t, f=original, n=name: (ran.append(n), f(t)))
    m._phases = tuple(getattr(getattr(m, proc), method) for _, proc, method in PHASES)
    m.step()
    assert ran == [name for name, _, _ in PHASES]


def test_no_two_processes_share_a_random_stream_and_undeclared_streams_are_refused():
    m = PathwaysModel(scenario("medium", {"run.weeks": 2}))
    owners: dict[str, str] = {}
    assert {proc for _, proc, _ in PHASES} <= set(m.processes)
    for name, proc in m.processes.items():
        assert isinstance(proc, Process), name
        for stream in proc.STREAMS:
            assert stream not in owners, (stream, owners.get(stream), name)
            owners[stream] = name
    with pytest.raises(KeyError, match="undeclared stream 'job.entry'"):
        m.exits.draw("job.entry", 0, np.arange(3))


def test_parameters_are_read_only_and_a_process_sees_only_its_sections():
    m = PathwaysModel(scenario("medium", {"run.weeks": 2}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.p.link_workers.caseload = 1
    with pytest.raises(AttributeError, match="read-only"):
        m.p.jobs = None
    assert type(m.p.link_workers.caseload) is int
    assert type(m.p.jobs.base_per_week) is float
    with pytest.raises(AttributeError, match="no parameter section 'funding'"):
        _ = m.jobs.p.funding
    assert m.jobs.p.jobs is m.p.jobs


def test_setting_a_link_workers_caseload_takes_effect_at_the_next_triage():
    # Two Link Workers, a long waiting list; nobody leaves (turnover would renumber a post).
    m = run_model("medium", {**SHORT, "link_workers.turnover_per_year": 0.0}, weeks=26)
    s = m.clients
    assert m.stage_counts()["waiting"] > 100
    lw0, lw1 = m.link_workers[0], m.link_workers[1]
    load = np.bincount(s.lw[np.flatnonzero(s.status[: s.n] == SUPPORTED)], minlength=2)
    lw0.caseload = int(load[0]) + 25  # 25 free places at once
    lw1.caseload = 5  # full: takes no one
    assert m.link_work.caseload[0] == load[0] + 25 and lw1.caseload == 5
    wk = step(m)
    assigned = wk.log[wk.log["event"] == Ev.ASSIGNED]["value"].to_numpy()
    assert (assigned == 0).sum() == 25
    assert (assigned == 1).sum() == 0


def test_a_providers_places_and_a_link_workers_training_live_in_one_place():
    m = run_model("medium", {"run.scale": 0.5}, weeks=4)
    pr = m.providers[2]
    pr.places += 3
    assert m.provision.places[2] == pr.places
    lw = m.link_workers[0]
    lw.train(0.9, 4)
    assert (m.link_work.work_awareness[0], m.link_work.iag_level[0]) == (0.9, 4)
    assert lw.referral_propensity() == pytest.approx((0.25 + 0.9) * 2.0)
    lw.active = False
    assert m.active_link_workers == len(m.link_workers) - 1


#: The only numbers the model's modules may hold: identities, sentinels, array sizes, units and
#: measurement definitions (the sustainment milestones, the 26-week reading, the wellbeing
#: scale; docs/odd.md lists them). Every behavioural number, the activity profiles and the
#: distance weights included, is a registry parameter, read through a process's ``self.p``.
_EVERYWHERE = {0, 1, -1}  # (0.0 and 1.0 are equal to 0 and 1 in a set)
ALLOWED_CONSTANTS: dict[str, set[float]] = {
    # Events a kernel may log per client in a week (room reserved in the event log): 2 to 4.
    "link_worker": {8, 52.0, 12.0, 2, 0.01, 4},  # draws per Link Worker, weeks/month, rank,
    # floor, events per client
    "provider": {4},  # events per client
    # Status and employment codes, the NO_WEEK sentinel (-10**6), the wellbeing scale's
    # definition (WEMWBS-like 14 + 56 x ...: 14-70) and the initial capacity.
    "clients": {2, 3, 6, 10, 14.0, 56.0, 1024},
    "dynamics": {0.01, 2},  # barrier floor, events per client
    "jobs": {13, 26, 52, 2},  # sustainment milestones (events and prices are named by
    # them), events per client
    "exits": {4},  # events per client
    "funder": {52.0, 0.5, 2, 64},  # weeks a year, band midpoints, (near, far), cache size
    "jobcentre": {3, 4},  # number of work-support codes (+1 for "none")
    "followup": {26},  # the Wellbeing Star reading interval (outcomes are read at it)
    "model": {2, 3, 4, 5, 6, 7, 26, 52, 1024, 4096, 1.1, 40},  # lanes, sizes, weeks/year
    "process": set(),
    "params": set(),
    # Draw columns and codes, barrier bounds, weeks a year, 3+ conditions, working age from 18.
    "referral": {2, 3, 4, 5, 6, 7, 8, 15, 16, 52.0, 1e-09, 0.01, 0.99, 18.0},
}


@pytest.mark.parametrize("module", sorted(ALLOWED_CONSTANTS))
def test_no_model_module_holds_a_bare_behavioural_constant(module):
    import ast

    path = Path(__file__).resolve().parents[1] / "pathways_sim" / "model" / f"{module}.py"
    found = {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and type(node.value) in (int, float)}
    bare = found - _EVERYWHERE - ALLOWED_CONSTANTS[module]
    assert not bare, (f"{module}.py holds {sorted(bare)}: make each a registry parameter "
                      "(pathways_sim/scenario/registry.py) or, if structural, allow it here")


def test_every_model_module_is_checked_for_constants():
    folder = Path(__file__).resolve().parents[1] / "pathways_sim" / "model"
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "events", "rng",
                                                "kernels"}  # hash constants
    assert modules == set(ALLOWED_CONSTANTS)


def test_activity_profiles_and_distance_weights_are_registry_parameters_the_model_reads():
    from pathways_sim.model.clients import DOMAINS
    from pathways_sim.scenario.registry import ACTIVITIES, REGISTRY

    # Every profile parameter names a real activity and barrier domain (a misspelt one
    # would be silently ignored), and every domain has a distance weight.
    cells = {f"provision.profile_{a}_{d}" for a in ACTIVITIES for d in DOMAINS}
    profiles = {k for k in REGISTRY if k.startswith("provision.profile_")}
    assert profiles and profiles <= cells
    assert {k for k in REGISTRY if k.startswith("clients.distance_weight_")} == {
        f"clients.distance_weight_{d}" for d in DOMAINS}
    # The model's profile matrix and distance weights follow the parameters.
    changes = {"provision.profile_training_skills": 0.25, "clients.distance_weight_mental": 3.0}
    m = PathwaysModel(scenario("medium", {"run.weeks": 2, **changes}))
    a, d = ACTIVITIES.index("training"), DOMAINS.index("skills")
    assert m.provision.profile[a, d] == np.float32(0.25)
    assert m.provision.profile[a, DOMAINS.index("physical")] == 0.0
    w = m.referral.distance_weights
    assert w.sum() == pytest.approx(1.0)
    assert w[DOMAINS.index("mental")] == pytest.approx(2 * w[DOMAINS.index("work_experience")])
    s = m.clients
    np.testing.assert_allclose(s.B0[:s.n] @ w, s.dist0[:s.n], atol=1e-6)
