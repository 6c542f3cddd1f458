# Pathflow: `make demo` and `make test` work on a fresh clone (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts \
                      frontend/tsconfig*.json -type f 2>/dev/null)

.PHONY: demo test setup system-packages migrate lint test-python test-frontend test-service soak clean

demo: migrate
	$(PY) manage.py demo

test: setup lint test-frontend test-python

setup: system-packages $(PY_STAMP) frontend/dist/index.html

system-packages:
	@bash scripts/system-packages.sh

$(PY_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/dist/index.html: $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

migrate: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	bash scripts/check_api_types.sh
	cd frontend && npm run --silent lint && npm run --silent typecheck

test-frontend: setup
	cd frontend && npm test --silent

# Two pytest processes (pytest-xdist), a test file each at a time: much of the suite waits on
# worker processes, model servers and the browser. Each process has its own SQLite database,
# embedded broker and MLServer. The service leg (below) shares one broker, so it runs in one.
test-python: setup
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/pytest --numprocesses 2 --dist loadfile

# The service leg: tests marked `service` against the configured DATABASE_URL/CELERY_BROKER_URL.
test-service: setup
	$(VENV)/bin/pytest -m service

# The full forms of the reliability checks (tests/reliability, docs/reliability.md): minutes.
soak: setup
	PATHFLOW_SOAK=1 $(VENV)/bin/pytest -m soak -s tests/reliability tests/orchestrator/test_schema_conformance.py

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var
