"""Performance benchmark of pathways-sim, measured against plain Mesa in the same process.

Modelled on Mesa's own ``benchmarks/`` folder: named configurations, a warm-up
run that is not counted, model set-up (init) and simulation (run) timed
separately, several seeds, and a reference workload measured in the same
process so that results can be compared across machines.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench.py                      # all configurations
    .venv/bin/python benchmarks/bench.py --only small,standard --repeats 5
    make bench                                                # -> benchmarks/results.json

The unit of work is the *client-week*: one week a client spends in the model
between referral and the end of follow-up. The reference is Mesa's own
agent-step: 10,000 trivial agents driven by ``model.agents.shuffle_do("step")``.
``mesa_ratio`` = our client-weeks/s divided by Mesa's agent-steps/s, i.e. how
many times faster than a do-nothing Mesa agent loop one simulated client-week is.

The script always exits 0 when it completes: it is a report, not a test. See
``benchmarks/README.md`` for how to read the output.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from timeit import default_timer as timer

import mesa
import numpy as np

from pathways_sim.model.model import PathwaysModel
from pathways_sim.scenario import load_scenario

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: Named configurations. All simulate three years (156 weeks). Default referrals
#: are 2,000 a year at ``run.scale`` 1. ``repeats`` is the default number of timed
#: seeds (``--repeats`` overrides it for every configuration).
CONFIGURATIONS: dict[str, dict] = {
    "small": {
        "scenario": "medium",
        "changes": {"run.weeks": 156, "run.scale": 0.25},
        "description": "medium service, 500 referrals/yr",
        "repeats": 3,
    },
    "standard": {
        "scenario": "holistic",
        "changes": {"run.weeks": 156, "run.scale": 1.0},
        "description": "holistic service, 2,000 referrals/yr",
        "repeats": 3,
    },
    "large": {
        "scenario": "holistic",
        "changes": {"run.weeks": 156, "run.scale": 25.0},
        "description": "holistic service, 50,000 referrals/yr",
        "repeats": 1,
    },
}

WARMUP_SEED = 0
MEMORY_SEED = 1

# Mesa reference workload.
MESA_AGENTS = 10_000
MESA_CALLS = 20
MESA_WARMUP_CALLS = 3
MESA_BLOCKS = 5

# Targets.
# Issue 9 ("Model engine v2"): the compiled kernels raised the first issue's 1 and 2 and 4 KB.
TARGET_RATIO_STANDARD = 2.5
TARGET_RATIO_LARGE = 4.0
TARGET_LARGE_TOTAL_S = 120.0
TARGET_LARGE_PEAK_KB = 2.0
TARGET_GROWTH_TOLERANCE = 0.10


# ---------------------------------------------------------------------- Mesa reference
class _RefAgent(mesa.Agent):
    """The cheapest meaningful Mesa agent: one float update per step."""

    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.x = 0.0

    def step(self) -> None:
        self.x += 1.0


def mesa_agent_steps_per_s(n_agents: int = MESA_AGENTS, calls: int = MESA_CALLS,
                           blocks: int = MESA_BLOCKS) -> float:
    """Agent-steps per second of a plain Mesa model activated with ``shuffle_do``.

    After a warm-up, ``blocks`` blocks of ``calls`` calls are timed; the median
    block is returned (one block alone is easily disturbed by other processes).
    """
    model = mesa.Model(rng=0)
    for _ in range(n_agents):
        _RefAgent(model)
    agents = model.agents
    for _ in range(MESA_WARMUP_CALLS):
        agents.shuffle_do("step")
    rates = []
    for _ in range(blocks):
        gc.collect()
        start = timer()
        for _ in range(calls):
            agents.shuffle_do("step")
        rates.append(n_agents * calls / (timer() - start))
    del model, agents
    gc.collect()
    return statistics.median(rates)


# ---------------------------------------------------------------------- our model
def build_scenario(config: dict):
    return load_scenario(config["scenario"]).with_changes(dict(config["changes"]))


def client_weeks(m: PathwaysModel) -> int:
    """Client-weeks simulated by a finished model (referral to end of follow-up or of run)."""
    s = m.clients
    n = s.n
    weeks = np.minimum(m.p.run.follow_up_weeks, m.p.run.weeks - s.ref_week[:n])
    return int(weeks.sum())


def timed_run(scenario, seed: int) -> dict:
    """Build and run one model; init and run timed separately."""
    gc.collect()
    t0 = timer()
    m = PathwaysModel(scenario, seed=seed)
    t1 = timer()
    m.run()
    t2 = timer()
    if m.week != m.p.run.weeks:
        raise RuntimeError(f"model stopped at week {m.week} of {m.p.run.weeks}")
    out = {"seed": seed, "init_s": t1 - t0, "run_s": t2 - t1,
           "clients": int(m.clients.n), "client_weeks": client_weeks(m)}
    del m
    gc.collect()
    return out


def peak_memory(scenario, seed: int) -> dict:
    """Peak traced memory (Python and numpy allocations) over init + run of one model."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        m = PathwaysModel(scenario, seed=seed)
        m.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    clients = int(m.clients.n)
    del m
    gc.collect()
    peak_bytes = peak - base
    return {"peak_bytes": int(peak_bytes), "clients": clients,
            "peak_kb_per_client": peak_bytes / 1024 / max(clients, 1)}


