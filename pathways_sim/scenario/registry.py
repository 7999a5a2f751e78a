"""Every parameter of the model: meaning, unit, allowed range and source.

Sources cite a section of ``docs/evidence.md`` ("docs/evidence.md §E2.1: ...") or say
``assumption: <reason>`` (``tests/test_evidence.py`` checks both). Defaults describe a
*medium* service (the report's Box A, docs/evidence.md §E5)
of 2,000 referrals a year; the service-model presets in ``scenarios/``
change what differs. Counts of people and places are absolute and are all
multiplied by ``run.scale``.
"""

from __future__ import annotations

from pathways_sim.scenario.schema import Param

NHSE = "docs/evidence.md §E2.1, §E2.2: NHS England Link Worker reference guide (200-250 clients a year, 6-12 contacts)"
ASSUME = "assumption: "

SOURCES = ("gp", "hospital", "mental_health", "social_care", "self")
ACTIVITIES = ("health_wellbeing", "social_group", "volunteering", "training", "employment_advice")
SERVICE_MODELS = ("signposting", "light", "medium", "holistic")
REGIMES = ("block", "pbr_job", "pbr_job_sustainment", "pbr_stepping_stones")
FUNDERS = ("health_commissioner", "social_impact_bond", "dwp", "lottery", "pooled")
PRICE_RULES = ("explicit", "budget_neutral")
TRIAGE = ("first_come", "needs_based", "closest_to_work")
PLACEMENT_ORDERS = ("most_effective", "ips_adviser_jcp")


def _f(path, default, unit, desc, source, low=0.0, high=None, calibrate=False):
    return Param(path, float(default), "float", unit, desc, source, low, high, calibrate=calibrate)


def _i(path, default, unit, desc, source, low=0, high=None):
    return Param(path, int(default), "int", unit, desc, source, low, high)


def _b(path, default, desc, source):
    return Param(path, bool(default), "bool", "true/false", desc, source)


def _c(path, default, choices, desc, source):
    return Param(path, default, "choice", "category", desc, source, choices=tuple(choices))


_run = [
    _i("run.weeks", 156, "weeks", "Simulated weeks (one tick = one week).", ASSUME + "3 years gives a 1-year cohort 24 months of follow-up", 1, 1040),
    _i("run.follow_up_weeks", 104, "weeks", "Weeks a client is followed after referral; outcomes after this are not simulated.", ASSUME + "model design: outcomes are read 6, 12, 18 and 24 months after referral (docs/odd.md)", 1, 520),
    _i("run.cohort_weeks", 52, "weeks", "Clients referred in the first N weeks form the outcome cohort (each with full follow-up when run.weeks allows).", ASSUME + "model design: outcome rates are for the clients referred in one window (docs/odd.md)", 1, 520),
    _f("run.scale", 1.0, "multiplier", "Multiplies every count of referrals, staff, places and budget (for scaled runs and benchmarks).", ASSUME + "size-free scaling of a local service", 0.001, 1000.0),
]

_referrals = [
    _f("referrals.per_year", 2000, "referrals/year", "Expected referrals a year from health, care and self-referral (JCP referrals are separate).", ASSUME + "a mid-sized service; Rotherham's long-term-conditions scheme has about 1,500 a year (docs/evidence.md §E2.4)", 0.0, 1e7),
    _f("referrals.share_gp", 0.60, "weight", "Relative share of referrals from GPs.", ASSUME + "primary care the main referrer: the evaluated services and Ways to Wellness take GP referrals (docs/evidence.md §E3.4, §E3.7); the share is an assumption", 0.0, 1.0),
    _f("referrals.share_hospital", 0.08, "weight", "Relative share of referrals from hospitals (discharge teams).", ASSUME + "a minor source; Herts Help merged with hospital-discharge services (docs/evidence.md §E3.1)", 0.0, 1.0),
    _f("referrals.share_mental_health", 0.12, "weight", "Relative share from mental health services.", ASSUME + "a minor source; Rotherham's mental-health scheme is referred by community mental health services (docs/evidence.md §E1.1)", 0.0, 1.0),
    _f("referrals.share_social_care", 0.08, "weight", "Relative share from social care.", ASSUME + "minor source in the report's services", 0.0, 1.0),
    _f("referrals.share_self", 0.12, "weight", "Relative share of self-referrals.", ASSUME + "minor source in the report's services", 0.0, 1.0),
    _f("referrals.shift_hospital", 0.05, "barrier units", "Added to every barrier of hospital referrals (further from work).", ASSUME + "post-discharge clients have more health barriers", -0.5, 0.5),
    _f("referrals.shift_mental_health", 0.08, "barrier units", "Added to every barrier of mental-health referrals.", ASSUME + "secondary-care mental-health clients are further from work (docs/evidence.md §E2.8: 40% in work with a mental-health condition); the size is an assumption", -0.5, 0.5),
    _f("referrals.shift_social_care", 0.05, "barrier units", "Added to every barrier of social-care referrals.", ASSUME + "social-care clients have complex needs", -0.5, 0.5),
    _f("referrals.decline_factor_hospital", 1.0, "relative", "Declining at first contact of hospital referrals, relative to GP referrals.", ASSUME + "as GP referrals (the national refusal rate is for GP referrals, docs/evidence.md §E2.6)", 0.0, 5.0),
    _f("referrals.decline_factor_mental_health", 1.0, "relative", "Declining at first contact of referrals by mental-health services, relative to GP referrals (a care coordinator who knows the client makes the referral).", ASSUME + "as GP referrals until calibrated (docs/evidence.md §E1.1: 136 of 156 Rotherham mental-health referrals took up a service)", 0.0, 5.0, calibrate=True),
    _f("referrals.decline_factor_social_care", 1.0, "relative", "Declining at first contact of social-care referrals, relative to GP referrals.", ASSUME + "as GP referrals", 0.0, 5.0),
    _f("referrals.decline_factor_self", 1.0, "relative", "Declining at first contact of self-referrals, relative to GP referrals.", ASSUME + "as GP referrals", 0.0, 5.0),
    _f("referrals.shift_self", -0.05, "barrier units", "Added to every barrier of self-referrals (closer to work).", ASSUME + "self-referrers are more activated", -0.5, 0.5),
]

