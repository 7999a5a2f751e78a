"""The workshop app as Solara loads it: ``solara run pathways_sim.viz.app:Page``.

This module is deliberately light. Solara imports it before the server answers
its first request; the heavy imports (Mesa's visualisation, matplotlib, the
model: several seconds on a small machine) start here in a background thread
and the page module is used once they are done. So the server is up at once,
and the imports overlap with the browser loading the front end. The worker
process for the background replicates is started the same way.

The page itself is :func:`pathways_sim.viz.page.WorkshopPage`.
"""

from __future__ import annotations

import logging
import threading

import solara


def _prewarm() -> None:
    try:
        _warm()
    except Exception:  # the page still works, only its first visit is slower
        logging.getLogger(__name__).exception("workshop warm-up failed")


def _warm() -> None:
    from pathways_sim.viz.page import scenario_cards  # Mesa's SolaraViz, matplotlib, model
    from pathways_sim.viz.render import warm_up

    scenario_cards()
    warm_up()  # fonts and text layout: the first page draws at full speed
    from pathways_sim.viz.ensemble import worker_pool

    worker_pool().submit(int).result()  # start the replicates' worker process


_PREWARM = threading.Thread(target=_prewarm, name="workshop-prewarm", daemon=True)
_PREWARM.start()


@solara.component
def Page():
    """The workshop page (waits for the background imports on the first visit)."""
    from pathways_sim.viz.page import WorkshopPage

    return WorkshopPage()
