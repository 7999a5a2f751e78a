"""The base of every process of the weekly step: its parameters, its streams, its model.

A process (referral, link work, provision, dynamics, jobs, exits, follow-up, work support)
is one module of :mod:`pathways_sim.model`. It declares

* ``SECTIONS``: the registry sections it reads; ``self.p`` is a typed, frozen view of
  just those (:class:`pathways_sim.model.params.Params`);
* ``STREAMS``: the named random streams it draws from (:mod:`pathways_sim.model.rng`);
  every draw goes through :meth:`Process.draw` (PCG64 blocks) or :meth:`Process.key` (the
  key of a compiled kernel's counter-based draws), which refuse an undeclared stream, and
  no two processes share a stream;

and holds its own arrays. :data:`pathways_sim.model.model.PHASES` names the methods the
model's ``step`` runs, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pathways_sim.model.rng import stream_key

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel


class Process:
    """One process of the model (subclasses set ``SECTIONS`` and ``STREAMS``)."""

    SECTIONS: tuple[str, ...] = ()
    STREAMS: tuple[str, ...] = ()

    def __init__(self, model: PathwaysModel) -> None:
        self.model = model
        self.p = model.p.only(self.SECTIONS)
        self._streams = frozenset(self.STREAMS)

    def _check(self, stream: str) -> None:
        if stream not in self._streams:
            raise KeyError(f"{type(self).__name__} draws from undeclared stream {stream!r}")

    def key(self, stream: str) -> np.uint64:
        """The key of ``stream`` in this run, for the draws of a compiled kernel
        (:func:`pathways_sim.model.kernels.draw`)."""
        self._check(stream)
        return stream_key(self.model.seed, stream)

    def keys(self, *streams: str) -> tuple[np.uint64, ...]:
        """:meth:`key` of each stream, cached (the kernels take them every week)."""
        cache = self.__dict__.setdefault("_keys", {})
        got = cache.get(streams)
        if got is None:
            got = cache[streams] = tuple(self.key(s) for s in streams)
        return got

    def uniform(self, stream: str, block: int, lo: int, hi: int) -> np.ndarray:
        """Draws ``lo .. hi-1`` of block ``block`` of ``stream`` (keyed by something other
        than a client, e.g. a Link Worker's index)."""
        self._check(stream)
        return self.model.streams.uniform(stream, block, lo, hi)

    def draw(self, stream: str, t: int, idx: np.ndarray) -> np.ndarray:
        """This week's uniform draws of ``stream`` for clients ``idx`` (sorted ascending).

        Each decision has its own stream (common random numbers: a client's draw for a
        decision never depends on the other decisions or other clients).
        """
        self._check(stream)
        return self.model.streams.clients(stream, t, idx)
