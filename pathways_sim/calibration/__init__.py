"""Calibration: fit the model's uncertain parameters to reported counts, and check the fit.

The workflow (``docs/calibration.md``), one module per concept:

* :mod:`~pathways_sim.calibration.targets`: the reported counts (``calibration/targets.csv``);
* :mod:`~pathways_sim.calibration.priors`: the parameters moved and their ranges
  (``calibration/priors.csv``);
* :mod:`~pathways_sim.calibration.config`: a fit's settings (``calibration/configs/*.yaml``);
* :mod:`~pathways_sim.calibration.likelihood`: binomial, beta-binomial, uncertain-n and
  lower-bound likelihoods;
* :mod:`~pathways_sim.calibration.objective`: simulate the targets' scenarios for
  parameter sets through the shared executors (common random numbers) and score them;
* :mod:`~pathways_sim.calibration.optuna_fit`: point estimate (Optuna, resumable on disk);
* :mod:`~pathways_sim.calibration.pyabc_fit`: posterior by ABC-SMC with pyabc;
* :mod:`~pathways_sim.calibration.sites`: each service's client mix (partial pooling);
* :mod:`~pathways_sim.calibration.fit`: ``calibrate`` from start to finish;
* :mod:`~pathways_sim.calibration.results`: the calibrated parameter set on disk;
* :mod:`~pathways_sim.calibration.predict`: posterior predictive distributions;
* :mod:`~pathways_sim.calibration.validate`: held-out targets and the patterns (§E4.8);
* :mod:`~pathways_sim.calibration.sensitivity`: Sobol / Morris indices (SALib);
* :mod:`~pathways_sim.calibration.report`: the HTML and Markdown report (prior against
  posterior, what the data inform, correlations, patterns, coverage, every miss);
* :mod:`~pathways_sim.calibration.loso_io`: leave-one-site-out results on disk;
* :mod:`~pathways_sim.calibration.cli`: the ``calibrate``, ``predict``, ``validate`` and
  ``sensitivity`` commands.

Typical use::

    from pathways_sim.calibration.results import load_calibrated
    from pathways_sim.scenario import load_scenario

    cal = load_calibrated("calibration/results/default")
    scenario = cal.apply(load_scenario("medium"))   # calibrated where medium sets nothing
"""