def bench_config(name: str, config: dict, repeats: int, memory: bool, log) -> dict:
    scenario = build_scenario(config)
    log(f"{name}: warm-up (seed {WARMUP_SEED})")
    timed_run(scenario, WARMUP_SEED)
    runs = []
    for seed in range(1, repeats + 1):
        r = timed_run(scenario, seed)
        log(f"{name}: seed {seed}  init {r['init_s']:.3f} s  run {r['run_s']:.3f} s  "
            f"{r['clients']:,} clients  {r['client_weeks']:,} client-weeks")
        runs.append(r)
    init_s = statistics.median(r["init_s"] for r in runs)
    run_s = statistics.median(r["run_s"] for r in runs)
    # Throughput per seed, then the median (seeds differ slightly in client-weeks).
    cw_per_s = statistics.median(r["client_weeks"] / r["run_s"] for r in runs)
    clients = int(statistics.median(r["clients"] for r in runs))
    cws = int(statistics.median(r["client_weeks"] for r in runs))
    result = {
        "description": config["description"],
        "scenario": config["scenario"],
        "changes": dict(config["changes"]),
        "repeats": repeats,
        "seeds": [r["seed"] for r in runs],
        "clients": clients,
        "client_weeks": cws,
        "init_s": init_s,
        "run_s": run_s,
        "total_s": init_s + run_s,
        "client_weeks_per_s": cw_per_s,
        "time_per_client_week_us": 1e6 / cw_per_s,
        "runs": runs,
    }
    if memory:
        log(f"{name}: memory pass (tracemalloc, seed {MEMORY_SEED}, not timed)")
        mem = peak_memory(scenario, MEMORY_SEED)
        result["peak_kb_per_client"] = mem["peak_kb_per_client"]
        result["peak_mb"] = mem["peak_bytes"] / 2**20
    else:
        result["peak_kb_per_client"] = None
        result["peak_mb"] = None
    return result


# ---------------------------------------------------------------------- report
def machine_info() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = None
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "cpu_count": os.cpu_count(),
        "cpus_available": affinity,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def git_state() -> tuple[str | None, bool | None]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return None, None


