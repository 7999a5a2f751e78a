"""Outcome metrics of one run, computed from the event log alone.

Every metric is a function of the client event log, the static client
attribute table and the run settings - never of model state - so any saved
log can be re-analysed. Rates are shares of the outcome cohort
(:func:`~pathways_sim.outcomes.cohorts.default_cohort`), and every window is
measured from each client's own referral week: "within M months" means
``event week - referral week < round(M * 52 / 12)`` weeks (6m = 26,
12m = 52, 18m = 78, 24m = 104), never beyond the follow-up.

:data:`METRICS` lists every metric with its unit and a description;
:func:`metric_table` summarises metric dicts over replicate runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from pathways_sim.model.clients import DOMAINS
from pathways_sim.model.events import ACTIVITY_CODES, BARRIER_EVENTS, Ev
from pathways_sim.outcomes.cohorts import default_cohort, members
from pathways_sim.outcomes.costs import (
    adviser_spells,
    cost_rates,
    place_spells,
    staffing_summary,
)
from pathways_sim.outcomes.log import check_log, spells

_VOL = ACTIVITY_CODES["volunteering"]
_TRAIN = ACTIVITY_CODES["training"]
STEPPING_STONES = (_VOL, _TRAIN)

_SHARE = "share of cohort"


def months_to_weeks(months: float) -> int:
    """Weeks in a window of ``months`` months: ``round(months * 52 / 12)`` (12 -> 52)."""
    return int(round(months * 52.0 / 12.0))


def _m(name: str, unit: str, description: str) -> tuple[str, tuple[str, str]]:
    return name, (unit, description)


#: Metric name -> (unit, description), in the order of tables and reports.
METRICS: dict[str, tuple[str, str]] = dict([
    _m("cohort_size", "clients", "Clients in the outcome cohort (accepted referrals in the "
       "cohort window)."),
    _m("referrals_total", "referrals", "REFERRED events in the whole run, rejected included "
       "(re-referrals not counted)."),
    _m("rejected_share", "share of referrals", "Share of all referrals in the run that were "
       "rejected as ineligible."),
    _m("engaged", _SHARE, "Assigned a Link Worker at any time in follow-up."),
    _m("wait_weeks_median", "weeks", "Median weeks from referral to first Link Worker "
       "assignment, over cohort members who were assigned."),
    _m("took_up_service", _SHARE, "Started any VCS activity within follow-up."),
    _m("disengaged_12m", _SHARE, "Disengaged (while waiting or while supported) within "
       "12 months."),
    _m("discharged_12m", _SHARE, "Discharged by their Link Worker within 12 months."),
    _m("work_goal_at_referral", _SHARE, "Stated a work goal in the week of referral: interest "
       "in work before support (docs/evidence.md §E3.9)."),
    _m("work_goal_6m", _SHARE, "Stated a work goal within 6 months (at referral included)."),
    _m("work_goal_12m", _SHARE, "Stated a work goal within 12 months (at referral included)."),
    _m("work_interest_progress_6m", "barrier units", "Mean fall of the aspiration barrier "
       "(interest in work) from referral to the last reading within 6 months, over members "
       "with a reading at referral (positive = more interest; docs/evidence.md §E3.9)."),
    _m("other_domain_progress_6m", "barrier units", "The largest mean fall, over the seven "
       "other barriers, from referral to the last reading within 6 months (the most-improved "
       "other area, as work_interest_progress_6m)."),
    *(_m(f"{kind}_{m}m", _SHARE, f"Started {what} within {m} months.")
      for m in (6, 12, 24)
      for kind, what in (("volunteering", "volunteering"), ("training", "training"),
                         ("stepping_stone", "volunteering or training (a stepping stone)"))),
    _m("direct_support_12m", _SHARE, "Started work-focused support (JCP work coach, employment "
       "adviser or IPS: the direct pathway) within 12 months."),
    *(_m(f"found_work_{m}m", _SHARE, f"Started a job within {m} months (clients in work at "
         "referral count only if they start a new job).") for m in (6, 12, 18, 24)),
    *(_m(f"sustained_work_{w}w_24m", _SHARE, f"Reached {w} weeks in a job (a SUSTAINED event) "
         "within 24 months.") for w in (13, 26, 52)),
    _m("indirect_to_direct_ratio_12m", "ratio", "Stepping stones per job start: "
       "stepping_stone_12m / found_work_12m (NaN if no one found work)."),
    _m("distance_change_12m", "change in distance (0-1)", "Mean change in distance from the "
       "labour market from referral to the last reading within 52 weeks (negative = closer "
       "to work)."),
    _m("wellbeing_change_12m", "change in wellbeing (14-70)", "Mean change in wellbeing from "
       "referral to the last reading within 52 weeks (positive = better)."),
    _m("found_work_24m_near", "share of third", "found_work_24m in the third of the cohort "
       "closest to work at referral."),
    _m("found_work_24m_far", "share of third", "found_work_24m in the third of the cohort "
       "furthest from work at referral."),
    _m("volunteering_12m_far", "share of third", "volunteering_12m in the third of the cohort "
       "furthest from work at referral (supported volunteering reaches them; "
       "docs/evidence.md §E3.10)."),
    _m("found_work_ratio_near_far_24m", "ratio", "found_work_24m of the closest third / of the "
       "furthest third (1 = equal; with a +0.5 continuity correction when the far third has "
       "no job starts)."),
    _m("sessions_per_client_near", "sessions per client", "Link Worker sessions within "
       "24 months per client, closest third."),
    _m("sessions_per_client_far", "sessions per client", "Link Worker sessions within "
       "24 months per client, furthest third."),
    _m("support_ratio_near_far", "ratio", "Sessions per client, closest third / furthest third "
       "(above 1: support skewed towards clients close to work)."),
    _m("sessions_24m", "sessions", "Link Worker sessions of cohort members within 24 months."),
    _m("place_weeks_24m", "place-weeks", "Weeks cohort members spent in VCS activity places "
       "within 24 months."),
    _m("pbr_payments_total", "GBP", "Results payments for cohort members within 24 months."),
    _m("cost_link_work_24m", "GBP", "The cohort's share of the Link Worker contract's "
       "guaranteed payments: its sessions within 24 months, each at its funding period's "
       "guaranteed payment / all sessions in the period (the funder's ledger)."),
    _m("cost_vcs_24m", "GBP", "The cohort's share of the VCS places funded: its place-weeks "
       "within 24 months, each at its period's VCS cost / all place-weeks in the period."),
    _m("cost_adviser_24m", "GBP", "The cohort's share of the co-located employment adviser "
       "when the funder pays for it (funding.pays_employment_adviser): its weeks with the "
       "adviser within 24 months, at its period's adviser cost / all adviser-weeks."),
    _m("cost_total_24m", "GBP", "The cohort's share of what the funder paid, within 24 "
       "months: cost_link_work_24m + cost_vcs_24m + cost_adviser_24m + pbr_payments_total "
       "(outcomes/costs.py)."),
    _m("cost_per_job_24m", "GBP per job", "cost_total_24m / cohort members who found work "
       "within 24 months (NaN if none)."),
    _m("service_spend_total", "GBP", "What the funder paid for the whole service over the run "
       "(the ledger's spend: Link Worker contract + results payments + VCS places)."),
    _m("cost_per_session", "GBP per session", "Derived: the Link Worker posts' cost over the "
       "run / all sessions delivered in it."),
    _m("cost_per_place_week_used", "GBP per place-week", "Derived: the VCS places' cost over "
       "the run / all place-weeks used in it (above the price of a place when places are "
       "idle)."),
    _m("link_worker_posts_start", "posts", "Link Worker posts funded in the first funding "
       "period."),
    _m("link_worker_posts_min", "posts", "Fewest Link Worker posts funded in any period."),
    _m("link_worker_posts_mean", "posts", "Link Worker posts funded, averaged over the run's "
       "weeks."),
    _m("link_worker_posts_end", "posts", "Link Worker posts funded in the last period."),
])

_COSTS = ("cost_link_work_24m", "cost_vcs_24m", "cost_adviser_24m", "cost_total_24m",
          "cost_per_job_24m",
          "service_spend_total", "cost_per_session", "cost_per_place_week_used",
          "link_worker_posts_start", "link_worker_posts_min", "link_worker_posts_mean",
          "link_worker_posts_end")
"""Metrics that need the funder's ledger (NaN without one)."""


