"""Named random streams keyed by client, for common random numbers.

One root seed; each stochastic process (referrals, uptake, drop-out, job
entry...) has its own Philox key derived from the root seed and the process
name with :class:`numpy.random.SeedSequence`. A draw for client ``i`` in week
``t`` is the ``i``-th number of the counter block ``(week=t)`` of that
process's key, so it does not depend on which other clients exist, on the
order in which processes run, or on how many draws other processes made.
Two scenarios run with the same seed therefore give the same client the
same draw for the same decision (common random numbers), and a lever change
moves outcomes only through its mechanism.

Counter-based generation lets the model draw for a contiguous range of
client indices ``[lo, hi)`` without generating the numbers before ``lo``.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

_PER_BLOCK = 8  # float32 draws per Philox counter increment (4 x uint64 -> 8 x uint32)
_POPULATION_OFFSET = 1 << 40  # counter word used for per-source population draws


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
        self._keys: dict[str, np.ndarray] = {}
        self._gens: dict[str, tuple] = {}

    def _key(self, process: str) -> np.ndarray:
        key = self._keys.get(process)
        if key is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(_process_id(process),))
            key = ss.generate_state(2, dtype=np.uint64)
            self._keys[process] = key
        return key

    def _generator(self, process: str, counter: tuple[int, int, int]) -> np.random.Generator:
        """The process's generator positioned at ``counter`` (reused: setting state is cheap)."""
        cached = self._gens.get(process)
        if cached is None:
            bg = np.random.Philox(key=self._key(process))
            cached = (bg, np.random.Generator(bg), bg.state)
            self._gens[process] = cached
        bg, gen, state = cached
        state["state"]["counter"][:] = (*counter, 0)
        state["buffer_pos"] = 4
        state["has_uint32"] = 0
        bg.state = state
        return gen

    def _block(self, process: str, word: int, lo: int, hi: int) -> np.ndarray:
        if hi <= lo:
            return np.empty(0, dtype=np.float32)
        start = lo - lo % _PER_BLOCK
        gen = self._generator(process, (start // _PER_BLOCK, word, 0))
        return gen.random(hi - start, dtype=np.float32)[lo - start :]

    def uniform(self, process: str, week: int, lo: int, hi: int) -> np.ndarray:
        """Uniform draws in [0, 1) for clients ``lo .. hi-1`` in ``week`` (float32)."""
        return self._block(process, int(week), lo, hi)

    def generator(self, process: str, week: int) -> np.random.Generator:
        """A generator for model-level draws of one process in one week (not per client).

        The generator is shared: use its draws before asking for another.
        """
        return self._generator(process, (0, int(week), 1))

    def population(self, source: str, seq_lo: int, count: int, columns: int) -> np.ndarray:
        """Uniform draws for the attributes of referrals ``seq_lo..`` from one source.

        Row ``j`` holds the ``columns`` draws of the ``seq_lo + j``-th client
        ever referred by ``source``: the same client (by source and order of
        arrival) gets the same attributes in every scenario run with this seed.
        """
        flat = self._block("population." + source, _POPULATION_OFFSET,
                           seq_lo * columns, (seq_lo + count) * columns)
        return flat.reshape(count, columns)

    @staticmethod
    def normal(u: np.ndarray) -> np.ndarray:
        """Standard normal deviates from uniforms by the inverse CDF (keeps CRN)."""
        return ndtri(np.clip(u, 1e-7, 1 - 1e-7)).astype(np.float32)
