"""Fuzzing the input files: scenarios, experiments, calibration configs and tables.

Every shipped file of each kind is mutated by a seeded generator (keys deleted,
duplicated, retyped; huge, tiny and non-finite numbers; deep nesting; binary
bytes; truncation; YAML 1.1 surprises; long strings; wrong top-level types).
Each generated file is loaded in-process and must either load or raise its
kind's error (a ``ScenarioError``: exit 2 from the command line) with a short
one-line message: never another exception, never a hang. A few files go
through the real command line (exit 2, no traceback).

The calibration's CSV tables (``priors.csv`` and ``targets.csv``) get their
own generator (cells replaced by strange values, columns and rows deleted,
added or repeated, stray quotes, other line endings) and named cases: each
problem is the table's error naming the file, the line and the column.

The named cases at the top are the fuzz findings of issue 12, one test each.
"""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from pathways_sim.calibration.config import load_config
from pathways_sim.calibration.priors import load_priors
from pathways_sim.calibration.targets import load_targets
from pathways_sim.scenario import ScenarioError, load_scenario
from pathways_sim.scenario.errors import (
    CalibrationConfigError,
    ExperimentError,
    PriorsError,
    TargetsError,
)
from pathways_sim.scenario.inputs import MAX_DEPTH, MAX_FILE_BYTES
from pathways_sim.sweep.experiment import MAX_REPLICATES, load_experiment

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
EXPERIMENTS = REPO / "experiments"
CALIBRATION = REPO / "calibration"

CASES = 200
"""Generated files of each kind."""
SEED = 20261124
CASE_SECONDS = 5.0
"""Longest one load may take (a hang fails the test instead of stalling the suite)."""
MAX_MESSAGE = 500
"""Longest message, not counting the list of allowed values (which comes from the code)."""


# --------------------------------------------------------------------------- helpers


class _Hang(Exception):
    """A load took longer than CASE_SECONDS."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise _Hang in the main thread if the block runs longer than ``seconds``."""

    def on_alarm(signum: int, frame: object) -> None:
        raise _Hang(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check_outcome(load: Callable[[], Any], path: Path, error: type[ScenarioError],
                  label: str) -> str:
    """Load once; return "ok" or "error", failing on anything else."""
    try:
        with time_limit(CASE_SECONDS):
            load()
    except _Hang:
        pytest.fail(f"{label}: loading hung (> {CASE_SECONDS} s): {path}")
    except ScenarioError as exc:
        message = str(exc)
        own_file = exc.file == str(path)
        # Problems in this file are the kind's error; a file it names (a targets CSV) may
        # report with its own ScenarioError subclass.
        assert isinstance(exc, error) or not own_file, (label, type(exc), message)
        assert "\n" not in message, (label, message)
        assert len(message) - len(exc.allowed or "") < MAX_MESSAGE, (label, len(message),
                                                                      message[:800])
        return "error"
    except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{label}: {type(exc).__name__}: {exc!s:.300} (file {path})")
    return "ok"


# --------------------------------------------------------------------------- the generator

STRANGE_SCALARS = [
    "1:20", "yes", "no", "on", "off", "Y", ".nan", ".inf", "-.inf", ".NaN", "1e400",
    "-1e400", "1" + "0" * 400 + ".0", "9" * 40, "-" + "9" * 25, "9223372036854775808",
    "0x1F", "0o17", "0b101", "~", "", "null", "1e-400", "5e-324", "-1", "0", "10000000",
    "2026-01-01", "12:30:00", "1_000", "+.5", "'quoted'", '"\\0nul"', "&anchor 1", "*alias",
    "!!binary aGVsbG8=", "!!python/object/apply:os.system [echo hi]", "!!float abc",
    "!!int 1.5", "!!set {a, b}", "[]", "{}", "[1, 2", "{a: 1", "a: b: c", "- x",
    '"' + "x" * 10_000 + '"', "x" * 10_000, "\t1", "true", "false", "3.0", "1e3", "0.5", "1000000",
]

STRANGE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 10**7, 10**400, -(10**30), 2**63, 1e-300, 1e308,
    float("nan"), float("inf"), -float("inf"), 0.5, 3.0, "", " ", "x" * 10_000, "yes",
    "1:20", "medium", "block", "full_factorial", [], [1, 2], {}, {"a": 1},
    {"value": 0.5, "source": "x"}, {"low": 0, "high": 1}, [[[[]]]], ["medium", "medium"],
]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a parsed document (mapping keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def _dump(doc: Any) -> bytes:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6).encode()


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