class _CohortRows:
    """The log rows of cohort members, grouped by event, with weeks since referral."""

    def __init__(self, log: pd.DataFrame, ids: np.ndarray, follow_up_weeks: int) -> None:
        week = log["week"].to_numpy().astype(np.int64)
        client = log["client"].to_numpy().astype(np.int64)
        ev = log["event"].to_numpy()
        ref_rows = ev == int(Ev.REFERRED)
        ref_client, ref_week = client[ref_rows], week[ref_rows]
        self.ids = ids
        self.n = n = len(ids)
        pos = np.searchsorted(ids, client) if n else np.zeros(len(client), dtype=np.int64)
        hit = (pos < n) & (ids[np.minimum(pos, n - 1)] == client) if n else pos < 0
        rpos = np.searchsorted(ids, ref_client) if n else np.zeros(0, dtype=np.int64)
        rhit = (rpos < n) & (ids[np.minimum(rpos, n - 1)] == ref_client) if n else rpos < 0
        self.ref = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
        np.minimum.at(self.ref, rpos[rhit], ref_week[rhit])
        rows = np.flatnonzero(hit)
        pos = pos[rows]
        rel = week[rows] - self.ref[pos]
        ok = (rel >= 0) & (rel < follow_up_weeks)
        rows, pos, rel = rows[ok], pos[ok], rel[ok]
        # Chronological within each event (stable on week; logs from the model already are).
        evr = ev[rows].astype(np.int64)
        wk = week[rows]
        if len(wk) < 2 or bool(np.all(wk[1:] >= wk[:-1])):
            order = np.argsort(evr, kind="stable")
        else:
            order = np.lexsort((rows, wk, evr))
        self.rows, self.pos, self.rel, self.ev = rows[order], pos[order], rel[order], evr[order]
        self.val = log["value"].to_numpy()[self.rows].astype(np.float64)
        codes = np.arange(max(int(e) for e in Ev) + 2)
        self._bounds = np.searchsorted(self.ev, codes)

    def get(self, event: Ev, values: Iterable[float] | None = None,
            min_value: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pos, rel, value) of one event's rows, optionally filtered on the value."""
        lo, hi = self._bounds[int(event)], self._bounds[int(event) + 1]
        pos, rel, val = self.pos[lo:hi], self.rel[lo:hi], self.val[lo:hi]
        keep = None
        if values is not None:
            keep = np.isin(val, np.asarray(list(values), dtype=np.float64))
        if min_value is not None:
            more = val >= min_value
            keep = more if keep is None else keep & more
        if keep is not None:
            pos, rel, val = pos[keep], rel[keep], val[keep]
        return pos, rel, val

    def first_rel(self, event: Ev, values: Iterable[float] | None = None,
                  min_value: float | None = None) -> np.ndarray:
        """Weeks from referral to each member's first such event (inf if none)."""
        pos, rel, _ = self.get(event, values, min_value)
        out = np.full(self.n, np.inf)
        np.minimum.at(out, pos, rel.astype(np.float64))
        return out

    def count_within(self, event: Ev, weeks: int) -> np.ndarray:
        """Each member's number of such events less than ``weeks`` after referral."""
        pos, rel, _ = self.get(event)
        return np.bincount(pos[rel < weeks], minlength=self.n)

    def first_and_last_value(self, event: Ev, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Value of each member's event at referral and of the last one at most ``weeks`` after.

        NaN where a member has no such event at referral.
        """
        pos, rel, val = self.get(event)
        start = np.full(self.n, np.nan)
        at0 = rel == 0
        start[pos[at0]] = val[at0]
        last = np.full(self.n, np.nan)
        keep = rel <= weeks
        p, v = pos[keep][::-1], val[keep][::-1]  # reversed: first hit = latest reading
        uniq, first = np.unique(p, return_index=True)
        last[uniq] = v[first]
        return start, last


def barrier_fall(start: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Each member's fall of a barrier from referral to the last reading (0 with no later one)."""
    return start - np.where(np.isnan(last), start, last)


def _share(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b and np.isfinite(a) and np.isfinite(b) else float("nan")


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def _thirds(distance: np.ndarray) -> np.ndarray:
    """Third (0 closest, 1 middle, 2 furthest) of each member by rank of distance at referral.

    Ranks (ties broken by cohort order) make the thirds as equal in size as
    possible; with ``n`` not a multiple of 3 the closer thirds take the extra.
    """
    n = len(distance)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(distance, kind="stable")] = np.arange(n)
    return (3 * rank) // max(n, 1)


def _distance_at_referral(rows: _CohortRows, attrs: pd.DataFrame | None) -> np.ndarray:
    """Members' distance at referral: from ``attrs``, else (or where missing) the first READING."""
    reading0, _ = rows.first_and_last_value(Ev.READING, 0)
    if attrs is None or "distance_at_referral" not in attrs.columns:
        return reading0
    table = attrs.set_index("client")["distance_at_referral"]
    dist = table.reindex(rows.ids).to_numpy(dtype=np.float64)
    return np.where(np.isnan(dist), reading0, dist)


def compute_metrics(log: pd.DataFrame, attrs: pd.DataFrame | None = None, *, run_weeks: int,
                    follow_up_weeks: int, cohort_weeks: int,
                    ledger: pd.DataFrame | None = None) -> dict[str, float]:
    """Every metric in :data:`METRICS` for one run.

    The cohort is :func:`~pathways_sim.outcomes.cohorts.default_cohort`: accepted
    referrals in weeks ``[0, cohort_weeks)``. Windows run from each member's
    referral week and never beyond ``follow_up_weeks``. Shares are NaN for an
    empty cohort.

    Equity: members are ranked by ``distance_at_referral`` (from ``attrs``; the
    READING at referral when ``attrs`` is None) and split into thirds.
    ``found_work_ratio_near_far_24m`` is the closest third's found_work_24m
    over the furthest third's; when the furthest third has no job starts both
    shares get a +0.5/n continuity correction, ``(k_near + 0.5) / n_near``
    over ``0.5 / n_far``, so the ratio stays finite. ``support_ratio_near_far``
    is NaN when the furthest third had no sessions.

    Cost: the cohort's share of the funder's ledger (:mod:`pathways_sim.outcomes.costs`):
    each session at its period's guaranteed payment per session, each place-week at
    its period's VCS cost per place-week, and the results payments for its outcomes,
    within each member's 24 months. Place-weeks run from ACTIVITY_START to the
    client's ACTIVITY_END or ACTIVITY_DROPOUT (value >= 0; -1 is leaving a waiting
    list), or else to the end of the 24-month window, the follow-up or the run,
    whichever comes first; only activities started within the window count. Without
    a ledger the cost and staffing metrics are NaN.

    Args:
        log: The event log (columns week, client, event, value).
        attrs: The client attribute table (``PathwaysModel.client_attributes()``);
            only ``client`` and ``distance_at_referral`` are used. Optional.
        run_weeks: Weeks simulated.
        follow_up_weeks: Weeks each client is followed after referral.
        cohort_weeks: Referral weeks in the cohort.
        ledger: The funder's ledger of the run (``PathwaysModel.funder.ledger`` as a
            DataFrame): the source of every cost and of the staffing metrics.

    Returns:
        Metric name -> value (float; NaN where undefined), in :data:`METRICS` order.
    """
    check_log(log)
    cohort = default_cohort(run_weeks, cohort_weeks, follow_up_weeks)
    ids = members(log, cohort)
    rows = _CohortRows(log, ids, follow_up_weeks)
    n = rows.n
    fu = int(follow_up_weeks)

    def win(months: float) -> int:
        return min(months_to_weeks(months), fu)

    w12, w24 = win(12), win(24)
    out: dict[str, float] = {}

    ev = log["event"].to_numpy()
    referrals = int(np.count_nonzero(ev == int(Ev.REFERRED)))
    rejected = int(np.unique(log["client"].to_numpy()[ev == int(Ev.REJECTED)]).size)
    out["cohort_size"] = float(n)
    out["referrals_total"] = float(referrals)
    out["rejected_share"] = _ratio(rejected, referrals)

    assigned = rows.first_rel(Ev.ASSIGNED)
    out["engaged"] = _share(np.isfinite(assigned))
    waits = assigned[np.isfinite(assigned)]
    out["wait_weeks_median"] = float(np.median(waits)) if len(waits) else float("nan")
    activity = rows.first_rel(Ev.ACTIVITY_START)
    out["took_up_service"] = _share(activity < fu)
    out["disengaged_12m"] = _share(rows.first_rel(Ev.DISENGAGED) < w12)
    out["discharged_12m"] = _share(rows.first_rel(Ev.DISCHARGED) < w12)
    goal = rows.first_rel(Ev.WORK_GOAL)
    out["work_goal_at_referral"] = _share(goal < 1)
    out["work_goal_6m"] = _share(goal < win(6))
    out["work_goal_12m"] = _share(goal < w12)
    progress = {d: _nanmean(barrier_fall(*rows.first_and_last_value(ev, win(6))))
                for d, ev in zip(DOMAINS, BARRIER_EVENTS, strict=True)}
    out["work_interest_progress_6m"] = progress.pop("aspiration")
    out["other_domain_progress_6m"] = max(progress.values())

    vol = rows.first_rel(Ev.ACTIVITY_START, values=(_VOL,))
    train = rows.first_rel(Ev.ACTIVITY_START, values=(_TRAIN,))
    step = np.minimum(vol, train)
    for m in (6, 12, 24):
        w = win(m)
        out[f"volunteering_{m}m"] = _share(vol < w)
        out[f"training_{m}m"] = _share(train < w)
        out[f"stepping_stone_{m}m"] = _share(step < w)
    out["direct_support_12m"] = _share(rows.first_rel(Ev.DIRECT_START) < w12)

    job = rows.first_rel(Ev.JOB_START)
    for m in (6, 12, 18, 24):
        out[f"found_work_{m}m"] = _share(job < win(m))
    for w in (13, 26, 52):
        out[f"sustained_work_{w}w_24m"] = _share(
            rows.first_rel(Ev.SUSTAINED, min_value=w) < w24)
    out["indirect_to_direct_ratio_12m"] = _ratio(out["stepping_stone_12m"],
                                                 out["found_work_12m"])

    d0, d12 = rows.first_and_last_value(Ev.READING, w12)
    out["distance_change_12m"] = _nanmean(d12 - d0)
    b0, b12 = rows.first_and_last_value(Ev.WELLBEING, w12)
    out["wellbeing_change_12m"] = _nanmean(b12 - b0)

    # Equity: thirds of the cohort by distance at referral.
    third = _thirds(_distance_at_referral(rows, attrs))
    near, far = third == 0, third == 2
    worked = job < w24
    sessions = rows.count_within(Ev.SESSION, w24)
    k_near, k_far = int(worked[near].sum()), int(worked[far].sum())
    n_near, n_far = int(near.sum()), int(far.sum())
    out["found_work_24m_near"] = _share(worked[near])
    out["found_work_24m_far"] = _share(worked[far])
    out["volunteering_12m_far"] = _share((vol < w12)[far])
    if n_near == 0 or n_far == 0:
        out["found_work_ratio_near_far_24m"] = float("nan")
    elif k_far == 0:
        out["found_work_ratio_near_far_24m"] = ((k_near + 0.5) / n_near) / (0.5 / n_far)
    else:
        out["found_work_ratio_near_far_24m"] = (k_near / n_near) / (k_far / n_far)
    out["sessions_per_client_near"] = float(sessions[near].mean()) if n_near else float("nan")
    out["sessions_per_client_far"] = float(sessions[far].mean()) if n_far else float("nan")
    out["support_ratio_near_far"] = _ratio(out["sessions_per_client_near"],
                                           out["sessions_per_client_far"])

    # Money: the cohort's share of the funder's ledger (outcomes/costs.py).
    pos, rel, val = rows.get(Ev.PAYMENT)
    pbr = float(val[rel < w24].sum())
    n_sessions = int(sessions.sum())
    place_weeks = _place_weeks(log, rows, w24, run_weeks)
    out["sessions_24m"] = float(n_sessions)
    out["place_weeks_24m"] = float(place_weeks)
    out["pbr_payments_total"] = pbr
    out.update(dict.fromkeys(_COSTS, float("nan")))
    if ledger is not None:
        ledger = ledger if isinstance(ledger, pd.DataFrame) else pd.DataFrame(ledger)
        out.update(_cohort_costs(log, ledger, rows, w24, run_weeks, fu))
        out["cost_total_24m"] = (out["cost_link_work_24m"] + out["cost_vcs_24m"]
                                 + out["cost_adviser_24m"] + pbr)
        out["cost_per_job_24m"] = _ratio(out["cost_total_24m"], int(worked.sum()))
    return {name: float(out[name]) for name in METRICS}


def _cohort_costs(log: pd.DataFrame, ledger: pd.DataFrame, rows: _CohortRows, window: int,
                  run_weeks: int, follow_up_weeks: int) -> dict[str, float]:
    """The cohort's Link Worker and VCS cost within ``window`` weeks, and the service's."""
    rates = cost_rates(log, ledger, run_weeks, follow_up_weeks)
    pos, rel, _ = rows.get(Ev.SESSION)
    keep = rel < window
    week = rows.ref[pos[keep]] + rel[keep]
    link_work = float(rates.session[week].sum()) if len(week) else 0.0
    def spell_cost(sp: pd.DataFrame, cum: np.ndarray) -> float:
        """Cost of members' spells started within the window, cut at its end."""
        if rows.n == 0:
            return 0.0
        client = sp["client"].to_numpy()
        at = np.minimum(np.searchsorted(rows.ids, client), rows.n - 1)
        member = rows.ids[at] == client
        at, start = at[member], sp["start"].to_numpy()[member]
        ref = rows.ref[at]
        inside = (start >= ref) & (start - ref < window)
        stop = np.minimum(sp["stop"].to_numpy()[member], ref + window)[inside]
        start = start[inside]
        stop = np.clip(stop, start, run_weeks)
        return float((cum[stop] - cum[start]).sum())

    staff = staffing_summary(ledger)
    return {
        "cost_link_work_24m": link_work,
        "cost_vcs_24m": spell_cost(place_spells(log, run_weeks, follow_up_weeks),
                                   rates.cum_place_week),
        "cost_adviser_24m": spell_cost(adviser_spells(log, run_weeks, follow_up_weeks),
                                       rates.cum_adviser_week),
        "service_spend_total": rates.spend,
        "cost_per_session": _ratio(rates.link_worker_cost, rates.sessions),
        "cost_per_place_week_used": _ratio(float(ledger["vcs_cost"].sum()), rates.place_weeks),
        **{f"link_worker_posts_{k}": v for k, v in staff.items()},
    }


def _place_weeks(log: pd.DataFrame, rows: _CohortRows, window: int, run_weeks: int) -> int:
    """Activity place-weeks of cohort members started and spent within ``window`` weeks."""
    if rows.n == 0:
        return 0
    ev = log["event"].to_numpy()
    value = log["value"].to_numpy()
    starts = ev == int(Ev.ACTIVITY_START)
    ends = (ev == int(Ev.ACTIVITY_END)) | ((ev == int(Ev.ACTIVITY_DROPOUT)) & (value >= 0))
    sp = spells(log, starts, ends)
    client = sp["client"].to_numpy().astype(np.int64)
    pos = np.minimum(np.searchsorted(rows.ids, client), rows.n - 1)
    keep = rows.ids[pos] == client
    pos, start = pos[keep], sp["start"].to_numpy()[keep]
    end = sp["end"].to_numpy()[keep]
    ref = rows.ref[pos]
    cap = np.minimum(ref + window, run_weeks)
    inside = (start >= ref) & (start - ref < window)
    stop = np.minimum(np.where(np.isnan(end), cap, end), cap)
    return int(np.clip(stop - start, 0, None)[inside].sum())


def metric_table(results: list[Mapping[str, float]]) -> pd.DataFrame:
    """Summarise replicate metric dicts: mean and 90% interval of each metric.

    Args:
        results: One metric dict per replicate (from :func:`compute_metrics`).

    Returns:
        One row per metric (:data:`METRICS` order, then any other names) with
        columns ``metric``, ``n`` (replicates with a value), ``mean``, ``lo``
        and ``hi`` (5th and 95th percentiles across those replicates) and
        ``unit``. A replicate where a metric is undefined (NaN: e.g. cost per
        job when no cohort member found work) is left out of that metric's
        mean and interval, and ``n`` says how many are left: compare it with
        ``len(results)``. A metric NaN in every replicate gets ``n`` 0 and NaN.
    """
    names = [m for m in METRICS if any(m in r for r in results)]
    names += sorted({k for r in results for k in r} - set(names))
    cols = {"metric": names, "n": [], "mean": [], "lo": [], "hi": [],
            "unit": [METRICS.get(m, ("", ""))[0] for m in names]}
    for name in names:
        x = np.array([r.get(name, np.nan) for r in results], dtype=np.float64)
        x = x[~np.isnan(x)]
        cols["n"].append(len(x))
        if len(x) == 0:
            cols["mean"].append(np.nan)
            cols["lo"].append(np.nan)
            cols["hi"].append(np.nan)
            continue
        cols["mean"].append(float(x.mean()))
        lo, hi = np.percentile(x, [5, 95])
        cols["lo"].append(float(lo))
        cols["hi"].append(float(hi))
    return pd.DataFrame(cols, columns=["metric", "n", "mean", "lo", "hi", "unit"])
