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
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from pathways_sim.scenario.errors import ScenarioError, did_you_mean
from pathways_sim.scenario.schema import Param

Scalar = bool | int | float | str
"""The type of every parameter value."""

Registry = Mapping[str, Param]
"""Parameter declarations keyed by dotted path."""

ENV_VAR = "PATHWAYS_SIM_SCENARIOS"
"""Environment variable that overrides the default scenarios folder."""

OVERRIDE = "<override>"
"""File label used for changes made with :meth:`Scenario.with_changes`."""

REGISTRY_LABEL = "<registry>"
"""File label used when a registry default fails its own declaration."""

DEFAULT = "default"
"""``set_by`` value for parameters no scenario in the chain sets."""

TOP_LEVEL_KEYS = ("description", "title", "base", "params")
VALUE_SPEC_KEYS = ("value", "source")

_ALLOWED_TOP = "a mapping with keys " + ", ".join(TOP_LEVEL_KEYS) + " (description required)"
_ALLOWED_DESCRIPTION = "non-empty text: one paragraph saying what the scenario represents"
_ALLOWED_VALUE_SPEC = "a plain value, or a mapping with exactly the keys 'value' and 'source'"
_ALLOWED_SOURCE = "non-empty text: a citation from shared/evidence or 'assumption: <reason>'"
_KIND_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "choice": "one of the choices",
}


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


# --------------------------------------------------------------------------- Scenario


class ParamNamespace:
    """Read-only attribute access to nested values: ``sc.ns.link_workers.caseload``.

    Also supports ``ns["link_workers"]``, ``"link_workers" in ns``, iteration
    over names and ``dir()``.
    """

    __slots__ = ("_items", "_where")

    def __init__(self, items: Mapping[str, Any], where: str) -> None:
        object.__setattr__(self, "_items", MappingProxyType(dict(items)))
        object.__setattr__(self, "_where", where)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(
                f"{self._where} has no {name!r}{did_you_mean(name, self._items)}"
            ) from None

    def __getitem__(self, name: str) -> Any:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __dir__(self) -> list[str]:
        return list(self._items)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(
            f"scenario values are read-only (tried to set {name!r} on {self._where}); "
            "use Scenario.with_changes()"
        )

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"scenario values are read-only (tried to delete {name!r})")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._items.items())
        return f"ParamNamespace({self._where}: {inner})"


