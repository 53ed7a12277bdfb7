# The README's commands. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test lint check bench system-deps clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "PMHA needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) -e ".[dev]"
	@touch $@

## run: set up, migrate the embedded SQLite database, seed demo data once, serve on :5000
run: $(VENV)/.installed
	$(BIN)/pmha db upgrade
	$(BIN)/pmha demo seed
	$(BIN)/pmha serve

## test: install dev dependencies and the system's Chromium, run the whole suite
test: $(VENV)/.installed-dev system-deps
	$(BIN)/pytest -n auto

## lint: ruff (check and format) and mypy (strict on pmha/)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check pmha tests benchmarks
	$(BIN)/ruff format --check pmha tests benchmarks
	$(BIN)/mypy

## bench: API load benchmark against gunicorn and PostgreSQL (see benchmarks/README.md)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/api_load.py

system-deps:
	@scripts/install-system-deps.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