_clients = [
    _f("clients.share_working_age", 0.60, "share 0-1", "Share of referred clients below pension age.", ASSUME + "mixed-age primary-care services (Gloucestershire, docs/evidence.md §E1.2; Bromley by Bow, anyone over 18, §E3.5)", 0.0, 1.0),
    _i("clients.pension_age", 66, "years", "State pension age; clients above it are retired and do not seek work.", "docs/evidence.md §E6.1: UK state pension age 66 since October 2020", 55, 75),
    _f("clients.conditions_mean", 1.4, "conditions", "Mean number of long-term conditions (Poisson, capped at 3+).", ASSUME + "clients have long-term conditions by design of the schemes", 0.0, 5.0),
    _f("clients.share_employed_at_risk", 0.12, "share 0-1", "Share of working-age clients in work but at risk of losing it.", ASSUME + "employed clients at risk appear in the report's case studies", 0.0, 1.0, calibrate=True),
    _f("clients.share_unemployed", 0.30, "share 0-1", "Share of working-age clients unemployed and looking; the rest are economically inactive.", ASSUME + "the rest inactive; employment rate with a limiting condition 46% (docs/evidence.md §E2.8)", 0.0, 1.0),
    _f("clients.barrier_mean", 0.50, "barrier 0-1", "Mean barrier level across domains at referral (MBAT-like scale, 1 = severe).", ASSUME + "mid-scale; calibrated", 0.0, 1.0, calibrate=True),
    _f("clients.barrier_sd", 0.15, "barrier 0-1", "Between-client spread of barriers at referral.", ASSUME + "moderate heterogeneity", 0.0, 0.5),
    _f("clients.distance_shift", 0.0, "barrier units", "Added to every barrier of every client (a client base further from work, docs/evidence.md §E4.8 pattern 4).", ASSUME + "0 = the base client mix", -0.5, 0.5),
    _f("clients.aspiration_barrier", 0.80, "barrier 0-1", "Mean 'does not want work' barrier at referral for working-age clients.", "docs/evidence.md §E3.9: interest in work is very low at referral; the level is calibrated", 0.0, 1.0, calibrate=True),
    _f("clients.share_substance_use", 0.08, "share 0-1", "Share of clients with a substance-use barrier.", ASSUME + "background share; Rotherham added drug-and-alcohol referrals from 2016 (docs/evidence.md §E3.2)", 0.0, 1.0),
    _f("clients.share_psychosis", 0.0, "share 0-1", "Share of referred clients with psychosis (excluded where eligibility says so).", ASSUME + "none by default; Rotherham's mental-health scheme is for clients without psychosis (docs/evidence.md §E1.1)", 0.0, 1.0),
    _f("clients.condition_barrier_step", 0.08, "barrier units/condition", "Physical barrier at referral rises by this per long-term condition above clients.conditions_mean.", ASSUME + "more conditions, more physical barriers", 0.0, 0.5),
    _f("clients.substance_barrier", 0.7, "barrier 0-1", "Typical substance barrier at referral of a client with a substance-use problem.", ASSUME + "a severe barrier when present", 0.0, 1.0),
    _f("clients.no_substance_barrier", 0.08, "barrier 0-1", "Typical substance barrier at referral of other clients.", ASSUME + "close to none", 0.0, 1.0),
    _f("clients.no_substance_cap", 0.15, "barrier 0-1", "Highest substance barrier at referral of a client without a substance-use problem.", ASSUME + "noise cannot make a substance problem", 0.0, 1.0),
    _f("clients.work_experience_employed", 0.2, "barrier 0-1", "Typical work-experience barrier at referral of clients employed at risk.", ASSUME + "MBAT recent-work domain: in work", 0.0, 1.0),
    _f("clients.work_experience_unemployed", 0.45, "barrier 0-1", "Typical work-experience barrier at referral of unemployed clients.", ASSUME + "MBAT recent-work domain: out of work, looking", 0.0, 1.0),
    _f("clients.work_experience_inactive", 0.7, "barrier 0-1", "Typical work-experience barrier at referral of economically inactive clients.", ASSUME + "MBAT recent-work domain: out of work longer", 0.0, 1.0),
    _f("clients.work_experience_retired", 0.9, "barrier 0-1", "Typical work-experience barrier at referral of clients above pension age.", ASSUME + "MBAT recent-work domain: retired", 0.0, 1.0),
    _f("clients.aspiration_employed", 0.3, "barrier 0-1", "Typical 'does not want work' barrier at referral of clients employed at risk.", ASSUME + "they want to keep their job", 0.0, 1.0),
    _f("clients.aspiration_retired", 0.98, "barrier 0-1", "'Does not want work' barrier of clients above pension age (no noise or shift).", "docs/evidence.md §E4.2, §E3.1: age limits work as a goal (for most Herts Help clients, 65+, it never will be); the level is an assumption", 0.0, 1.0),
    _f("clients.frailty_loading", 0.6, "barrier sd units", "Weight of the common frailty (shared by every domain) in a client's barriers at referral.", ASSUME + "barriers are correlated across domains", 0.0, 2.0),
    _f("clients.domain_loading", 0.8, "barrier sd units", "Weight of each domain's own noise in a client's barriers at referral.", ASSUME + "with frailty_loading 0.6, unit variance", 0.0, 2.0),
    _f("clients.age_tail_years", 9.0, "years", "Mean years above pension age of clients above it (exponential).", ASSUME + "older referrals thin out with age", 0.0, 40.0),
    _f("clients.max_age", 100.0, "years", "Oldest age drawn.", ASSUME + "caps the exponential tail", 75.0, 120.0),
    _f("clients.reason_salience", 0.05, "barrier units", "Idiosyncratic salience of each need when the main reason for referral is chosen (x domain noise).", ASSUME + "the largest barrier is usually, not always, the reason", 0.0, 1.0),
    _f("clients.reason_work_margin", 0.1, "barrier units", "Working-age clients out of work whose aspiration barrier is below dynamics.goal_threshold plus this give employment as their reason.", ASSUME + "clients close to a goal ask for help with work", 0.0, 1.0),
]

_DISTANCE_WEIGHTS = {
    # barrier domain: relative weight in the distance from the labour market
    "physical": (1.0, "health limits work, but is one barrier among eight"),
    "mental": (1.5, "confidence weighs most (MBAT practice)"),
    "isolation": (0.5, "isolation matters, but less directly"),
    "skills": (1.0, "basic skills, one barrier among eight"),
    "money_housing": (0.5, "money and housing matter, but less directly"),
    "substance": (1.0, "substance use, one barrier among eight"),
    "work_experience": (1.5, "recent work experience weighs most (MBAT practice)"),
    "aspiration": (1.0, "wanting work, one barrier among eight"),
}
for _d, (_w, _why) in _DISTANCE_WEIGHTS.items():
    _clients.append(_f(
        f"clients.distance_weight_{_d}", _w, "relative weight",
        f"Weight of the {_d} barrier in the distance from the labour market (the weights are "
        "normalised to sum 1 at use: distance = barriers x weights / sum of weights).",
        ASSUME + _why, 0.0, 10.0))

_eligibility = [
    _i("eligibility.min_age", 18, "years", "Youngest age accepted.", "docs/evidence.md §E3.1, §E3.5: services for adults (anyone over 18)", 16, 100),
    _i("eligibility.max_age", 120, "years", "Oldest age accepted (Ways to Wellness: 74).", "docs/evidence.md §E3.4: Ways to Wellness takes ages 40-74; no upper limit elsewhere", 16, 120),
    _b("eligibility.working_age_only", False, "Accept only clients below pension age.", "docs/evidence.md §E1.1: Rotherham's mental-health scheme is for clients of working age"),
    _b("eligibility.exclude_psychosis", False, "Reject clients with psychosis.", "docs/evidence.md §E1.1: Rotherham's mental-health scheme, clients without psychosis"),
    _f("eligibility.max_distance", 1.0, "distance 0-1", "Reject referrals further than this from the labour market (1 = no limit).", ASSUME + "some employment services screen for readiness", 0.0, 1.0),
]

