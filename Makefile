# smartsteps: `make run` sets up and serves; `make test` sets up and runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://smartsteps@127.0.0.1:5432/smartsteps_test

.PHONY: run test test-sqlite test-postgres lint openapi clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11+ is needed; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

MUNICIPALITIES_CSV ?= ../shared/data/cz-municipalities.csv

run: $(STAMP)
	$(BIN)/smartsteps db upgrade
	@if [ -f "$(MUNICIPALITIES_CSV)" ]; then $(BIN)/smartsteps import municipalities --if-empty "$(MUNICIPALITIES_CSV)"; fi
	$(BIN)/smartsteps seed demo
	$(BIN)/smartsteps bootstrap
	@echo "smartsteps on http://127.0.0.1:8000  (API docs: http://127.0.0.1:8000/docs)"
	$(BIN)/smartsteps serve --host 127.0.0.1 --port 8000

test: lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy api catalogue procurement web
	$(BIN)/smartsteps openapi --check

test-sqlite: $(STAMP)
	env -u SMARTSTEPS_TEST_DATABASE_URL $(BIN)/pytest

# PostgreSQL: SMARTSTEPS_TEST_DATABASE_URL, or the role and database .ci/run creates.
test-postgres: $(STAMP)
	SMARTSTEPS_TEST_DATABASE_URL=$${SMARTSTEPS_TEST_DATABASE_URL:-$(PG_TEST_URL)} $(BIN)/pytest

openapi: $(STAMP)
	$(BIN)/smartsteps openapi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
