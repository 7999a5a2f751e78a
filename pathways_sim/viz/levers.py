"""The workshop's levers: plain-language controls over registry parameters.

Each :class:`Lever` names the scenario parameters behind it, so the app can show
the registry's description, unit and source of each as a tooltip. A lever reads
its value from a resolved :class:`~pathways_sim.scenario.Scenario` and turns a
new value into the changes to make with
:meth:`~pathways_sim.scenario.Scenario.with_changes` (validated like a
scenario file). Nothing here runs the model or draws anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pathways_sim.scenario import Scenario, load_scenario
from pathways_sim.scenario.registry import REGISTRY, SERVICE_MODELS

#: Service-model presets (scenario files of these names) in the order a room meets them.
SERVICE_MODEL_LABELS = {
    "signposting": "Signposting (one contact)",
    "light": "Light (a few weeks)",
    "medium": "Medium (months, follow-up)",
    "holistic": "Holistic (long-term, co-located)",
}

REGIME_LABELS = {
    "block": "Block grant (no results payments)",
    "pbr_job": "Paid for job starts",
    "pbr_job_sustainment": "Paid for job starts and jobs that last",
    "pbr_stepping_stones": "Paid for volunteering, training, distance travelled",
}

PRICE_RULE_LABELS = {
    "explicit": "As given (Work Programme-style prices)",
    "budget_neutral": "Scaled to the block budget (equal budget)",
}

#: Funders (``funding.funder``): who pays decides what is measured (docs/odd.md §7.14).
FUNDER_LABELS = {
    "health_commissioner": "Health commissioner (does not ask for work outcomes)",
    "dwp": "DWP or combined authority (records work outcomes)",
    "pooled": "Pooled health and work money (records work outcomes)",
    "social_impact_bond": "Social impact bond (pays on wellbeing and health gains)",
    "lottery": "Lottery or charitable grants (may not be renewed)",
}

TRAINING_LABELS = {
    "none": "Not trained",
    "start": "Trained from the start",
    "now": "Train them now (this week)",
}

#: Share of the contract put at risk when a results regime is chosen and none was.
DEFAULT_SHARE_AT_RISK = 0.5


def lever_source(label: str) -> str:
    """The source recorded for a value set by a lever in the workshop."""
    return f"workshop lever '{label}' (what-if set in the room)"


@lru_cache(maxsize=1)
def service_model_paths() -> tuple[str, ...]:
    """Parameters any service-model preset sets (switching model resets them all)."""
    paths: list[str] = []
    for name in SERVICE_MODELS:
        sc = load_scenario(name)
        paths += [p for p, who in sc.set_by.items() if who == name and p not in paths]
    return tuple(paths)


@lru_cache(maxsize=8)
def _preset(name: str) -> Scenario:
    return load_scenario(name)


@dataclass(frozen=True)
class Lever:
    """One control of the workshop.

    Attributes:
        key: Identifier (used in tests and CSS classes).
        label: What the room sees.
        kind: ``choice``, ``bool``, ``int`` or ``float`` (the kind of widget).
        paths: Registry parameters behind the lever (first: the one it shows).
        help: One plain sentence on what pulling it means.
        options: For ``choice``: value -> label.
        low, high, step: For ``int``/``float``: slider range.
        reader: Custom reading of the value (scenario, base, week) -> value.
        writer: Custom changes for a value (value, current, base, week) -> changes.
    """

    key: str
    label: str
    kind: str
    paths: tuple[str, ...]
    help: str
    options: Mapping[Any, str] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    step: float | None = None
    reader: Callable[[Scenario, Scenario, int], Any] | None = None
    writer: Callable[[Any, Scenario, Scenario, int], dict[str, Any]] | None = None

    def read(self, current: Scenario, base: Scenario | None = None, week: int = 0) -> Any:
        """The lever's value in ``current`` (``base``: the preset it started from)."""
        if self.reader is not None:
            return self.reader(current, base or current, week)
        return current[self.paths[0]]

    def changes(self, value: Any, current: Scenario, base: Scenario | None = None,
                week: int = 0) -> dict[str, Any]:
        """Changes (path -> ``{"value", "source"}``) that set the lever to ``value``."""
        if self.writer is not None:
            raw = self.writer(value, current, base or current, week)
        else:
            raw = {self.paths[0]: value}
        return {path: v if isinstance(v, dict) else {"value": v, "source": lever_source(self.label)}
                for path, v in raw.items()}

    def apply(self, value: Any, current: Scenario, base: Scenario | None = None,
              week: int = 0) -> Scenario:
        """``current`` with the lever set to ``value`` (unchanged when it already is)."""
        if self.read(current, base, week) == value:
            return current
        name = current.name if current.name.endswith("+workshop") else f"{current.name}+workshop"
        return current.with_changes(self.changes(value, current, base, week), name=name)

    def tooltip(self, current: Scenario | None = None) -> str:
        """Description, unit and source of each parameter behind the lever (plain text)."""
        lines = [self.help]
        for path in self.paths:
            param = REGISTRY[path]
            line = f"{path} [{param.unit}]: {param.description} Evidence: {param.source}."
            if current is not None and current.sources.get(path) not in (None, param.source):
                line += f" This value: {current.sources[path]}."
            lines.append(line)
        return "\n".join(lines)