def evaluate_targets(configs: dict) -> dict:
    """Each target: value, threshold, and pass (None when its configuration was not run)."""
    def target(desc, value, threshold, ok):
        return {"description": desc, "value": value, "threshold": threshold,
                "pass": None if value is None else bool(ok)}

    std, large, small = configs.get("standard"), configs.get("large"), configs.get("small")
    t = {}
    v = std["mesa_ratio"] if std else None
    t["standard_mesa_ratio"] = target(f"mesa_ratio on standard >= {TARGET_RATIO_STANDARD:g}",
                                      v, TARGET_RATIO_STANDARD,
                                      v is not None and v >= TARGET_RATIO_STANDARD)
    v = large["mesa_ratio"] if large else None
    t["large_mesa_ratio"] = target(f"mesa_ratio on large >= {TARGET_RATIO_LARGE:g}", v,
                                   TARGET_RATIO_LARGE, v is not None and v >= TARGET_RATIO_LARGE)
    v = large["total_s"] if large else None
    t["large_total_s"] = target("large init+run <= 120 s", v, TARGET_LARGE_TOTAL_S,
                                v is not None and v <= TARGET_LARGE_TOTAL_S)
    v = large["peak_kb_per_client"] if large else None
    t["large_peak_kb_per_client"] = target(
        f"large peak memory <= {TARGET_LARGE_PEAK_KB:g} KB per client", v, TARGET_LARGE_PEAK_KB,
        v is not None and v <= TARGET_LARGE_PEAK_KB)
    if small and large:
        v = large["time_per_client_week_us"] / small["time_per_client_week_us"]
    else:
        v = None
    t["no_growth_small_to_large"] = target(
        "time per client-week large/small <= 1.10 (does not grow)", v,
        1.0 + TARGET_GROWTH_TOLERANCE, v is not None and v <= 1.0 + TARGET_GROWTH_TOLERANCE)
    return t


def _fmt(v, spec: str) -> str:
    """Format a number, or a dash of the same width when it was not measured."""
    if v is None:
        width = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
        return format("-", f">{width}")
    return format(v, spec)


def print_report(results: dict) -> None:
    configs = results["configurations"]
    m = results["machine"]
    print()
    print(f"pathways-sim benchmark  git {(results['git_sha'] or '?')[:10]}"
          f"{' (dirty)' if results['git_dirty'] else ''}  "
          f"Python {m['python']}  numpy {m['numpy']}  Mesa {m['mesa']}  "
          f"{m['cpu_count']} CPUs  {m['platform']}")
    samples = ", ".join(f"{x:,.0f}" for x in results["mesa_agent_steps_per_s_samples"])
    print(f"Mesa reference: {results['mesa_agent_steps_per_s']:,.0f} agent-steps/s "
          f"(median of {samples}; {MESA_AGENTS:,} agents, shuffle_do, "
          f"median of {MESA_BLOCKS} blocks of {MESA_CALLS} calls each)")
    print()
    header = (f"{'config':<9} {'reps':>4} {'clients':>9} {'client-weeks':>13} {'init s':>8} "
              f"{'run s':>8} {'client-wk/s':>12} {'us/client-wk':>13} {'mesa_ratio':>10} "
              f"{'(local)':>8} {'peak KB/client':>15}")
    print(header)
    print("-" * len(header))
    for name, c in configs.items():
        print(f"{name:<9} {c['repeats']:>4} {c['clients']:>9,} {c['client_weeks']:>13,} "
              f"{c['init_s']:>8.3f} {c['run_s']:>8.3f} {c['client_weeks_per_s']:>12,.0f} "
              f"{c['time_per_client_week_us']:>13.3f} {c['mesa_ratio']:>10.2f} "
              f"{c['mesa_ratio_local']:>8.2f} "
              f"{_fmt(c['peak_kb_per_client'], '>15.2f')}")
    print()
    print("mesa_ratio uses the median reference (targets use it); (local) uses the mean of the")
    print("two reference measurements just before and after that configuration.")
    print()
    small, large = configs.get("small"), configs.get("large")
    if small and large:
        g = large["time_per_client_week_us"] / small["time_per_client_week_us"]
        trend = "grows" if g > 1.0 + TARGET_GROWTH_TOLERANCE else "does not grow"
        print(f"Time per client-week small -> large: {small['time_per_client_week_us']:.3f} -> "
              f"{large['time_per_client_week_us']:.3f} us (x{g:.2f}): {trend}")
        print()
    print("Targets:")
    for t in results["targets"].values():
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[t["pass"]]
        value = "not measured" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  [{status}] {t['description']:<60} value {value}")
    fc = results.get("first_call")
    if fc:
        print()
        print("First call in a fresh process (import; first standard run; second run):")
        for label, what in (("cold", "empty numba cache, as after a fresh install"),
                            ("warm", "compiled kernels loaded from the cache")):
            c = fc[label]
            print(f"  {label}: import {c['import_s']:.2f} s, first run {c['first_run_s']:.2f} s, "
                  f"second run {c['second_run_s']:.3f} s, whole process {c['process_s']:.2f} s"
                  f"  ({what})")
    failed = [k for k, t in results["targets"].items() if t["pass"] is False]
    print()
    print(f"{len(failed)} target(s) FAILED: {', '.join(failed)}" if failed
          else "All measured targets pass.")


