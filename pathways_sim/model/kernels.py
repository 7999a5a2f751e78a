"""What every compiled weekly kernel shares: counter-based draws and the event log.

The weekly work of the busiest processes (provision, sessions, dynamics, jobs, exits,
the waiting list) is written as one compiled loop over the clients still followed
(numba ``@njit(cache=True)``), next to the process class that owns its parameters, state
and streams and calls it (e.g. :func:`pathways_sim.model.provider.activities_kernel`).
A week of the model was about 1,500 small numpy operations, each ~0.5 us of fixed
overhead (benchmarks/README.md, "Where the time goes"); a kernel is one call a phase.

**Draws** (:func:`draw`): a client's uniform for one decision in one week is a hash of
(run seed, stream, week, client), not the next number of a generator: the
SplitMix64 finaliser applied to the stream's key (from the run seed and the stream's
name, :func:`pathways_sim.model.rng.stream_key`), the week and the client index. The
same client meets the same draw for the same decision in every scenario run with the
same seed, whoever else draws and in whatever order (common random numbers by
construction), and no generator state is carried between calls.

**Events**: a kernel appends rows to the event log's arrays (:meth:`EventLog.reserve`
before the call makes room for the most it can write; :func:`emit` writes one row; the
process then calls :meth:`EventLog.advance` with the kernel's new row count). Within a
week the rows come client by client (each client's events in the order of the
process's decisions) rather than grouped by event type.

The numba cache (``cache=True``) lives in ``__pycache__`` next to each module. It is
keyed on the kernel's own source file: after editing a helper here, clear the
``__pycache__`` of the modules that use it (``find pathways_sim -name '*.nbi' -delete``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_CLIENT = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53: 53 random bits to [0, 1)


@njit(inline="always")
def mix64(x):
    """The SplitMix64 finaliser (a bijection of 64-bit words with full avalanche)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@njit(inline="always")
def draw(key, week, client):
    """Uniform in [0, 1) for ``client`` in ``week`` of the stream with ``key`` (float64)."""
    x = mix64(key + np.uint64(week) * _GOLDEN)
    x = mix64(x ^ (np.uint64(client) * _CLIENT))
    return (x >> _S11) * _TO_UNIT


@njit(cache=True)
def draws(key, week, idx):
    """:func:`draw` for the clients ``idx`` (for tests and Python-side use)."""
    out = np.empty(len(idx), dtype=np.float64)
    for j in range(len(idx)):
        out[j] = draw(key, week, idx[j])
    return out


@njit(inline="always")
def emit(log, n, week, client, event, value):
    """Write one event row at ``n`` of the log arrays (week, client, event, value)."""
    log[0][n] = week
    log[1][n] = client
    log[2][n] = event
    log[3][n] = value
    return n + 1