_service = [
    _c("service.model", "medium", SERVICE_MODELS, "Service-model label (the report's Box A, docs/evidence.md §E5); the presets in scenarios/ set the parameters that make it so.", "docs/evidence.md §E5: the report's Box A"),
    _f("service.uptake_base", 0.35, "probability", "Chance a client takes up a suggested activity at one offer, before follow-up and accompaniment.", ASSUME + "calibrated against uptake in Rotherham, 136 of 156 (docs/evidence.md §E1.1); lower where a service only signposts", 0.0, 1.0, calibrate=True),
    _f("service.decline_at_contact", 0.15, "probability", "Chance a client declines the service when a Link Worker first contacts them (less with co-location).", "docs/evidence.md §E2.6: referral refusal 22.2% (2019) falling to 10.6% (2023)", 0.0, 1.0, calibrate=True),
    _f("service.waiting_dropout_per_week", 0.02, "per week", "Hazard of giving up while on the Link Worker waiting list.", ASSUME + "2%/week, ~40% lost after 6 months of waiting", 0.0, 1.0),
    _f("service.discharge_distance", 0.20, "distance 0-1", "Clients whose distance falls below this, not in an activity, are discharged as plan complete.", ASSUME + "plan complete when few barriers remain", 0.0, 1.0),
    _f("service.uptake_cap", 0.95, "probability", "Highest chance of taking up an offered activity, whatever follow-up, co-location and accompaniment add.", ASSUME + "some clients never take up an offer", 0.0, 1.0),
    _i("service.min_weeks_before_discharge", 4, "weeks", "Support lasts at least this long before a client can be discharged as plan complete.", ASSUME + "a plan needs a month to be co-produced and started", 0, 520),
]