def mutate(text: str, rng: random.Random) -> bytes:
    """One mutated version of a valid input file."""
    data = text.encode()
    lines = text.splitlines()
    doc = yaml.safe_load(text)
    kind = rng.randrange(16)
    if kind == 0:  # truncated
        return data[: rng.randrange(len(data))]
    if kind == 1:  # binary bytes or invalid UTF-8 spliced in
        at = rng.randrange(len(data))
        junk = rng.choice([b"\0", b"\xff\xfe", bytes(rng.randrange(256) for _ in range(16)),
                           b"\x89PNG\r\n\x1a\n", b"\xc3\x28", b"\x01"])
        return data[:at] + junk + data[at:]
    if kind == 2:  # a scalar on one line replaced by a strange one
        i = rng.randrange(len(lines))
        head, sep, _ = lines[i].partition(": ")
        value = rng.choice(STRANGE_SCALARS)
        lines[i] = f"{head}: {value}" if sep else f"{lines[i]} {value}"
        return "\n".join(lines).encode()
    if kind == 3:  # a line repeated (often a duplicate key)
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return "\n".join(lines).encode()
    if kind == 4:  # a line deleted
        del lines[rng.randrange(len(lines))]
        return "\n".join(lines).encode()
    if kind == 5:  # deep nesting
        i = rng.randrange(len(lines))
        head, sep, _ = lines[i].partition(": ")
        depth = rng.choice([MAX_DEPTH - 2, MAX_DEPTH + 1, 200, 3000])
        lines[i] = f"{head}: {_nest(depth)}" if sep else _nest(depth)
        return "\n".join(lines).encode()
    if kind == 6:  # wrong top-level type, or nothing at all
        return rng.choice([b"- a\n- b\n", b"just words\n", b"42\n", b"[]\n", b"null\n", b"",
                           b"   \n\n", b"# only a comment\n", b"---\n...\n", b'"text"\n',
                           _nest(3000).encode(), b"a: 1\n---\nb: 2\n"])
    if kind == 7:  # a line's indentation changed
        i = rng.randrange(len(lines))
        lines[i] = rng.choice([" ", "\t", ""]) + lines[i].lstrip(rng.choice([" ", ""]))
        return "\n".join(lines).encode()
    if kind == 8:  # too large a file
        return data + b"\n# " + b"x" * (MAX_FILE_BYTES + 10) + b"\n"
    if kind == 9:  # a long or strange key added
        key = rng.choice(["x" * 5000, "descripton", "params", "? [a]", "1", "true", "null",
                          '"a\\nb"', "<<"])
        at = rng.randrange(len(lines) + 1)
        lines.insert(at, f"{key}: 1")
        return "\n".join(lines).encode()
    # tree mutations: retype, delete, add keys
    if not isinstance(doc, dict):
        return data
    paths = _paths(doc)
    path = rng.choice(paths)
    parent = _parent(doc, path)
    if kind in (10, 11, 12):  # retype a value
        parent[path[-1]] = rng.choice(STRANGE_VALUES)
    elif kind == 13:  # delete a key or an item
        del parent[path[-1]]
    elif kind == 14 and isinstance(parent, dict):  # add an unknown key next to it
        parent[rng.choice(["zzz", str(path[-1]) + "s", "x" * 300])] = rng.choice(STRANGE_VALUES)
    else:  # several retypes at once
        for p in rng.sample(paths, min(3, len(paths))):
            try:
                _parent(doc, p)[p[-1]] = rng.choice(STRANGE_VALUES)
            except (KeyError, IndexError, TypeError):
                pass
    try:
        return _dump(doc)
    except (OverflowError, ValueError, RecursionError):
        return data


def generated(kind_files: list[Path], rng: random.Random) -> Iterator[tuple[int, bytes]]:
    for i in range(CASES):
        source = kind_files[i % len(kind_files)]
        yield i, mutate(source.read_text(encoding="utf-8"), rng)


# --------------------------------------------------------------------------- fuzz tests


