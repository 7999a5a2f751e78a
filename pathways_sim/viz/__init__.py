"""The workshop app and animation export: a live, projector-friendly view of the model.

Data flows one way, as everywhere in the project: the model simulates, the
event log and :mod:`pathways_sim.outcomes` turn it into numbers, and this
package draws them. The model never imports anything from here.

Modules:

* :mod:`~pathways_sim.viz.style` - colours (colour-blind safe), fonts, lane names.
* :mod:`~pathways_sim.viz.levers` - the levers in plain language, with the registry's
  description and source of each parameter behind them.
* :mod:`~pathways_sim.viz.trace` - what a live run looked like, week by week.
* :mod:`~pathways_sim.viz.ensemble` - background replicates and their quantile bands.
* :mod:`~pathways_sim.viz.session` - app state: runs A and B on the same seed, replays.
* :mod:`~pathways_sim.viz.board` and :mod:`~pathways_sim.viz.charts` - the drawings
  (matplotlib, Agg canvas; no global pyplot state).
* :mod:`~pathways_sim.viz.render` - draws a whole session (the page's pictures, animation frames).
* :mod:`~pathways_sim.viz.page` - the Solara page (Mesa's ``SolaraViz`` plus the workshop).
* :mod:`~pathways_sim.viz.app` - the light entry point Solara loads (imports the page in
  the background).
* :mod:`~pathways_sim.viz.server` - starting the app offline, telemetry off.
* :mod:`~pathways_sim.viz.animate` - GIF/MP4 export of the board and charts.

Only :mod:`~pathways_sim.viz.app`, :mod:`~pathways_sim.viz.page` and
:mod:`~pathways_sim.viz.server` need Solara;
everything else (and so ``pathways-sim animate``) needs only matplotlib.
"""