_lw = [
    _i("link_workers.count", 10, "Link Workers", "Link Workers employed at the start (funding may change it).", NHSE + "; 2,000 a year at about 200 each", 0, 100000),
    _i("link_workers.caseload", 70, "clients", "Clients one Link Worker supports at once.", NHSE + "; assumption: concurrent caseload about yearly throughput x length of support", 1, 1000),
    _f("link_workers.sessions_per_month", 2.0, "sessions/month", "Sessions per client per month while supported.", NHSE + "; 6-12 contacts over months", 0.0, 20.0),
    _i("link_workers.max_support_weeks", 26, "weeks", "Maximum length of support before discharge.", "docs/evidence.md §E5: months for a medium service (Ways to Wellness about 18 months, §E2.3); 26 weeks is an assumption", 1, 260),
    _b("link_workers.colocated", False, "Link Workers are co-located in GP practices (more uptake and trust).", "docs/evidence.md §E5: holistic services are co-located in GP practices; §E3.4: Ways to Wellness Link Workers assigned to GP surgeries"),
    _f("link_workers.colocation_effect", 0.25, "relative", "Relative rise in uptake and fall in disengagement with co-location.", ASSUME + "size; when Raising Aspirations lost co-location its JCP referrals fell (docs/evidence.md §E3.6)", 0.0, 2.0),
    _f("link_workers.work_awareness", 0.35, "0-1", "Link Workers' awareness of work as a health outcome; raises work goals, low values discourage them.", "docs/evidence.md §E4.5: two of four services saw 'overly ambitious' work goals discouraged; the level is an assumption", 0.0, 1.0),
    _i("link_workers.iag_level", 1, "IAG level 0-4", "Information, advice and guidance qualification level; raises referrals to work support.", "docs/evidence.md §E3.6: Raising Aspirations trained Link Workers to IAG Level 4; level 1 by default is an assumption", 0, 4),
    _i("link_workers.training_week", -1, "week", "Week in which every Link Worker is trained in work awareness (-1: never); a scheduled Mesa event.", ASSUME + "training at a scheduled week; Raising Aspirations trained its Link Workers to IAG Level 4 (docs/evidence.md §E3.6)", -1, 1040),
    _f("link_workers.trained_awareness", 0.85, "0-1", "Work awareness after the training at link_workers.training_week.", ASSUME + "the awareness IAG Level 4 training gives (Raising Aspirations, docs/evidence.md §E3.6)", 0.0, 1.0),
    _i("link_workers.trained_iag_level", 4, "IAG level 0-4", "Advice-and-guidance level after the training at link_workers.training_week.", "docs/evidence.md §E3.6: Raising Aspirations trained Link Workers to IAG Level 4", 0, 4),
    _f("link_workers.knowledge_of_provision", 0.75, "share 0-1", "Chance a Link Worker knows (and uses) each kind of VCS provision.", ASSUME + "a medium service's VCS partners (docs/evidence.md §E5: partnership breadth grows with the service model)", 0.0, 1.0),
    _f("link_workers.follow_up", 0.6, "0-1", "Follow-up and monitoring intensity: raises uptake, cuts activity drop-out.", ASSUME + "a medium service follows up (docs/evidence.md §E5); the intensity is an assumption", 0.0, 1.0),
    _f("link_workers.accompaniment", 0.3, "probability", "Chance a Link Worker goes along with a client to a first activity: an anxious client's uptake rises; supported volunteering needs it (provision.supported_volunteering); it raises the readiness distance (provision.readiness_accompaniment).", ASSUME + "some accompaniment in a medium service; a Link Worker accompanied a client far from work to appointments (docs/evidence.md §E3.10)", 0.0, 1.0),
    _f("link_workers.coproduction", 0.6, "0-1", "Quality of the co-produced plan: raises the gains from sessions and from activities.", ASSUME + "a medium service's plans; long-term, co-produced support marks holistic services (docs/evidence.md §E5)", 0.0, 1.0),
    _c("link_workers.triage", "first_come", TRIAGE, "How the waiting list is ordered when no incentive distorts it.", ASSUME + "model design: first come, first served unless an incentive reorders the list"),
    _f("link_workers.session_effect", 0.020, "barrier units/session", "Fall in the confidence barrier per Link Worker session.", ASSUME + "calibrated", 0.0, 0.5, calibrate=True),
    _f("link_workers.discourage_per_session", 0.04, "per session", "Chance per session that a Link Worker with no work awareness discourages a stated goal of a client far from work.", "docs/evidence.md §E4.5: Link Workers discouraged 'overly ambitious' work goals in two of four services; the rate is an assumption", 0.0, 1.0),
    _f("link_workers.anxious_barrier", 0.6, "barrier 0-1", "Confidence (mental) barrier above which a client counts as anxious about a first activity.", ASSUME + "Box H of the report describes anxious clients; no threshold is reported", 0.0, 1.0),
    _f("link_workers.anxious_uptake_factor", 0.5, "relative", "Uptake of an offered activity by an anxious client who is not accompanied, relative to others.", ASSUME + "Box H: anxiety keeps clients from first sessions", 0.0, 1.0),
    _f("link_workers.accompanied_uptake_factor", 3.0, "relative", "Multiplies the uptake of an anxious client who is accompanied (with the default anxious factor: 1.5 times a client who is not anxious).", ASSUME + "size; a Link Worker who accompanied a client to appointments (docs/evidence.md §E3.10)", 1.0, 10.0),
    _f("link_workers.session_coproduction_weight", 0.5, "share 0-1", "Share of a session's confidence gain that depends on the quality of the co-produced plan (gain = session_effect x (1 - w + w x coproduction)).", ASSUME + "half of the gain comes from contact alone", 0.0, 1.0),
    _f("link_workers.session_isolation_share", 0.5, "relative", "Fall of the isolation barrier per session, relative to the fall of the confidence barrier.", ASSUME + "contact eases isolation less than it builds confidence", 0.0, 2.0),
    _f("link_workers.propensity_base", 0.25, "0-1", "Referral propensity to work-focused support of a Link Worker with no work awareness (propensity = (base + work_awareness) x (1 + per_iag x iag_level)).", ASSUME + "untrained Link Workers still refer some clients", 0.0, 2.0),
    _f("link_workers.propensity_per_iag", 0.25, "relative per level", "Relative rise of the referral propensity per IAG qualification level.", ASSUME + "advice-and-guidance training makes referral to work support more likely (Raising Aspirations trained to IAG Level 4, docs/evidence.md §E3.6); the evidence gives no size", 0.0, 2.0),
    _f("link_workers.discourage_distance", 0.5, "distance 0-1", "Only the work goals of clients further than this from work can be discouraged as over-ambitious.", ASSUME + "the 'overly ambitious' goals Link Workers discouraged (docs/evidence.md §E4.5) are those of clients far from work", 0.0, 1.0),
    _f("link_workers.discourage_awareness", 0.6, "0-1", "Work awareness from which a Link Worker no longer discourages goals (the hazard falls linearly to zero at it).", ASSUME + "trained Link Workers do not discourage", 0.01, 1.0),
    _f("link_workers.discourage_setback", 0.2, "barrier units", "A discouraged client's aspiration barrier rises to at least dynamics.goal_threshold plus this.", ASSUME + "a discouraged goal takes months to come back", 0.0, 1.0),
    _i("link_workers.reference_caseload", 90, "clients", "Caseload up to which a Link Worker keeps full knowledge of local provision and time to accompany clients; above it both fall (link_workers.caseload_knowledge_loss, caseload_accompaniment_loss).", ASSUME + "the holistic service's caseload; when Raising Aspirations was mainstreamed it lost co-location and local relationships (docs/evidence.md §E3.6)", 1, 1000),
    _f("link_workers.caseload_knowledge_loss", 1.0, "relative per relative excess", "Relative fall of link_workers.knowledge_of_provision per relative excess of the caseload over link_workers.reference_caseload (knowledge x max(0, 1 - loss x (caseload / reference - 1))).", ASSUME + "scaling up loses local relationships (Raising Aspirations mainstreamed, docs/evidence.md §E3.6); the size is an assumption", 0.0, 10.0),
    _f("link_workers.caseload_accompaniment_loss", 1.0, "relative per relative excess", "Relative fall of link_workers.accompaniment per relative excess of the caseload over link_workers.reference_caseload, as for knowledge.", ASSUME + "a larger caseload leaves less time to go along with clients; the size is an assumption", 0.0, 10.0),
    _f("link_workers.skill_spread", 0.2, "relative", "Spread of Link Workers' skill: each Link Worker's skill is drawn at hire uniform in [1 - spread, 1 + spread] (mean 1) and multiplies the confidence and isolation gain of its sessions (0: every Link Worker equally skilled).", "docs/evidence.md §E2.7: 61% of Link Workers had no clinical supervision, so practice varies; assumption: the size, a modest spread (skills 0.8 to 1.2) as no figure is reported", 0.0, 1.0),
    _f("link_workers.turnover_per_year", 0.15, "probability/year", "Chance a Link Worker in post leaves within a year (drawn weekly); the post is filled at once by a new hire (new knowledge and skill, trained as the team is) who takes over the leaver's clients (0: nobody leaves).", "docs/evidence.md §E2.7: 29% of Link Workers were considering leaving within a year; assumption: considering leaving is not leaving, so about half of them leave (no leaving rate is reported)", 0.0, 1.0),
    _f("link_workers.handover_setback", 0.05, "barrier units", "Rise in the confidence (mental) barrier of each client handed over to a new Link Worker when theirs leaves (link_workers.turnover_per_year): the relationship starts again.", ASSUME + "size: the relationship with a Link Worker starts again; docs/evidence.md §E2.7 reports the risk of turnover (29% considering leaving), not its cost to clients", 0.0, 1.0),
    _f("link_workers.crowding_weight", 1.0, "relative per queue/places", "How much a waiting list makes an activity a worse fit for a Link Worker's offer: fit is divided by 1 + weight x (clients waiting / places) (0: waiting lists are ignored).", ASSUME + "Link Workers who know the provision also know how full it is; services feared VCS capacity shortfalls (docs/evidence.md §E4.4); the size is an assumption", 0.0, 10.0),
]

_provision = []
_PROV = {
    # places, duration, dropout/week, effect/week
    "health_wellbeing": (300, 12, 0.03, 0.020, "health & wellbeing programmes"),
    "social_group": (350, 16, 0.025, 0.018, "social groups / peer support"),
    "volunteering": (300, 26, 0.02, 0.020, "supported volunteering (a stepping stone)"),
    "training": (180, 16, 0.03, 0.020, "training & education: basic maths, English, digital (a stepping stone)"),
    "employment_advice": (80, 12, 0.03, 0.020, "in-house employment advice"),
}
for _a, (_pl, _du, _dr, _ef, _what) in _PROV.items():
    _provision += [
        _i(f"provision.{_a}_places", _pl, "places", f"Concurrent places in {_what}.", ASSUME + "capacity of a mid-sized VCS sector; services feared shortfalls (docs/evidence.md §E4.4)", 0, 10**7),
        _i(f"provision.{_a}_weeks", _du, "weeks", f"Typical length of {_what}.", ASSUME + "a term-length programme", 1, 104),
        _f(f"provision.{_a}_dropout", _dr, "per week", f"Hazard of dropping out of {_what}.", ASSUME + "calibrated", 0.0, 1.0, calibrate=True),
        _f(f"provision.{_a}_effect", _ef, "relative/week", f"Relative weekly fall of the barriers {_what} addresses.", ASSUME + "calibrated", 0.0, 0.5, calibrate=True),
    ]