@dataclass(frozen=True)
class Scenario:
    """A fully resolved, validated and immutable set of parameter values.

    Build one with :func:`load_scenario`, :func:`default_scenario` or
    :meth:`with_changes`; do not construct it directly.

    Attributes:
        name: Scenario name (the file's stem, or the name given to ``with_changes``).
        description: One paragraph saying what the scenario represents.
        title: Optional short title from the file, else None.
        chain: Files applied, first base first, this scenario's file last
            (``"<override>"`` for ``with_changes``). Empty for the defaults.
        values: Read-only mapping path -> value, for every registry parameter.
        sources: Read-only mapping path -> source of the current value.
        set_by: Read-only mapping path -> scenario name that last set it, or ``"default"``.
        registry: The declarations the values were validated against.
    """

    name: str
    description: str
    title: str | None
    chain: tuple[str, ...]
    values: Mapping[str, Scalar]
    sources: Mapping[str, str]
    set_by: Mapping[str, str]
    registry: Registry = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        for attr in ("values", "sources", "set_by"):
            object.__setattr__(self, attr, MappingProxyType(dict(getattr(self, attr))))
        object.__setattr__(self, "chain", tuple(self.chain))

    def __hash__(self) -> int:
        return hash((self.name, self.chain, tuple(self.values.items())))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # MappingProxyType cannot be pickled: rebuild from plain dicts (multiprocessing, xdist).
        return (
            Scenario,
            (
                self.name,
                self.description,
                self.title,
                self.chain,
                dict(self.values),
                dict(self.sources),
                dict(self.set_by),
                dict(self.registry),
            ),
        )

    def __repr__(self) -> str:
        return (
            f"Scenario(name={self.name!r}, chain={list(self.chain)!r}, "
            f"changed_from_defaults={len(self.changed_from_defaults())})"
        )

    def __getitem__(self, path: str) -> Scalar:
        """The value of one parameter by dotted path.

        Raises:
            KeyError: The path is not a registry parameter.
        """
        try:
            return self.values[path]
        except KeyError:
            raise KeyError(f"unknown parameter {path!r}{did_you_mean(path, self.values)}") from None

    @cached_property
    def ns(self) -> ParamNamespace:
        """Nested read-only attribute namespace, e.g. ``sc.ns.link_workers.caseload``."""
        sections: dict[str, dict[str, Scalar]] = {}
        for path, value in self.values.items():
            section, key = path.split(".", 1)
            sections.setdefault(section, {})[key] = value
        return ParamNamespace(
            {s: ParamNamespace(keys, f"section {s!r}") for s, keys in sections.items()},
            f"scenario {self.name!r}",
        )

    def with_changes(self, changes: Mapping[str, Any], name: str | None = None) -> Scenario:
        """A new scenario with some values changed, validated like a scenario file.

        Args:
            changes: Dotted path -> value, or -> ``{"value": v, "source": "..."}``.
            name: Name of the new scenario; defaults to ``"<name>+override"``.
                Also recorded in ``set_by`` for the changed paths (``"<override>"``
                when no name is given).

        Returns:
            The new scenario; ``chain`` gains a final ``"<override>"`` entry.

        Raises:
            ScenarioError: Unknown path or invalid value (file reported as ``"<override>"``).
        """
        values = dict(self.values)
        sources = dict(self.sources)
        set_by = dict(self.set_by)
        setter = name or OVERRIDE
        for path, raw in changes.items():
            param = _lookup_override_path(path, self.registry)
            value, source = _parse_setting(raw, param, OVERRIDE, path)
            values[path] = value
            set_by[path] = setter
            sources[path] = source if source is not None else _unsourced(OVERRIDE, param)
        return Scenario(
            name=name or f"{self.name}+override",
            description=self.description,
            title=self.title,
            chain=(*self.chain, OVERRIDE) if changes else self.chain,
            values=values,
            sources=sources,
            set_by=set_by,
            registry=self.registry,
        )

    def changed_from_defaults(self) -> dict[str, Scalar]:
        """Parameters whose value differs from the registry default.

        Returns:
            Path -> value, in registry order.
        """
        return {
            path: value
            for path, value in self.values.items()
            if path in self.registry and value != self.registry[path].default
        }

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable description for run manifests.

        Returns:
            ``{"name", "title", "description", "chain", "params", "sources", "set_by"}``
            where ``params``, ``sources`` and ``set_by`` are nested
            ``{section: {key: ...}}`` dicts.
        """
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "chain": list(self.chain),
            "params": _nest(self.values),
            "sources": _nest(self.sources),
            "set_by": _nest(self.set_by),
        }


def _nest(flat: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for path, value in flat.items():
        section, key = path.split(".", 1)
        nested.setdefault(section, {})[key] = value
    return nested


def diff_scenarios(a: Scenario, b: Scenario) -> list[tuple[str, Scalar | None, Scalar | None]]:
    """Parameters whose values differ between two scenarios.

    Args:
        a: First scenario.
        b: Second scenario.

    Returns:
        ``(path, a_value, b_value)`` for each differing path, in ``a``'s registry
        order then any paths only ``b`` has; a path missing from one side has None.
    """
    paths = [*a.values, *(p for p in b.values if p not in a.values)]
    out: list[tuple[str, Scalar | None, Scalar | None]] = []
    for path in paths:
        va, vb = a.values.get(path), b.values.get(path)
        if va != vb or type(va) is not type(vb):
            out.append((path, va, vb))
    return out


# --------------------------------------------------------------------------- validation


def _describe(value: object) -> str:
    """A value as YAML would show it, with its YAML type in words."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    if isinstance(value, int):
        return f"{value} (integer)"
    if isinstance(value, float):
        return f"{value!r} (number)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unsourced(file_name: str, param: Param) -> str:
    return f"{file_name}: set without a source; registry: {param.source}"


def _check_value(param: Param, raw: object, file: str, key: str) -> Scalar:
    """Check one raw value against its declaration and return it in its stored type.

    Args:
        param: The declaration.
        raw: The value as loaded from YAML (or given in code).
        file: File label for errors.
        key: Key path for errors.

    Returns:
        The value; ``float`` parameters are converted to ``float``.

    Raises:
        ScenarioError: Wrong type, not one of the choices, NaN, or out of range.
    """
    allowed = param.allowed()

    def wrong_type(hint: str = "") -> ScenarioError:
        return ScenarioError(
            file,
            key,
            f"wrong type: expected {_KIND_WORDS[param.kind]} ({param.kind}), "
            f"got {_describe(raw)}{hint}",
            allowed,
        )

    if param.kind == "bool":
        if not isinstance(raw, bool):
            hint = ""
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                hint = " (remove the quotes)"
            raise wrong_type(hint)
        return raw
    if param.kind == "str":
        if not isinstance(raw, str):
            raise wrong_type(" (put it in quotes to make it text)")
        return raw
    if param.kind == "choice":
        choices = param.choices or ()
        if not isinstance(raw, str):
            hint = ""
            spelled = str(raw).lower()
            if any(spelled == c.lower() for c in choices) or isinstance(raw, bool):
                hint = " (put it in quotes: YAML reads yes/no/on/off/true/false as booleans)"
            raise wrong_type(hint)
        if raw not in choices:
            raise ScenarioError(
                file, key, f"{raw!r} is not one of the choices{did_you_mean(raw, choices)}", allowed
            )
        return raw
    # int and float
    is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
    if not is_number or (param.kind == "int" and isinstance(raw, float)):
        hint = ""
        if isinstance(raw, str) and _looks_numeric(raw):
            hint = (
                " (YAML read it as text: remove any quotes, and write exponents with a "
                "decimal point, e.g. 1.0e+3 not 1e3)"
            )
        elif isinstance(raw, float) and raw.is_integer():
            hint = " (write it without a decimal point)"
        raise wrong_type(hint)
    assert isinstance(raw, int | float)
    value: int | float = float(raw) if param.kind == "float" else raw
    if isinstance(value, float) and math.isnan(value):
        raise ScenarioError(file, key, "not-a-number (.nan) is not a valid value", allowed)
    if (param.low is not None and value < param.low) or (
        param.high is not None and value > param.high
    ):
        raise ScenarioError(file, key, f"value {raw!r} is out of range", allowed)
    return value