# ----------------------------------------------------------------------------- custom levers


def _read_service(current: Scenario, base: Scenario, week: int) -> str:
    return str(current["service.model"])


def _write_service(value: str, current: Scenario, base: Scenario, week: int) -> dict[str, Any]:
    preset = _preset(value)
    return {p: {"value": preset[p], "source": preset.sources[p]}
            for p in service_model_paths()}


def _write_regime(value: str, current: Scenario, base: Scenario, week: int) -> dict[str, Any]:
    out: dict[str, Any] = {"funding.regime": value}
    if value != "block" and current["funding.share_at_risk"] == 0:
        out["funding.share_at_risk"] = DEFAULT_SHARE_AT_RISK
    return out


def _read_training(current: Scenario, base: Scenario, week: int) -> str:
    if current["link_workers.training_week"] >= 0:
        return "now"
    trained = (current["link_workers.work_awareness"] >= current["link_workers.trained_awareness"]
               and current["link_workers.iag_level"] >= current["link_workers.trained_iag_level"])
    return "start" if trained else "none"


def _write_training(value: str, current: Scenario, base: Scenario, week: int) -> dict[str, Any]:
    untrained = {
        "link_workers.work_awareness": {"value": base["link_workers.work_awareness"],
                                        "source": base.sources["link_workers.work_awareness"]},
        "link_workers.iag_level": {"value": base["link_workers.iag_level"],
                                   "source": base.sources["link_workers.iag_level"]},
        "link_workers.training_week": -1,
    }
    if value == "none":
        return untrained
    if value == "start" or week <= 0:
        return {"link_workers.work_awareness": current["link_workers.trained_awareness"],
                "link_workers.iag_level": current["link_workers.trained_iag_level"],
                "link_workers.training_week": -1}
    return {**untrained, "link_workers.training_week": int(week)}


