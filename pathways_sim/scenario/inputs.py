"""One strict reader for every input file: scenarios, experiments and calibration configs.

Each kind of file is described by a :class:`FileKind` (its name, its error type,
its top-level keys) and read the same way:

1. **Locate** (:func:`locate`): a name resolves to ``<folder>/<name>.yaml``; a
   path (a ``Path``, or text with ``/`` or ending ``.yaml``/``.yml``) is used as
   is. Not found, a folder, or not a regular file: an error naming the file.
2. **Read** (:func:`read_text`): at most :data:`MAX_FILE_BYTES`; an empty file,
   a binary file (NUL bytes) or text that is not UTF-8 is an error naming the
   file.
3. **Parse** (:func:`parse_yaml`) with YAML 1.2 core-schema semantics:

   * only ``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` are
     text); ``1:20`` is text, never the sexagesimal 80; ``1e3`` is a number;
     ``0o17`` and ``0x1F`` are octal and hexadecimal; dates stay text;
   * a repeated key in a mapping is an error (never "last one wins");
   * keys are text; nesting deeper than :data:`MAX_DEPTH` levels, anchors and
     aliases (``&a``, ``*a``) and tags other than the core ones are errors;
   * ``.nan``, ``.inf`` and numbers too large for a float (``1e400``) or for a
     64-bit integer are errors: every number in an input file must be finite.

4. **Check the top level** (:func:`read_mapping`): a mapping, only known keys
   (with a "did you mean"), the required ones present.

CSV tables (the calibration's ``targets.csv`` and ``priors.csv``) are read by
the same :func:`read_text`, then :func:`read_csv_rows` checks the header (known
columns, each once, the required ones present) and each row (as many cells as
the header, no exact duplicate), and :func:`cell_number` and
:func:`cell_integer` read a cell as strictly as the YAML parser reads a number
(no ``inf``, ``nan``, ``1_000`` or numbers too large for a float).

Every problem raises the kind's error type, a subclass of
:class:`~pathways_sim.scenario.errors.ScenarioError` (the command line's exit 2),
naming the file, the dotted key path (``params.link_workers.caseload``,
``checks[0].metric``), the problem and what is allowed. Values echoed in a
message are shortened (:func:`~pathways_sim.scenario.errors.clip`).

Helpers :func:`integer` and :func:`number` check single values with bounds,
and say why a bound exists when it is a size limit rather than a meaning.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from pathways_sim.scenario.errors import ScenarioError, clip, did_you_mean

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_CSV_ROWS",
    "MAX_INT",
    "CsvRow",
    "FileKind",
    "cell_integer",
    "cell_number",
    "file_problem",
    "integer",
    "is_file",
    "is_path",
    "locate",
    "names_in",
    "number",
    "parse_yaml",
    "read_csv_rows",
    "read_mapping",
    "read_text",
    "read_yaml",
    "one_of",
    "show",
    "text",
]

MAX_FILE_BYTES = 1_000_000
"""Largest input file read: scenario, experiment and config files are a few kilobytes."""

MAX_DEPTH = 20
"""Deepest nesting of mappings and lists (the shipped files need at most 4)."""

MAX_INT = 2**63 - 1
"""Largest integer magnitude accepted (64-bit, what numpy and the results files store)."""

MAX_CSV_ROWS = 10_000
"""Most rows of a CSV table (the shipped targets and priors tables have 13 and 14)."""

_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class FileKind:
    """One kind of input file.

    Attributes:
        noun: What the file is called in messages (``"scenario"``).
        error: The error type raised for it (a ``ScenarioError`` subclass).
        keys: Top-level keys allowed, in the order the docs list them.
        required: Top-level keys that must be present.
        format: ``"YAML"`` (keys of a mapping) or ``"CSV"`` (``keys`` are the
            columns of a table, read by :func:`read_csv_rows`).
    """

    noun: str
    error: type[ScenarioError]
    keys: tuple[str, ...]
    required: tuple[str, ...] = ()
    format: str = "YAML"

    @property
    def allowed_top(self) -> str:
        """What the top level may hold, in words."""
        if self.format == "CSV":
            text = "a CSV table with a header naming its columns: " + ", ".join(self.keys)
        else:
            text = "a mapping with keys " + ", ".join(self.keys)
        if len(self.required) == 1:
            text += f" ({self.required[0]} required)"
        elif self.required:
            text += " (required: " + ", ".join(self.required) + ")"
        return text

    def fail(self, file: str | os.PathLike[str] | None, key: str | None, problem: str,
             allowed: str | None = None) -> ScenarioError:
        """The kind's error (to ``raise``)."""
        return self.error(None if file is None else str(file), key, problem, allowed)