#: Which barriers each activity addresses, relative to its headline effect (provision.<a>_effect).
_PROFILES = {
    "health_wellbeing": (
        {"physical": 1.0, "mental": 0.6, "substance": 0.5, "money_housing": 0.2},
        "health programmes act on physical and mental health (the report's Box C/H; "
        "Box H in docs/evidence.md §E3.10)"),
    "social_group": (
        {"isolation": 1.0, "mental": 0.7, "aspiration": 0.1},
        "groups act on isolation and confidence (the report's Box C/H; Box H in "
        "docs/evidence.md §E3.10)"),
    "volunteering": (
        {"work_experience": 1.0, "isolation": 0.4, "mental": 0.3, "aspiration": 0.3,
         "skills": 0.1},
        "volunteering acts on work experience, confidence and aspiration (the report's Box C/H; "
        "Box H in docs/evidence.md §E3.10)"),
    "training": (
        {"skills": 1.0, "aspiration": 0.4, "mental": 0.3, "work_experience": 0.3},
        "training acts on basic skills (the report's Box C/H; Box H in "
        "docs/evidence.md §E3.10)"),
    "employment_advice": (
        {"aspiration": 0.8, "work_experience": 0.4, "money_housing": 0.4},
        "employment advice acts on aspiration (the report's Box C/H; Box H in "
        "docs/evidence.md §E3.10)"),
}
for _a, (_dom, _why) in _PROFILES.items():
    _what = _PROV[_a][4]
    _provision += [
        _f(f"provision.profile_{_a}_{_d}", _v, "relative",
           f"Effect of {_what} on the {_d} barrier, relative to its headline effect "
           f"(provision.{_a}_effect); barriers without a profile parameter are not addressed.",
           ASSUME + _why + "; the sizes are an assumption", 0.0, 2.0)
        for _d, _v in _dom.items()
    ]
_provision += [
    _f("provision.readiness_distance", 0.36, "distance 0-1", "Work-oriented volunteering and training are offered only below a readiness distance: this, plus what the service offers (provision.readiness_accompaniment, provision.readiness_knowledge); the threshold for stepping into them on one's own.", ASSUME + "calibrated; stepping stones follow confidence, the 'positive upward spiral' (docs/evidence.md §E4.1)", 0.0, 1.0, calibrate=True),
    _f("provision.readiness_accompaniment", 0.1, "distance units", "A Link Worker's readiness distance for stepping stones rises by this times link_workers.accompaniment: a service that accompanies clients offers stepping stones to clients further from work.", ASSUME + "size; a Link Worker who accompanied a client far from work took him to volunteering (docs/evidence.md §E3.10)", 0.0, 1.0),
    _f("provision.readiness_knowledge", 0.08, "distance units", "A Link Worker's readiness distance for stepping stones rises by this times the share of the kinds of VCS provision the Link Worker knows.", ASSUME + "size; a Link Worker who knows the local provision finds a stepping stone that fits (docs/evidence.md §E4.1)", 0.0, 1.0),
    _f("provision.supported_volunteering", 0.05, "share 0-1", "Share of a Link Worker's offers at which supported volunteering is considered: volunteering offered at any distance from work and any age to a client the Link Worker accompanies (at link_workers.accompaniment), beside work-oriented volunteering, which keeps the readiness rule (0 = none). It counts as volunteering (a stepping stone).", "docs/evidence.md §E3.10: Box H, a client far from work reached volunteering within five months with a Link Worker who accompanied him to appointments; assumption: the share", 0.0, 1.0, calibrate=True),
    _b("provision.open_learning", False, "Training & education is an adult-learning offer (functional maths, English, digital, employability) open to clients at any distance from work (for a client not yet ready, as a skills and confidence course): the readiness rule then applies to volunteering only.", "docs/evidence.md §E3.2: Voluntary Action Rotherham's Learning Community (functional maths, English, digital, employability), added since 2016; off by default"),
    _b("provision.commission_new", False, "The service commissions extra places where waiting lists persist (each funding period).", "docs/evidence.md §E3.2: Voluntary Action Rotherham can commission new services; off by default"),
    _f("provision.self_directed_per_week", 0.001, "per week", "Hazard of starting volunteering or training on one's own after support ends.", ASSUME + "the spiral continues after discharge, slowly", 0.0, 1.0),
    _f("provision.follow_up_dropout_cut", 0.5, "relative", "Relative fall of activity drop-out for supported clients at full Link Worker follow-up (x link_workers.follow_up).", ASSUME + "follow-up keeps clients attending", 0.0, 1.0),
    _f("provision.coproduction_weight", 0.4, "share 0-1", "Share of an activity's effect that depends on the quality of the co-produced plan (effect x (1 - w + w x link_workers.coproduction)).", ASSUME + "an activity that fits the plan works better", 0.0, 1.0),
    _f("provision.queue_dropout_factor", 0.5, "relative", "Hazard of leaving an activity's waiting list, relative to service.waiting_dropout_per_week.", ASSUME + "a client with a plan waits more patiently", 0.0, 5.0),
    _f("provision.commission_queue_share", 0.5, "share of places", "A waiting list longer than this share of an activity's places at a settlement leads to commissioning (with provision.commission_new).", ASSUME + "commissioning where demand persists; Voluntary Action Rotherham can commission new services (docs/evidence.md §E3.2)", 0.0, 10.0),
    _f("provision.commission_share", 0.1, "share of places", "Places added by one commissioning, as a share of the current places (at least one).", ASSUME + "modest growth per funding period", 0.0, 1.0),
]

_dynamics = [
    _f("dynamics.relapse_rate", 0.01, "per week", "Weekly drift of barriers back towards their referral level when unsupported.", ASSUME + "gains fade without support", 0.0, 1.0),
    _f("dynamics.goal_growth", 0.008, "barrier units/week", "Weekly fall of the aspiration barrier per unit of confidence while supported, times work awareness.", ASSUME + "calibrated; interest in work rises markedly after 4-6 months of support (docs/evidence.md §E3.9)", 0.0, 0.5, calibrate=True),
    _f("dynamics.goal_threshold", 0.45, "aspiration 0-1", "A work goal is stated once the aspiration barrier falls below this.", ASSUME + "calibrated; about 1 in 10 of the Rotherham Learning Community's clients name work as a goal (docs/evidence.md §E3.2), 75 of 17,258 Ways to Wellness goals are about work (§E1.4)", 0.0, 1.0, calibrate=True),
    _f("dynamics.activity_awareness", 0.3, "0-1", "Work awareness met by a client in an activity without a supporting Link Worker (drives goal growth as a Link Worker's awareness does).", ASSUME + "VCS staff talk about work a little", 0.0, 1.0),
    _f("dynamics.stepping_stone_awareness", 0.5, "0-1", "Work awareness a client meets in volunteering or training, added to the supporting Link Worker's (or dynamics.activity_awareness): stepping stones raise interest in work.", ASSUME + "size; work comes indirectly, through volunteering and training, a 'positive upward spiral' (docs/evidence.md §E4.1)", 0.0, 2.0, calibrate=True),
    _f("dynamics.confidence_spillover", 0.2, "per week", "Weekly fall of the aspiration barrier of an engaged working-age client out of work per unit of their gain since referral in the mental-health and isolation barriers (confidence and connection regained), never carrying it below dynamics.goal_threshold plus dynamics.goal_lapse_margin: interest in work follows the other gains, builds up over months and comes within reach of a goal; stating the goal still needs dynamics.goal_growth.", ASSUME + "calibrated; of VAR's eight wellbeing measures, interest in work, volunteering and social groups, very low at referral, showed the greatest progress after 4-6 months of support, a 'positive upward spiral' (docs/evidence.md §E3.9, §E4.1)", 0.0, 1.0, calibrate=True),
    _f("dynamics.awareness_base", 0.3, "0-1", "Goal growth with no work awareness at all (growth = goal_growth x (1 - mental) x (base + awareness)).", ASSUME + "support raises interest in work even without talk of work", 0.0, 2.0),
    _f("dynamics.goal_lapse_margin", 0.15, "barrier units", "A work goal lapses when the aspiration barrier rises above goal_threshold plus this.", ASSUME + "hysteresis: goals are not dropped at the first setback", 0.0, 1.0),
    _f("dynamics.travelled_distance", 0.1, "distance units", "Fall in distance from work since referral that counts as distance travelled (DISTANCE_TRAVELLED; paid under pbr_stepping_stones).", ASSUME + "size; Raising Aspirations tracked distance travelled with the MBAT (docs/evidence.md §E3.6)", 0.0, 1.0),
]

