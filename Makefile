# One entry point (STYLE.md rule 12). `make run` and `make test` work on a fresh machine
# with only Python 3.11+, make and git: they create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo users' password: DEMO_PASSWORD if set, otherwise one generated once into .demo-password.
DEMO_PASSWORD ?= $(shell test -f .demo-password || $(PYTHON) -c "import secrets, string; print(''.join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14)))" > .demo-password; cat .demo-password)
export DEMO_PASSWORD

.DEFAULT_GOAL := help
.PHONY: help run test lint format bench bench-import scale-data migrate seed demo-workbook scan worker backup restore clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment. On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run ## set up, migrate, seed demo data and serve http://127.0.0.1:8000
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py scan_flags
	@echo "Portal: http://$(HOST):$(PORT)/   admin: http://$(HOST):$(PORT)/admin/"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev ## set up and run the whole test suite (SQLite, or DATABASE_URL)
	$(BIN)/pytest -n auto

lint: $(VENV)/.installed-dev ## ruff, mypy, migrations in step, Django's system checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core clusterpacts evaluations funding insights workbook config
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

format: $(VENV)/.installed-dev ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(VENV)/.installed-run ## apply migrations
	$(PY) manage.py migrate --noinput

seed: $(VENV)/.installed-run ## load the demo data (safe to run twice)
	$(PY) manage.py seed_demo

demo-workbook: $(VENV)/.installed-run ## rebuild workbook/data/demo-history.xlsx from funding/data/demo.toml
	rm -f .demo-build.sqlite3
	DATABASE_URL=sqlite:///$(CURDIR)/.demo-build.sqlite3 $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=sqlite:///$(CURDIR)/.demo-build.sqlite3 $(PY) manage.py build_demo_workbook
	rm -f .demo-build.sqlite3

scan: $(VENV)/.installed-run ## raise and resolve flags as of today (AS_OF=YYYY-MM-DD for another day)
	$(PY) manage.py scan_flags $(if $(AS_OF),--as-of $(AS_OF))

worker: $(VENV)/.installed-run ## a Celery worker with beat (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)
	$(BIN)/celery -A config worker --beat --loglevel=INFO

backup: $(VENV)/.installed-run ## PostgreSQL dump + media + manifest into backups/<UTC time>/ (BACKUP_DIR=... for another parent)
	$(PY) manage.py backup

restore: $(VENV)/.installed-run ## FROM=backups/<time>: into an empty DATABASE_URL and MEDIA_ROOT, then verify (FORCE=1 to replace)
	@test -n "$(FROM)" || { echo "Usage: make restore FROM=backups/<timestamp> [FORCE=1]"; exit 2; }
	$(PY) manage.py restore "$(FROM)" $(if $(FORCE),--force)

bench: $(VENV)/.installed-dev ## every figure beside its floor at scale, into docs/PERFORMANCE.md (PostgreSQL; CLUSTERS=, BENCH_DB=)
	@# The load tool of the gunicorn figures (bench/gunicorn_load.py), from the system's packages when missing.
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
		|| echo "wrk could not be installed (apt-get install -y wrk): the gunicorn figures will be missing"
	$(PY) bench/run.py --database $(or $(BENCH_DB),scale3000) --clusters $(CLUSTERS) --years $(YEARS)

bench-import: $(VENV)/.installed-dev ## the history import's own benchmark (VALUES=, BENCH_DATABASE=postgres) and the export memory claim (ROWS=)
	$(PY) bench/export_memory.py
	$(PY) bench/import_history.py --values $(or $(VALUES),100000) --database $(or $(BENCH_DATABASE),sqlite)

# The scale data of the benchmarks (issue 16): generate_scale_data into an empty database.
CLUSTERS ?= 3000
YEARS ?= 10
SEED ?= 1
scale-data: $(VENV)/.installed-run ## migrate an empty DATABASE_URL and fill it with scale data (CLUSTERS=3000 YEARS=10 SEED=1)
	@test -n "$(DATABASE_URL)" || { echo "Set DATABASE_URL to an empty database, e.g. postgres://postgres@127.0.0.1:5432/scale3000"; exit 2; }
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py generate_scale_data --clusters $(CLUSTERS) --years $(YEARS) --seed $(SEED)

clean: ## remove the virtual environment and local database
	rm -rf $(VENV) db.sqlite3 .test-media .pytest_cache