# --------------------------------------------------------------------------- locating


def is_path(ref: str) -> bool:
    """True when ``ref`` names a file rather than a name in a folder."""
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


def names_in(folder: Path) -> list[str]:
    """The ``*.yaml`` names in a folder, sorted (none when it is not a folder)."""
    try:
        return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file())
    except OSError:
        return []


def _names_text(folder: Path) -> str:
    names = names_in(folder)
    return ", ".join(names) if names else f"none (no .yaml files in {folder})"


def _stat(path: Path) -> os.stat_result | str:
    """``os.stat`` of ``path``, or why it failed, in words."""
    try:
        return path.stat()
    except FileNotFoundError:
        return "file not found"
    except NotADirectoryError:
        return "file not found (a part of the path is not a folder)"
    except PermissionError:
        return "cannot read the file: permission denied"
    except (OSError, ValueError) as exc:  # name too long, NUL byte, loop of links
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"cannot open the file: {reason}"


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file (in words), or None when it can."""
    st = _stat(path)
    if isinstance(st, str):
        return st
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    return None


def is_file(path: Path) -> bool:
    """True when ``path`` is an existing regular file (never raises, whatever the name)."""
    return file_problem(path) is None


def locate(name_or_path: str | os.PathLike[str], folder: Path, kind: FileKind) -> Path:
    """The file a name or path refers to.

    Args:
        name_or_path: A name (``<folder>/<name>.yaml``) or a path (a ``Path``,
            or text containing ``/`` or ending ``.yaml``/``.yml``).
        folder: Where names resolve.
        kind: The kind of file (for messages and the error type).

    Returns:
        The path of an existing regular file.

    Raises:
        ScenarioError: The kind's error: not found, a folder, not a file.
    """
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or is_path(text):
        path = Path(os.path.normpath(text)) if text else Path(text)
        problem = file_problem(path)
        if problem is not None:
            problem = f"{kind.noun} {problem}" if problem.startswith("file") else problem
            raise kind.fail(path, None, problem,
                            f"a path to an existing .yaml file, or a {kind.noun} name: "
                            f"{_names_text(folder)}")
        return path
    path = folder / f"{text}.yaml"
    problem = file_problem(path) if text.strip() and "\0" not in text else "no name given"
    if problem is not None:
        names = names_in(folder)
        what = (f"unknown {kind.noun} {clip(text)!r}{did_you_mean(text, names)}"
                if problem.startswith("file not found") or problem == "no name given"
                else problem)
        raise kind.fail(path, None, what,
                        f"{kind.noun} names: {_names_text(folder)}, or a path to a .yaml file")
    return path


# --------------------------------------------------------------------------- reading


def read_text(path: Path, kind: FileKind) -> str:
    """The text of an input file, read strictly.

    Raises:
        ScenarioError: The kind's error: missing, a folder, too large, empty,
            binary or not UTF-8.
    """
    allowed = f"a UTF-8 {kind.format} text file of at most {MAX_FILE_BYTES:,} bytes"
    problem = file_problem(path)
    if problem is not None:
        problem = f"{kind.noun} {problem}" if problem.startswith("file") else problem
        raise kind.fail(path, None, problem, allowed)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise kind.fail(path, None, f"cannot read the file: {exc.strerror or exc}",
                        allowed) from None
    if len(data) > MAX_FILE_BYTES:
        raise kind.fail(path, None, f"file is too large (more than {MAX_FILE_BYTES:,} bytes; "
                        f"{kind.noun} files are short {kind.format} texts)", allowed)
    if b"\0" in data:
        raise kind.fail(path, None, f"binary file (it contains NUL bytes), not {kind.format} "
                        "text", allowed)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise kind.fail(path, None, f"not UTF-8 text (byte 0x{bad:02x} at offset {exc.start})",
                        allowed) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise kind.fail(path, None, "file is empty", kind.allowed_top)
    return text


@dataclass(frozen=True)
class _Refused:
    """A scalar the constructor read but a file may not hold (reported with its key path)."""

    text: str
    problem: str
    allowed: str


class _Resolver(BaseResolver):
    """The YAML 1.2 core schema's implicit types (no yes/no, no sexagesimal, no dates)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