_direct = [
    _f("direct.referral_per_session", 0.15, "per session", "Chance per session that a Link Worker refers a ready client with a work goal to work-focused support (before awareness and IAG).", ASSUME + "calibrated", 0.0, 1.0, calibrate=True),
    _f("direct.readiness_distance", 0.45, "distance 0-1", "Work-focused support takes clients below this distance (ignored under IPS zero exclusion).", ASSUME + "'train then place' readiness rule", 0.0, 1.0),
    _i("direct.support_weeks", 26, "weeks", "Length of direct work-focused support.", ASSUME + "half a year of job-search support", 1, 104),
    _b("direct.employment_adviser", False, "A co-located employment adviser takes referrals.", "docs/evidence.md §E3.5: Bromley by Bow has employment advisers on site; off by default"),
    _i("direct.adviser_caseload", 60, "clients", "Clients the employment advisers support at once.", ASSUME + "one or two advisers", 0, 10**6),
    _b("direct.ips", False, "An IPS-like provider (zero exclusion: anyone who wants work) takes referrals.", "docs/evidence.md §E2.10, §E1.6: IPS reviews and the EQOLISE trial; off by default"),
    _i("direct.ips_caseload", 60, "clients", "Clients the IPS provider supports at once.", ASSUME + "about three employment specialists at the IPS fidelity caseload of at most 20 each (docs/evidence.md §E6.2)", 0, 10**6),
    _f("direct.jcp_effect", 0.5, "relative", "Relative rise in the job-entry hazard with a JCP work coach.", ASSUME + "calibrated", 0.0, 10.0, calibrate=True),
    _f("direct.adviser_effect", 1.2, "relative", "Relative rise in the job-entry hazard with an employment adviser.", ASSUME + "between JCP and IPS", 0.0, 10.0, calibrate=True),
    _f("direct.ips_effect", 2.5, "relative", "Relative rise in the job-entry hazard with IPS.", "docs/evidence.md §E2.10: IPS 61% vs 23% competitive employment; §E1.6: EQOLISE 85/156 vs 43/156; the hazard ratio is calibrated", 0.0, 20.0, calibrate=True),
    _c("direct.placement_order", "most_effective", PLACEMENT_ORDERS, "Order in which a referred client is offered work-focused support: most_effective (the provider with the highest job-entry effect first: with the defaults IPS, then the employment adviser, then the JCP work coach) or ips_adviser_jcp (that fixed order, whatever the effects).", "docs/evidence.md §E2.10: IPS is the most effective work support; §E4.7: the IPS principle; model design: send a client to the strongest option available"),
    _f("direct.colocation_referral_effect", 0.5, "relative", "Relative rise in Link Worker referrals to work-focused support when Link Workers are co-located (link_workers.colocated).", ASSUME + "size; when Raising Aspirations lost co-location its JCP referrals fell (docs/evidence.md §E3.6)", 0.0, 10.0),
    _f("direct.adviser_referral_boost", 0.5, "relative", "Relative rise in Link Worker referrals to work-focused support when an employment adviser works on site (direct.employment_adviser): a warm handover to a colleague.", ASSUME + "size; Bromley by Bow has employment advisers on site (docs/evidence.md §E3.5)", 0.0, 10.0),
]

_jobs = [
    _f("jobs.base_per_week", 0.012, "per week", "Job-entry hazard of a client with a work goal at distance 0 and no work-focused support.", ASSUME + "calibrated to the report's job outcome rates", 0.0, 1.0, calibrate=True),
    _f("jobs.distance_slope", 5.0, "per distance unit", "Log-hazard fall per unit of distance from the labour market.", ASSUME + "steep gradient; calibrated", 0.0, 30.0, calibrate=True),
    _f("jobs.no_goal_factor", 0.08, "relative", "Job-entry hazard of clients with no stated work goal, relative to those with one.", ASSUME + "few without a goal find work", 0.0, 1.0),
    _f("jobs.labour_demand", 1.0, "relative", "Local labour demand multiplier on the job-entry hazard.", ASSUME + "1 = average local labour market", 0.0, 5.0),
    _f("jobs.loss_per_week", 0.025, "per week", "Job-loss hazard at distance 0.5 with no in-work support.", "docs/evidence.md §E2.11: 68% of job starters in work 13 weeks later; a weekly hazard near that at mid distance", 0.0, 1.0),
    _f("jobs.in_work_support", 0.4, "relative", "Fall in the job-loss hazard with in-work support (IPS or adviser in full; a supporting Link Worker in proportion to link_workers.follow_up).", ASSUME + "size; IPS gives time-unlimited support in work (docs/evidence.md §E6.2)", 0.0, 1.0),
    _f("jobs.loss_distance_base", 0.5, "distance units", "Job-loss hazard = loss_per_week x (base + distance): the base sets how much distance matters.", ASSUME + "jobs are lost even close to work", 0.0, 5.0),
]

