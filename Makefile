# Two commands on a fresh machine with Python 3.11 + pip:
#   make run    # the main job: crawl every source in sources.toml, then the later stages
#   make test   # the test suite
# Each creates .venv and installs what it needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run demo test test-fast lint bench clean browser-deps postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Headless Chromium for tests/e2e/test_browser.py, from Debian (never `playwright install`); when it cannot
# be installed (not root, no apt) the browser tests skip with a message. CJK fonts make screenshots legible.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium + chromium-driver (apt-get)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } >/dev/null 2>&1 \
	      || echo "warning: apt-get could not install chromium; browser tests will be skipped"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || true; \
	  else echo "warning: /usr/bin/chromium is missing and apt-get is not usable here; browser tests will be skipped"; fi; \
	fi

run: $(VENV)/.run-deps
	$(BIN)/wardwatch run

demo: $(VENV)/.run-deps
	$(BIN)/wardwatch demo

# The contracts first (import layers, no cycles, ruff), then the whole suite.
lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# PostgreSQL binaries for the DuckLake and Prefect-on-Postgres tests (each starts a throwaway cluster of its own),
# from Debian when missing; without them those tests skip with a message.
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb 2>/dev/null))
postgres:
	@if [ -z "$(PG_INITDB)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing postgresql (apt-get)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } >/dev/null 2>&1 \
	      || echo "warning: apt-get could not install postgresql; the DuckLake tests will be skipped"; \
	  else echo "warning: PostgreSQL binaries are missing and apt-get is not usable here; the DuckLake tests will be skipped"; fi; \
	fi

test: lint browser-deps postgres
	$(BIN)/pytest

# The fast loop: pure and unit tests, no crawls, no Prefect, no browser (under 30 s).
test-fast: $(VENV)/.test-deps
	$(BIN)/pytest -q -m "not slow" --ignore=tests/e2e

bench: $(VENV)/.test-deps
	$(BIN)/python -m benchmarks.crawl

clean:
	rm -rf $(VENV) data/demo.duckdb data/demo.duckdb.wal
