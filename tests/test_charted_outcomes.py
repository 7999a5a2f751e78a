"""What the workshop charts (waiting list, weeks waited, places in use, payments so far):
outcome functions of the event log, and the workshop's charts showing exactly them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pathways_sim.model.clients import SUPPORTED, WAITING
from pathways_sim.model.events import Ev
from pathways_sim.model.model import PathwaysModel
from pathways_sim.outcomes import (
    cumulative_payments,
    link_worker_utilisation,
    waiting_list,
    weekly_stocks,
)
from tests.helpers import make_log, scenario

FU, RUN = 6, 8


@pytest.fixture
def log() -> pd.DataFrame:
    """Seven clients, followed for 6 weeks, over 8 weeks."""
    return make_log([
        (0, 0, Ev.REFERRED, 0), (3, 0, Ev.ASSIGNED, 0),  # waits weeks 0-2
        (1, 1, Ev.REFERRED, 0), (1, 1, Ev.REJECTED, 0),  # never on the list
        (1, 2, Ev.REFERRED, 0), (2, 2, Ev.DISENGAGED, 0),  # gives up waiting in week 2
        (2, 3, Ev.REFERRED, 0), (4, 3, Ev.DECLINED, 0),  # declines at first contact
        (0, 4, Ev.REFERRED, 0), (1, 4, Ev.ASSIGNED, 0), (3, 4, Ev.DISENGAGED, 1),
        (5, 4, Ev.RE_REFERRED, 0),  # back on the list in week 5; follow-up ends in week 6
        (0, 5, Ev.REFERRED, 0),  # never assigned: waits until follow-up ends (week 6)
        (1, 6, Ev.REFERRED, 0), (1, 6, Ev.ASSIGNED, 0), (2, 6, Ev.DISCHARGED, 0),
        (3, 6, Ev.RE_REFERRED, 1),  # through an employment programme: not back on the list
    ])


def test_median_wait_is_the_median_of_weeks_waited_by_those_on_the_list(log):
    out = waiting_list(log, RUN, FU)
    # Clients on the list at the end of each week and the weeks they joined it:
    on = {0: [0, 4, 5], 1: [0, 2, 5], 2: [0, 3, 5], 3: [3, 5], 4: [5], 5: [5, 4], 6: [], 7: []}
    for w, clients in on.items():
        joined = {0: 0, 2: 1, 3: 2, 5: 0, 4: 5 if w >= 5 else 0}
        waits = [w + 1 - joined[c] for c in clients]
        assert out.loc[w, "waiting"] == len(clients), w
        assert out.loc[w, "median_wait"] == (np.median(waits) if waits else 0.0), w
    assert out["median_wait"].tolist() == [1, 2, 3, 3, 5, 3.5, 0, 0]
    # The list is the waiting stock, week for week.
    np.testing.assert_array_equal(out["waiting"], weekly_stocks(log, RUN, FU)["waiting"])


def test_utilisation_is_clients_supported_over_funded_places(log):
    places = np.array([2, 2, 2, 2, 0, 4, 4, 4])
    util = link_worker_utilisation(log, places, FU)
    # Supported: clients 4 and 6 in week 1, 4 in week 2 (6 discharged), 0 from week 3 until
    # its follow-up ends in week 6. No funded place: 0, not a division by zero.
    assert util.tolist() == [0, 1.0, 0.5, 0.5, 0, 0.25, 0, 0]
    assert len(link_worker_utilisation(log, places[:3], FU)) == 3


def test_payments_so_far_add_up_each_weeks_payment_events():
    log = make_log([(1, 0, Ev.PAYMENT, 500.0), (1, 1, Ev.PAYMENT, 250.5), (1, 1, Ev.JOB_START, 0),
                    (4, 0, Ev.PAYMENT, 1000.0), (9, 2, Ev.PAYMENT, 7.0)])  # week 9: after the run
    paid = cumulative_payments(log, RUN)
    assert paid.tolist() == [0, 750.5, 750.5, 750.5, 1750.5, 1750.5, 1750.5, 1750.5]


def test_workshop_charts_the_same_numbers_as_the_models_own_state():
    """The trace's waiting list, median wait and utilisation (outcome functions of the log)
    equal what the model's arrays said each week: clients with status WAITING and the
    median of (week - wait_since), clients SUPPORTED over the places of active posts.
    Short capacity (a waiting list), a short follow-up (clients leave it while waiting)
    and posts cut by an unpaid results contract (places change; utilisation passes 1)."""
    pytest.importorskip("PIL")
    from pathways_sim.viz.trace import Trace, clients_in_view

    weeks = 45
    sc = scenario("medium", {"run.scale": 0.5, "link_workers.count": 4, "run.weeks": weeks,
                             "run.follow_up_weeks": 20, "funding.regime": "pbr_job",
                             "funding.share_at_risk": 0.5, "funding.price_job": 0.0,
                             "funding.capacity_responds": True})
    model, trace = PathwaysModel(sc, seed=4), Trace(weeks)
    old = {"waiting_list": [], "median_wait": [], "utilisation": []}
    for _ in range(weeks):
        model.step()
        trace.record(model)
        idx, s = clients_in_view(model), model.clients
        waiting = idx[s.status[idx] == WAITING]
        old["waiting_list"].append(len(waiting))
        old["median_wait"].append(float(np.median(model.week - s.wait_since[waiting]))
                                  if len(waiting) else 0.0)
        places = sum(lw.caseload for lw in model.link_workers if lw.active)
        supported = int(np.count_nonzero(s.status[idx] == SUPPORTED))
        old["utilisation"].append(supported / places if places else 0.0)
    for name, values in old.items():
        np.testing.assert_array_equal(trace.series(name), values, err_msg=name)
    assert max(old["utilisation"]) > 1.0 and old["waiting_list"][-1] > 50
    assert len(set(np.diff(old["median_wait"]))) > 2  # waits grow, and fall as the list turns
