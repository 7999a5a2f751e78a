"""Scenario files: validation messages, composition, immutability, provenance, diffs."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pathways_sim.scenario import (
    Scenario,
    ScenarioError,
    default_scenario,
    diff_scenarios,
    list_scenarios,
    load_scenario,
)
from pathways_sim.scenario.loader import ENV_VAR, check_registry
from pathways_sim.scenario.reference import (
    BEGIN_MARKER,
    END_MARKER,
    embed,
    registry_markdown,
    yaml_scalar,
)
from pathways_sim.scenario.schema import Param

CASELOAD_SOURCE = "NHSE reference guide: caseload 200-250 a year"
AWARENESS_SOURCE = "assumption: link workers know a little about work support"

FAKE = {
    p.path: p
    for p in (
        Param(
            "link_workers.caseload", 30, "int", "clients", "Active clients per link worker.",
            CASELOAD_SOURCE, low=1, high=200,
        ),
        Param(
            "link_workers.work_awareness", 0.5, "float", "share 0-1",
            "How much link workers know about work support.", AWARENESS_SOURCE,
            low=0.0, high=1.0, calibrate=True,
        ),
        Param(
            "link_workers.colocated", False, "bool", "true/false",
            "Link workers sit in GP practices.", "assumption: not co-located",
        ),
        Param(
            "service.model", "medium", "choice", "category", "Service model preset.",
            "MODEL.md §4", choices=("light", "medium", "holistic"),
        ),
        Param("service.label", "local", "str", "text", "Free-text label.", "assumption: label"),
        Param(
            "referrals.per_year", 2000, "float", "referrals/year", "Referrals a year.",
            "assumption: mid-sized | service", low=0, high=1e6,
        ),
    )
}  # fmt: skip

CASELOAD_KEYS = "keys of link_workers: caseload, work_awareness, colocated"
SECTIONS = "sections: link_workers, service, referrals"


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``<folder>/<name>.yaml`` (folders created) and return its path."""
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scenario_text(name: str, params: str = "", base: str | None = None) -> str:
    """The text of a valid scenario file with a description, optional base and params block."""
    lines = [f'description: "Scenario {name}."']
    if base is not None:
        lines.append(f"base: {base}")
    if params:
        lines.append("params:")
        lines += ["  " + line for line in params.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def scenario_file(folder: Path, name: str, params: str = "", base: str | None = None) -> Path:
    """Write a valid scenario file with a description, optional base and params block."""
    return write(folder, name, scenario_text(name, params, base))


def load(folder: Path, name_or_path: str | Path) -> Scenario:
    return load_scenario(name_or_path, scenarios_dir=folder, registry=FAKE)


def expect_error(
    action: Callable[[], Any],
    *,
    file: str,
    key: str | None,
    problem: list[str],
    allowed: list[str],
) -> ScenarioError:
    """Run ``action``; check the ScenarioError's fields and that its message names each part."""
    with pytest.raises(ScenarioError) as info:
        action()
    err = info.value
    message = str(err)
    assert err.file is not None and Path(err.file).name == file, message
    assert err.key == key, message
    for part in problem:
        assert part in err.problem, message
    assert err.allowed is not None, message
    for part in allowed:
        assert part in err.allowed, message
    assert message.startswith(f"{err.file}: " + (f"{key}: " if key else "")), message
    for part in [file, *problem, *allowed]:
        assert part in message
    assert "Allowed: " in message
    return err


# --------------------------------------------------------------------------- error type


def test_error_message_format_and_omitted_parts() -> None:
    full = ScenarioError("a.yaml", "params.x.y", "value 3 is out of range", "an integer in [0, 1]")
    assert str(full) == "a.yaml: params.x.y: value 3 is out of range. Allowed: an integer in [0, 1]"
    asked = ScenarioError("a.yaml", "base", "unknown base 'x' (did you mean 'y'?)", "y, z")
    assert str(asked) == "a.yaml: base: unknown base 'x' (did you mean 'y'?). Allowed: y, z"
    assert str(ScenarioError(None, None, "scenario file not found")) == "scenario file not found"
    assert str(ScenarioError("a.yaml", None, "file is empty")) == "a.yaml: file is empty"
    ended = ScenarioError("a.yaml", None, "Stop.", "x")
    assert str(ended) == "a.yaml: Stop. Allowed: x"


def test_error_survives_pickling() -> None:
    import pickle

    err = ScenarioError("a.yaml", "params.x.y", "bad", "good")
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.key, again.problem, again.allowed) == (
        "a.yaml",
        "params.x.y",
        "bad",
        "good",
    )
    assert str(again) == str(err)


# --------------------------------------------------------------------------- invalid files