_disengagement = [
    _f("disengagement.base_per_week", 0.03, "per week", "Disengagement hazard of a supported client with no contact.", ASSUME + "calibrated to engagement (Ways to Wellness 5,300 of 7,000, docs/evidence.md §E1.5)", 0.0, 1.0, calibrate=True),
    _f("disengagement.contact_protection", 1.5, "per session/week", "How strongly contact frequency lowers disengagement (exponential).", ASSUME + "model design: disengagement falls with contact frequency", 0.0, 20.0),
    _f("disengagement.mandatory_factor", 1.0, "relative", "Relative rise in disengagement when work feels mandatory (JCP work-coach support).", ASSUME + "size; clients must never be led to think work is mandatory (docs/evidence.md §E4.6)", 0.0, 10.0),
    _f("disengagement.rereferral_per_week", 0.002, "per week", "Hazard that a client out of support and not in work is re-referred.", ASSUME + "rate; a client was re-referred later through an employment programme (docs/evidence.md §E3.10)", 0.0, 1.0),
    _f("disengagement.rereferral_via_employment", 0.3, "share 0-1", "Share of re-referrals that come through an employment programme (straight to work-focused support).", ASSUME + "share; a client was re-referred through an employment programme (docs/evidence.md §E3.10)", 0.0, 1.0),
]

_jcp = [
    _b("jcp.partnership", False, "A Jobcentre Plus partnership refers Universal Credit clients and eases referrals to work coaches.", "docs/evidence.md §E3.6: Raising Aspirations' JCP partnership; Herts Help and Rotherham only explored one (§E3.1, §E3.2); off by default"),
    _f("jcp.referrals_per_year", 400, "referrals/year", "Referrals a year from JCP when the partnership exists.", ASSUME + "a fifth of a 2,000/yr service", 0.0, 1e7),
    _f("jcp.shift", -0.12, "barrier units", "Added to every barrier of JCP referrals (closer to work; aspiration lower).", ASSUME + "JCP refers Universal Credit claimants, closer to work; the size is an assumption", -0.5, 0.5),
    _f("jcp.referral_boost", 1.0, "relative", "Relative rise in Link Worker referrals of ready clients to work-focused support under a JCP partnership (named work coaches, warm handover).", ASSUME + "warm handover with a named work coach", 0.0, 10.0),
    _f("jcp.share_unemployed", 0.8, "share 0-1", "Share of JCP referrals unemployed and looking (the rest economically inactive; none in work).", ASSUME + "Universal Credit claimants in the intensive work search group", 0.0, 1.0),
    _f("jcp.mandatory_uptake_cut", 0.15, "relative", "Relative fall in uptake of the Link Worker's activity offers under a JCP partnership: some clients come to feel work is mandatory and trust the Link Worker less.", ASSUME + "size; the report warns that work must never feel mandatory where a service works with JCP (docs/evidence.md §E4.6)", 0.0, 1.0),
    _f("jcp.mandatory_disengagement", 0.15, "relative", "Relative rise in disengagement of every client supported by the Link Workers under a JCP partnership (beyond disengagement.mandatory_factor while with a work coach).", ASSUME + "size; work must never feel mandatory (docs/evidence.md §E4.6)", 0.0, 10.0),
]

