# One command each: `make run` sets up and runs the default scenario; `make test` sets up and tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: run test test-all lint bench schema docs docs-serve lock wheel clean chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The distribution was called wfsim before it became wfsim-ics: drop the old name from an existing .venv.
$(STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/pip uninstall --quiet -y wfsim 2>/dev/null || true
	$(BIN)/pip install --quiet -e .
	touch $@

$(TESTSTAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/pip uninstall --quiet -y wfsim 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[test,bench,app,docs]"
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
	$(BIN)/wfsim schema --out configs/schema.json

# The documentation site (MkDocs with Material; docs/, mkdocs.yml): built into site/ with --strict, as the
# tests do (tests/test_docs.py); `make docs-serve` previews it at http://127.0.0.1:8000 while you edit.
docs: $(TESTSTAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(TESTSTAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# The wheel and source distribution (dist/), as published: `pip install dist/wfsim_ics-*.whl`.
wheel: $(TESTSTAMP)
	$(BIN)/python -m build --no-isolation --outdir dist .

# requirements.lock: every package wfsim and its user extras (app, dask, parquet) need, pinned, for
# reproducible analytical pipelines (`pip install -r requirements.lock`, then wfsim-ics without deps).
# Refresh after changing pyproject.toml's dependencies; it asks the package index for the newest versions.
LOCK_EXTRAS := --extra app --extra dask --extra parquet
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "uv>=0.4"
	$(BIN)/uv pip compile pyproject.toml $(LOCK_EXTRAS) --universal --python-version 3.11 \
		--annotation-style line -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache site dist build
