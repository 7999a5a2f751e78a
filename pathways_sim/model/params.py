"""Parameters as typed, read-only views: one frozen dataclass per registry section.

The model reads every parameter in its weekly hot path, so the views are plain slotted
dataclasses (attribute access as fast as a namespace), built once per set of keys. Each
process (:mod:`pathways_sim.model.process`) sees only the sections it declares, through
:meth:`Params.only`: reading a section a process did not declare is an error, so a
process's ``SECTIONS`` is the true list of what it reads.
"""

from __future__ import annotations

from dataclasses import make_dataclass
from functools import cache

_TYPES = {"int": int, "float": float, "bool": bool, "choice": str, "str": str}


@cache
def section_type(section: str, fields: tuple[tuple[str, type], ...]) -> type:
    """The frozen dataclass of one section with these typed fields (cached: built once)."""
    name = "".join(w.capitalize() for w in section.split("_")) + "Params"
    return make_dataclass(name, list(fields), frozen=True, slots=True)


class Params:
    """The scenario's parameters: one typed, frozen section view per attribute.

    ``p.link_workers.caseload`` reads a value; nothing can be set.
    """

    def __init__(self, sections: dict[str, object]) -> None:
        for name, view in sections.items():
            object.__setattr__(self, name, view)

    @classmethod
    def of(cls, scenario) -> Params:
        """The parameters of a resolved scenario, typed by its registry."""
        values: dict[str, dict[str, object]] = {}
        for path, value in scenario.values.items():
            section, key = path.split(".", 1)
            values.setdefault(section, {})[key] = value
        sections = {}
        for section, kv in values.items():
            fields = tuple((k, _TYPES.get(scenario.registry[f"{section}.{k}"].kind, object))
                           for k in kv)
            sections[section] = section_type(section, fields)(**kv)
        return cls(sections)

    def only(self, names: tuple[str, ...]) -> Params:
        """A view with only the sections ``names`` (a process's declared parameters)."""
        return Params({n: getattr(self, n) for n in names})

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(vars(self))

    def __getattr__(self, name: str):
        raise AttributeError(f"no parameter section {name!r} in this view "
                             f"(sections: {', '.join(vars(self)) or 'none'})")

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"parameters are read-only (tried to set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"parameters are read-only (tried to delete {name!r})")
