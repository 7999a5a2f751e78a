"""The resolved, frozen :class:`Scenario` and comparisons between scenarios.

A :class:`Scenario` holds one validated value for every registry parameter,
with where each value came from. It is immutable: derive variants with
:meth:`Scenario.with_changes` (validated like a scenario file) and compare
two with :func:`diff_scenarios`. Build one with
:func:`~pathways_sim.scenario.loader.load_scenario` or
:func:`~pathways_sim.scenario.loader.default_scenario`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, NoReturn

from pathways_sim.scenario.errors import did_you_mean
from pathways_sim.scenario.validation import (
    OVERRIDE,
    Registry,
    Scalar,
    check_consistency,
    lookup_override_path,
    parse_setting,
    unsourced,
)


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

    Build one with :func:`~pathways_sim.scenario.loader.load_scenario`,
    :func:`~pathways_sim.scenario.loader.default_scenario` or
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
            param = lookup_override_path(path, self.registry)
            value, source = parse_setting(raw, param, OVERRIDE, path)
            values[path] = value
            set_by[path] = setter
            sources[path] = source if source is not None else unsourced(OVERRIDE, param)
        check_consistency(values, self.registry, OVERRIDE)
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
