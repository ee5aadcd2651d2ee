# WeSaid: `make demo` runs the simulated month on the embedded default;
# `make test` runs lint, types and the tests against real PostgreSQL and Redis.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install demo test lint typecheck pytest services translations bench bench-attendance clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(STAMP)

translations: install
	$(BIN)/pybabel compile -d translations -D messages

demo: install translations
	$(BIN)/wesaid demo --json demo.json

services:
	bash .ci/services.sh

lint: install
	$(BIN)/ruff check app workers tests bench
	$(BIN)/ruff format --check app workers tests bench

typecheck: install
	$(BIN)/mypy

pytest: install services translations
	. .services/env && $(BIN)/python -m pytest -q -p no:cacheprovider

test: lint typecheck pytest

bench: install services
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/weighting.py

# Loads 10 million appointments into a scratch PostgreSQL database: about 15 minutes.
bench-attendance: install services
	$(BIN)/python bench/attendance.py

clean:
	rm -rf $(VENV) .services instance demo.json
