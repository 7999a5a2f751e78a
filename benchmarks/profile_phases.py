"""Where a run's time goes: time per model phase, and the fixed cost of a simulated week.

The basis for issue 9's compiled weekly kernels. For each configuration of
``bench.py`` (``small``, ``standard``, ``large``) it runs one model and reports:

* **time per phase**: each process method that ``PathwaysModel.PHASES`` names
  (the calls ``step()`` makes, in order), and the funder's period settlement
  that Mesa's event loop calls, is wrapped with a timer from the outside, on
  its class, for the duration of the measurement; the model's code is not
  changed. The compiled kernels (``*_kernel`` of the process modules) and the
  Python parts the phases call (work-support starts, the funder's payments,
  ``EventLog.add``) are timed the same way, as parts of their phase.
  ``other`` is the rest of ``run()``: Mesa's event loop and ``step()``'s own
  lines.
* **per-week cost**: run time / weeks, and the same for a ``tiny`` model (the
  ``standard`` service at ``run.scale`` 0.01: about 20 referrals a year) whose
  time is almost all fixed per-week cost: what a week costs whatever the
  number of clients (a lower bound of it: phases with no client to act on
  return early).
* **numpy calls per week** (``--calls``, one more run of each configuration under
  :mod:`sys.monitoring`, not timed): the calls the model's own code makes to
  numpy functions, ufuncs and array methods, and the operator and subscript
  bytecodes it executes (``a + b``, ``a[idx]``: numpy calls when on arrays);
  see :func:`count_numpy_calls`. The report also divides the tiny model's week
  by the measured cost of one small numpy operation, an estimate of how many
  such operations a week's fixed cost stands for.

Usage (from the repository root)::

    .venv/bin/python benchmarks/profile_phases.py                  # tiny, small, standard, large
    .venv/bin/python benchmarks/profile_phases.py --only standard --calls
    .venv/bin/python benchmarks/profile_phases.py --json /tmp/profile.json

A report, not a test: exits 0 when it completes (2 on a bad option). See
benchmarks/README.md, "Where the time goes".
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import gc
import json
import sys
import time
import timeit
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from pathways_sim.model import dynamics, exits, jobs, link_worker, provider
from pathways_sim.model.dynamics import Dynamics
from pathways_sim.model.events import EventLog
from pathways_sim.model.exits import Exits
from pathways_sim.model.followup import FollowUp
from pathways_sim.model.funder import Funder
from pathways_sim.model.jobcentre import WorkSupport
from pathways_sim.model.jobs import Jobs
from pathways_sim.model.link_worker import LinkWork
from pathways_sim.model.model import PHASES, PathwaysModel
from pathways_sim.model.provider import Provision
from pathways_sim.model.referral import Referral

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CONFIGURATIONS, build_scenario, client_weeks  # noqa: E402

PROCESS_CLASSES = {proc: cls for proc, cls in (
    ("referral", Referral), ("follow_up", FollowUp), ("link_work", LinkWork),
    ("provision", Provision), ("dynamics", Dynamics), ("jobs", Jobs), ("exits", Exits))}
"""The class of each process attribute :data:`PHASES` names."""

STEP_PHASES = tuple(phase for phase, _, _ in PHASES)
"""The phases ``PathwaysModel.step()`` runs, in its order (the model's :data:`PHASES`)."""

PHASE_OF = {f"{PROCESS_CLASSES[proc].__name__}.{method}": phase for phase, proc, method in PHASES}
"""Qualified name of each phase's method -> the phase."""

KERNEL_MODULES = (provider, link_worker, dynamics, jobs, exits)
"""Modules whose ``*_kernel`` functions are timed as parts of their phase."""

SUB_PHASES = (("WorkSupport.start", WorkSupport, "start"),
              ("Funder.pay", Funder, "pay"), ("EventLog.add", EventLog, "add"))
"""Python parts of the phases, timed too (their time is inside their phase's)."""

TINY = {"scenario": "holistic", "changes": {"run.weeks": 156, "run.scale": 0.01},
        "description": "holistic service, 20 referrals/yr: nearly all fixed per-week cost"}
"""A model with almost no clients: its week is the fixed cost of a week."""

PROFILE_SEED = 1


@contextlib.contextmanager
def timed(targets: list[tuple[str, Any, str]]) -> Iterator[dict]:
    """Wrap ``owner.<attr>`` (a class's method or a module's function) with a timer for each
    ``(label, owner, attr)``; yield label -> [seconds, calls].

    A module function is replaced in the module's namespace, where the process methods
    look it up at each call (the compiled function itself is unchanged).
    """
    totals: dict[str, list[float]] = {}
    originals = []
    for label, owner, attr in targets:
        fn = getattr(owner, attr, None)
        if fn is None or not callable(fn):
            print(f"warning: {owner.__name__} has no {attr}: not timed", file=sys.stderr)
            continue
        totals[label] = [0.0, 0]
        originals.append((owner, attr, owner.__dict__[attr]))

        def wrapper(*args: Any, __fn: Any = fn, __acc: list = totals[label], **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return __fn(*args, **kw)
            finally:
                __acc[0] += time.perf_counter() - t0
                __acc[1] += 1

        setattr(owner, attr, functools.wraps(fn)(wrapper))
    try:
        yield totals
    finally:
        for owner, attr, fn in originals:
            setattr(owner, attr, fn)


def _targets() -> tuple[list, list]:
    phases = [(phase, PROCESS_CLASSES[proc], method) for phase, proc, method in PHASES]
    subs = [(label, owner, attr) for label, owner, attr in SUB_PHASES]
    for mod in KERNEL_MODULES:
        subs += [(f"{name} (compiled)", mod, name) for name in sorted(vars(mod))
                 if name.endswith("_kernel")]
    return phases, subs


def profile_config(name: str, config: dict) -> dict:
    """One warm-up run (it also compiles or loads the kernels), then one run with every
    phase timed."""
    scenario = build_scenario(config)
    PathwaysModel(scenario, seed=0).run()  # warm-up: imports, caches
    gc.collect()
    phase_targets, sub_targets = _targets()
    with timed(phase_targets) as steps, timed(sub_targets) as subs, \
            timed([("settle_period", Funder, "settle_period")]) as funder:
        t0 = time.perf_counter()
        m = PathwaysModel(scenario, seed=PROFILE_SEED)
        t1 = time.perf_counter()
        m.run()
        t2 = time.perf_counter()
    weeks = m.p.run.weeks
    run_s = t2 - t1
    phases = {k: v[0] for k, v in steps.items()}
    phases["settle_period (funder)"] = funder.get("settle_period", [0.0])[0]
    phases["other (Mesa loop, step)"] = run_s - sum(phases.values())
    return {
        "description": config["description"], "clients": int(m.clients.n),
        "client_weeks": client_weeks(m), "weeks": weeks, "init_s": t1 - t0, "run_s": run_s,
        "ms_per_week": 1e3 * run_s / weeks,
        "us_per_client_week": 1e6 * run_s / max(client_weeks(m), 1),
        "phases_s": phases,
        "sub_phases_s": {k: v[0] for k, v in subs.items()},
        "calls": {k: int(v[1]) for k, v in {**steps, **subs}.items()},
    }


def small_op_us() -> float:
    """Median cost in microseconds of one small numpy operation (100-element arrays).

    A mix typical of the model's weekly code: a comparison, a masked index,
    a fancy index, an arithmetic operation, a ``flatnonzero``.
    """
    rng = np.random.default_rng(0)
    a = rng.random(100, dtype=np.float32)
    b = rng.random(100, dtype=np.float32)
    idx = np.flatnonzero(a < 0.5)
    ops = [lambda: a < 0.3, lambda: a[a < 0.3], lambda: b[idx], lambda: a * b + 1.0,
           lambda: np.flatnonzero(a > b)]
    per_op = []
    for op in ops:
        t = min(timeit.repeat(op, number=2000, repeat=5)) / 2000
        per_op.append(t)
    # Each lambda above is one or two numpy calls; count them as the number of calls.
    calls = [1, 2, 1, 2, 2]
    return float(np.median([1e6 * t / c for t, c in zip(per_op, calls, strict=True)]))


OPERATORS = frozenset({"BINARY_OP", "BINARY_SUBSCR", "STORE_SUBSCR", "COMPARE_OP",
                       "UNARY_INVERT", "UNARY_NEGATIVE", "BINARY_SLICE", "STORE_SLICE"})
"""Bytecode operations that, on arrays, are numpy calls (``a + b``, ``a[idx]``, ``a < b``)."""


def _is_numpy(fn: Any) -> bool:
    if isinstance(fn, np.ufunc):
        return True
    mod = getattr(fn, "__module__", None) or ""
    if mod.startswith("numpy"):
        return True
    owner = getattr(fn, "__self__", None)
    return isinstance(owner, (np.ndarray, np.generic, np.random.Generator))


def count_numpy_calls(config: dict) -> dict:
    """numpy calls made by the model's own code (``pathways_sim/model/``), per week.

    Counted with :mod:`sys.monitoring` over one run: *calls* are calls from the
    model's code to numpy functions, ufuncs and array or Generator methods;
    *operators* are the executed operator, comparison and subscript bytecodes of
    the model's code (``a + b``, ``a < b``, ``a[idx]``, ``a[idx] = v``): on arrays
    each is a numpy call, on plain numbers it is not, so that count is an upper
    bound of the array operations (in the weekly code almost all are on arrays).
    """
    import dis

    mon = sys.monitoring
    tool = mon.PROFILER_ID
    model_dir = str(Path(PathwaysModel.__module__.replace(".", "/")).parent)
    calls: collections.Counter[str] = collections.Counter()
    ops: collections.Counter[str] = collections.Counter()
    current = ["(set-up)"]
    op_offsets: dict[Any, frozenset[int]] = {}

    def ours(code: Any) -> bool:
        return model_dir in code.co_filename

    def on_start(code: Any, offset: int) -> Any:
        if not ours(code):
            return mon.DISABLE
        phase = PHASE_OF.get(code.co_qualname)
        if phase is not None:
            current[0] = phase
        return None

    def on_call(code: Any, offset: int, fn: Any, arg0: Any) -> Any:
        if not ours(code):
            return mon.DISABLE
        if _is_numpy(fn):
            calls[current[0]] += 1
        return None

    def on_instruction(code: Any, offset: int) -> Any:
        if not ours(code):
            return mon.DISABLE
        offsets = op_offsets.get(code)
        if offsets is None:
            offsets = frozenset(i.offset for i in dis.get_instructions(code)
                                if i.opname in OPERATORS)
            op_offsets[code] = offsets
        if offset not in offsets:
            return mon.DISABLE
        ops[current[0]] += 1
        return None

    scenario = build_scenario(config)
    m = PathwaysModel(scenario, seed=PROFILE_SEED)
    mon.use_tool_id(tool, "profile_phases")
    try:
        mon.register_callback(tool, mon.events.PY_START, on_start)
        mon.register_callback(tool, mon.events.CALL, on_call)
        mon.register_callback(tool, mon.events.INSTRUCTION, on_instruction)
        mon.set_events(tool, mon.events.PY_START | mon.events.CALL | mon.events.INSTRUCTION)
        m.run()
    finally:
        mon.set_events(tool, 0)
        for event in (mon.events.PY_START, mon.events.CALL, mon.events.INSTRUCTION):
            mon.register_callback(tool, event, None)
        mon.free_tool_id(tool)
    weeks = m.p.run.weeks
    phases = [*STEP_PHASES, *sorted((set(calls) | set(ops)) - set(STEP_PHASES))]
    return {"calls_per_week": sum(calls.values()) / weeks,
            "operators_per_week": sum(ops.values()) / weeks,
            "per_week_by_phase": {k: {"calls": calls[k] / weeks, "operators": ops[k] / weeks}
                                  for k in phases}}


def fixed_and_marginal(tiny: dict, config: dict) -> tuple[float, float]:
    """Share of a week that is fixed cost, and the cost (us) of each further client-week.

    The tiny model's week stands for the fixed cost; the difference in time per week
    between ``config`` and it, divided by the difference in client-weeks per week, is
    the marginal cost of a client-week.
    """
    share = tiny["ms_per_week"] / config["ms_per_week"]
    extra = (config["client_weeks"] - tiny["client_weeks"]) / config["weeks"]
    marginal = 1e3 * (config["ms_per_week"] - tiny["ms_per_week"]) / max(extra, 1.0)
    return share, marginal


def print_report(results: dict) -> None:
    configs = results["configurations"]
    print()
    print(f"{'config':<9} {'clients':>9} {'client-wks':>11} {'run s':>8} {'ms/week':>8} "
          f"{'us/client-wk':>12}")
    for name, c in configs.items():
        print(f"{name:<9} {c['clients']:>9,} {c['client_weeks']:>11,} {c['run_s']:>8.3f} "
              f"{c['ms_per_week']:>8.3f} {c['us_per_client_week']:>12.3f}")
    print()
    names = list(configs)
    phases = list(next(iter(configs.values()))["phases_s"])
    print("Share of run time per phase (ms per week in brackets):")
    print(f"  {'phase':<26}" + "".join(f"{n:>22}" for n in names))
    for ph in phases:
        cells = []
        for n in names:
            c = configs[n]
            s = c["phases_s"].get(ph, 0.0)
            cells.append(f"{100 * s / c['run_s']:>9.1f}% ({1e3 * s / c['weeks']:>7.3f})")
        print(f"  {ph:<26}" + "".join(f"{x:>22}" for x in cells))
    print("  of which:")
    for ph in next(iter(configs.values()))["sub_phases_s"]:
        cells = []
        for n in names:
            c = configs[n]
            s = c["sub_phases_s"].get(ph, 0.0)
            cells.append(f"{100 * s / c['run_s']:>9.1f}% ({1e3 * s / c['weeks']:>7.3f})")
        print(f"  {'  ' + ph:<26}" + "".join(f"{x:>22}" for x in cells))
    print()
    op = results["small_op_us"]
    tiny = configs.get("tiny")
    print(f"One small numpy operation (100-element arrays): {op:.2f} us")
    if tiny:
        for n, c in configs.items():
            if n == "tiny":
                continue
            fixed, marginal = fixed_and_marginal(tiny, c)
            print(f"{n}: the fixed cost of a week (the tiny model's) is {100 * fixed:.0f}% of its "
                  f"week; the rest costs {marginal:.2f} us per client-week and grows with them")
        print(f"tiny model: {tiny['ms_per_week']:.3f} ms per week, i.e. about "
              f"{1e3 * tiny['ms_per_week'] / op:,.0f} small numpy operations' worth of fixed "
              "cost per week")
    counts = results.get("numpy_calls")
    if counts:
        names = list(counts)
        print("numpy work of the model's code per week: calls to numpy functions, ufuncs and "
              "methods + operators and subscripts (an upper bound: some are on numbers)")
        print(f"  {'phase':<26}" + "".join(f"{n:>16}" for n in names))
        cells = [f"{c['calls_per_week']:,.0f} + {c['operators_per_week']:,.0f}"
                 for c in counts.values()]
        print(f"  {'all':<26}" + "".join(f"{x:>16}" for x in cells))
        phases = list(next(iter(counts.values()))["per_week_by_phase"])
        for ph in phases:
            cells = []
            for c in counts.values():
                v = c["per_week_by_phase"].get(ph, {"calls": 0, "operators": 0})
                cells.append(f"{v['calls']:,.0f} + {v['operators']:,.0f}")
            print(f"  {ph:<26}" + "".join(f"{x:>16}" for x in cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=None,
                    help="comma-separated configurations (of tiny, "
                         f"{', '.join(CONFIGURATIONS)}; default all)")
    ap.add_argument("--calls", action="store_true",
                    help="also count numpy calls per week (one more run of each configuration)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    known = {"tiny": TINY, **CONFIGURATIONS}
    names = list(known) if args.only is None else [s.strip() for s in args.only.split(",")
                                                   if s.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        ap.error(f"--only: unknown configuration(s) {unknown}; choose from {list(known)}")
    results: dict[str, Any] = {"configurations": {}, "small_op_us": small_op_us()}
    for name in names:
        print(f"{time.strftime('%H:%M:%S')} profiling {name}", file=sys.stderr, flush=True)
        results["configurations"][name] = profile_config(name, known[name])
    if args.calls:
        results["numpy_calls"] = {name: count_numpy_calls(known[name]) for name in names}
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
