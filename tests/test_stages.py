"""One definition of the client's stage (pathways_sim.stages): model, outcomes, workshop."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pathways_sim.outcomes import STATES, stage_spells, weekly_stocks
from pathways_sim.stages import LANE_NAMES, LANES, STAGE_CODE, STAGE_NAMES, STAGES, STOCKS
from pathways_sim.sweep.store import WEEKLY_SCHEMA
from tests.helpers import run_model

ROOT = Path(__file__).resolve().parent.parent


def test_weekly_stock_columns_keep_their_names():
    """Sweep stores written before stages.py existed must still resume and merge: the
    weekly Parquet table keeps its columns, in order."""
    names = ["waiting", "with_link_worker", "in_activity", "stepping_stone", "work_support",
             "in_work"]
    assert list(STOCKS) == list(STATES) == names
    assert WEEKLY_SCHEMA.names == ["run_id", "week", *names]


def test_every_stage_with_a_stock_is_rebuilt_from_the_log():
    m = run_model("medium", {"run.scale": 0.25}, weeks=8)
    log = m.log.frame()
    assert list(stage_spells(log)) == list(STOCKS)
    assert list(weekly_stocks(log, 8, 104).columns) == list(STOCKS)
    with pytest.raises(KeyError, match="no stock for stage 'exited'"):
        stage_spells(log, ("exited",))


def test_lanes_are_the_stages_after_new_referrals():
    assert LANE_NAMES == ("referred", *STAGE_NAMES)
    assert [STAGE_CODE[s.name] for s in STAGES] == list(range(len(STAGES)))
    assert all(lane.label and lane.description for lane in LANES)
    assert len(set(LANE_NAMES)) == len(LANE_NAMES)


def test_stages_import_neither_pandas_nor_matplotlib():
    """The model imports the stages: they must not drag in analysis or drawing libraries."""
    code = ("import sys, pathways_sim.stages; "
            "bad = [m for m in ('pandas', 'matplotlib', 'pathways_sim.outcomes', "
            "'pathways_sim.viz') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_models_stages_agree_with_the_stocks_rebuilt_from_the_log():
    """Each client is in one stage (the furthest along of the states they are in), while a
    stock counts everyone in a state. So, at any week: stages in_work + sustained = the
    in_work stock (being in work outranks every other state), and the stages together
    count every accepted client still followed."""
    weeks, follow_up = 90, 60  # long enough for some jobs to pass 26 weeks
    m = run_model("holistic", {"link_workers.count": 8, "run.follow_up_weeks": follow_up},
                  weeks=weeks)
    counts = m.stage_counts()
    stocks = weekly_stocks(m.log.frame(), weeks, follow_up, m.client_attributes())
    stocks = stocks.loc[weeks - 1]
    assert counts["in_work"] + counts["sustained"] == stocks["in_work"] > 0
    assert counts["sustained"] > 0 and counts["exited"] > 0
    W = m.window
    assert sum(counts.values()) == int((m.clients.status[W] != 3).sum())  # REJECTED = 3
    # Waiting and work-support clients in work are shown in work, so the stages count fewer.
    for name in ("waiting", "work_support", "stepping_stone"):
        assert 0 <= counts[name] <= stocks[name]
    assert counts["waiting"] > 0


def test_odd_points_at_the_one_definition():
    odd = (ROOT / "docs" / "odd.md").read_text()
    assert "pathways_sim/stages.py" in odd
    para = odd[odd.index("pathways_sim/stages.py") - 600: odd.index("pathways_sim/stages.py") + 600]
    for name in STAGE_NAMES:
        assert re.search(rf"\b{name}\b", para), name