def _parse_setting(raw: object, param: Param, file: str, key: str) -> tuple[Scalar, str | None]:
    """Parse a plain value or a ``{value:, source:}`` mapping.

    Returns:
        ``(value, source)``; source is None for a plain value.

    Raises:
        ScenarioError: Bad mapping shape, bad source or bad value.
    """
    if not isinstance(raw, Mapping):
        return _check_value(param, raw, file, key), None
    extra = [str(k) for k in raw if k not in VALUE_SPEC_KEYS]
    if extra:
        listed = ", ".join(repr(k) for k in extra)
        raise ScenarioError(
            file,
            key,
            f"unexpected key(s) {listed} in a value-with-source mapping"
            f"{did_you_mean(extra[0], VALUE_SPEC_KEYS)}",
            _ALLOWED_VALUE_SPEC,
        )
    missing = [k for k in VALUE_SPEC_KEYS if k not in raw]
    if missing:
        listed = " and ".join(repr(k) for k in missing)
        raise ScenarioError(
            file, key, f"value-with-source mapping is missing {listed}", _ALLOWED_VALUE_SPEC
        )
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise ScenarioError(
            file,
            f"{key}.source",
            f"source must be non-empty text, got {_describe(source)}",
            _ALLOWED_SOURCE,
        )
    return _check_value(param, raw["value"], file, f"{key}.value"), source.strip()


def _sections(registry: Registry) -> dict[str, list[str]]:
    """Section -> keys, in registry order."""
    sections: dict[str, list[str]] = {}
    for path in registry:
        section, key = path.split(".", 1)
        sections.setdefault(section, []).append(key)
    return sections


def _lookup_override_path(path: object, registry: Registry) -> Param:
    """The declaration for a dotted path given to ``with_changes``."""
    if isinstance(path, str) and path in registry:
        return registry[path]
    text = str(path)
    sections = _sections(registry)
    section, _, key = text.partition(".")
    if section in sections and key:
        problem = (
            f"unknown key {key!r} in section {section!r}{did_you_mean(key, sections[section])}"
        )
        allowed = f"keys of {section}: " + ", ".join(sections[section])
    else:
        problem = f"unknown parameter {text!r}{did_you_mean(text, registry)}"
        allowed = "a dotted path section.key; sections: " + ", ".join(sections)
    raise ScenarioError(OVERRIDE, text, problem, allowed)


def check_registry(registry: Registry) -> None:
    """Check that a registry is well formed.

    Args:
        registry: Path -> declaration.

    Raises:
        ValueError: A key differs from its ``Param.path``, or a path is not ``section.key``.
        ScenarioError: A default fails its own declaration (file ``"<registry>"``).
    """
    for path, param in registry.items():
        if path != param.path:
            raise ValueError(f"registry key {path!r} differs from its Param.path {param.path!r}")
        parts = path.split(".")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"parameter path {path!r} must be exactly 'section.key'")
        _check_value(param, param.default, REGISTRY_LABEL, path)


def _registry_defaults(
    registry: Registry,
) -> tuple[dict[str, Scalar], dict[str, str], dict[str, str]]:
    check_registry(registry)
    values = {
        path: _check_value(p, p.default, REGISTRY_LABEL, path) for path, p in registry.items()
    }
    sources = {path: p.source for path, p in registry.items()}
    set_by = dict.fromkeys(registry, DEFAULT)
    return values, sources, set_by


