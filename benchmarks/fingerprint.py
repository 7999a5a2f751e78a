"""Bit-exact fingerprint of full runs: proof that a refactor of the model changes nothing.

For each case (a scenario, optionally with changes) and seed, runs the model to the end
and records the SHA-256 of every column of the event log, of every column of the client
attribute table, of the funder's ledger and of the state arrays of every client. Two
fingerprints made on the same machine are equal if and only if the runs are bit-identical
(tests/regression.py compares rounded metrics; this compares the bytes).

    python -m benchmarks.fingerprint --out /tmp/fp_before.json
    python -m benchmarks.fingerprint --compare /tmp/fp_before.json   # exit 1 on a difference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pathways_sim.model.model import PathwaysModel
from pathways_sim.scenario import load_scenario

CASES: dict[str, tuple[str, dict]] = {
    "medium": ("medium", {}),
    "holistic": ("holistic", {}),
    "pbr_job_outcomes": ("pbr_job_outcomes", {}),
    "signposting": ("signposting", {}),
    "jcp_partnership": ("jcp_partnership", {}),
    "rotherham_mh_2015": ("rotherham_mh_2015", {}),
    "ips_trial": ("ips_trial", {}),
    "pbr_stepping_stones": ("pbr_stepping_stones", {}),
    # A scheduled training event and a knowledge gap: the Link Worker set-up paths.
    "medium_trained": ("medium", {"link_workers.training_week": 26,
                                  "link_workers.knowledge_of_provision": 0.6}),
}
SEEDS = (1, 12345)


def _digest(a) -> str:
    a = np.ascontiguousarray(np.asarray(a))
    h = hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def _frame(df: pd.DataFrame) -> dict[str, str]:
    out = {}
    for col in df.columns:
        x = df[col]
        x = x.cat.codes if isinstance(x.dtype, pd.CategoricalDtype) else x
        out[col] = _digest(x.to_numpy())
    return out


def run_case(name: str, changes: dict, seed: int) -> dict:
    sc = load_scenario(name)
    if changes:
        sc = sc.with_changes(changes)
    m = PathwaysModel(sc, seed=seed)
    m.run()
    s, n = m.clients, m.clients.n
    state = {key: _digest(getattr(s, key)[:n]) for key in (*s._SCHEMA, "B", "B0")}
    return {
        "log_rows": len(m.log),
        "log": _frame(m.log.frame()),
        "clients": _frame(m.client_attributes()),
        "state": state,
        "ledger": _frame(pd.DataFrame(m.funder.ledger)),
        "stage_counts": m.stage_counts(),
        "posts": [(lw.active, lw.caseload, float(lw.work_awareness), lw.iag_level)
                  for lw in m.link_workers],
        "places": [pr.places for pr in m.providers],
    }


def fingerprints() -> dict:
    return {f"{case}/{seed}": run_case(name, changes, seed)
            for case, (name, changes) in CASES.items() for seed in SEEDS}


def _diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        lines = []
        for k in sorted(set(a) | set(b)):
            lines += _diff(a.get(k), b.get(k), f"{path}/{k}")
        return lines
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="write the fingerprints to this JSON file")
    ap.add_argument("--compare", type=Path, help="compare with fingerprints in this JSON file")
    args = ap.parse_args(argv)
    fp = json.loads(json.dumps(fingerprints()))  # tuples -> lists, as stored
    if args.out:
        args.out.write_text(json.dumps(fp, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {args.out} ({len(fp)} runs)")
    if args.compare:
        diff = _diff(json.loads(args.compare.read_text(encoding="utf-8")), fp)
        for line in diff[:40]:
            print(line)
        print(f"{len(diff)} differences in {len(fp)} runs"
              if diff else f"bit-identical: {len(fp)} runs")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