def _fuzz(tmp: Path, sources: list[Path], load: Callable[[Path], Any],
          error: type[ScenarioError], seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts = {"ok": 0, "error": 0}
    started = time.monotonic()
    for i, data in generated(sources, rng):
        path = tmp / f"case_{i:03d}.yaml"
        path.write_bytes(data)
        counts[check_outcome(lambda p=path: load(p), path, error, f"case {i}")] += 1
    assert time.monotonic() - started < 60, "the fuzz cases must stay fast"
    return counts


def test_fuzzed_scenarios_load_or_fail_cleanly(tmp_path: Path) -> None:
    sources = sorted(SCENARIOS.glob("*.yaml"))
    counts = _fuzz(tmp_path, sources,
                   lambda p: load_scenario(p, scenarios_dir=SCENARIOS), ScenarioError, SEED)
    # The generator must exercise both outcomes, or it tests nothing.
    assert counts["ok"] >= 10 and counts["error"] >= 100, counts


def test_fuzzed_experiments_load_or_fail_cleanly(tmp_path: Path) -> None:
    sources = sorted(EXPERIMENTS.glob("*.yaml"))
    counts = _fuzz(tmp_path, sources,
                   lambda p: load_experiment(p, scenarios_dir=SCENARIOS), ExperimentError,
                   SEED + 1)
    assert counts["ok"] >= 10 and counts["error"] >= 100, counts


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """``<tmp>/calibration/configs``, with the shipped targets and priors one level up."""
    configs = tmp_path / "calibration" / "configs"
    configs.mkdir(parents=True)
    for name in ("targets.csv", "priors.csv"):
        shutil.copy(CALIBRATION / name, tmp_path / "calibration" / name)
    return configs


def test_fuzzed_calibration_configs_load_or_fail_cleanly(config_dir: Path) -> None:
    sources = sorted((CALIBRATION / "configs").glob("*.yaml"))
    counts = _fuzz(config_dir, sources, load_config, CalibrationConfigError, SEED + 2)
    assert counts["ok"] >= 10 and counts["error"] >= 100, counts


# --------------------------------------------------------------------------- named findings


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text('description: "A fuzz case."\nbase: medium\n' + body, encoding="utf-8")
    return path


def _error(load: Callable[[], Any], error: type[ScenarioError]) -> ScenarioError:
    with time_limit(CASE_SECONDS), pytest.raises(error) as info:
        load()
    assert "\n" not in str(info.value)
    return info.value


def test_sexagesimal_and_yes_no_are_text_in_yaml_1_2(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "params:\n  link_workers: {caseload: 1:20}\n")
    err = _error(lambda: load_scenario(path, scenarios_dir=SCENARIOS), ScenarioError)
    assert err.key == "params.link_workers.caseload" and "'1:20' (text)" in err.problem
    path = _scenario(tmp_path, "params:\n  link_workers: {colocated: yes}\n")
    err = _error(lambda: load_scenario(path, scenarios_dir=SCENARIOS), ScenarioError)
    assert "'yes' (text)" in err.problem and "only true and false" in err.problem


def test_deep_nesting_is_one_short_error(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "params: " + _nest(3000) + "\n")
    err = _error(lambda: load_scenario(path, scenarios_dir=SCENARIOS), ScenarioError)
    assert f"nested more than {MAX_DEPTH} levels deep" in err.problem
    assert len(str(err)) - len(str(path)) < 300  # the tmp path varies in length


@pytest.mark.parametrize(("value", "problem"), [
    ("1" + "0" * 400 + ".0", "too large for a float"),
    ("1" + "0" * 400, "does not fit in 64 bits"),
    (".nan", "not-a-number"),
    (".inf", "infinity"),
])
def test_overflowing_and_non_finite_numbers_are_refused(tmp_path: Path, value: str,
                                                        problem: str) -> None:
    path = _scenario(tmp_path, f"params:\n  referrals: {{per_year: {value}}}\n")
    err = _error(lambda: load_scenario(path, scenarios_dir=SCENARIOS), ScenarioError)
    assert err.key == "params.referrals.per_year" and problem in err.problem
    assert len(str(err)) - len(str(path)) < 250  # the tmp path varies in length


def test_all_referral_shares_zero_is_refused(tmp_path: Path) -> None:
    shares = ", ".join(f"share_{s}: 0" for s in
                       ("gp", "hospital", "mental_health", "social_care", "self"))
    path = _scenario(tmp_path, f"params:\n  referrals: {{{shares}}}\n")
    err = _error(lambda: load_scenario(path, scenarios_dir=SCENARIOS), ScenarioError)
    assert err.key == "params.referrals" and "every referral share" in err.problem
    ok = _scenario(tmp_path, f"params:\n  referrals: {{{shares.replace('self: 0', 'self: 1')}}}\n")
    assert load_scenario(ok, scenarios_dir=SCENARIOS)["referrals.share_self"] == 1.0
    sc = load_scenario("medium", scenarios_dir=SCENARIOS)
    with pytest.raises(ScenarioError, match="every referral share"):
        sc.with_changes({f"referrals.share_{s}": 0.0 for s in
                         ("gp", "hospital", "mental_health", "social_care", "self")})


def test_a_long_value_is_not_echoed_in_full(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "params:\n  service: {model: " + "x" * 10_000 + "}\n")
    err = _error(lambda: load_scenario(path, scenarios_dir=SCENARIOS), ScenarioError)
    assert "more characters" in str(err) and len(str(err)) - len(str(path)) < 400


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "file is empty"),
    (b"# nothing but a comment\n", "file is empty"),
    (b"\x89PNG\r\n\x1a\n\0\0\0", "binary file"),
    (b"description: caf\xe9\n", "not UTF-8 text"),
])
def test_unreadable_files_name_the_problem(tmp_path: Path, data: bytes, problem: str) -> None:
    for folder, load, error in (
        (tmp_path / "s", lambda p: load_scenario(p, scenarios_dir=SCENARIOS), ScenarioError),
        (tmp_path / "e", lambda p: load_experiment(p, scenarios_dir=SCENARIOS),
         ExperimentError),
        (tmp_path / "c", load_config, CalibrationConfigError),
    ):
        folder.mkdir()
        path = folder / "x.yaml"
        path.write_bytes(data)
        err = _error(lambda p=path, f=load: f(p), error)
        assert err.file == str(path) and problem in err.problem, str(err)
    folder = tmp_path / "d.yaml"
    folder.mkdir()
    err = _error(lambda: load_config(folder), CalibrationConfigError)
    assert "is a folder" in err.problem