@dataclasses.dataclass(frozen=True)
class Bad:
    """One invalid scenario set-up and the error it must give (checked by :func:`expect_error`).

    Attributes:
        id: The test id: ``<what is checked>/<case>``.
        files: Files written first: name (a path under the folder, without ``.yaml``) -> text.
        load: What is loaded: a scenario name, or a path ending in ``.yaml`` (in the folder).
        key: The key the error names (None: the whole file).
        problem: Texts the problem (and the message) must contain.
        allowed: Texts the allowed values (and the message) must contain.
        file: The file the error names (default: the loaded one).
        absent: Texts the problem must not contain.
    """

    id: str
    files: dict[str, str]
    load: str
    key: str | None
    problem: list[str]
    allowed: list[str]
    file: str | None = None
    absent: list[str] = dataclasses.field(default_factory=list)


def bad_params(id: str, name: str, entry: str, key: str, problem: list[str],
               allowed: str, absent: tuple[str, ...] = ()) -> Bad:
    """A case of one scenario file ``name`` whose params block is ``entry``."""
    return Bad(id, {name: scenario_text(name, entry)}, name, key, problem, [allowed],
               absent=list(absent))


INT_1_200 = "an integer in [1, 200]"
SHARE = "a number in [0, 1]"
LW = "params.link_workers."
VALUE_SPEC = "a plain value, or a mapping with exactly the keys 'value' and 'source'"
SOURCE_TEXT = "a citation of docs/evidence.md §E<n> or 'assumption: <reason>'"
FILE_SHAPE = "a mapping with keys description, title, base, params (description required)"
BASE_NAMES = "a scenario name, a path relative to this file, or a list of them"
M = {"medium": scenario_text("medium")}
"""A folder holding one valid scenario, ``medium``."""
MH = {"medium": scenario_text("medium"), "high": scenario_text("high")}


def _wrong(case: str, entry: str, key: str, problem: list[str], allowed: str) -> Bad:
    return bad_params("type/" + case, "wrong", entry, key, problem, allowed)


def _range(case: str, entry: str, key: str, problem: str, allowed: str) -> Bad:
    return bad_params("range/" + case, "range", entry, key, [problem], allowed)


def _spec(case: str, spec: str, key_suffix: str, problem: list[str], allowed: str) -> Bad:
    return bad_params("value-mapping/" + case, "spec" if key_suffix == "" else "src",
                      f"link_workers:\n  work_awareness: {spec}",
                      LW + "work_awareness" + key_suffix, problem, allowed)


def _raw(case: str, name: str, text: str, key: str | None, problem: list[str],
         allowed: list[str]) -> Bad:
    return Bad("file/" + case, {name: text}, name, key, problem, allowed)