# ---------------------------------------------------------------------- first call
_FIRST_CALL = """
import time, json
t0 = time.perf_counter()
from pathways_sim.model.model import PathwaysModel
from pathways_sim.scenario import load_scenario
t1 = time.perf_counter()
PathwaysModel(load_scenario("holistic"), seed=1).run()
t2 = time.perf_counter()
PathwaysModel(load_scenario("holistic"), seed=2).run()
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_run_s": t2 - t1, "second_run_s": t3 - t2}))
"""


def first_call(log) -> dict:
    """A fresh Python process: import, then the first standard run, compile included.

    ``cold``: with an empty numba cache (``NUMBA_CACHE_DIR`` set to a new temporary
    folder), as after a fresh install: the kernels compile in the first run. ``warm``: the
    same with the cache that the cold run filled (every later process: the kernels load
    from the cache). The project's own cache in ``__pycache__`` is left untouched.
    """
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            log(f"first call, {label} numba cache")
            t0 = timer()
            done = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, check=True,
                                  capture_output=True, text=True, cwd=REPO)
            out[label] = {**json.loads(done.stdout.strip().splitlines()[-1]),
                          "process_s": timer() - t0}
    return out


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=None,
                    help=f"comma-separated configurations to run (of {', '.join(CONFIGURATIONS)})")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed seeds per configuration (default: 3; 1 for large)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json",
                    help="JSON output path (default: benchmarks/results.json)")
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the tracemalloc pass (peak memory is then not reported)")
    ap.add_argument("--quiet", action="store_true", help="only print the final table")
    ap.add_argument("--no-first-call", action="store_true",
                    help="skip the first-call measurement (two fresh processes, cold and "
                         "warm numba cache)")
    args = ap.parse_args(argv)

    names = list(CONFIGURATIONS) if not args.only else [
        s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [n for n in names if n not in CONFIGURATIONS]
    if unknown:
        ap.error(f"unknown configuration(s) {unknown}; choose from {list(CONFIGURATIONS)}")
    if args.repeats is not None and args.repeats < 1:
        ap.error("--repeats must be at least 1")

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    log(f"starting benchmarks: {', '.join(names)}")
    configs: dict[str, dict] = {}
    mesa_samples: list[float] = []
    # The reference is measured before each configuration and once after the
    # last, so every configuration is bracketed by two measurements.
    for name in names:
        ref = mesa_agent_steps_per_s()
        mesa_samples.append(ref)
        log(f"Mesa reference before {name}: {ref:,.0f} agent-steps/s")
        cfg = CONFIGURATIONS[name]
        repeats = args.repeats if args.repeats is not None else cfg["repeats"]
        configs[name] = bench_config(name, cfg, repeats, not args.no_memory, log)
    ref = mesa_agent_steps_per_s()
    mesa_samples.append(ref)
    log(f"Mesa reference after {names[-1]}: {ref:,.0f} agent-steps/s")

    mesa_ref = statistics.median(mesa_samples)
    for i, c in enumerate(configs.values()):
        before, after = mesa_samples[i], mesa_samples[i + 1]
        c["mesa_agent_steps_per_s_bracket"] = [before, after]
        c["mesa_ratio"] = c["client_weeks_per_s"] / mesa_ref
        # Against the two measurements around this configuration only: less
        # sensitive to load that changes during the benchmark.
        c["mesa_ratio_local"] = c["client_weeks_per_s"] / ((before + after) / 2)

    sha, dirty = git_state()
    results = {
        "machine": machine_info(),
        "git_sha": sha,
        "git_dirty": dirty,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mesa_agent_steps_per_s": mesa_ref,
        "mesa_agent_steps_per_s_samples": mesa_samples,
        "configurations": configs,
    }
    results["targets"] = evaluate_targets(configs)
    if not args.no_first_call:
        results["first_call"] = first_call(log)

    print_report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nResults written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
