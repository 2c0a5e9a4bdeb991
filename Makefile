# Academy: the two commands a new user needs (see README.md).
#
#   make run    set up .venv, build the demo database, serve http://127.0.0.1:8000
#   make test   set up .venv, run the test suite (SQLite, Celery tasks in-process)
#
# With DATABASE_URL and CELERY_BROKER_URL unset (the default) everything runs embedded:
# a SQLite file db.sqlite3 in this folder and Celery tasks run eagerly in-process.
# Every step of `make run` is safe to repeat.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST := 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run demo-data reset-demo test ci clean

help:
	@echo "make run    set up .venv, load the demo data and serve http://$(HOST):$(PORT)"
	@echo "make reset-demo  rebuild the demo academy (your own learners, cohorts and teams are kept)"
	@echo "make test   set up .venv and run the tests (pytest; extra arguments: make test PYTEST_ARGS='-k name')"
	@echo "make ci     run .ci/run (tests on SQLite, then on PostgreSQL with Redis and a real Celery worker)"
	@echo "make clean  remove .venv, collected static files and caches (keeps db.sqlite3)"

# The virtual environment is rebuilt only when a requirements file changes.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Academy needs Python 3.11 or newer; '$(PYTHON)' is older (try: make run PYTHON=python3.11)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# DEBUG=1 only for the local demo: development secret key, static files served by runserver.
run demo-data: export DEBUG := 1

demo-data: $(VENV)/.installed
	$(MANAGE) migrate --noinput -v 0
	$(MANAGE) load_reference_data
	$(MANAGE) seed_demo --keep-existing
	$(MANAGE) recompute_metrics

reset-demo: export DEBUG := 1
reset-demo: $(VENV)/.installed
	$(MANAGE) migrate --noinput -v 0
	$(MANAGE) load_reference_data
	$(MANAGE) seed_demo
	$(MANAGE) recompute_metrics

run: demo-data
	@echo "Serving Academy on http://$(HOST):$(PORT)/ (stop with Ctrl+C)"
	$(MANAGE) runserver $(HOST):$(PORT)

test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

ci:
	.ci/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