BAD: list[Bad] = [
    # params: sections and keys
    bad_params("params/unknown-key-no-close-match", "typo", "link_workers:\n  zzz: 1",
               LW + "zzz", ["unknown key 'zzz' in section 'link_workers'"], CASELOAD_KEYS,
               absent=("did you mean",)),
    bad_params("params/key-in-wrong-section", "moved", "service:\n  caseload: 35",
               "params.service.caseload",
               ["unknown key 'caseload' in section 'service'", "'params.link_workers.caseload'"],
               "keys of service: model, label"),
    bad_params("params/unknown-section", "sect", "link_worker:\n  caseload: 35",
               "params.link_worker",
               ["unknown section 'link_worker'", "did you mean 'link_workers'?"], SECTIONS),
    bad_params("params/section-not-a-mapping", "flat", "link_workers: 35", "params.link_workers",
               ["must be a mapping of key -> value", "35 (integer)"], CASELOAD_KEYS),
    _raw("params-not-a-mapping", "plist", 'description: "x"\nparams: [1, 2]\n', "params",
         ["must be a mapping of section -> key -> value", "a list"], [SECTIONS]),
    # params: wrong types
    _wrong("int-in-quotes", 'link_workers:\n  caseload: "35"', LW + "caseload",
           ["wrong type: expected an integer (int), got '35' (text)", "remove any quotes"],
           INT_1_200),
    _wrong("int-with-decimal-point", "link_workers:\n  caseload: 35.0", LW + "caseload",
           ["expected an integer (int), got 35.0 (number)", "without a decimal point"],
           INT_1_200),
    _wrong("int-given-bool", "link_workers:\n  caseload: true", LW + "caseload",
           ["expected an integer (int), got true (boolean)"], INT_1_200),
    # YAML 1.2: yes is text, not a boolean
    _wrong("yes-is-text", "link_workers:\n  work_awareness: yes", LW + "work_awareness",
           ["expected a number (float), got 'yes' (text)"], SHARE),
    # YAML 1.2: 1:20 is text, not the sexagesimal 80
    _wrong("no-base-60", "link_workers:\n  caseload: 1:20", LW + "caseload",
           ["expected an integer (int), got '1:20' (text)", "not a base-60 number"], INT_1_200),
    _wrong("bool-given-on", "link_workers:\n  colocated: on", LW + "colocated",
           ["expected true or false (bool), got 'on' (text)", "only true and false"],
           "true or false"),
    _wrong("float-in-quotes", "link_workers:\n  work_awareness: '1e-3'", LW + "work_awareness",
           ["expected a number (float), got '1e-3' (text)", "remove any quotes"], SHARE),
    _wrong("bool-given-int", "link_workers:\n  colocated: 1", LW + "colocated",
           ["expected true or false (bool), got 1 (integer)"], "true or false"),
    _wrong("bool-in-quotes", 'link_workers:\n  colocated: "true"', LW + "colocated",
           ["expected true or false (bool), got 'true' (text)", "remove the quotes"],
           "true or false"),
    _wrong("choice-given-int", "service:\n  model: 3", "params.service.model",
           ["expected one of the choices (choice), got 3 (integer)"],
           "one of 'light', 'medium', 'holistic'"),
    _wrong("str-given-int", "service:\n  label: 12", "params.service.label",
           ["expected text (str), got 12 (integer)", "put it in quotes"], "a string"),
    _wrong("int-given-list", "link_workers:\n  caseload: [35]", LW + "caseload",
           ["expected an integer (int), got a list"], INT_1_200),
    _wrong("int-given-null", "link_workers:\n  caseload:", LW + "caseload",
           ["expected an integer (int), got null (no value)"], INT_1_200),
    bad_params("choice/not-a-choice", "choice", "service:\n  model: holistc",
               "params.service.model",
               ["'holistc' is not one of the choices", "did you mean 'holistic'?"],
               "one of 'light', 'medium', 'holistic'"),
    # params: out of range
    _range("int-above", "link_workers:\n  caseload: 500", LW + "caseload",
           "value 500 is out of range", INT_1_200),
    _range("int-below", "link_workers:\n  caseload: 0", LW + "caseload",
           "value 0 is out of range", INT_1_200),
    _range("share-above", "link_workers:\n  work_awareness: 1.5", LW + "work_awareness",
           "value 1.5 is", SHARE),
    _range("share-below", "link_workers:\n  work_awareness: -0.01", LW + "work_awareness",
           "value -0.01 is", SHARE),
    _range("nan", "link_workers:\n  work_awareness: .nan", LW + "work_awareness",
           "not-a-number", "finite"),
    _range("minus-infinity", "link_workers:\n  work_awareness: -.inf", LW + "work_awareness",
           "infinity", "finite"),
    _range("overflow", "link_workers:\n  caseload: 1.0e+400", LW + "caseload", "too large",
           "finite"),
    _range("in-value-mapping", "link_workers:\n  work_awareness: {value: 2.0, source: x}",
           LW + "work_awareness.value", "value 2.0 is out of range", SHARE),
    _range("float-above", "referrals:\n  per_year: 2000000", "params.referrals.per_year",
           "value 2000000 is out of range", "a number in [0, 1e+06]"),
    # params: value-with-source mappings
    _spec("extra-key", '{value: 0.8, source: "x", note: "y"}', "", ["unexpected key(s) 'note'"],
          VALUE_SPEC),
    _spec("misspelt-key", '{value: 0.8, sorce: "x"}', "",
          ["unexpected key(s) 'sorce'", "did you mean 'source'?"], VALUE_SPEC),
    _spec("no-source", "{value: 0.8}", "", ["value-with-source mapping is missing 'source'"],
          VALUE_SPEC),
    _spec("no-value", '{source: "x"}', "", ["value-with-source mapping is missing 'value'"],
          VALUE_SPEC),
    _spec("empty-source", '{value: 0.8, source: ""}', ".source",
          ["source must be non-empty text, got '' (text)"], SOURCE_TEXT),
    _spec("source-not-text", "{value: 0.8, source: 3}", ".source",
          ["source must be non-empty text, got 3 (integer)"], SOURCE_TEXT),
    # the file
    _raw("unknown-top-level-key", "top",
         'description: "x"\nparms:\n  link_workers: {caseload: 3}\n', "parms",
         ["unknown top-level key 'parms'", "did you mean 'params'?"],
         ["description, title, base, params"]),
    _raw("invalid-yaml", "broken", 'description: "x"\nparams:\n  link_workers: [caseload: 3\n',
         None, ["invalid YAML at line 4, column 1", "expected ',' or ']'"],
         ["valid YAML", "description, title, base, params"]),
    _raw("duplicate-key", "dup",
         'description: "x"\nparams:\n  link_workers:\n    caseload: 3\n    caseload: 4\n', None,
         ["invalid YAML at line 5, column 5", "duplicate key 'caseload' (first set at line 4)"],
         ["each key at most once in a mapping"]),
    # YAML 1.2 has no merge keys, and aliases can expand a short file exponentially.
    _raw("anchors-and-merge-keys", "merge",
         'description: "x"\nparams:\n  link_workers:\n    <<: &lw {caseload: 3, colocated: true}\n'
         "    caseload: 4\n", None,
         ["invalid YAML at line 4", "anchors and aliases (&name, *name) are not supported"],
         ["valid YAML 1.2"]),
    _raw("top-level-list", "shape", "- a\n- b\n", None,
         ["top level must be a mapping of keys, got a list"], [FILE_SHAPE]),
    _raw("top-level-text", "shape", "just words\n", None,
         ["top level must be a mapping of keys, got 'just words' (text)"], [FILE_SHAPE]),
    _raw("empty", "shape", "", None, ["file is empty"], [FILE_SHAPE]),
    _raw("no-description", "desc", "params: {}\n", "description", ["missing required key"],
         ["one paragraph saying what the scenario represents"]),
    _raw("description-not-text", "desc", "description: 3\n", "description",
         ["must be non-empty text, got 3 (integer)"],
         ["one paragraph saying what the scenario represents"]),
    _raw("description-blank", "desc", 'description: "  "\n', "description",
         ["must be non-empty text, got '  ' (text)"],
         ["one paragraph saying what the scenario represents"]),
    _raw("title-not-text", "titled", 'description: "x"\ntitle: [a]\n', "title",
         ["must be non-empty text, got a list"], ["non-empty text"]),
    Bad("file/missing-path", M, "nope.yaml", None, ["scenario file not found"],
        ["an existing .yaml file, or a scenario name: medium"]),
    Bad("file/unknown-name", MH, "mediun", None,
        ["unknown scenario 'mediun'", "did you mean 'medium'?"], ["scenario names: high, medium"]),
    # bases
    Bad("base/unknown", {**MH, "child": scenario_text("child", base="mediun")}, "child", "base",
        ["unknown base scenario 'mediun'", "did you mean 'medium'?"],
        ["scenario names: child, high, medium", "or a path relative to this file"]),
    Bad("base/unknown-in-list", {**MH, "child": scenario_text("child", base="[medium, hihg]")},
        "child", "base[1]", ["unknown base scenario 'hihg'", "did you mean 'high'?"],
        ["scenario names: child, high, medium"]),
    Bad("base/missing-path", {"child": scenario_text("child", base="../elsewhere/nope.yaml")},
        "child", "base", ["base file '../elsewhere/nope.yaml' not found", "nope.yaml)"],
        [BASE_NAMES]),
    Bad("base/not-a-name", {**M, "child": scenario_text("child", base="3")}, "child", "base",
        ["must be a name, a path or a list, got 3 (integer)"], [BASE_NAMES, "medium"]),
    Bad("base/empty-list", {**M, "child": scenario_text("child", base="[]")}, "child", "base",
        ["empty list (omit base for no base)"], [BASE_NAMES, "medium"]),
    Bad("base/not-a-name-in-list", {**M, "child": scenario_text("child", base="[medium, 4]")},
        "child", "base[1]", ["must be a name or a path, got 4 (integer)"], [BASE_NAMES, "medium"]),
    Bad("base/cycle", {"a": scenario_text("a", base="b"), "b": scenario_text("b", base="c"),
                       "c": scenario_text("c", base="a")}, "a", "base",
        ["cycle in bases: a -> b -> c -> a"],
        ["bases that do not lead back to a scenario already in the chain"], file="c.yaml"),
    Bad("base/self-cycle-through-path",
        {**M, "loop": scenario_text("loop", base="[medium, ./loop.yaml]")}, "loop", "base[1]",
        ["cycle in bases: loop -> loop"], ["bases that do not lead back"]),
    Bad("base/error-in-base-names-the-base",
        {"medium": scenario_text("medium", "link_workers:\n  caseload: 999"),
         "child": scenario_text("child", base="medium")}, "child", LW + "caseload",
        ["value 999 is out of range"], [INT_1_200], file="medium.yaml"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_invalid_scenario_is_one_clear_error(tmp_path: Path, case: Bad) -> None:
    """Each invalid file gives a ScenarioError naming its file, key, problem and allowed values."""
    for name, text in case.files.items():
        write(tmp_path, name, text)
    target: str | Path = tmp_path / case.load if case.load.endswith(".yaml") else case.load
    err = expect_error(
        lambda: load(tmp_path, target),
        file=case.file or (case.load if case.load.endswith(".yaml") else f"{case.load}.yaml"),
        key=case.key,
        problem=case.problem,
        allowed=case.allowed,
    )
    for part in case.absent:
        assert part not in err.problem, str(err)


def test_invalid_cases_have_unique_ids() -> None:
    assert len({c.id for c in BAD}) == len(BAD)


def test_unknown_key_full_message(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "typo", "link_workers:\n  casload: 35")
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, "typo")
    assert str(info.value) == (
        f"{path}: params.link_workers.casload: unknown key 'casload' in section 'link_workers' "
        f"(did you mean 'caseload'?). Allowed: {CASELOAD_KEYS}"
    )


def test_bounds_are_inclusive(tmp_path: Path) -> None:
    scenario_file(tmp_path, "edge", "link_workers:\n  caseload: 200\n  work_awareness: 0")
    sc = load(tmp_path, "edge")
    assert sc["link_workers.caseload"] == 200
    assert sc["link_workers.work_awareness"] == 0.0


# --------------------------------------------------------------------------- bases


def test_composition_with_a_list_of_bases(tmp_path: Path) -> None:
    medium = scenario_file(
        tmp_path, "medium", "link_workers:\n  caseload: 40\n  work_awareness: 0.6"
    )
    skills = scenario_file(
        tmp_path,
        "skills",
        f"link_workers:\n  work_awareness: {{value: 0.9, source: {AWARENESS_SOURCE!r}}}",
    )
    top = scenario_file(
        tmp_path, "top", "link_workers:\n  colocated: true", base="[medium, skills]"
    )
    sc = load(tmp_path, "top")
    assert sc.name == "top"
    assert sc.description == "Scenario top."
    assert sc.chain == (str(medium), str(skills), str(top))
    assert dict(sc.values) == {
        "link_workers.caseload": 40,
        "link_workers.work_awareness": 0.9,
        "link_workers.colocated": True,
        "service.model": "medium",
        "service.label": "local",
        "referrals.per_year": 2000.0,
    }
    assert dict(sc.set_by) == {
        "link_workers.caseload": "medium",
        "link_workers.work_awareness": "skills",
        "link_workers.colocated": "top",
        "service.model": "default",
        "service.label": "default",
        "referrals.per_year": "default",
    }


@pytest.mark.parametrize(("order", "winner"), [("[low, high]", "high"), ("[high, low]", "low")])
def test_later_base_overrides_earlier(tmp_path: Path, order: str, winner: str) -> None:
    scenario_file(tmp_path, "low", "link_workers:\n  caseload: 10\nservice:\n  label: low-only")
    scenario_file(tmp_path, "high", "link_workers:\n  caseload: 90")
    scenario_file(tmp_path, "mix", base=order)
    sc = load(tmp_path, "mix")
    assert sc["link_workers.caseload"] == {"low": 10, "high": 90}[winner]
    assert sc.set_by["link_workers.caseload"] == winner
    assert sc["service.label"] == "low-only"  # set only by one base: kept whatever the order


def test_file_overrides_its_bases(tmp_path: Path) -> None:
    scenario_file(tmp_path, "medium", "link_workers:\n  caseload: 40")
    scenario_file(tmp_path, "own", "link_workers:\n  caseload: 41", base="medium")
    sc = load(tmp_path, "own")
    assert sc["link_workers.caseload"] == 41
    assert sc.set_by["link_workers.caseload"] == "own"


def test_shared_base_is_applied_once_first(tmp_path: Path) -> None:
    """A diamond: the shared root must not be re-applied over ``left``'s change."""
    scenario_file(tmp_path, "root", "link_workers:\n  caseload: 10\n  work_awareness: 0.1")
    scenario_file(tmp_path, "left", "link_workers:\n  caseload: 20", base="root")
    scenario_file(tmp_path, "right", "link_workers:\n  work_awareness: 0.3", base="root")
    scenario_file(tmp_path, "top", base="[left, right]")
    sc = load(tmp_path, "top")
    assert [Path(f).stem for f in sc.chain] == ["root", "left", "right", "top"]
    assert sc["link_workers.caseload"] == 20
    assert sc["link_workers.work_awareness"] == 0.3


def test_base_by_relative_path_and_nested_chain(tmp_path: Path) -> None:
    scenario_file(tmp_path, "medium", "link_workers:\n  caseload: 40")
    scenario_file(tmp_path / "variants", "mid_plus", "service:\n  model: holistic", base="medium")
    scenario_file(tmp_path / "studies" / "s1", "study", base="../../variants/mid_plus.yaml")
    sc = load(tmp_path, tmp_path / "studies" / "s1" / "study.yaml")
    assert [Path(f).name for f in sc.chain] == ["medium.yaml", "mid_plus.yaml", "study.yaml"]
    assert (sc["link_workers.caseload"], sc["service.model"]) == (40, "holistic")
    assert sc.set_by["service.model"] == "mid_plus"


def test_name_given_as_path_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario_file(tmp_path / "sub", "here", "link_workers:\n  caseload: 12")
    monkeypatch.chdir(tmp_path)
    sc = load(tmp_path / "nowhere", "sub/here.yaml")
    assert sc.name == "here"
    assert sc.chain == ("sub/here.yaml",)
    assert sc["link_workers.caseload"] == 12


def test_env_var_sets_the_scenarios_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario_file(tmp_path, "envy", "link_workers:\n  caseload: 77")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_scenario("envy", registry=FAKE)["link_workers.caseload"] == 77
    assert list_scenarios() == [("envy", "Scenario envy.")]


# --------------------------------------------------------------------------- values


def test_values_have_declared_types(tmp_path: Path) -> None:
    scenario_file(tmp_path, "types", "referrals:\n  per_year: 1500\nlink_workers:\n  caseload: 35")
    sc = load(tmp_path, "types")
    assert sc["referrals.per_year"] == 1500.0 and type(sc["referrals.per_year"]) is float
    assert type(sc["link_workers.caseload"]) is int
    assert type(default_scenario(FAKE)["referrals.per_year"]) is float  # int default -> float


def test_description_and_title_are_one_paragraph(tmp_path: Path) -> None:
    write(tmp_path, "long", "title: Long one\ndescription: |\n  First line\n  second   line.\n")
    sc = load(tmp_path, "long")
    assert (sc.title, sc.description) == ("Long one", "First line second line.")


def test_getitem_and_namespace(tmp_path: Path) -> None:
    scenario_file(tmp_path, "ns", "link_workers:\n  caseload: 35")
    sc = load(tmp_path, "ns")
    assert sc["link_workers.caseload"] == 35
    assert sc.ns.link_workers.caseload == 35
    assert sc.ns.service.model == "medium"
    assert sc.ns["link_workers"]["colocated"] is False
    assert list(sc.ns) == ["link_workers", "service", "referrals"]
    assert "caseload" in sc.ns.link_workers
    with pytest.raises(
        KeyError, match=r"unknown parameter 'link_workers.casload'.*'link_workers.caseload'"
    ):
        sc["link_workers.casload"]
    with pytest.raises(
        AttributeError, match=r"section 'link_workers' has no 'casload'.*'caseload'"
    ):
        _ = sc.ns.link_workers.casload


def test_scenario_is_frozen(tmp_path: Path) -> None:
    scenario_file(tmp_path, "frozen", "link_workers:\n  caseload: 35")
    sc = load(tmp_path, "frozen")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.values = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        sc.values["link_workers.caseload"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        sc.sources["link_workers.caseload"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        sc.set_by["link_workers.caseload"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError, match="read-only"):
        sc.ns.link_workers.caseload = 1
    with pytest.raises(AttributeError, match="read-only"):
        sc.ns.link_workers = None
    with pytest.raises(AttributeError, match="read-only"):
        del sc.ns.link_workers.caseload
    assert sc["link_workers.caseload"] == 35 and sc.ns.link_workers.caseload == 35


def test_scenario_pickles_copies_and_hashes(tmp_path: Path) -> None:
    import copy
    import pickle

    scenario_file(tmp_path, "pk", 'link_workers:\n  caseload: {value: 35, source: "S"}')
    sc = load(tmp_path, "pk")
    _ = sc.ns  # cached namespace must not break pickling
    for again in (pickle.loads(pickle.dumps(sc)), copy.deepcopy(sc)):
        assert again == sc and hash(again) == hash(sc)
        assert (
            again.ns.link_workers.caseload == 35 and again.sources["link_workers.caseload"] == "S"
        )
        with pytest.raises(TypeError):
            again.values["link_workers.caseload"] = 1  # type: ignore[index]
        assert again.with_changes({"link_workers.caseload": 36})["link_workers.caseload"] == 36
    assert sc != sc.with_changes({"link_workers.caseload": 36})
    assert len({sc, copy.deepcopy(sc)}) == 1


def test_sources_tracking(tmp_path: Path) -> None:
    scenario_file(
        tmp_path,
        "base",
        "link_workers:\n"
        '  caseload: {value: 40, source: "Rotherham 2016 evaluation"}\n'
        '  work_awareness: {value: 0.7, source: "WF 2019 p.12"}\n'
        "  colocated: true",
    )
    scenario_file(tmp_path, "top", "link_workers:\n  work_awareness: 0.8", base="base")
    sc = load(tmp_path, "top")
    assert sc.sources["link_workers.caseload"] == "Rotherham 2016 evaluation"
    assert sc.sources["link_workers.work_awareness"] == (
        f"top.yaml: set without a source; registry: {AWARENESS_SOURCE}"
    )
    assert sc.sources["link_workers.colocated"] == (
        "base.yaml: set without a source; registry: assumption: not co-located"
    )
    assert sc.sources["service.model"] == "MODEL.md §4"
    assert set(sc.sources) == set(FAKE)


def test_with_changes_applies_and_records(tmp_path: Path) -> None:
    scenario_file(tmp_path, "medium", "link_workers:\n  caseload: 40")
    sc = load(tmp_path, "medium")
    changed = sc.with_changes(
        {
            "link_workers.caseload": 55,
            "referrals.per_year": 1200,
            "service.model": {"value": "holistic", "source": "calibration run 7"},
        }
    )
    assert changed.name == "medium+override"
    assert changed.chain == (*sc.chain, "<override>")
    assert (changed["link_workers.caseload"], changed["service.model"]) == (55, "holistic")
    assert type(changed["referrals.per_year"]) is float
    assert changed.set_by["link_workers.caseload"] == "<override>"
    assert changed.set_by["link_workers.colocated"] == "default"
    assert changed.sources["service.model"] == "calibration run 7"
    assert changed.sources["link_workers.caseload"] == (
        f"<override>: set without a source; registry: {CASELOAD_SOURCE}"
    )
    assert sc["link_workers.caseload"] == 40  # original untouched
    named = sc.with_changes({"link_workers.caseload": 41}, name="cl41")
    assert (named.name, named.set_by["link_workers.caseload"]) == ("cl41", "cl41")


@pytest.mark.parametrize(
    ("changes", "key", "problem", "allowed"),
    [
        (
            {"link_workers.caseload": 0},
            "link_workers.caseload",
            ["value 0 is out of range"],
            INT_1_200,
        ),
        (
            {"link_workers.caseload": 3.5},
            "link_workers.caseload",
            ["expected an integer (int), got 3.5 (number)"],
            INT_1_200,
        ),
        (
            {"link_workers.colocated": "yes"},
            "link_workers.colocated",
            ["expected true or false (bool), got 'yes' (text)"],
            "true or false",
        ),
        (
            {"link_workers.casload": 3},
            "link_workers.casload",
            ["unknown key 'casload' in section 'link_workers'", "did you mean 'caseload'?"],
            CASELOAD_KEYS,
        ),
        (
            {"link_worker.caseload": 3},
            "link_worker.caseload",
            ["unknown parameter 'link_worker.caseload'", "did you mean 'link_workers.caseload'?"],
            SECTIONS,
        ),
        (
            {"link_workers.work_awareness": {"value": 0.5, "src": "x"}},
            "link_workers.work_awareness",
            ["unexpected key(s) 'src'"],
            "exactly the keys 'value' and 'source'",
        ),
    ],
)
def test_with_changes_validates(
    tmp_path: Path, changes: dict[str, Any], key: str, problem: list[str], allowed: str
) -> None:
    sc = default_scenario(FAKE)
    with pytest.raises(ScenarioError) as info:
        sc.with_changes(changes)
    err = info.value
    assert (err.file, err.key) == ("<override>", key)
    assert all(p in err.problem for p in problem), str(err)
    assert err.allowed is not None and allowed in err.allowed
    assert str(err).startswith(f"<override>: {key}: ")


def test_diff_and_changed_from_defaults(tmp_path: Path) -> None:
    scenario_file(tmp_path, "a", "link_workers:\n  caseload: 40\nservice:\n  model: light")
    scenario_file(tmp_path, "b", "link_workers:\n  caseload: 40\n  colocated: true")
    a, b = load(tmp_path, "a"), load(tmp_path, "b")
    assert diff_scenarios(a, b) == [
        ("link_workers.colocated", False, True),
        ("service.model", "light", "medium"),
    ]
    assert diff_scenarios(a, a) == []
    assert a.changed_from_defaults() == {"link_workers.caseload": 40, "service.model": "light"}
    assert default_scenario(FAKE).changed_from_defaults() == {}
    # set to the default value: recorded as set, but not a change
    scenario_file(tmp_path, "same", "link_workers:\n  caseload: 30")
    same = load(tmp_path, "same")
    assert same.set_by["link_workers.caseload"] == "same"
    assert same.changed_from_defaults() == {}


def test_to_dict_is_nested_and_json_ready(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "m", 'link_workers:\n  caseload: {value: 35, source: "S"}')
    d = json.loads(json.dumps(load(tmp_path, "m").to_dict()))
    assert d["name"] == "m" and d["title"] is None and d["description"] == "Scenario m."
    assert d["chain"] == [str(path)]
    assert d["params"] == {
        "link_workers": {"caseload": 35, "work_awareness": 0.5, "colocated": False},
        "service": {"model": "medium", "label": "local"},
        "referrals": {"per_year": 2000.0},
    }
    assert d["sources"]["link_workers"]["caseload"] == "S"
    assert d["set_by"]["link_workers"] == {
        "caseload": "m",
        "work_awareness": "default",
        "colocated": "default",
    }


def test_list_scenarios(tmp_path: Path) -> None:
    write(tmp_path, "zeta", "description: >\n  Last\n  one.\n")
    scenario_file(tmp_path, "alpha")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert list_scenarios(tmp_path) == [("alpha", "Scenario alpha."), ("zeta", "Last one.")]
    expect_error(
        lambda: list_scenarios(tmp_path / "missing"),
        file="missing",
        key=None,
        problem=["scenarios folder not found"],
        allowed=[f"set {ENV_VAR}"],
    )


def test_list_scenarios_reports_a_broken_file(tmp_path: Path) -> None:
    write(tmp_path, "bad", "title: no description\n")
    expect_error(
        lambda: list_scenarios(tmp_path),
        file="bad.yaml",
        key="description",
        problem=["missing required key"],
        allowed=["non-empty text"],
    )


def test_bad_registry_default_is_reported() -> None:
    bad = {
        "a.b": Param("a.b", 5, "int", "u", "d", "s", low=0, high=1),
    }
    with pytest.raises(ScenarioError, match=r"^<registry>: a\.b: value 5 is out of range"):
        default_scenario(bad)
    with pytest.raises(ValueError, match="must be exactly 'section.key'"):
        check_registry({"a": Param("a", 1, "int", "u", "d", "s")})
    with pytest.raises(ValueError, match="differs from its Param.path"):
        check_registry({"a.c": Param("a.b", 1, "int", "u", "d", "s")})


# --------------------------------------------------------------------------- reference


def test_registry_markdown_fake() -> None:
    md = registry_markdown(FAKE)
    assert "6 parameters in 3 sections" in md
    headings = [line for line in md.splitlines() if line.startswith("### ")]
    assert headings == ["### `link_workers`", "### `service`", "### `referrals`"]
    assert "| key | default | unit | allowed | description | source |" in md
    assert (
        f"| `caseload` | `30` | clients | an integer in [1, 200] | "
        f"Active clients per link worker. | {CASELOAD_SOURCE} |"
    ) in md
    assert "| `work_awareness` † | `0.5` |" in md
    assert "| `model` | `medium` | category | one of 'light', 'medium', 'holistic' |" in md
    assert "| `colocated` | `false` |" in md
    assert "assumption: mid-sized \\| service |" in md  # pipes escaped
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(FAKE)


@pytest.mark.parametrize("value", [True, 35, 0.6, 2000.0, 1e-05, 1e7, "medium"])
def test_yaml_scalar_round_trips(value: object) -> None:
    assert yaml.safe_load(yaml_scalar(value)) == value
    assert type(yaml.safe_load(yaml_scalar(value))) is type(value)


def test_embed_replaces_between_markers() -> None:
    doc = f"# Scenarios\n\nIntro.\n\n{BEGIN_MARKER}\nstale\n{END_MARKER}\n\nAfter.\n"
    fresh = embed(doc, FAKE)
    assert fresh.startswith(f"# Scenarios\n\nIntro.\n\n{BEGIN_MARKER}\n<!-- Generated")
    assert fresh.endswith(f"{END_MARKER}\n\nAfter.\n")
    assert "stale" not in fresh and registry_markdown(FAKE) in fresh
    assert embed(fresh, FAKE) == fresh
    with pytest.raises(ValueError, match="BEGIN PARAMETER REFERENCE"):
        embed("no markers", FAKE)


# --------------------------------------------------------------------------- the real registry


def _real_registry() -> dict[str, Param]:
    registry = pytest.importorskip("pathways_sim.scenario.registry")
    return registry.REGISTRY


def test_real_registry_is_well_formed() -> None:
    reg = _real_registry()
    check_registry(reg)
    sc = default_scenario()
    assert list(sc.values) == list(reg)
    kinds = {"int": int, "float": float, "bool": bool, "choice": str, "str": str}
    for path, param in reg.items():
        assert type(sc[path]) is kinds[param.kind], path
        assert sc.sources[path] == param.source and sc.set_by[path] == "default"
    assert sc.changed_from_defaults() == {}


def test_real_registry_file_validation(tmp_path: Path) -> None:
    reg = _real_registry()
    assert "link_workers.caseload" in reg
    keys = [p.split(".", 1)[1] for p in reg if p.startswith("link_workers.")]
    scenario_file(tmp_path, "ok", "link_workers:\n  caseload: 35")
    sc = load_scenario("ok", scenarios_dir=tmp_path)
    assert sc.ns.link_workers.caseload == 35
    assert [p for p, *_ in diff_scenarios(default_scenario(), sc)] == (
        [] if reg["link_workers.caseload"].default == 35 else ["link_workers.caseload"]
    )
    scenario_file(tmp_path, "typo", "link_workers:\n  casload: 35")
    expect_error(
        lambda: load_scenario("typo", scenarios_dir=tmp_path),
        file="typo.yaml",
        key="params.link_workers.casload",
        problem=["unknown key 'casload'", "did you mean 'caseload'?"],
        allowed=["keys of link_workers: " + ", ".join(keys)],
    )


def test_real_registry_markdown_lists_every_parameter() -> None:
    reg = _real_registry()
    md = registry_markdown()
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(reg)
    for param in reg.values():
        assert f"### `{param.section}`" in md
    assert all(len(re.split(r"(?<!\\)\|", row)) == 8 for row in rows)  # six cells each


_SHIPPED = sorted(
    p.stem for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml")
)


@pytest.mark.parametrize("name", _SHIPPED)
def test_shipped_scenarios_load(name: str) -> None:
    _real_registry()
    folder = Path(__file__).resolve().parents[1] / "scenarios"
    sc = load_scenario(name, scenarios_dir=folder)
    assert sc.name == name and sc.description
    assert (name, sc.description) in list_scenarios(folder)