_Resolver.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(
    _TAG + "int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Resolver.add_implicit_resolver(
    _TAG + "float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
_Resolver.add_implicit_resolver(
    _TAG + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


class _Constructor(SafeConstructor):
    """Core-schema constructors only; repeated keys, huge and non-finite numbers refused."""

    yaml_constructors: dict[Any, Any] = {}

    def flatten_mapping(self, node: yaml.MappingNode) -> None:  # no YAML 1.1 merge keys
        return None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}",
                                   node.start_mark)
        first_line: dict[Any, int] = {}
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                shown = "null" if key is None else clip(
                    key.text if isinstance(key, _Refused) else str(key))
                raise ConstructorError(
                    None, None, f"key {shown} is not text (write keys as names; quote them "
                    "if they look like numbers)", key_node.start_mark)
            if key in first_line:
                raise ConstructorError(
                    None, None,
                    f"duplicate key {clip(key)!r} (first set at line {first_line[key] + 1})",
                    key_node.start_mark)
            first_line[key] = key_node.start_mark.line
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_null(self, node: yaml.Node) -> None:
        self.construct_scalar(node)
        return None

    def construct_yaml_bool(self, node: yaml.Node) -> bool:
        text = str(self.construct_scalar(node))
        if text.lower() not in ("true", "false"):
            raise ConstructorError(None, None, f"not a boolean: {clip(text)!r}", node.start_mark)
        return text.lower() == "true"

    def construct_yaml_int(self, node: yaml.Node) -> int | _Refused:
        text = str(self.construct_scalar(node))
        digits = text.lstrip("+-")
        too_large = _Refused(text, f"integer {clip(text)} does not fit in 64 bits",
                             f"integers from {-MAX_INT:,} to {MAX_INT:,}")
        if len(digits) > 30:
            return too_large
        try:
            if digits.startswith("0o"):
                value = int(digits[2:], 8)
            elif digits.startswith("0x"):
                value = int(digits[2:], 16)
            else:
                value = int(digits, 10)
        except ValueError:
            raise ConstructorError(None, None, f"not an integer: {clip(text)!r}",
                                   node.start_mark) from None
        value = -value if text.startswith("-") else value
        return too_large if abs(value) > MAX_INT else value

    def construct_yaml_float(self, node: yaml.Node) -> float | _Refused:
        text = str(self.construct_scalar(node))
        allowed = "a finite number"
        lower = text.lower().lstrip("+-")
        if lower == ".nan":
            return _Refused(text, "not-a-number (.nan) is not a valid value", allowed)
        if lower == ".inf":
            return _Refused(text, f"infinity ({text}) is not a valid value", allowed)
        try:
            value = float(text)
        except ValueError:
            raise ConstructorError(None, None, f"not a number: {clip(text)!r}",
                                   node.start_mark) from None
        if not math.isfinite(value):
            return _Refused(text, f"number {clip(text)} is too large for a float", allowed)
        return value


