"""Named random streams keyed by client, for common random numbers.

Two kinds of draw, both keyed so that a client's draw for a decision never depends on
other clients or other decisions:

* **Weekly per-client decisions** (drop-out, uptake, job entry...), made inside the
  compiled kernels: a counter-based hash of (root seed, stream, week, client)
  (:func:`stream_key` here, :func:`pathways_sim.model.kernels.draw` in the kernels).
  Nothing is generated or skipped: the kernel computes the one number it needs, so a
  draw costs a few nanoseconds and no per-call overhead (the PCG64 blocks below cost
  several microseconds per call, about 15 calls a week). Chosen for the kernels of
  issue 9 (docs/odd.md, "Stochasticity"); it changed the draws from the PCG64 blocks, so
  its results were checked for statistical equivalence with the version before
  (benchmarks/equivalence.py), not bit-identity.
* **Everything else** (referral counts and client attributes, Link Worker knowledge,
  model-level generators), through :class:`Streams`, described next.

One root seed; each stochastic process (referrals, uptake, drop-out, job
entry...) has its own PCG64 stream seeded from the root seed and the process
name with :class:`numpy.random.SeedSequence`. A draw for client ``i`` in week
``t`` is number ``i`` of block ``t`` of that process's stream, reached by
jumping ahead (``advance``), so it does not depend on which other clients
exist, on the order in which processes run, or on how many draws other
processes made. Two scenarios run with the same seed therefore give the same
client the same draw for the same decision (common random numbers), and a
lever change moves outcomes only through its mechanism.

Jumping ahead lets the model draw for a contiguous range of client indices
``[lo, hi)`` without generating the numbers before ``lo``.

Clients are indexed in order of referral. Where two scenarios refer the same
people (same volumes and mix), every decision is paired. Where referral
volumes differ (a JCP partnership adds referrals), client attributes stay
paired by source and order of arrival, but weekly draws are keyed by referral
order and pair less closely.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

_PER_DRAW = 2  # float32 draws per 64-bit PCG64 output
_BLOCK = 1 << 48  # 64-bit outputs reserved per week (far more than any run needs)
_UNKNOWN = 1 << 127  # stream position after a caller drew an unknown amount: restart next time


_MASK = (1 << 64) - 1


def _mix64(x: int) -> int:
    """The SplitMix64 finaliser on Python ints (as :func:`pathways_sim.model.kernels.mix64`)."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def stream_key(seed: int, name: str) -> np.uint64:
    """The 64-bit key of stream ``name`` in a run with root ``seed`` (for the kernels' draws).

    A hash of the seed and the stream's crc32: distinct streams and seeds get unrelated
    keys; :func:`pathways_sim.model.kernels.draw` hashes it with the week and the client.
    """
    return np.uint64(_mix64((_mix64(seed & _MASK) + 0x9E3779B97F4A7C15 * _process_id(name))
                            & _MASK))


def _process_id(name: str) -> int:
    """Stable 32-bit id of a process name (crc32: independent of Python's hash seed)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Random streams for one simulation run.

    Args:
        seed: The run's root seed (a non-negative integer).
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError("seed must be a non-negative integer")
        self.seed = int(seed)
        self._gens: dict[str, tuple] = {}

    def _generator(self, process: str, word: int, position: int) -> np.random.Generator:
        """The process's generator jumped to output ``position`` of block ``word`` (reused).

        Jumps forward from where the last draw left the stream when it can (cheap);
        otherwise restarts from the stream's origin.
        """
        target = word * _BLOCK + position
        cached = self._gens.get(process)
        if cached is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(_process_id(process),))
            bg = np.random.PCG64(ss)
            cached = [bg, np.random.Generator(bg), bg.state, 0]
            self._gens[process] = cached
        bg, gen, origin, at = cached
        if target < at:
            bg.state = origin
            at = 0
        if target > at:
            bg.advance(target - at)
        cached[3] = target
        return gen

    def _block(self, process: str, word: int, lo: int, hi: int) -> np.ndarray:
        if hi <= lo:
            return np.empty(0, dtype=np.float32)
        skip = lo % _PER_DRAW
        n = hi - lo + skip
        n += n % _PER_DRAW  # whole 64-bit outputs: nothing left buffered between calls
        gen = self._generator(process, word, lo // _PER_DRAW)
        out = gen.random(n, dtype=np.float32)[skip : skip + hi - lo]
        self._gens[process][3] += n // _PER_DRAW
        return out

    def uniform(self, process: str, week: int, lo: int, hi: int) -> np.ndarray:
        """Uniform draws in [0, 1) for clients ``lo .. hi-1`` in ``week`` (float32)."""
        return self._block(process, int(week), lo, hi)

    def clients(self, process: str, week: int, idx: np.ndarray) -> np.ndarray:
        """Uniform draws in ``week`` for the clients ``idx`` (sorted ascending; float32).

        Client ``i`` gets draw ``i`` of the week's block, whoever else draws.
        """
        if len(idx) == 0:
            return np.empty(0, dtype=np.float32)
        lo = int(idx[0])
        return self._block(process, int(week), lo, int(idx[-1]) + 1)[idx - lo]

    def generator(self, process: str, week: int) -> np.random.Generator:
        """A generator for model-level draws of one process in one week (not per client).

        The generator is shared: use its draws before asking for another.
        """
        gen = self._generator(process + ".model", int(week), 0)
        self._gens[process + ".model"][3] = _UNKNOWN  # the caller consumes an unknown amount
        return gen

    def population(self, source: str, seq_lo: int, count: int, columns: int) -> np.ndarray:
        """Uniform draws for the attributes of referrals ``seq_lo..`` from one source.

        Row ``j`` holds the ``columns`` draws of the ``seq_lo + j``-th client
        ever referred by ``source``: the same client (by source and order of
        arrival) gets the same attributes in every scenario run with this seed.
        """
        flat = self._block("population." + source, 0, seq_lo * columns,
                           (seq_lo + count) * columns)
        return flat.reshape(count, columns)

    @staticmethod
    def normal(u: np.ndarray) -> np.ndarray:
        """Standard normal deviates from uniforms by the inverse CDF (keeps CRN)."""
        return ndtri(np.clip(u, 1e-7, 1 - 1e-7)).astype(np.float32)