_funding = [
    _c("funding.funder", "health_commissioner", FUNDERS, "Who funds the service. The funder's profile sets whether work outcomes are recorded (funding.records_work_<funder>), and with it Link Workers' attention to work (funding.work_attention), and, for lottery and charitable grants, VCS places that a failed grant renewal cuts (funding.grant_*); pooled funds combine health and work money.", ASSUME + "an NHS commissioner as the default; Gloucestershire's service is CCG-commissioned (docs/evidence.md §E1.2), Ways to Wellness a social impact bond (§E2.15); who funds a service decides what it targets and measures (§E4.8, pattern 13)"),
    _b("funding.records_work_health_commissioner", False, "A health commissioner asks the service for work outcomes (employment data), raising Link Workers' attention to work (funding.work_attention).", "docs/evidence.md §E2.12: 31% of services surveyed in 2018 had commissioners asking for employment data, so most did not; off by default, so the default funder behaves as a service whose commissioner does not ask"),
    _b("funding.records_work_dwp", True, "DWP or a combined authority records (and contracts for) work outcomes.", ASSUME + "work money is accountable for work outcomes: the Work Programme paid for job outcomes (docs/evidence.md §E2.13)"),
    _b("funding.records_work_social_impact_bond", False, "A social impact bond records work outcomes.", "docs/evidence.md §E2.15: Ways to Wellness' outcome payments are on Wellbeing Star improvement and secondary-care cost, not work; §E1.4: 75 of 17,258 of its clients' goals were about work"),
    _b("funding.records_work_lottery", False, "Lottery and charitable grants record work outcomes.", ASSUME + "grants for health and wellbeing projects report on the project's own aims; the evidence names no grant that asks for work outcomes"),
    _b("funding.records_work_pooled", True, "Pooled health and work money records work outcomes.", ASSUME + "the work part of the pool asks for work outcomes (the report's recommendation 3, docs/evidence.md §E4.8: who funds a service decides what it measures)"),
    _f("funding.work_attention", 1.5, "relative", "Multiplier on every Link Worker's work awareness (capped at 1) when the funder records work outcomes: more work goals grow in support, more referrals to work-focused support, fewer goals discouraged (1 = no effect).", ASSUME + "size; the direction is the report's recommendation 3 (docs/evidence.md §E4.8, pattern 13): what a funder measures, Link Workers attend to; the evidence gives no size", 1.0, 5.0),
    _i("funding.grant_weeks", 52, "weeks", "Length of a lottery or charitable grant (funder lottery): at each renewal date the grant may not be renewed.", ASSUME + "one-year grants; services feared for VCS capacity (docs/evidence.md §E4.4)", 1, 1040),
    _f("funding.grant_renewal_chance", 0.6, "probability", "Chance a lottery or charitable grant is renewed at a renewal date (a model-level draw from the stream funding.renewal, the same in every scenario run with a seed).", ASSUME + "short-term grants make VCS capacity fragile (docs/evidence.md §E4.4); the chance is an assumption", 0.0, 1.0),
    _f("funding.grant_cut_share", 0.5, "share 0-1", "Share of every VCS provider's places cut when a grant is not renewed (clients already in an activity finish it).", ASSUME + "size; services feared the VCS would not have the capacity (docs/evidence.md §E4.4)", 0.0, 1.0),
    _c("funding.regime", "block", REGIMES, "What the funder pays for: a block grant or payment by results.", ASSUME + "a block grant by default; payment-by-results regimes after the Work Programme (docs/evidence.md §E2.13)"),
    _c("funding.price_rule", "explicit", PRICE_RULES, "How results prices are set: as given (explicit), or budget_neutral: the given prices scaled by one factor so that the funder's expected spend at baseline performance (a pilot run of the same scenario under its block grant, same seed) equals the block budget; posts then respond to payments against the baseline's for the period.", ASSUME + "model design: a fair comparison of regimes holds the funder's expected spend at the block budget (docs/evidence.md §E2.13 gives the Work Programme's prices, not how they were set); explicit by default"),
    _f("funding.share_at_risk", 0.0, "share 0-1", "Share of the contract paid only by results.", ASSUME + "0, a block contract; the Work Programme and Ways to Wellness paid by outcomes (docs/evidence.md §E2.13, §E2.15)", 0.0, 1.0),
    _f("funding.cost_per_link_worker", 35000, "GBP/year", "Full annual cost of one Link Worker post (salary plus on-costs): the block budget is the initial posts x this, and the cost of a session is derived from it (posts' cost / sessions delivered).", ASSUME + "band 4-5 salary plus on-costs", 1.0, 1e6),
    _b("funding.pays_employment_adviser", False, "The funder also pays for the co-located employment adviser (direct.employment_adviser), as pooled health and work money can; otherwise the adviser is funded elsewhere (e.g. DWP) and is not in this service's cost account.", ASSUME + "model design: pooled health and work money can pay for a co-located adviser; off by default (the adviser funded elsewhere, e.g. by DWP)"),
    _f("funding.employment_adviser_cost", 70000, "GBP/year", "Annual cost of the co-located employment adviser service when the funder pays for it (funding.pays_employment_adviser), scaled by run.scale like the posts.", ASSUME + "two advisers (direct.adviser_caseload 60: 'one or two advisers') at a Link Worker's cost", 0.0, 1e7),
    _f("funding.cost_per_place_week", 20, "GBP", "Cost of funding one VCS activity place for one week; every funded place is paid for, used or not (the ledger's vcs_cost).", ASSUME + "typical VCS group session cost", 0.0, 1e4),
    _f("funding.price_job", 1200, "GBP", "Payment for a job outcome.", "docs/evidence.md §E2.13: Work Programme job-outcome payment £1,000-1,200", 0.0, 1e5),
    _f("funding.price_sustain_13w", 800, "GBP", "Payment when a job lasts 13 weeks.", ASSUME + "milestones and sizes; the Work Programme paid sustainment four-weekly, up to £2,210-£5,000 in all by group (docs/evidence.md §E2.13), not at 13, 26 and 52 weeks", 0.0, 1e5),
    _f("funding.price_sustain_26w", 1000, "GBP", "Payment when a job lasts 26 weeks.", ASSUME + "milestones and sizes; the Work Programme paid sustainment four-weekly, up to £2,210-£5,000 in all by group (docs/evidence.md §E2.13), not at 13, 26 and 52 weeks", 0.0, 1e5),
    _f("funding.price_sustain_52w", 1500, "GBP", "Payment when a job lasts 52 weeks.", ASSUME + "milestones and sizes; the Work Programme paid sustainment four-weekly, up to £2,210-£5,000 in all by group (docs/evidence.md §E2.13), not at 13, 26 and 52 weeks", 0.0, 1e5),
    _f("funding.price_stepping_stone", 300, "GBP", "Payment when a client starts volunteering or training.", ASSUME + "a quarter of a job payment", 0.0, 1e5),
    _f("funding.price_distance", 200, "GBP", "Payment when a client's distance from work falls by 0.1 or more (distance travelled).", ASSUME + "price; Raising Aspirations tracked distance travelled (MBAT) but the evidence reports no payment for it (docs/evidence.md §E3.6)", 0.0, 1e5),
    _f("funding.price_wellbeing", 300, "GBP", "Payment (social impact bond, on the part of the contract at risk) when a client's wellbeing reading first rises by funding.wellbeing_gain or more since referral.", "docs/evidence.md §E2.15: Ways to Wellness pays on Wellbeing Star improvement, about 30% of its payments; assumption: the price", 0.0, 1e5),
    _f("funding.price_health_cost", 700, "GBP", "Payment (social impact bond, on the part of the contract at risk) when a client's physical and mental-health barriers first read funding.health_gain or more below referral (standing for lower secondary-care cost).", "docs/evidence.md §E2.15: Ways to Wellness pays on a reduction in secondary-care costs, about 70% of its payments; assumption: the price and the barrier fall standing for the cost", 0.0, 1e5),
    _f("funding.wellbeing_gain", 3.0, "wellbeing points (14-70)", "Rise in the wellbeing reading since referral that counts as wellbeing improvement (the social impact bond's wellbeing outcome).", ASSUME + "about the smallest change on a WEMWBS-like scale that services treat as meaningful; Ways to Wellness measures with the Wellbeing Star (docs/evidence.md §E3.4)", 0.0, 56.0),
    _f("funding.health_gain", 0.1, "barrier units", "Fall of the mean of the physical and mental-health barriers since referral, at a reading, that stands for a reduction in secondary-care cost.", ASSUME + "the model has no secondary-care use; better physical and mental health stands for it (docs/evidence.md §E2.15)", 0.0, 1.0),
    _f("funding.far_distance", 0.6, "distance 0-1", "Clients at least this far from work at referral count as 'far' (differential prices, equity tables).", ASSUME + "roughly the furthest third of a primary-care caseload", 0.0, 1.0),
    _f("funding.far_price_factor", 1.0, "relative", "Price multiplier for clients in the furthest third at referral (differential prices).", "docs/evidence.md §E2.13: Work Programme prices differed by payment group; 1 (no premium) by default", 0.0, 10.0),
    _i("funding.period_weeks", 13, "weeks", "Funding period: payments settle and capacity is re-set at its end.", ASSUME + "quarterly contract management", 1, 104),
    _b("funding.capacity_responds", True, "Results payments and the block grant set next period's Link Worker count.", ASSUME + "model design: the money received sets next period's posts"),
    _i("funding.max_posts_multiple", 3, "x initial posts", "Most Link Worker posts income can fund, as a multiple of the initial posts (at least one).", ASSUME + "a service cannot grow faster than it can recruit", 1, 100),
]

_incentives = [
    _f("incentives.response", 0.8, "0-1", "How strongly Link Workers respond to results payments (creaming and parking).", "docs/evidence.md §E2.14: creaming and parking widespread in the Work Programme; the strength is an assumption", 0.0, 1.0),
    _f("incentives.parking", 0.6, "0-1", "Largest share of sessions Link Workers withhold from a supported client under a full incentive: from one expected to earn nothing while the best-paying client supported earns something; the share scales with how much less than that client it is expected to earn (1 - v / top).", "docs/evidence.md §E2.14: spending on the hardest-to-help fell (NAO 2014); the size is an assumption", 0.0, 1.0),
    _f("incentives.at_risk_gain", 2.0, "per share at risk", "Strength of the incentive per share of the contract at risk (full at 1 / gain, e.g. 50% at risk).", ASSUME + "half the contract at risk is a full incentive", 0.0, 100.0),
    _i("incentives.value_bands", 5, "bands", "Bands of distance from work (equal bands of 0-1) over which Link Workers judge a client's chance of each paid outcome, from the service's baseline (its block-grant pilot run); the expected payment per client is interpolated between them.", ASSUME + "coarse judgement of a client's prospects; five bands keep each band's rate from a one-year pilot stable", 1, 50),
]

PARAMS: tuple[Param, ...] = tuple(
    _run + _referrals + _clients + _eligibility + _service + _lw + _provision + _dynamics
    + _direct + _jobs + _disengagement + _jcp + _funding + _incentives
)
REGISTRY: dict[str, Param] = {p.path: p for p in PARAMS}
assert len(REGISTRY) == len(PARAMS), "duplicate parameter paths"