# --------------------------------------------------------------------------- YAML reading


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping in the file repeats a key."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects repeated keys instead of keeping the last."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:  # ``<<: *anchor`` keys may be overridden
            continue
        key = loader.construct_object(key_node)
        try:
            seen = key in first_line
        except TypeError:  # unhashable key: let construct_mapping report it
            continue
        if seen:
            raise _DuplicateKeyError(
                None,
                None,
                f"duplicate key {key!r} (first set at line {first_line[key] + 1})",
                key_node.start_mark,
            )
        first_line[key] = key_node.start_mark.line
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(path: Path) -> object:
    """Read and parse one file.

    Raises:
        ScenarioError: Missing or unreadable file, or invalid YAML.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            file, None, "scenario file not found", "a path to an existing .yaml file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, None, f"cannot read file: {exc}", "a UTF-8 text file") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        allowed = (
            "each key at most once in a mapping"
            if isinstance(exc, _DuplicateKeyError)
            else f"valid YAML: {_ALLOWED_TOP}"
        )
        raise ScenarioError(file, None, f"invalid YAML{where}: {problem}", allowed) from None


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
    doc = _load_yaml(path)
    if doc is None:
        raise ScenarioError(file, None, "file is empty", _ALLOWED_TOP)
    if not isinstance(doc, dict):
        raise ScenarioError(
            file, None, f"top level must be a mapping of keys, got {_describe(doc)}", _ALLOWED_TOP
        )
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            text = str(key)
            raise ScenarioError(
                file,
                text,
                f"unknown top-level key {text!r}{did_you_mean(text, TOP_LEVEL_KEYS)}",
                ", ".join(TOP_LEVEL_KEYS),
            )
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
                f"must be non-empty text, got {_describe(value)}",
                _ALLOWED_DESCRIPTION if key == "description" else "non-empty text",
            )
        doc[key] = _one_paragraph(value)
    return doc


def _is_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


def _available(scenarios_dir: Path) -> list[str]:
    if not scenarios_dir.is_dir():
        return []
    return sorted(p.stem for p in scenarios_dir.glob("*.yaml") if p.is_file())


def _available_text(scenarios_dir: Path) -> str:
    names = _available(scenarios_dir)
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
            file, "base", f"must be a name, a path or a list, got {_describe(raw)}", allowed
        )
    resolved: list[tuple[str, Path]] = []
    for key, ref in entries:
        if not isinstance(ref, str) or not ref.strip():
            raise ScenarioError(
                file, key, f"must be a name or a path, got {_describe(ref)}", allowed
            )
        if _is_path(ref):
            target = Path(os.path.normpath(path.parent / ref))
            if not target.is_file():
                raise ScenarioError(
                    file, key, f"base file {ref!r} not found (looked for {target})", allowed
                )
        else:
            target = scenarios_dir / f"{ref}.yaml"
            if not target.is_file():
                names = _available(scenarios_dir)
                raise ScenarioError(
                    file,
                    key,
                    f"unknown base scenario {ref!r}{did_you_mean(ref, names)}",
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
    sections = _sections(registry)
    if not isinstance(raw, dict):
        raise ScenarioError(
            file,
            "params",
            f"must be a mapping of section -> key -> value, got {_describe(raw)}",
            "sections: " + ", ".join(sections),
        )
    settings: list[_Setting] = []
    for section, entries in raw.items():
        section_text = str(section)
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
                f"must be a mapping of key -> value, got {_describe(entries)}",
                f"keys of {section}: " + ", ".join(keys),
            )
        for key, value in entries.items():
            key_text = str(key)
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
            checked, source = _parse_setting(value, registry[dotted], file, key_path)
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
    if isinstance(name_or_path, os.PathLike) or _is_path(str(name_or_path)):
        path = Path(os.path.normpath(name_or_path))
        if not path.is_file():
            raise ScenarioError(
                str(path),
                None,
                "scenario file not found",
                f"an existing .yaml file, or a scenario name: {_available_text(scenarios_dir)}",
            )
        return path
    name = str(name_or_path)
    path = scenarios_dir / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(
            str(path),
            None,
            f"unknown scenario {name!r}{did_you_mean(name, _available(scenarios_dir))}",
            f"scenario names: {_available_text(scenarios_dir)}",
        )
    return path


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
    values, sources, set_by = _registry_defaults(registry)
    layers = _linearize(_locate(name_or_path, sdir), registry, sdir)
    for layer in layers:
        for s in layer.settings:
            values[s.path] = s.value
            set_by[s.path] = layer.name
            sources[s.path] = s.source or _unsourced(layer.file.name, registry[s.path])
    top = layers[-1]
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
    values, sources, set_by = _registry_defaults(registry)
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
    return [(name, _parse_top(sdir / f"{name}.yaml")["description"]) for name in _available(sdir)]
