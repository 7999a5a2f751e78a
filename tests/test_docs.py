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


def _shipped_summary() -> dict[str, int]:
    """The shipped fit's headline figures, read from its results folder."""
    import json

    folder = ROOT / "calibration" / "results" / "default"
    val = json.loads((folder / "validation.json").read_text(encoding="utf-8"))["summary"]
    loso = json.loads((folder / "loso" / "loso_summary.json").read_text(encoding="utf-8"))
    diag = json.loads((folder / "diagnostics.json").read_text(encoding="utf-8"))
    return {"fit": val["fit_targets_covered"], "fit_of": val["fit_targets"],
            "held": val["validate_targets_covered"], "held_of": val["validate_targets"],
            "patterns_point": val["patterns_passed"], "patterns": val["patterns"],
            "draws": val["pattern_draws"], "patterns_draws": val["patterns_in_90pct_of_draws"],
            "replicates": val["pattern_replicates"], "base": val["experiment_replicates"],
            "base_draws": val["patterns_in_90pct_of_draws_at_experiment_replicates"],
            "loso": loso["covered"], "loso_of": loso["targets"],
            "ess": round(diag["final_ess"])}


def test_shipped_fit_figures_quoted_in_docs_are_its_outputs():
    """The README's and docs/calibration.md's summary of the shipped fit says what its
    results folder says (coverage, patterns under the draws, leave-one-site-out, ESS):
    a refit or a revalidation that changes them fails here until the prose follows."""
    s = _shipped_summary()
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    guide = " ".join((ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
                     .replace(">", " ").split())
    expected = {
        "README": (readme, [
            f"{s['fit']} of {s['fit_of']} fit targets and {s['held']} of {s['held_of']} "
            "held-out targets",
            f"size of {s['ess']} after",
            f"Leave-one-site-out covers {s['loso']} of {s['loso_of']} targets",
            f"posterior mean for all {s['patterns']} checks" if s["patterns_point"]
            == s["patterns"] else f"{s['patterns_point']} of {s['patterns']} checks",
            f"in at least 90% of {s['draws']} posterior draws for {s['patterns_draws']} of "
            f"{s['patterns']}, each check run with {s['replicates']} replicates in every draw",
            f"Decided on those {s['base']} alone, the first of the same runs, "
            f"{s['base_draws']} of {s['patterns']} reach 90%",
            f"in each of {s['draws']} posterior draws",
        ]),
        "docs/calibration.md": (guide, [
            f"covers {s['fit']} of {s['fit_of']} fit targets and {s['held']} of "
            f"{s['held_of']} held-out targets",
            f"effective sample size of {s['ess']}",
            f"{s['patterns_draws']} of {s['patterns']} in at least 90% of {s['draws']} "
            f"posterior draws, each run with {s['replicates']} replicates ({s['base_draws']} "
            f"of {s['patterns']} on the patterns experiment's own {s['base']}",
            f"Leave-one-site-out covers {s['loso']} of {s['loso_of']} targets",
        ]),
    }
    missing = [(doc, phrase) for doc, (text, phrases) in expected.items()
               for phrase in phrases if phrase not in text]
    assert missing == [], f"docs quote figures the shipped fit does not give: {missing}"


def test_calibration_readme_counts_of_priors_are_current():
    """calibration/README.md's count of calibrated priors is an output of priors.csv and the
    registry."""
    from pathways_sim.scenario.registry import REGISTRY

    text = " ".join((ROOT / "calibration" / "README.md").read_text(encoding="utf-8").split())
    rows = (ROOT / "calibration" / "priors.csv").read_text(encoding="utf-8").strip().splitlines()
    flagged = sum(1 for p in REGISTRY.values() if p.calibrate)
    assert f"{len(rows) - 1} of the {flagged} registry parameters flagged `calibrate=True`" in text
    from pathways_sim.calibration.config import load_config

    shared = len(load_config("default").priors)  # priors.csv and the config's extra priors
    assert f"{shared} shared parameters in all" in text
