"""Outcome metrics, stocks and cohorts, all computed from the client event log.

The event log (:mod:`pathways_sim.model.events`) is the single source: every
number here is a function of the log, the static client attribute table and
the run settings, never of model state, so a saved log can be re-analysed.

Typical use::

    from pathways_sim.outcomes import compute_metrics, weekly_stocks

    log, attrs = model.log.frame(), model.client_attributes()
    ledger = pd.DataFrame(model.funder.ledger)  # the funder's record: every cost
    r = model.p.run
    metrics = compute_metrics(log, attrs, run_weeks=r.weeks,
                              follow_up_weeks=r.follow_up_weeks,
                              cohort_weeks=r.cohort_weeks, ledger=ledger)
    stocks = weekly_stocks(log, r.weeks, r.follow_up_weeks, attrs)

Costs (:mod:`pathways_sim.outcomes.costs`) are the funder's ledger shared out over
clients through the log; there is no other price.

The stages behind the stocks (and the workshop's lanes) are defined once, in
:mod:`pathways_sim.stages`.
"""

from pathways_sim.outcomes.capacity import link_worker_utilisation, waiting_list
from pathways_sim.outcomes.cohorts import Cohort, default_cohort, members
from pathways_sim.outcomes.costs import client_costs, cost_rates, staffing, staffing_summary
from pathways_sim.outcomes.log import (
    EVENT_CODE,
    EVENT_LABEL,
    event_label,
    event_mask,
    first_event_week,
    label_log,
    referral_weeks,
    spells,
)
from pathways_sim.outcomes.metrics import (
    METRICS,
    STEPPING_STONES,
    compute_metrics,
    metric_table,
    months_to_weeks,
)
from pathways_sim.outcomes.stocks import (
    FUNNEL_STAGES,
    STATES,
    cumulative_outcomes,
    cumulative_payments,
    funnel,
    stage_spells,
    weekly_stocks,
)

__all__ = [
    "EVENT_CODE",
    "EVENT_LABEL",
    "FUNNEL_STAGES",
    "METRICS",
    "STATES",
    "STEPPING_STONES",
    "Cohort",
    "client_costs",
    "cost_rates",
    "compute_metrics",
    "cumulative_outcomes",
    "cumulative_payments",
    "default_cohort",
    "event_label",
    "event_mask",
    "first_event_week",
    "funnel",
    "label_log",
    "link_worker_utilisation",
    "members",
    "metric_table",
    "months_to_weeks",
    "referral_weeks",
    "spells",
    "stage_spells",
    "staffing",
    "staffing_summary",
    "waiting_list",
    "weekly_stocks",
]
