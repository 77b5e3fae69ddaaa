# Two entry points for a fresh Linux machine:
#   make run    creates .venv, installs everything, opens the app (VIDEO=path opens a clip)
#   make test   creates .venv, installs everything with the dev tools, lints and runs the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VIDEO ?=

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first: the local CPU wheel where one is on disk, else the normal index.
	$(BIN)/python -m pip install torch==2.13.0 || $(BIN)/python -m pip install "torch>=2.2"
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rhpnet-coach $(VIDEO)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