def test_experiment_sizes_are_bounded_with_the_reason(tmp_path: Path) -> None:
    text = (EXPERIMENTS / "smoke.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    doc["replicates"] = 10_000_000
    path = tmp_path / "big.yaml"
    path.write_bytes(_dump(doc))
    started = time.monotonic()
    err = _error(lambda: load_experiment(path, scenarios_dir=SCENARIOS), ExperimentError)
    assert time.monotonic() - started < 2
    assert err.key == "replicates" and f"limit of {MAX_REPLICATES:,}" in err.problem
    assert "square root" in err.problem  # the reason
    doc["replicates"] = 2
    doc["levers"] = {f"link_workers.{k}": list(range(1, 12)) for k in
                     ("caseload", "sessions_per_month")}
    doc["levers"]["service.uptake_base"] = [round(0.05 * i, 2) for i in range(1, 20)]
    doc["levers"]["jobs.labour_demand"] = [round(0.1 * i, 1) for i in range(1, 11)]
    doc.pop("checks", None)
    doc.pop("baseline", None)
    path.write_bytes(_dump(doc))
    err = _error(lambda: load_experiment(path, scenarios_dir=SCENARIOS), ExperimentError)
    assert "design points" in err.problem and "split" in err.problem


@pytest.mark.parametrize(("line", "key", "problem"), [
    ("replicates: 0", "replicates", "out of range"),
    ("replicates: 1000000", "replicates", "above the limit"),
    ("optuna: {budget: -1}", "optuna.budget", "out of range"),
    ("design_effect: .nan", "design_effect", "not-a-number"),
    ("abc: {quantile: 1.0}", "abc.quantile", "out of range"),
    ("optuna: {sampler: tpee}", "optuna.sampler", "did you mean 'tpe'"),
    ("name: ../../etc", "name", "not a folder name"),
    ("seed: '5'", "seed", "expected an integer"),
    # 'inf' as text was read by float() and the fit ran, to fail writing its manifest
    ("extra_priors: [{parameter: service.decline_at_contact, low: 0.02, high: 0.6, "
     "default: 'inf'}]", "extra_priors[0].default", "expected a number"),
    ("extra_priors: [{parameter: service.decline_at_contact, low: 0.9, high: 0.6}]",
     "extra_priors[0].low", "not below high"),
])
def test_calibration_config_values_are_checked_at_load(config_dir: Path, line: str, key: str,
                                                       problem: str) -> None:
    doc = yaml.safe_load((CALIBRATION / "configs" / "default.yaml").read_text(encoding="utf-8"))
    doc.update(yaml.safe_load(line))  # the shipped config with one value replaced
    path = config_dir / "c.yaml"
    path.write_bytes(_dump(doc))
    err = _error(lambda: load_config(path), CalibrationConfigError)
    assert err.key == key and problem in err.problem, str(err)


def test_duplicate_keys_in_a_calibration_config_are_refused(config_dir: Path) -> None:
    path = config_dir / "c.yaml"
    path.write_text("replicates: 2\nseed: 1\nreplicates: 3\n", encoding="utf-8")
    err = _error(lambda: load_config(path), CalibrationConfigError)
    assert "duplicate key 'replicates' (first set at line 1)" in err.problem


# --------------------------------------------------------------------------- the command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pathways_sim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_bad_files_exit_2_without_a_traceback_from_the_cli(tmp_path: Path) -> None:
    deep = _scenario(tmp_path, "params: " + _nest(3000) + "\n")
    done = _cli("run", str(deep), "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stderr) < 600
    assert "nested more than" in done.stderr
    doc = yaml.safe_load((EXPERIMENTS / "smoke.yaml").read_text(encoding="utf-8"))
    doc["replicates"] = 10_000_000
    big = tmp_path / "big.yaml"
    big.write_bytes(_dump(doc))
    done = _cli("sweep", str(big), "--out", str(tmp_path / "sweep"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "replicates" in done.stderr
    assert not (tmp_path / "sweep").exists()


# ------------------------------------------------------------------- the calibration CSV tables

TARGET_HEADER = "id,scenario,cohort,observable,window_months,k,n,n_max,likelihood,role,source"
TARGET_ROW = "t1,medium,all,found_work,12,3,156,,binomial,fit,a source"
PRIOR_HEADER = "parameter,low,high,prior,default,informed_by,source"
PRIOR_ROW = "jobs.base_per_week,0.002,0.08,log-uniform,0.012,found_work,a reason"

STRANGE_CELLS = [
    "", " ", "inf", "-inf", "nan", "NaN", "Infinity", "1e400", "-1e400", "1_000", "0x1F",
    "3.0", "1.5", "-1", "-0", "+5", "0", "1e3", "9" * 40, "99999999999", "x" * 10_000,
    '"', '"a,b"', "a,b", "'quoted'", "\t", "yes", "fit", "validate", "binomial",
    "binomial_uncertain_n", "lower_bound", "upper_bound", "all", "working_age", "found_work",
    "medium",
    "uniform", "log-uniform", "jobs.base_per_week", "../../etc/passwd", "\u00e9t\u00e9", "\x01",
]


def _cells(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def mutate_csv(text: str, rng: random.Random) -> bytes:
    """One mutated version of a valid CSV table (the header is its first line)."""
    data = text.encode()
    lines = text.splitlines()
    kind = rng.randrange(16)
    if kind == 0:  # truncated, possibly inside a quoted cell
        return data[: rng.randrange(len(data))]
    if kind == 1:  # binary bytes or invalid UTF-8 spliced in
        at = rng.randrange(len(data))
        junk = rng.choice([b"\0", b"\xff\xfe", bytes(rng.randrange(256) for _ in range(16)),
                           b"\x89PNG\r\n\x1a\n", b"\xc3\x28", b"\x01", b"\r"])
        return data[:at] + junk + data[at:]
    if kind in (2, 3, 4):  # one cell of a row replaced by a strange value
        i = rng.randrange(1, len(lines))
        cells = _cells(lines[i])
        cells[rng.randrange(len(cells))] = rng.choice(STRANGE_CELLS)
        lines[i] = _line(cells)
    elif kind == 5:  # a row repeated, or repeated with one cell changed
        i = rng.randrange(1, len(lines))
        lines.insert(i, lines[i])
        if rng.random() < 0.5:
            cells = _cells(lines[i])
            cells[-1] += " (again)"
            lines[i] = _line(cells)
    elif kind == 6:  # a line deleted (the header too), or every row
        if rng.random() < 0.2:
            lines = lines[:1]
        else:
            del lines[rng.randrange(len(lines))]
    elif kind == 7:  # a column deleted from every line, or from one line only
        j = rng.randrange(len(_cells(lines[0])))
        rows = [_cells(line) for line in lines]
        for k in ([rng.randrange(len(rows))] if rng.random() < 0.3 else range(len(rows))):
            del rows[k][j]
        lines = [_line(r) for r in rows]
    elif kind == 8:  # a column added, or a header name misspelt or repeated
        rows = [_cells(line) for line in lines]
        j = rng.randrange(len(rows[0]))
        choice = rng.randrange(3)
        if choice == 0:
            for r in rows:
                r.append("extra" if r is rows[0] else "1")
        elif choice == 1:
            rows[0][j] = rows[0][j][:-1] or "x"
        else:
            rows[0][j] = rows[0][(j + 1) % len(rows[0])]
        lines = [_line(r) for r in rows]
    elif kind == 9:  # two cells of a row swapped
        i = rng.randrange(1, len(lines))
        cells = _cells(lines[i])
        a, b = rng.sample(range(len(cells)), 2)
        cells[a], cells[b] = cells[b], cells[a]
        lines[i] = _line(cells)
    elif kind == 10:  # a row with a cell too few or too many
        i = rng.randrange(1, len(lines))
        lines[i] = lines[i].rsplit(",", 1)[0] if rng.random() < 0.5 else lines[i] + ",x"
    elif kind == 11:  # too large a file
        return data + (lines[-1] + "\n").encode() * (MAX_FILE_BYTES // len(lines[-1]) + 10)
    elif kind == 12:  # nothing, blanks, a header only, or another file's content
        return rng.choice([b"", b"   \n\n", b",,,\n", (lines[0] + "\n").encode(),
                           b"just words\n", b"a: 1\nb: 2\n", b'"unclosed\n', b"\n\n" + data])
    elif kind == 13:  # a stray quote
        i = rng.randrange(len(lines))
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + '"' + lines[i][at:]
    elif kind == 14:  # other line endings, a byte-order mark, spaces around cells
        ending = rng.choice(["\r\n", "\r", "\n\n"])
        text = ending.join(lines) + ending
        if rng.random() < 0.5:
            text = "\ufeff" + text
        if rng.random() < 0.5:
            text = text.replace(",", " , ")
        return text.encode()
    else:  # several cells at once
        for _ in range(3):
            i = rng.randrange(1, len(lines))
            cells = _cells(lines[i])
            cells[rng.randrange(len(cells))] = rng.choice(STRANGE_CELLS)
            lines[i] = _line(cells)
    return ("\n".join(lines) + "\n").encode()


def _fuzz_csv(tmp: Path, source: Path, load: Callable[[Path], Any],
              error: type[ScenarioError], seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    text = source.read_text(encoding="utf-8")
    counts = {"ok": 0, "error": 0}
    started = time.monotonic()
    for i in range(CASES):
        path = tmp / f"case_{i:03d}.csv"
        path.write_bytes(mutate_csv(text, rng))
        counts[check_outcome(lambda p=path: load(p), path, error, f"case {i}")] += 1
    assert time.monotonic() - started < 60, "the fuzz cases must stay fast"
    return counts


def test_fuzzed_priors_tables_load_or_fail_cleanly(tmp_path: Path) -> None:
    counts = _fuzz_csv(tmp_path, CALIBRATION / "priors.csv", load_priors, PriorsError, SEED + 3)
    assert counts["ok"] >= 10 and counts["error"] >= 100, counts


def test_fuzzed_targets_tables_load_or_fail_cleanly(tmp_path: Path) -> None:
    counts = _fuzz_csv(tmp_path, CALIBRATION / "targets.csv", load_targets, TargetsError,
                       SEED + 4)
    assert counts["ok"] >= 10 and counts["error"] >= 100, counts


def _table(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _targets_error(tmp_path: Path, text: str | bytes) -> ScenarioError:
    path = _table(tmp_path, "targets.csv", text)
    err = _error(lambda: load_targets(path), TargetsError)
    assert err.file == str(path), str(err)
    return err


def _priors_error(tmp_path: Path, text: str | bytes) -> ScenarioError:
    path = _table(tmp_path, "priors.csv", text)
    err = _error(lambda: load_priors(path), PriorsError)
    assert err.file == str(path), str(err)
    return err


@pytest.mark.parametrize("column", ["low", "high", "default"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "Infinity", "1e400"])
def test_a_non_finite_prior_value_is_refused_at_load(tmp_path: Path, column: str,
                                                     value: str) -> None:
    # 'inf' was read by float() and the fit ran, to fail only writing its manifest.
    cells = dict(zip(_cells(PRIOR_HEADER), _cells(PRIOR_ROW), strict=True))
    cells[column] = value
    err = _priors_error(tmp_path, f"{PRIOR_HEADER}\n{','.join(cells.values())}\n")
    assert err.key == f"line 2 (jobs.base_per_week), column {column}"
    assert "not a finite number" in err.problem or "too large for a float" in err.problem
    assert "a number" in (err.allowed or "")


def test_a_non_finite_prior_stops_calibrate_before_it_runs(
        config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pathways_sim.cli import main

    priors = config_dir.parent / "priors.csv"
    priors.write_text(priors.read_text(encoding="utf-8").replace(",0.5,", ",inf,", 1),
                      encoding="utf-8")
    config = config_dir / "c.yaml"
    config.write_text("replicates: 1\n", encoding="utf-8")
    out = config_dir.parent / "results"
    assert main(["calibrate", "--config", str(config), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {priors}: line 2 (clients.barrier_mean), column default: "
                          "'inf' is not a finite number"), err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize(("header", "problem"), [
    ("parameter,low", "missing column 'high'"),
    ("parameter,high", "missing column 'low'"),
    (PRIOR_HEADER + ",weight", "unknown column 'weight'"),
    ("parameter,lwo,high", "unknown column 'lwo' (did you mean 'low'?)"),
    ("parameter,low,high,low", "column 'low' appears twice (columns 2 and 4)"),
    ("parameter,,high,low", "column 2 has no name"),
])
def test_priors_columns_are_checked(tmp_path: Path, header: str, problem: str) -> None:
    row = ",".join(["jobs.base_per_week", "0.002", "0.08", "x", "y", "z", "w", "v"]
                   [: header.count(",") + 1])
    err = _priors_error(tmp_path, f"{header}\n{row}\n")
    assert err.key == "line 1 (the header)" and problem in err.problem, str(err)
    assert "parameter, low, high, prior, default, informed_by, source" in (err.allowed or "")


@pytest.mark.parametrize(("header", "problem"), [
    (TARGET_HEADER.replace(",n_max", ""), "missing column 'n_max'"),
    (TARGET_HEADER.replace("id,", ""), "missing column 'id'"),
    (TARGET_HEADER + ",notes", "unknown column 'notes'"),
    (TARGET_HEADER.replace("cohort", "cohrot"), "unknown column 'cohrot' (did you mean"),
    (TARGET_HEADER.replace("source", "role"), "column 'role' appears twice (columns 10 and 11)"),
])
def test_targets_columns_are_checked(tmp_path: Path, header: str, problem: str) -> None:
    row = ",".join(["x"] * (header.count(",") + 1))
    err = _targets_error(tmp_path, f"{header}\n{row}\n")
    assert err.key == "line 1 (the header)" and problem in err.problem, str(err)


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "file is empty"),
    (b"\n  \n", "file is empty"),
    (b"\x89PNG\r\n\x1a\n\0\0\0", "binary file (it contains NUL bytes), not CSV text"),
    ((TARGET_HEADER + "\nt1,caf\xe9\n").encode("latin-1"), "not UTF-8 text (byte 0xe9"),
    ((TARGET_HEADER + "\n" + TARGET_ROW + "\n") * (MAX_FILE_BYTES // 100), "file is too large"),
    (TARGET_HEADER + "\n", "no targets (the table has a header and no rows)"),
])
def test_unreadable_tables_name_the_problem(tmp_path: Path, data: str | bytes,
                                            problem: str) -> None:
    err = _targets_error(tmp_path, data)
    assert err.key is None and problem in err.problem, str(err)
    priors = data if not isinstance(data, str) else data.replace(TARGET_HEADER, PRIOR_HEADER)
    err = _priors_error(tmp_path, priors)
    assert problem.split(" (the table")[0].replace("targets", "priors") in err.problem


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    err = _error(lambda: load_priors(tmp_path / "nope.csv"), PriorsError)
    assert err.problem == "priors table file not found"
    err = _error(lambda: load_targets(tmp_path), TargetsError)
    assert err.problem == "is a folder, not a file"


def _target(**cells: str) -> str:
    row = dict(zip(_cells(TARGET_HEADER), _cells(TARGET_ROW), strict=True))
    row.update(cells)
    return f"{TARGET_HEADER}\n{_line(list(row.values()))}\n"


@pytest.mark.parametrize(("cells", "column", "problem", "allowed"), [
    ({"k": "three"}, "k", "not a whole number: 'three'", "a whole number from 0"),
    ({"n": "inf"}, "n", "'inf' is not a finite number", "a whole number from 1"),
    ({"n": "nan"}, "n", "'nan' is not a finite number", "a whole number from 1"),
    ({"k": "3.0"}, "k", "without a decimal point", "a whole number"),
    ({"n": "1e400"}, "n", "not a whole number", "a whole number"),
    ({"n": ""}, "n", "is empty", "a whole number from 1"),
    ({"k": "157"}, "k", "k=157 out of n=156", "0 <= k <= n"),
    ({"n": "0", "k": "0"}, "n", "value 0 is out of range", "an integer from 1 to 1,000,000,000"),
    ({"k": "-3"}, "k", "value -3 is negative", "a whole number from 0"),
    ({"n": "-156"}, "n", "value -156 is negative", "a whole number from 1"),
    ({"n": "9" * 12}, "n", "above the limit of 1,000,000,000: a count", "an integer from 1"),
    ({"n_max": "100", "likelihood": "binomial_uncertain_n"}, "n_max", "value 100 is out of range",
     "an integer from 156"),
    ({"likelihood": "binomial_uncertain_n"}, "n_max", "it is blank", "the upper end of n"),
    ({"n_max": "200"}, "n_max", "this one is binomial", "blank"),
    ({"window_months": "121"}, "window_months", "value 121.0 is out of range",
     "a number from 0 to 120"),
    ({"window_months": "-1"}, "window_months", "out of range", "a number from 0 to 120"),
    ({"window_months": "nan"}, "window_months", "not a finite number", "from 0 to 120"),
    ({"likelihood": "poisson"}, "likelihood", "unknown likelihood 'poisson'",
     "binomial, beta_binomial, binomial_uncertain_n, lower_bound, upper_bound"),
    ({"role": "fitt"}, "role", "unknown role 'fitt' (did you mean 'fit'?)", "fit, validate"),
    ({"cohort": "everyone"}, "cohort", "unknown cohort 'everyone'",
     "all, working_age, not_in_work"),
    ({"observable": "found_wrok"}, "observable", "(did you mean 'found_work'?)", "worked_any"),
    ({"scenario": "meduim"}, "scenario", "unknown scenario 'meduim' (did you mean 'medium'?)",
     "scenario names: "),
    ({"id": "has space"}, "id", "not a valid id: 'has space'", "letters, digits"),
])
def test_bad_target_cells_name_line_column_problem_and_allowed(
        tmp_path: Path, cells: dict[str, str], column: str, problem: str, allowed: str) -> None:
    err = _targets_error(tmp_path, _target(**cells))
    label = cells.get("id", "t1")
    assert err.key == f"line 2 ({label}), column {column}", str(err)
    assert problem in err.problem and allowed in (err.allowed or ""), str(err)


def test_repeated_target_ids_and_rows_are_refused(tmp_path: Path) -> None:
    row = _target().splitlines()[1]
    err = _targets_error(tmp_path, f"{TARGET_HEADER}\n{row}\n{row}\n")
    assert err.key == "line 3" and err.problem == "repeats line 2 exactly (a duplicate row)"
    err = _targets_error(tmp_path, f"{TARGET_HEADER}\n{row}\n\n{row.replace(',3,', ',4,')}\n")
    assert err.key == "line 4 (t1), column id"
    assert err.problem == "repeated id 't1' (first at line 2)"


def test_repeated_prior_rows_and_parameters_are_refused(tmp_path: Path) -> None:
    err = _priors_error(tmp_path, f"{PRIOR_HEADER}\n{PRIOR_ROW}\n{PRIOR_ROW}\n")
    assert err.problem == "repeats line 2 exactly (a duplicate row)"
    other = PRIOR_ROW.replace("0.002,", "0.003,")
    err = _priors_error(tmp_path, f"{PRIOR_HEADER}\n{PRIOR_ROW}\n{other}\n")
    assert err.key == "line 3 (jobs.base_per_week), column parameter"
    assert err.problem == "jobs.base_per_week has a prior already (line 2)"


@pytest.mark.parametrize(("row", "column", "problem"), [
    ("jobs.base_per_wek,0.002,0.08", "parameter", "(did you mean 'jobs.base_per_week'?)"),
    ("run.weeks,1,5", "parameter", "not a float parameter"),
    (",0.002,0.08", "parameter", "is empty"),
    ("jobs.base_per_week,-0.1,0.08", "low", "a log-uniform prior needs low > 0"),
    ("clients.barrier_mean,-0.5,0.5", "low", "leaves the registry's allowed range"),
    ("clients.barrier_mean,0.6,0.4", "low", "low 0.6 not below high 0.4"),
    ("jobs.base_per_week,1_000,0.08", "low", "not a number: '1_000'"),
    ("jobs.base_per_week,0.002,", "high", "is empty (expected a number)"),
])
def test_bad_prior_cells_name_line_column_and_problem(tmp_path: Path, row: str, column: str,
                                                      problem: str) -> None:
    shape = "log-uniform" if row.startswith("jobs") else "uniform"
    err = _priors_error(tmp_path, f"parameter,low,high,prior\n{row},{shape}\n")
    assert err.key is not None and err.key.endswith(f", column {column}"), str(err)
    assert err.key.startswith("line 2") and problem in err.problem, str(err)


def test_long_cells_are_not_echoed_in_full(tmp_path: Path) -> None:
    long = "x" * 10_000
    for cells in ({"observable": long}, {"id": long}, {"k": long}, {"scenario": long}):
        err = _targets_error(tmp_path, _target(**cells))
        assert "more characters" in str(err) and len(str(err)) - len(err.allowed or "") < 400
    err = _priors_error(tmp_path, f"{PRIOR_HEADER}\n{long},0.1,0.2,,,,\n")
    assert "more characters" in str(err) and len(str(err)) < 600
    err = _targets_error(tmp_path, _target(source="y" * 200_000))
    assert "a cell is longer than" in err.problem and len(str(err)) < 700


def test_invalid_csv_and_ragged_rows_are_refused(tmp_path: Path) -> None:
    row = _target().splitlines()[1]
    err = _targets_error(tmp_path, f"{TARGET_HEADER}\n{row.replace('medium', 'med\"ium')}\n")
    assert err.key == "line 2 (t1), column scenario"  # a quote inside a cell is text
    err = _targets_error(tmp_path, f'{TARGET_HEADER}\n"t1,{row[3:]}\n')
    assert err.key == "line 2" and "not valid CSV: unexpected end of data" in err.problem
    err = _targets_error(tmp_path, f"{TARGET_HEADER}\n{row},extra\n")
    assert err.problem == "the row has 12 cells and the header (line 1) 11 columns"
    err = _targets_error(tmp_path, f"{TARGET_HEADER}\n{row.rsplit(',', 2)[0]}\n")
    assert err.problem == "the row has 9 cells and the header (line 1) 11 columns"


def test_the_shipped_tables_also_load_with_windows_line_endings_and_a_bom(
        tmp_path: Path) -> None:
    for name, load in (("targets.csv", load_targets), ("priors.csv", load_priors)):
        text = (CALIBRATION / name).read_text(encoding="utf-8")
        path = _table(tmp_path, name, "\ufeff" + text.replace("\n", "\r\n") + "\r\n")
        assert load(path) == load(CALIBRATION / name)
