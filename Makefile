# Two commands on a fresh machine: `make run` and `make test` (see README).
# python3 resolves to 3.12 here through pyenv and the .python-version file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test browser lint bench baseline docs clean workshop calibrate

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "pathways-sim needs Python >= 3.12 (Mesa 3.5); install it or set PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## run: set up and run the main job: the smoke experiment and its report -> output/sweeps/smoke/
## (--resume makes a second `make run` reuse the finished runs)
run: $(STAMP)
	$(BIN)/pathways-sim sweep smoke --out output/sweeps/smoke --resume
	$(BIN)/pathways-sim report output/sweeps/smoke --overwrite

## browser: Debian's Chromium for the workshop's browser tests, installed where this machine
## allows (root and apt-get); elsewhere those tests skip with one line saying why.
## PATHWAYS_CHROMIUM=PATH names another Chromium (and is never installed over).
browser:
	@if [ -n "$$PATHWAYS_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the workshop's browser tests (apt-get)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
			>/dev/null 2>&1 || echo "could not install chromium: the browser tests will skip"; \
	else \
		echo "no chromium and no root apt-get: the workshop's browser tests will skip" \
			"(apt-get install chromium to run them)"; \
	fi

## test: set up (Chromium too, where it can), lint, and run the whole test suite
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

## workshop: set up and start the workshop app at http://127.0.0.1:8765 (docs/workshop.md)
workshop: $(STAMP)
	$(BIN)/pathways-sim workshop

## bench: the performance benchmark -> benchmarks/results.json
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --out benchmarks/results.json

## baseline: refresh the fixed-seed regression baseline (only when a change is intended)
baseline: $(STAMP)
	$(BIN)/python -m tests.regression --refresh

## calibrate: reproduce the shipped posterior from scratch -> calibration/results/default/
## (pyabc fit, posterior predictive and report; validation of the held-out targets and the
## patterns under posterior draws, 40 replicates a check; leave-one-site-out cross-validation;
## about 2 hours on 2 cores: fit 46 min, validation 43, leave-one-site-out 32). A replaced folder is kept until
## the new fit is complete.
calibrate: $(STAMP)
	$(BIN)/pathways-sim calibrate --overwrite
	$(BIN)/pathways-sim validate
	$(BIN)/pathways-sim validate --leave-one-site-out --population 150 --max-minutes 7

## docs: regenerate the parameter reference in docs/scenarios.md and docs/odd.md's appendix
docs: $(STAMP)
	$(BIN)/python -m pathways_sim.scenario.reference --write docs/scenarios.md
	$(BIN)/python -m pathways_sim.scenario.reference --write docs/odd.md

clean:
	rm -rf $(VENV) output .pytest_cache