for _tag, _method in (
    ("null", _Constructor.construct_yaml_null),
    ("bool", _Constructor.construct_yaml_bool),
    ("int", _Constructor.construct_yaml_int),
    ("float", _Constructor.construct_yaml_float),
    ("str", SafeConstructor.construct_yaml_str),
    ("seq", SafeConstructor.construct_yaml_seq),
    ("map", SafeConstructor.construct_yaml_map),
):
    _Constructor.add_constructor(_TAG + _tag, _method)
_Constructor.add_constructor(None, SafeConstructor.construct_undefined)


class _Loader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    """PyYAML's pure-Python loader with the YAML 1.2 core schema and the limits above."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ComposerError(None, None, "anchors and aliases (&name, *name) are not "
                                "supported: write the value out", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                    event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str, path: Path, kind: FileKind) -> Any:
    """Parse YAML text with the rules of this module.

    Returns:
        The document: mappings are dicts with text keys, lists, text, ``bool``,
        ``int``, finite ``float`` or None.

    Raises:
        ScenarioError: The kind's error: invalid YAML (with line and column), a
            repeated key, nesting too deep, a non-finite or too-large number.
    """
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        doc = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        if isinstance(exc, yaml.reader.ReaderError):
            where = f" at character {exc.position + 1}"
            problem = f"character #x{exc.character:04x} is not allowed in YAML text"
        else:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            context = getattr(exc, "context", None)
            if context and not problem.startswith("duplicate key"):
                problem = f"{context}, {problem}"
        duplicate = problem.startswith("duplicate key")
        allowed = "valid YAML 1.2 with each key at most once in a mapping" if duplicate else (
            f"valid YAML 1.2: {kind.allowed_top}")
        raise kind.fail(path, None, f"invalid YAML{where}: {clip(problem, 200)}",
                        allowed) from None
    finally:
        if loader is not None:
            loader.dispose()
    _check_tree(doc, path, kind, None)
    return doc


def _join(key: str | None, part: str) -> str:
    return part if key is None else f"{key}.{part}"


def _check_tree(value: Any, path: Path, kind: FileKind, key: str | None) -> None:
    """Raise for the first refused scalar, naming its key path."""
    if isinstance(value, _Refused):
        raise kind.fail(path, key, value.problem, value.allowed)
    if isinstance(value, dict):
        for k, v in value.items():
            _check_tree(v, path, kind, _join(key, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_tree(v, path, kind, f"{key or ''}[{i}]")


def read_yaml(path: Path, kind: FileKind) -> Any:
    """Read and parse an input file (:func:`read_text`, then :func:`parse_yaml`).

    Raises:
        ScenarioError: The kind's error; a file with only comments is empty.
    """
    doc = parse_yaml(read_text(path, kind), path, kind)
    if doc is None:
        raise kind.fail(path, None, "file is empty", kind.allowed_top)
    return doc


def read_mapping(path: Path, kind: FileKind, *, check_required: bool = True) -> dict[str, Any]:
    """Read an input file whose top level is a mapping of known keys.

    Args:
        path: The file.
        kind: The kind of file.
        check_required: False when the caller checks the required keys itself
            (to say more about what they hold).

    Raises:
        ScenarioError: The kind's error: any problem of :func:`read_yaml`, a
            top level that is not a mapping, an unknown or a missing key.
    """
    doc = read_yaml(path, kind)
    if not isinstance(doc, dict):
        raise kind.fail(path, None, f"top level must be a mapping of keys, got {show(doc)}",
                        kind.allowed_top)
    for key in doc:
        if key not in kind.keys:
            raise kind.fail(path, clip(key),
                            f"unknown top-level key {clip(key)!r}{did_you_mean(key, kind.keys)}",
                            ", ".join(kind.keys))
    for key in kind.required if check_required else ():
        if key not in doc:
            raise kind.fail(path, key, "missing required key", kind.allowed_top)
    return doc


# --------------------------------------------------------------------------- values


def show(value: object) -> str:
    """A value as YAML would show it, with its type in words (long text shortened)."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (boolean)"
    if isinstance(value, int):
        return f"{clip(str(value))} (integer)"
    if isinstance(value, float):
        return f"{value!r} (number)"
    if isinstance(value, str):
        return f"{clip(repr(value))} (text)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{clip(repr(value))} ({type(value).__name__})"


