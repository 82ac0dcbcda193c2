# One command each: `make run` sets up and runs the default scenario; `make test` sets up and tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: run test test-all lint bench schema clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TESTSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/wfsim run

test: $(TESTSTAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

test-all: $(TESTSTAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(TESTSTAMP)
	$(BIN)/lint-imports

bench: $(TESTSTAMP)
	$(BIN)/python -m benchmarks.run

schema: $(STAMP)
	$(BIN)/wfsim schema --out configs/schema.json

clean:
	rm -rf $(VENV) .pytest_cache
