"""Figures and reports of simulation outputs.

Typical use::

    from pathways_sim.report import plot_funnel, plot_stocks

    plot_stocks(replicates.stocks(), "output/medium/stocks.png")
    plot_funnel(replicates.funnel_shares(), "output/medium/funnel.png")
"""

from pathways_sim.report.plots import OKABE_ITO, plot_funnel, plot_stocks

__all__ = ["OKABE_ITO", "plot_funnel", "plot_stocks"]