def _bound(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,g}"  # integers in full: 1,000,000,000


def _bounds_text(what: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{what} from {_bound(low)} to {_bound(high)}"
    if low is not None:
        return f"{what} of at least {_bound(low)}"
    if high is not None:
        return f"{what} of at most {_bound(high)}"
    return what


def integer(value: object, kind: FileKind, file: Path | str, key: str, *,
            low: int | None = None, high: int | None = None, why: str | None = None,
            nullable: bool = False) -> int:
    """Check an integer and its bounds.

    Args:
        value: The value as read.
        kind: The kind of file (error type).
        file: The file, for messages.
        key: Dotted key path, for messages.
        low: Smallest allowed value, or None.
        high: Largest allowed value, or None.
        why: Why ``high`` is a limit (said when it is exceeded).
        nullable: The key also takes null (none): said in the allowed values.

    Returns:
        The value.

    Raises:
        ScenarioError: The kind's error: not an integer, or out of bounds.
    """
    allowed = _bounds_text("an integer", low, high) + (", or null for none" if nullable else "")
    if isinstance(value, bool) or not isinstance(value, int):
        hint = " (write it without a decimal point)" if (
            isinstance(value, float) and value.is_integer()) else ""
        raise kind.fail(file, key, f"wrong type: expected an integer, got {show(value)}{hint}",
                        allowed)
    if low is not None and value < low:
        raise kind.fail(file, key, f"value {value} is out of range", allowed)
    if high is not None and value > high:
        reason = f": {why}" if why else ""
        raise kind.fail(file, key, f"value {value:,} is above the limit of {high:,}{reason}",
                        allowed)
    return value


def number(value: object, kind: FileKind, file: Path | str, key: str, *,
           low: float | None = None, high: float | None = None, above: bool = False,
           below: bool = False, why: str | None = None, nullable: bool = False) -> float:
    """Check a finite number (an integer is accepted) and its bounds.

    Args:
        value: The value as read.
        kind: The kind of file (error type).
        file: The file, for messages.
        key: Dotted key path, for messages.
        low: Lower bound, or None.
        high: Upper bound, or None.
        above: True when ``low`` itself is not allowed.
        below: True when ``high`` itself is not allowed.
        why: Why the bounds are what they are.
        nullable: The key also takes null (none): said in the allowed values.

    Returns:
        The value as a float.

    Raises:
        ScenarioError: The kind's error: not a number, not finite, or out of bounds.
    """
    allowed = _number_allowed(low, high, above, below, why) + (
        ", or null for none" if nullable else "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise kind.fail(file, key, f"wrong type: expected a number, got {show(value)}", allowed)
    x = float(value)
    if not math.isfinite(x):
        raise kind.fail(file, key, f"{value!r} is not a finite number", allowed)
    if low is not None and (x < low or (above and x == low)):
        raise kind.fail(file, key, f"value {value!r} is out of range", allowed)
    if high is not None and (x > high or (below and x == high)):
        raise kind.fail(file, key, f"value {value!r} is out of range", allowed)
    return x


def _number_allowed(low: float | None, high: float | None, above: bool, below: bool,
                    why: str | None) -> str:
    """What :func:`number` accepts, in words."""
    if low is not None and high is not None and not above and not below:
        allowed = f"a number from {low:g} to {high:g}"
    else:
        lo = "" if low is None else f"{'above' if above else 'of at least'} {low:g}"
        hi = "" if high is None else f"{'below' if below else 'of at most'} {high:g}"
        if lo and hi:
            hi = hi.removeprefix("of ")
        allowed = "a number" + (" " if lo or hi else "") + " and ".join(p for p in (lo, hi) if p)
    if why:
        allowed += f" ({why})"
    return allowed


def text(value: object, kind: FileKind, file: Path | str, key: str,
         allowed: str = "non-empty text") -> str:
    """Check non-empty text and return it on one line (runs of spaces and newlines joined).

    Raises:
        ScenarioError: The kind's error: not text, or blank.
    """
    if not isinstance(value, str) or not value.strip():
        raise kind.fail(file, key, f"must be non-empty text, got {show(value)}", allowed)
    return " ".join(value.split())


def one_of(value: object, choices: Iterable[str], kind: FileKind, file: Path | str,
           key: str, what: str) -> str:
    """Check that ``value`` is one of ``choices``.

    Raises:
        ScenarioError: The kind's error, with a "did you mean".
    """
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        shown = clip(str(value))
        raise kind.fail(file, key, f"unknown {what} {shown!r}{did_you_mean(shown, options)}",
                        ", ".join(options))
    return value


# --------------------------------------------------------------------------- CSV tables


@dataclass(frozen=True)
class CsvRow:
    """One row of a CSV table read by :func:`read_csv_rows`.

    Attributes:
        line: The line of the file the row starts on (the header is line 1
            unless blank lines come before it).
        cells: Column name -> the cell's text, stripped of surrounding spaces;
            every column of the kind is present (``""`` when the file has no
            such column or the cell is blank).
        label: The row's first cell (its id or parameter), to name it in messages.
    """

    line: int
    cells: dict[str, str]
    label: str = ""

    def key(self, column: str | None = None) -> str:
        """``line 3 (label), column low``: where a problem is, for an error's key."""
        where = f"line {self.line}"
        if self.label:  # short, so that the key fits in a message
            label = self.label if len(self.label) <= 30 else self.label[:27] + "..."
            where += f" ({label})"
        return where if column is None else f"{where}, column {column}"


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def read_csv_rows(path: Path, kind: FileKind, *, max_rows: int = MAX_CSV_ROWS) -> list[CsvRow]:
    """Read a CSV table strictly (``kind.format`` is ``"CSV"``, ``kind.keys`` its columns).

    The file is read by :func:`read_text` (size, binary, UTF-8, empty), then
    parsed with Python's ``csv`` module in strict mode (a stray quote is an
    error). Rows whose cells are all blank are skipped. The first row is the
    header: each name once, every name a column of ``kind.keys``, every
    column of ``kind.required`` present. Every other row must have as many
    cells as the header, and must not repeat an earlier row exactly.

    Args:
        path: The file.
        kind: The kind of table.
        max_rows: Most rows (not counting the header).

    Returns:
        The rows, in file order (possibly none: the caller says whether a
        table without rows is allowed).

    Raises:
        ScenarioError: The kind's error, naming the file, the line and the
            column: any problem of :func:`read_text`, invalid CSV, an unknown,
            repeated or missing column, a row with too few or too many cells,
            a repeated row, too many rows.
    """
    text = read_text(path, kind)
    allowed = kind.allowed_top
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 0
    rows: list[CsvRow] = []
    first_seen: dict[tuple[str, ...], int] = {}
    while True:
        line = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem = (f"a cell is longer than {csv.field_size_limit():,} characters"
                       if "field limit" in str(exc) else
                       f"not valid CSV: {clip(str(exc), 120)} (quote a cell that holds commas, "
                       "quotes or line breaks, and double the quotes inside it)")
            raise kind.fail(path, f"line {reader.line_num or line}", problem, allowed) from None
        if _blank(raw):
            continue
        if header is None:
            header, header_line = _check_header(raw, path, kind, line, allowed), line
            continue
        if len(raw) != len(header):
            raise kind.fail(path, f"line {line}", f"the row has {len(raw)} cells and the header "
                            f"(line {header_line}) {len(header)} columns", allowed)
        cells = tuple(cell.strip() for cell in raw)
        if cells in first_seen:
            raise kind.fail(path, f"line {line}", f"repeats line {first_seen[cells]} exactly "
                            "(a duplicate row)", "each row once")
        first_seen[cells] = line
        if len(rows) >= max_rows:
            raise kind.fail(path, f"line {line}", f"more than {max_rows:,} rows",
                            f"at most {max_rows:,} rows")
        named = dict.fromkeys(kind.keys, "")
        named.update(zip(header, cells, strict=True))
        rows.append(CsvRow(line, named, named[kind.keys[0]]))
    if header is None:
        raise kind.fail(path, None, "file is empty (no header)", allowed)
    return rows


def _check_header(raw: list[str], path: Path, kind: FileKind, line: int,
                  allowed: str) -> list[str]:
    """The header's column names, checked (see :func:`read_csv_rows`)."""
    names = [name.strip() for name in raw]
    key = f"line {line} (the header)"
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if not name:
            raise kind.fail(path, key, f"column {i} has no name", allowed)
        if name in seen:
            raise kind.fail(path, key, f"column {clip(name)!r} appears twice (columns "
                            f"{seen[name]} and {i})", allowed)
        seen[name] = i
        if name not in kind.keys:
            raise kind.fail(path, key, f"unknown column {clip(name)!r}"
                            f"{did_you_mean(name, kind.keys)}", allowed)
    missing = [name for name in kind.required if name not in seen]
    if missing:
        raise kind.fail(path, key, "missing column" + ("s " if len(missing) > 1 else " ")
                        + ", ".join(repr(m) for m in missing), allowed)
    return names


_DECIMAL = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_WHOLE = re.compile(r"^\+?[0-9]+$")
_NOT_FINITE = ("inf", "infinity", "nan", ".inf", ".nan")


def _not_a_number(cell: str, expected: str) -> str:
    """Why ``cell`` is not a number, in words."""
    if not cell:
        return f"is empty (expected {expected})"
    if cell.lower().lstrip("+-") in _NOT_FINITE:
        return f"{clip(cell)!r} is not a finite number"
    return f"not {expected}: {clip(cell)!r}"


def cell_number(cell: str, kind: FileKind, file: Path | str, key: str, *,
                low: float | None = None, high: float | None = None, above: bool = False,
                below: bool = False, why: str | None = None) -> float:
    """A CSV cell read as a finite number, then checked like :func:`number`.

    Only plain decimal notation is a number (``0.5``, ``-3``, ``1e-3``):
    ``inf``, ``nan``, ``1_000``, ``0x1F`` and an empty cell are errors, and so
    is a number too large for a float (``1e400``).

    Raises:
        ScenarioError: The kind's error: not a number, not finite, or out of bounds.
    """
    allowed = _number_allowed(low, high, above, below, why)
    if not _DECIMAL.match(cell):
        raise kind.fail(file, key, _not_a_number(cell, "a number"),
                        f"{allowed}, written like 0.25, -3 or 1e-3")
    x = float(cell)
    if not math.isfinite(x):
        raise kind.fail(file, key, f"number {clip(cell)} is too large for a float", allowed)
    return number(x, kind, file, key, low=low, high=high, above=above, below=below, why=why)


def cell_integer(cell: str, kind: FileKind, file: Path | str, key: str, *,
                 low: int | None = None, high: int | None = None,
                 why: str | None = None) -> int:
    """A CSV cell read as a whole number (digits only), then checked like :func:`integer`.

    Raises:
        ScenarioError: The kind's error: not a whole number, or out of bounds.
    """
    allowed = _bounds_text("a whole number", low, high)
    if cell.startswith("-") and _WHOLE.match(cell[1:]) and low is not None and low >= 0:
        raise kind.fail(file, key, f"value {clip(cell)} is negative", allowed)
    if not _WHOLE.match(cell.removeprefix("-")):
        problem = _not_a_number(cell, "a whole number")
        if _DECIMAL.match(cell):
            problem += " (write it without a decimal point or exponent)"
        raise kind.fail(file, key, problem, allowed)
    if len(cell.lstrip("+-")) > 30:
        raise kind.fail(file, key, f"value {clip(cell)} is too large", allowed)
    return integer(int(cell), kind, file, key, low=low, high=high, why=why)
