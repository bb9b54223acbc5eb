# Two commands on a fresh machine with Python 3.11 + pip:
#   make run    # the main job: crawl every source in sources.toml, then the later stages
#   make test   # the test suite
# Each creates .venv and installs what it needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/wardwatch run

demo: $(VENV)/.run-deps
	$(BIN)/wardwatch demo

test: $(VENV)/.test-deps
	$(BIN)/pytest

bench: $(VENV)/.test-deps
	$(BIN)/python -m benchmarks.crawl

clean:
	rm -rf $(VENV) data/demo.duckdb data/demo.duckdb.wal
