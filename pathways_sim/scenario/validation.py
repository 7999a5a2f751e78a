"""Check parameter values against their declarations, with errors that say how to fix them.

Every value a scenario sets (in a file or through :meth:`Scenario.with_changes
<pathways_sim.scenario.scenario.Scenario.with_changes>`) is checked here against
its :class:`~pathways_sim.scenario.schema.Param` declaration: type, choices and
range, and the ``{value:, source:}`` form. Problems raise
:class:`~pathways_sim.scenario.errors.ScenarioError` naming the file, the key
path, the problem and what is allowed, with hints for YAML's common surprises
(quoted numbers, ``1e3`` read as text, ``yes``/``no`` read as booleans).

This module also checks a registry itself and builds the registry-default
values every scenario starts from. It depends only on the schema and errors
modules, so both :mod:`pathways_sim.scenario.scenario` and
:mod:`pathways_sim.scenario.loader` can use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pathways_sim.scenario.errors import ScenarioError, clip, did_you_mean
from pathways_sim.scenario.inputs import show
from pathways_sim.scenario.schema import Param

Scalar = bool | int | float | str
"""The type of every parameter value."""

Registry = Mapping[str, Param]
"""Parameter declarations keyed by dotted path."""

OVERRIDE = "<override>"
"""File label used for changes made with
:meth:`~pathways_sim.scenario.scenario.Scenario.with_changes`."""

REGISTRY_LABEL = "<registry>"
"""File label used when a registry default fails its own declaration."""

DEFAULT = "default"
"""``set_by`` value for parameters no scenario in the chain sets."""

VALUE_SPEC_KEYS = ("value", "source")

_ALLOWED_VALUE_SPEC = "a plain value, or a mapping with exactly the keys 'value' and 'source'"
_ALLOWED_SOURCE = "non-empty text: a citation of docs/evidence.md §E<n> or 'assumption: <reason>'"
_KIND_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "choice": "one of the choices",
}


def describe(value: object) -> str:
    """A value as YAML would show it, with its YAML type in words (long text shortened)."""
    return show(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def unsourced(file_name: str, param: Param) -> str:
    """The source recorded for a value a file sets without one (the registry's source)."""
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
            f"got {describe(raw)}{hint}",
            allowed,
        )

    if param.kind == "bool":
        if not isinstance(raw, bool):
            hint = ""
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                hint = " (remove the quotes)"
            elif isinstance(raw, str) and raw.lower() in ("yes", "no", "on", "off", "y", "n"):
                hint = " (YAML 1.2 has only true and false)"
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
                hint = " (put it in quotes: YAML reads true and false as booleans)"
            raise wrong_type(hint)
        if raw not in choices:
            raise ScenarioError(
                file,
                key,
                f"{clip(repr(raw))} is not one of the choices{did_you_mean(raw, choices)}",
                allowed,
            )
        return raw
    # int and float
    is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
    if not is_number or (param.kind == "int" and isinstance(raw, float)):
        hint = ""
        if isinstance(raw, str) and _looks_numeric(raw):
            hint = " (YAML read it as text: remove any quotes and digit separators)"
        elif isinstance(raw, str) and ":" in raw and _looks_numeric(raw.replace(":", "")):
            hint = " (YAML 1.2 reads 1:20 as text, not a base-60 number)"
        elif isinstance(raw, float) and raw.is_integer():
            hint = " (write it without a decimal point or exponent)"
        raise wrong_type(hint)
    assert isinstance(raw, int | float)
    value: int | float = float(raw) if param.kind == "float" else raw
    if isinstance(value, float) and math.isnan(value):
        raise ScenarioError(file, key, "not-a-number (.nan) is not a valid value", allowed)
    if (param.low is not None and value < param.low) or (
        param.high is not None and value > param.high
    ):
        raise ScenarioError(file, key, f"value {clip(repr(raw))} is out of range", allowed)
    return value


def parse_setting(raw: object, param: Param, file: str, key: str) -> tuple[Scalar, str | None]:
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
            f"source must be non-empty text, got {describe(source)}",
            _ALLOWED_SOURCE,
        )
    return _check_value(param, raw["value"], file, f"{key}.value"), source.strip()


REFERRAL_SHARE_PREFIX = "referrals.share_"
"""Parameters whose values are relative weights of the referral sources."""


def check_consistency(values: Mapping[str, Scalar], registry: Registry, file: str,
                      key_prefix: str = "") -> None:
    """Check rules that tie several parameters together (each value is valid on its own).

    Args:
        values: Every resolved value, by dotted path.
        registry: The declarations.
        file: File label for errors.
        key_prefix: Prefix of key paths in messages (``"params."`` for a file).

    Raises:
        ScenarioError: Every referral share is 0 (the referrals would have no source).
    """
    shares = [path for path in registry if path.startswith(REFERRAL_SHARE_PREFIX)]
    if shares and all(values.get(path) == 0 for path in shares):
        names = ", ".join(path.removeprefix("referrals.") for path in shares)
        raise ScenarioError(
            file,
            f"{key_prefix}referrals",
            f"every referral share ({names}) is 0: referrals would have no source and "
            "every outcome would be n/a",
            "at least one referral share above 0 (shares are relative weights)",
        )


def registry_sections(registry: Registry) -> dict[str, list[str]]:
    """Section -> keys, in registry order."""
    sections: dict[str, list[str]] = {}
    for path in registry:
        section, key = path.split(".", 1)
        sections.setdefault(section, []).append(key)
    return sections


def lookup_override_path(path: object, registry: Registry) -> Param:
    """The declaration for a dotted path given to ``with_changes``."""
    if isinstance(path, str) and path in registry:
        return registry[path]
    text = str(path)
    sections = registry_sections(registry)
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


def registry_defaults(
    registry: Registry,
) -> tuple[dict[str, Scalar], dict[str, str], dict[str, str]]:
    """Check a registry and return its defaults as ``(values, sources, set_by)``.

    Raises:
        ValueError, ScenarioError: As :func:`check_registry`.
    """
    check_registry(registry)
    values = {
        path: _check_value(p, p.default, REGISTRY_LABEL, path) for path, p in registry.items()
    }
    sources = {path: p.source for path, p in registry.items()}
    set_by = dict.fromkeys(registry, DEFAULT)
    return values, sources, set_by
