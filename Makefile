# imbench: two commands on a fresh machine — `make bench` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
JOBS   ?= 2
# test processes (pytest-xdist); the suite's own runs use -j 2 inside some tests
TEST_JOBS ?= 2
STAMP  := $(VENV)/.installed-stamp

.PHONY: bench test test-all perf clean-venv help browser

help:
	@echo "make bench   - set up .venv, run benchmarks/default.toml (-j $(JOBS)), print the leaderboard"
	@echo "make test    - set up .venv, run the test suite (slow tests excluded; make test-all for all)"
	@echo "make perf    - harness vs hand-written loop, -j1 vs -j2, analysis and post-hoc speed (perf/)"

# (Re)install when pyproject.toml changes; the stamp keeps repeated runs instant.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools' notes on editable installs are for other layouts: the packages are these folders
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

bench: $(STAMP)
	$(BIN)/imbench run benchmarks/default.toml -j $(JOBS)

test: $(STAMP) browser
	$(BIN)/python -m pytest -m "not slow" -q -n $(TEST_JOBS)

test-all: $(STAMP) browser
	$(BIN)/python -m pytest -q -n $(TEST_JOBS)

# Headless Chromium for the HTML report test (tests/test_analysis_report.py). Best effort and quiet:
# Debian's package needs root; without it the browser test is skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { test "$$(id -u)" = 0 && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "note: could not install headless Chromium (needs root and apt); the report's browser test will be skipped"

perf: $(STAMP)
	$(BIN)/python perf/harness_vs_loop.py
	$(BIN)/python perf/analysis_speed.py
	$(BIN)/python perf/posthoc_speed.py
	$(BIN)/python perf/bayes_speed.py

clean-venv:
	rm -rf $(VENV)