LEVERS: tuple[Lever, ...] = (
    Lever("service_model", "Service model", "choice",
          ("service.model", "link_workers.caseload", "link_workers.max_support_weeks",
           "link_workers.follow_up", "link_workers.coproduction"),
          "How much support a Link Worker gives: one contact up to long-term, co-produced "
          "support (sets the preset's caseload, length of support, follow-up and more).",
          options=SERVICE_MODEL_LABELS, reader=_read_service, writer=_write_service),
    Lever("regime", "Payment by results", "choice", ("funding.regime", "funding.share_at_risk"),
          "What the funder pays for. Results payments pull Link Workers towards clients "
          "close to work (creaming) and away from those far from it (parking).",
          options=REGIME_LABELS, writer=_write_regime),
    Lever("share_at_risk", "Share of the contract paid by results", "float",
          ("funding.share_at_risk",),
          "0 = all guaranteed; 1 = all paid only when results happen (block grants ignore it).",
          low=0.0, high=1.0, step=0.05),
    Lever("price_rule", "Results prices", "choice", ("funding.price_rule",),
          "As given, or scaled so that the funder's expected spend at the service's "
          "block-grant performance equals the block budget (compares regimes at equal "
          "budget; block grants ignore it).", options=PRICE_RULE_LABELS),
    Lever("far_premium", "Price premium for clients far from work", "float",
          ("funding.far_price_factor",),
          "Multiplies the results price for clients far from work at referral: Link Workers "
          "weigh price x chance, so a premium lowers creaming where those clients have a "
          "chance of the paid outcome (1 = no premium).", low=1.0, high=4.0, step=0.25),
    Lever("funder", "Who funds the service", "choice", ("funding.funder",),
          "Who funds a service decides what it measures and targets: a funder that records "
          "work outcomes (DWP, pooled health and work money) makes Link Workers attend more to "
          "work (more work goals and referrals to work support); a social impact bond pays on "
          "wellbeing and health gains for the part of the contract at risk; lottery and "
          "charitable grants may not be renewed each year, and then VCS places are cut.",
          options=FUNDER_LABELS),
    Lever("jcp", "Jobcentre Plus partnership", "bool", ("jcp.partnership", "jcp.referral_boost"),
          "JCP refers Universal Credit clients (closer to work) and takes warm handovers to "
          "named work coaches; some clients may feel work is mandatory."),
    Lever("training", "Link Worker training in work", "choice",
          ("link_workers.training_week", "link_workers.trained_awareness",
           "link_workers.trained_iag_level"),
          "Train every Link Worker in work awareness and advice and guidance (IAG Level 4), "
          "as Raising Aspirations did: from the start, or now, mid-run.",
          options=TRAINING_LABELS, reader=_read_training, writer=_write_training),
    Lever("supported_volunteering", "Supported volunteering", "float",
          ("provision.supported_volunteering",),
          "Share of offers at which a Link Worker who goes along with the client prescribes "
          "volunteering to someone far from work, at any age (0 = volunteering only when "
          "ready for it).", low=0.0, high=1.0, step=0.05),
    Lever("caseload", "Caseload (clients per Link Worker)", "int", ("link_workers.caseload",),
          "How many clients one Link Worker supports at once.", low=10, high=150, step=5),
    Lever("posts", "Funding: Link Worker posts", "int",
          ("link_workers.count", "funding.cost_per_link_worker"),
          "Link Worker posts funded at the start (results payments can buy more or fewer "
          "later).", low=0, high=60, step=1),
    Lever("referrals", "Referrals a year", "int", ("referrals.per_year",),
          "Referrals from GPs, hospitals, mental health, social care and self-referral.",
          low=0, high=8000, step=250),
    Lever("client_mix", "Client mix: distance from work", "float", ("clients.distance_shift",),
          "Added to every barrier of every client: above 0, referrals are further from work "
          "(more health and confidence barriers); below 0, closer.",
          low=-0.2, high=0.3, step=0.02),
)

LEVERS_BY_KEY: dict[str, Lever] = {lv.key: lv for lv in LEVERS}


def lever_values(current: Scenario, base: Scenario | None = None, week: int = 0) -> dict[str, Any]:
    """Every lever's value in ``current``."""
    return {lv.key: lv.read(current, base, week) for lv in LEVERS}


def describe_changes(current: Scenario, base: Scenario) -> list[str]:
    """``path: old -> new`` for each parameter that differs from the preset (plain text)."""
    out = []
    for path, value in current.values.items():
        if base.values.get(path) != value:
            out.append(f"{path}: {_fmt(base.values.get(path))} → {_fmt(value)}")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
