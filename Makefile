PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/backoffice_ci

.PHONY: run test test-postgres lint format migrate seed worker beat bench bench-admin bench-api chromium redis clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint chromium redis
	$(BIN)/pytest -n 2

test-postgres: install redis
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests (needs root)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

redis:
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
		command -v redis-server >/dev/null 2>&1 || { \
			echo "Installing Debian's redis-server for the Celery worker tests (needs root)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; }

worker: install
	$(BIN)/celery -A backoffice worker --loglevel=info

beat: install
	$(BIN)/celery -A backoffice beat --loglevel=info

bench: install
	$(BIN)/python -m bench

# Admin changelists at 10,000 and BIG workspaces on PostgreSQL (BENCH_DATABASE_URL).
BIG ?= 200000
bench-admin: install
	$(BIN)/python -m bench.admin --big $(BIG)

# The API on gunicorn over loopback: bare view vs cancellation POST vs quote GET.
bench-api: install
	$(BIN)/python -m bench.api

clean:
	rm -rf $(VENV) db.sqlite3* test-artifacts
