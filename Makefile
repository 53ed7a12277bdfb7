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

## run: set up, migrate the embedded SQLite database, seed demo data once, serve on :$(PORT)
## (`make run PORT=8080` for another port)
PORT ?= 5000
run: $(VENV)/.installed
	@$(BIN)/pmha db upgrade
	@$(BIN)/pmha demo seed
	@$(BIN)/pmha serve --port $(PORT)

## test: install dev dependencies and the system's Chromium, run the whole suite
test: $(VENV)/.installed-dev system-deps
	$(BIN)/pytest -n auto

## lint: ruff (check and format), mypy (strict on pmha/), no import cycles in pmha/, the
## import contracts in pyproject.toml (import-linter) and no dict parameter on a service verb
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check pmha tests benchmarks
	$(BIN)/ruff format --check pmha tests benchmarks
	$(BIN)/mypy
	$(BIN)/python scripts/import_cycles.py pmha
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/service_verbs.py pmha

## bench: every benchmark in turn, short runs, each printing its own table (benchmarks/README.md
## gives one command per benchmark with its full-length defaults)
BENCHES := \
	"api_load --cases 2000 --seconds 5 --warmup 2" \
	"departure_board --renders 10" \
	"dicom_ingest --images 40" \
	"export --cases 4" \
	"vxu --applicants 500" \
	"cdsi_suite --rounds 2" \
	"rules_plan --applicants 20000" \
	"dot --patients 500" \
	"celery_scaling --episodes 40 --jobs 6" \
	"audit_append --seconds 3 --warmup 1" \
	"workflow_reads --applicants 40"
bench: $(VENV)/.installed-dev
	@failed=""; for b in $(BENCHES); do \
		set -- $$b; script=benchmarks/$$1.py; shift; \
		if [ ! -f $$script ]; then echo "== $$script: not there, skipped"; continue; fi; \
		echo; echo "== $(BIN)/python $$script $$*"; \
		$(BIN)/python $$script "$$@" || failed="$$failed $$script"; \
	done; \
	if [ -n "$$failed" ]; then echo; echo "failed:$$failed"; exit 1; fi

system-deps:
	@scripts/install-system-deps.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
