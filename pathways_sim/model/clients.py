"""Clients: their state held in arrays, and a light view of one row.

The weekly work over thousands of clients is vectorised: every attribute of
every client lives in one numpy column of :class:`ClientState`, indexed by
the client's index (its order of referral). A :class:`Client` is a thin view
of one row, made on demand (``model.client(i)``), so code and people can
still ask a client about itself (``client.distance``, ``client.stage``,
``client.journey()``) while the model updates all clients at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pathways_sim.stages import STAGE_NAMES

if TYPE_CHECKING:
    from pathways_sim.model.model import PathwaysModel

#: Barrier domains (after the Multiple Barriers Assessment Tool and the Wellbeing Star).
DOMAINS = ("physical", "mental", "isolation", "skills", "money_housing", "substance",
           "work_experience", "aspiration")
D = {name: i for i, name in enumerate(DOMAINS)}


def distance_weights(clients) -> np.ndarray:
    """Weights of each barrier in the distance from the labour market, normalised to sum 1.

    ``clients`` is the ``clients`` section of the parameters (``clients.distance_weight_<domain>``).
    """
    w = np.array([getattr(clients, f"distance_weight_{d}") for d in DOMAINS], dtype=np.float32)
    return w / w.sum()

#: Domains that make up wellbeing (WEMWBS-like 14-70 scale), as averaging weights.
WELLBEING_DOMAINS = np.array([D["physical"], D["mental"], D["isolation"], D["money_housing"],
                              D["substance"]])
_WELLBEING_WEIGHTS = np.zeros(len(DOMAINS), dtype=np.float32)
_WELLBEING_WEIGHTS[WELLBEING_DOMAINS] = 1.0 / len(WELLBEING_DOMAINS)

# Client status codes.
WAITING, SUPPORTED, OUT, REJECTED = 0, 1, 2, 3
# Employment status at referral.
EMPLOYED_AT_RISK, UNEMPLOYED, INACTIVE, RETIRED = 0, 1, 2, 3
EMPLOYMENT_STATUS = ("employed_at_risk", "unemployed", "inactive", "retired")
REASONS = ("physical_health", "mental_health", "isolation", "welfare_financial", "lifestyle",
           "training", "employment")

NO_WEEK = -(10**6)


def wellbeing(barriers: np.ndarray) -> np.ndarray:
    """WEMWBS-like wellbeing (14-70) from barrier rows (higher barriers, lower wellbeing)."""
    return 14.0 + 56.0 * (1.0 - barriers @ _WELLBEING_WEIGHTS)


class ClientState:
    """Struct of arrays: one row per client ever referred.

    Args:
        capacity: Initial number of rows; the arrays grow by doubling.
    """

    _SCHEMA: dict[str, tuple[type, object]] = {
        "ref_week": (np.int32, 0), "source": (np.int8, 0), "age": (np.float32, 0),
        "working_age": (np.bool_, False), "conditions": (np.int8, 0),
        "emp_status": (np.int8, 0), "reason": (np.int8, 0), "psychosis": (np.bool_, False),
        "dist0": (np.float32, 0), "dist": (np.float32, 0),
        "status": (np.int8, WAITING), "lw": (np.int32, -1),
        "wait_since": (np.int32, 0), "support_start": (np.int32, NO_WEEK),
        "credit": (np.float32, 0), "sessions": (np.int32, 0),
        "act": (np.int8, -1), "act_end": (np.int32, NO_WEEK),
        "queue": (np.int8, -1), "queue_since": (np.int32, 0),
        "direct": (np.int8, -1), "direct_end": (np.int32, NO_WEEK),
        "in_work": (np.bool_, False), "job_start": (np.int32, NO_WEEK),
        "goal": (np.bool_, False), "stepped": (np.bool_, False),
        "travelled": (np.bool_, False), "job_paid": (np.bool_, False),
        "far": (np.bool_, False),
    }

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        for name, (dtype, fill) in self._SCHEMA.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        self.B = np.zeros((capacity, len(DOMAINS)), dtype=np.float32)
        self.B0 = np.zeros((capacity, len(DOMAINS)), dtype=np.float32)

    @property
    def capacity(self) -> int:
        return len(self.ref_week)

    def extend(self, k: int) -> slice:
        """Reserve ``k`` new rows (defaults filled) and return their slice."""
        need = self.n + k
        if need > self.capacity:
            cap = max(need, 2 * self.capacity)
            for name, (dtype, fill) in self._SCHEMA.items():
                old = getattr(self, name)
                new = np.full(cap, fill, dtype=dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
            for name in ("B", "B0"):
                old = getattr(self, name)
                new = np.zeros((cap, len(DOMAINS)), dtype=np.float32)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        rows = slice(self.n, need)
        self.n = need
        return rows


class Client:
    """A person referred to the service: a light view of one row of :class:`ClientState`.

    Not a Mesa agent: creating an agent per referral cost about 12% of a standard run
    (docs/odd.md §2), so :meth:`PathwaysModel.client
    <pathways_sim.model.model.PathwaysModel.client>` makes a view on demand. Behaviour is
    vectorised in the processes; this view answers questions about one client.
    """

    __slots__ = ("model", "index")

    def __init__(self, model: PathwaysModel, index: int) -> None:
        self.model = model
        self.index = index

    def __repr__(self) -> str:
        return f"Client({self.index}, stage={self.stage!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Client) and other.model is self.model
                and other.index == self.index)

    def __hash__(self) -> int:
        return hash((id(self.model), self.index))

    @property
    def _s(self) -> ClientState:
        return self.model.clients

    @property
    def barriers(self) -> dict[str, float]:
        """Current barrier per domain (0 none - 1 severe)."""
        return {d: float(v) for d, v in zip(DOMAINS, self._s.B[self.index], strict=True)}

    @property
    def distance(self) -> float:
        """Current distance from the labour market (weighted barrier index, 0-1)."""
        return float(self._s.dist[self.index])

    @property
    def wellbeing(self) -> float:
        """Current WEMWBS-like wellbeing (14-70)."""
        return float(wellbeing(self._s.B[self.index : self.index + 1])[0])

    @property
    def work_goal(self) -> bool:
        return bool(self._s.goal[self.index])

    @property
    def in_work(self) -> bool:
        return bool(self._s.in_work[self.index])

    @property
    def age(self) -> float:
        return float(self._s.age[self.index])

    @property
    def employment_status(self) -> str:
        return EMPLOYMENT_STATUS[self._s.emp_status[self.index]]

    @property
    def link_worker(self):
        """The Link Worker agent supporting this client, or None."""
        i = int(self._s.lw[self.index])
        if self._s.status[self.index] != SUPPORTED or i < 0:
            return None
        return self.model.link_workers[i]

    @property
    def stage(self) -> str:
        """The client's stage (a name of :data:`pathways_sim.stages.STAGES`)."""
        return STAGE_NAMES[int(self.model.stage_codes(np.array([self.index]))[0])]

    def journey(self):
        """This client's events so far, in order: a DataFrame of week, event (name), value."""
        import pandas as pd

        from pathways_sim.model.events import Ev

        week, client, event, value = self.model.log.since(0)
        mine = client == self.index
        names = [Ev(int(e)).name for e in event[mine]]
        return pd.DataFrame({"week": week[mine].copy(), "event": names,
                             "value": value[mine].copy()})
