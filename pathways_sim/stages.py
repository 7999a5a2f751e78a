"""The client's stage on the pathway: one definition for the model, outcomes and workshop.

A stage is a place on the way from referral to work: waiting for a Link
Worker, with a Link Worker, in an activity, volunteering or training,
work-focused support, in work, in work for 26 weeks or more, and exited.
:data:`STAGES` lists them in order, left to right; a stage's code is its
position there. Three views read this one list:

* **the model** (:meth:`PathwaysModel.stage_codes
  <pathways_sim.model.model.PathwaysModel.stage_codes>`) puts each client in
  exactly one stage, the furthest along of the states they are in now
  (a client supported by a Link Worker who has started volunteering is
  ``stepping_stone``); ``exited`` only when they are in none;
* **the outcomes** (:func:`pathways_sim.outcomes.weekly_stocks`) count the
  clients in each stage that has a :attr:`Stage.stock` definition, rebuilt
  from the event log. These counts overlap (the same volunteer also counts
  as ``with_link_worker`` and ``in_activity``): a stock is everyone in that
  state, not a lane;
* **the workshop's pathway board** draws one lane per stage, with an extra
  first lane, :data:`REFERRED` (waiting clients referred in the week just
  simulated): :data:`LANES`.

Colours and drawing live in :mod:`pathways_sim.viz.style`, keyed by stage
name. This module imports nothing but the standard library, so the model
can use it without pulling in pandas or matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Weeks in a job after which a client is in the ``sustained`` stage (the job outcome
#: that the 26-week SUSTAINED event and the funnel's "sustained 26 weeks" also use).
SUSTAINED_WEEKS = 26


@dataclass(frozen=True)
class Stage:
    """One stage of the pathway.

    Attributes:
        name: Identifier (a column name of the weekly stock table, a lane key).
        label: Lane title as a room reads it, with a line break where the board breaks
            it (:attr:`text` is the one-line form).
        description: Who is in this stage, in the model's terms.
        stock: The events that open and close this state in the event log, in words
            (how :func:`~pathways_sim.outcomes.weekly_stocks` rebuilds it), or None
            when the stage has no weekly stock.
    """

    name: str
    label: str
    description: str
    stock: tuple[str, str] | None = None

    @property
    def text(self) -> str:
        """The label on one line."""
        return self.label.replace("\n", " ")


#: The stages in order, from referral to work (a stage's code is its index).
STAGES: tuple[Stage, ...] = (
    Stage("waiting", "Waiting",
          "On the Link Worker waiting list: an accepted referral or a re-referral back to "
          "the list, not yet assigned.",
          ("REFERRED (not rejected), RE_REFERRED value 0",
           "ASSIGNED, DECLINED, DISENGAGED value 0")),
    Stage("with_link_worker", "With a\nLink Worker",
          "Supported by a Link Worker (assigned, not yet discharged or disengaged).",
          ("ASSIGNED", "DISCHARGED, DISENGAGED value 1")),
    Stage("in_activity", "In\nactivities",
          "In a place of a VCS activity (health and wellbeing, social group, employment "
          "advice; as a lane, volunteering and training go to stepping_stone).",
          ("ACTIVITY_START", "ACTIVITY_END, ACTIVITY_DROPOUT value >= 0")),
    Stage("stepping_stone", "Volunteer\n/ training",
          "Volunteering or in training, the stepping stones towards work.",
          ("ACTIVITY_START of volunteering or training",
           "ACTIVITY_END, ACTIVITY_DROPOUT value >= 0")),
    Stage("work_support", "Job search\nsupport",
          "With work-focused support: a JCP work coach, an employment adviser or IPS.",
          ("DIRECT_START", "DIRECT_END")),
    Stage("in_work", "In work",
          f"In work: a job started less than {SUSTAINED_WEEKS} weeks ago, or in work (at "
          "risk) when referred. As a stock, every client in work.",
          ("EMPLOYED_AT_REFERRAL, JOB_START", "JOB_END")),
    Stage("sustained", f"Sustained\n{SUSTAINED_WEEKS} wks +",
          f"In a job started {SUSTAINED_WEEKS} weeks ago or more."),
    Stage("exited", "Exited",
          "In none of the above: discharged, disengaged, declined at first contact or "
          "gave up waiting; still followed until the end of follow-up."),
)

#: Stage names in order.
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)

#: Stage name -> code (its index in :data:`STAGES`).
STAGE_CODE: dict[str, int] = {s.name: i for i, s in enumerate(STAGES)}

#: Names of the stages with a weekly stock, in order (the columns of the weekly stock
#: table and of the sweeps' weekly Parquet table).
STOCKS: tuple[str, ...] = tuple(s.name for s in STAGES if s.stock is not None)

#: The board's first lane: waiting clients referred in the week just simulated.
REFERRED = Stage("referred", "Referred\nthis week",
                 "Waiting clients referred in the week just simulated (a part of waiting).")

#: Lanes of the pathway board, left to right: lane ``i + 1`` is stage ``i``.
LANES: tuple[Stage, ...] = (REFERRED, *STAGES)

#: Lane names in order.
LANE_NAMES: tuple[str, ...] = tuple(s.name for s in LANES)
