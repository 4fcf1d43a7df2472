PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/backoffice_ci

.PHONY: run serve test test-postgres lint format migrate seed worker beat bench bench-admin bench-api bench-jobs bench-purge bench-replay chromium redis clean vendor-chartjs

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

# The production server (gunicorn + WhiteNoise, DEBUG off) on this machine, against the
# SQLite file: what a deploy runs, minus HTTPS. Tasks run in the web process unless
# SERVE_BROKER names a broker that a worker (same environment) consumes.
SERVE_BROKER ?= memory://
SERVE_ENV := DEBUG=False SECRET_KEY=local-serve-only-$(shell whoami)-not-a-secret \
	ALLOWED_HOSTS=127.0.0.1,localhost CSRF_TRUSTED_ORIGINS=http://127.0.0.1:8000 \
	DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 CELERY_BROKER_URL=$(SERVE_BROKER) \
	SECURE_SSL_REDIRECT=False SECURE_HSTS_SECONDS=0 EMAIL_HOST=localhost \
	EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend \
	EMAIL_FILE_PATH=$(CURDIR)/test-artifacts/emails

serve: seed
	$(SERVE_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Serving http://127.0.0.1:8000/ (health: /healthz); emails go to test-artifacts/emails/"
	$(SERVE_ENV) $(BIN)/gunicorn backoffice.wsgi

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

# Sizes and job by argument, e.g. `make bench-jobs ARGS="--job period-end --subscriptions 20000"`.
bench-jobs: install
	$(BIN)/python -m bench.jobs $(ARGS)

bench-purge: install
	$(BIN)/python -m bench.purge $(ARGS)

# Admin changelists at 10,000 and BIG workspaces on PostgreSQL (BENCH_DATABASE_URL).
BIG ?= 200000
bench-admin: install
	$(BIN)/python -m bench.admin --big $(BIG) $(ARGS)

# Chart.js for the admin dashboard, from the npm registry, kept in the repository so the
# admin works offline; re-run to move to another version (then commit the files).
CHARTJS_VERSION := 4.5.1
CHARTJS_DIR := billing/static/vendor/chartjs
vendor-chartjs:
	rm -rf .chartjs-pack && mkdir .chartjs-pack
	cd .chartjs-pack && npm pack --silent chart.js@$(CHARTJS_VERSION) >/dev/null && tar xzf chart.js-$(CHARTJS_VERSION).tgz
	mkdir -p $(CHARTJS_DIR)
	cp .chartjs-pack/package/dist/chart.umd.js $(CHARTJS_DIR)/chart.umd.js
	cp .chartjs-pack/package/LICENSE.md $(CHARTJS_DIR)/LICENSE.md
	echo "chart.js $(CHARTJS_VERSION) from the npm registry (make vendor-chartjs)" > $(CHARTJS_DIR)/VERSION
	rm -rf .chartjs-pack
bench-replay: install
	$(BIN)/python -m bench replay

# The API on gunicorn over loopback: bare view vs cancellation POST vs quote GET.
bench-api: install
	$(BIN)/python -m bench.api $(ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* test-artifacts
