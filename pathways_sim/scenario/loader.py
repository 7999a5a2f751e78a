"""Load scenario files into validated, immutable :class:`Scenario` objects.

A scenario file is YAML::

    description: "One paragraph saying what this scenario represents"
    title: "Optional short title"
    base: medium            # or [medium, high_demand], applied in order
    params:
      link_workers:
        caseload: 35
        work_awareness: {value: 0.8, source: "Work Foundation 2019: ..."}

``base`` entries are scenario names (``<scenarios_dir>/<name>.yaml``) or paths
relative to the file that names them. Resolution starts from the registry
defaults, applies every base (recursively resolved, depth first, each file at
most once, first occurrence kept) in order, then the file's own ``params``.
Every value is checked against its :class:`~pathways_sim.scenario.schema.Param`
declaration; any problem raises :class:`~pathways_sim.scenario.errors.ScenarioError`
naming the file, the key path, the problem and what is allowed.

This module reads files (strict YAML: repeated keys are errors), checks their
top level, locates bases and composes them. Checking single values lives in
:mod:`pathways_sim.scenario.validation`; the resulting object in
:mod:`pathways_sim.scenario.scenario`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathways_sim.scenario.errors import ScenarioError, clip, did_you_mean
from pathways_sim.scenario.inputs import (
    FileKind,
    is_file,
    is_path,
    locate,
    names_in,
    read_mapping,
)
from pathways_sim.scenario.scenario import Scenario
from pathways_sim.scenario.validation import (
    DEFAULT,
    Registry,
    Scalar,
    check_consistency,
    check_registry,
    describe,
    parse_setting,
    registry_defaults,
    registry_sections,
    unsourced,
)

__all__ = [
    "ENV_VAR",
    "Scenario",
    "check_registry",
    "default_registry",
    "default_scenario",
    "default_scenarios_dir",
    "list_scenarios",
    "load_scenario",
]

ENV_VAR = "PATHWAYS_SIM_SCENARIOS"
"""Environment variable that overrides the default scenarios folder."""

TOP_LEVEL_KEYS = ("description", "title", "base", "params")

MAX_BASE_DEPTH = 32
"""Longest chain of bases (a scenario, its base, that one's base, ...)."""

_ALLOWED_TOP = "a mapping with keys " + ", ".join(TOP_LEVEL_KEYS) + " (description required)"
_ALLOWED_DESCRIPTION = "non-empty text: one paragraph saying what the scenario represents"


# --------------------------------------------------------------------------- defaults


def default_registry() -> Registry:
    """The project's parameter registry (imported lazily).

    Returns:
        ``pathways_sim.scenario.registry.REGISTRY``.
    """
    from pathways_sim.scenario.registry import REGISTRY

    return REGISTRY


def default_scenarios_dir() -> Path:
    """The folder scenario names resolve against.

    Returns:
        ``$PATHWAYS_SIM_SCENARIOS`` when set, else the repository's top-level
        ``scenarios/`` folder.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "scenarios"


# --------------------------------------------------------------------------- reading


SCENARIO = FileKind("scenario", ScenarioError, TOP_LEVEL_KEYS, ("description",))
"""Scenario files, read by :mod:`pathways_sim.scenario.inputs` (``description`` is
checked here, with its own allowed text)."""


def _one_paragraph(text: str) -> str:
    return " ".join(text.split())


def _parse_top(path: Path) -> dict[str, Any]:
    """Load a file and check its top level: mapping, known keys, description, title.

    Returns:
        The parsed mapping, with ``description`` (and ``title``) normalised.

    Raises:
        ScenarioError: Any problem with the file or its top level.
    """
    file = str(path)
    doc = read_mapping(path, SCENARIO, check_required=False)
    if "description" not in doc:
        raise ScenarioError(file, "description", "missing required key", _ALLOWED_DESCRIPTION)
    for key in ("description", "title"):
        if key not in doc:
            continue
        value = doc[key]
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(
                file,
                key,
                f"must be non-empty text, got {describe(value)}",
                _ALLOWED_DESCRIPTION if key == "description" else "non-empty text",
            )
        doc[key] = _one_paragraph(value)
    return doc


def _available_text(scenarios_dir: Path) -> str:
    names = names_in(scenarios_dir)
    return ", ".join(names) if names else f"none (no .yaml files in {scenarios_dir})"


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class _Setting:
    path: str
    value: Scalar
    source: str | None


@dataclass(frozen=True)
class _Layer:
    """One parsed and validated file."""

    file: Path
    name: str
    description: str
    title: str | None
    bases: tuple[tuple[str, Path], ...]  # (key path as written, e.g. "base[1]"; file)
    settings: tuple[_Setting, ...]


def _parse_bases(doc: Mapping[str, Any], path: Path, scenarios_dir: Path) -> list[tuple[str, Path]]:
    if "base" not in doc:
        return []
    file = str(path)
    allowed = (
        "a scenario name, a path relative to this file, or a list of them; "
        f"scenario names: {_available_text(scenarios_dir)}"
    )
    raw = doc["base"]
    if isinstance(raw, str):
        entries = [("base", raw)]
    elif isinstance(raw, list):
        if not raw:
            raise ScenarioError(file, "base", "empty list (omit base for no base)", allowed)
        entries = [(f"base[{i}]", ref) for i, ref in enumerate(raw)]
    else:
        raise ScenarioError(
            file, "base", f"must be a name, a path or a list, got {describe(raw)}", allowed
        )
    resolved: list[tuple[str, Path]] = []
    for key, ref in entries:
        if not isinstance(ref, str) or not ref.strip():
            raise ScenarioError(
                file, key, f"must be a name or a path, got {describe(ref)}", allowed
            )
        if is_path(ref):
            target = Path(os.path.normpath(path.parent / ref))
            if not is_file(target):
                raise ScenarioError(
                    file, key, f"base file {clip(ref)!r} not found (looked for {target})",
                    allowed,
                )
        else:
            target = scenarios_dir / f"{ref}.yaml"
            if not is_file(target):
                names = names_in(scenarios_dir)
                raise ScenarioError(
                    file,
                    key,
                    f"unknown base scenario {clip(ref)!r}{did_you_mean(ref, names)}",
                    f"scenario names: {_available_text(scenarios_dir)}, "
                    "or a path relative to this file",
                )
        resolved.append((key, target))
    return resolved


def _parse_params(doc: Mapping[str, Any], path: Path, registry: Registry) -> list[_Setting]:
    raw = doc.get("params")
    if raw is None:
        return []
    file = str(path)
    sections = registry_sections(registry)
    if not isinstance(raw, dict):
        raise ScenarioError(
            file,
            "params",
            f"must be a mapping of section -> key -> value, got {describe(raw)}",
            "sections: " + ", ".join(sections),
        )
    settings: list[_Setting] = []
    for section, entries in raw.items():
        section_text = clip(str(section))
        section_key = f"params.{section_text}"
        if section_text not in sections or not isinstance(section, str):
            raise ScenarioError(
                file,
                section_key,
                f"unknown section {section_text!r}{did_you_mean(section_text, sections)}",
                "sections: " + ", ".join(sections),
            )
        keys = sections[section]
        if not isinstance(entries, dict):
            raise ScenarioError(
                file,
                section_key,
                f"must be a mapping of key -> value, got {describe(entries)}",
                f"keys of {section}: " + ", ".join(keys),
            )
        for key, value in entries.items():
            key_text = clip(str(key))
            dotted = f"{section}.{key_text}"
            key_path = f"params.{dotted}"
            if not isinstance(key, str) or dotted not in registry:
                hint = did_you_mean(key_text, keys)
                if not hint:
                    elsewhere = [s for s, ks in sections.items() if key_text in ks]
                    if elsewhere:
                        hint = f" (did you mean 'params.{elsewhere[0]}.{key_text}'?)"
                raise ScenarioError(
                    file,
                    key_path,
                    f"unknown key {key_text!r} in section {section!r}{hint}",
                    f"keys of {section}: " + ", ".join(keys),
                )
            checked, source = parse_setting(value, registry[dotted], file, key_path)
            settings.append(_Setting(dotted, checked, source))
    return settings


def _read_layer(path: Path, registry: Registry, scenarios_dir: Path) -> _Layer:
    doc = _parse_top(path)
    return _Layer(
        file=path,
        name=path.stem,
        description=doc["description"],
        title=doc.get("title"),
        bases=tuple(_parse_bases(doc, path, scenarios_dir)),
        settings=tuple(_parse_params(doc, path, registry)),
    )


def _linearize(top: Path, registry: Registry, scenarios_dir: Path) -> list[_Layer]:
    """All layers to apply, bases first (depth first, each file once, first kept)."""
    cache: dict[Path, _Layer] = {}

    def visit(path: Path, stack: list[tuple[Path, str]]) -> list[_Layer]:
        ident = path.resolve()
        if ident not in cache:
            cache[ident] = _read_layer(path, registry, scenarios_dir)
        layer = cache[ident]
        if len(stack) >= MAX_BASE_DEPTH:
            raise ScenarioError(
                str(layer.file),
                "base",
                f"bases nested more than {MAX_BASE_DEPTH} files deep",
                f"a chain of at most {MAX_BASE_DEPTH} scenarios",
            )
        stack = [*stack, (ident, layer.name)]
        order: list[_Layer] = []
        for key, base in layer.bases:
            base_ident = base.resolve()
            if any(base_ident == seen for seen, _ in stack):
                names = [name for _, name in stack] + [base.stem]
                raise ScenarioError(
                    str(layer.file),
                    key,
                    "cycle in bases: " + " -> ".join(names),
                    "bases that do not lead back to a scenario already in the chain",
                )
            order.extend(visit(base, stack))
        order.append(layer)
        return order

    unique: list[_Layer] = []
    seen: set[Path] = set()
    for layer in visit(top, []):
        ident = layer.file.resolve()
        if ident not in seen:
            seen.add(ident)
            unique.append(layer)
    return unique


# --------------------------------------------------------------------------- public API


def _locate(name_or_path: str | os.PathLike[str], scenarios_dir: Path) -> Path:
    return locate(name_or_path, scenarios_dir, SCENARIO)


def load_scenario(
    name_or_path: str | os.PathLike[str],
    *,
    scenarios_dir: str | os.PathLike[str] | None = None,
    registry: Registry | None = None,
) -> Scenario:
    """Load, validate and resolve a scenario.

    Args:
        name_or_path: A scenario name (``<scenarios_dir>/<name>.yaml``) or a path
            (anything containing ``/`` or ending ``.yaml``/``.yml``, or a ``Path``).
        scenarios_dir: Folder names resolve against; default
            :func:`default_scenarios_dir`.
        registry: Parameter declarations; default the project registry.

    Returns:
        The resolved scenario: registry defaults, then each base in order, then the file.

    Raises:
        ScenarioError: Any problem in any file of the chain.
    """
    registry = default_registry() if registry is None else registry
    sdir = default_scenarios_dir() if scenarios_dir is None else Path(scenarios_dir)
    values, sources, set_by = registry_defaults(registry)
    layers = _linearize(_locate(name_or_path, sdir), registry, sdir)
    for layer in layers:
        for s in layer.settings:
            values[s.path] = s.value
            set_by[s.path] = layer.name
            sources[s.path] = s.source or unsourced(layer.file.name, registry[s.path])
    top = layers[-1]
    check_consistency(values, registry, str(top.file), "params.")
    return Scenario(
        name=top.name,
        description=top.description,
        title=top.title,
        chain=tuple(str(layer.file) for layer in layers),
        values=values,
        sources=sources,
        set_by=set_by,
        registry=registry,
    )


def default_scenario(registry: Registry | None = None) -> Scenario:
    """The scenario with every parameter at its registry default.

    Args:
        registry: Parameter declarations; default the project registry.

    Returns:
        A scenario named ``"default"`` with an empty chain.
    """
    registry = default_registry() if registry is None else registry
    values, sources, set_by = registry_defaults(registry)
    return Scenario(
        name=DEFAULT,
        description="Registry defaults: no scenario file applied.",
        title=None,
        chain=(),
        values=values,
        sources=sources,
        set_by=set_by,
        registry=registry,
    )


def list_scenarios(
    scenarios_dir: str | os.PathLike[str] | None = None,
) -> list[tuple[str, str]]:
    """The scenarios available by name.

    Only the top level of each file is checked (bases and params are not).

    Args:
        scenarios_dir: Folder to list; default :func:`default_scenarios_dir`.

    Returns:
        ``(name, description)`` pairs sorted by name.

    Raises:
        ScenarioError: The folder does not exist, or a file's top level is invalid.
    """
    sdir = default_scenarios_dir() if scenarios_dir is None else Path(scenarios_dir)
    if not sdir.is_dir():
        raise ScenarioError(
            str(sdir),
            None,
            "scenarios folder not found",
            f"an existing folder (pass scenarios_dir or set {ENV_VAR})",
        )
    return [(name, _parse_top(sdir / f"{name}.yaml")["description"]) for name in names_in(sdir)]
