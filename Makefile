# One command each: `make run` sets up and runs the default scenario; `make test` sets up and tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: run test test-all lint bench schema clean chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TESTSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench,app]"
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/wfsim run

# The browser tests (tests/test_app_browser.py) drive Debian's chromium: install it when it is missing.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; }

test: $(TESTSTAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

test-all: $(TESTSTAMP) chromium
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(TESTSTAMP)
	$(BIN)/lint-imports

bench: $(TESTSTAMP)
	$(BIN)/python -m benchmarks.run

schema: $(STAMP)
	$(BIN)/wfsim schema > configs/schema.json

clean:
	rm -rf $(VENV) .pytest_cache
