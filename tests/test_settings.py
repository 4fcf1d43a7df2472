"""Settings are read at import time, so each configuration is checked in a fresh process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production(tmp_path) -> dict[str, str]:
    return {
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "backoffice.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://backoffice.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_HOST": "smtp.example.com",
    }


def test_a_production_configuration_passes_check_deploy_without_warnings(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production(tmp_path)
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_an_smtp_host(tmp_path):
    env = _production(tmp_path)
    del env["EMAIL_HOST"]

    result = _run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "Set the EMAIL_HOST environment variable" in result.stderr


def test_check_deploy_refuses_the_console_email_backend(tmp_path):
    env = _production(tmp_path) | {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }

    result = _run(["manage.py", "check", "--deploy"], env)

    assert result.returncode != 0
    assert "backoffice.E001" in result.stderr and "console" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _run(["manage.py", "check"], {"DEBUG": "False", "ALLOWED_HOSTS": "example.com"})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("missing", ["DATABASE_URL", "CELERY_BROKER_URL"])
def test_production_refuses_to_start_without_a_database_or_a_broker(missing, tmp_path):
    env = _production(tmp_path)
    del env[missing]

    result = _run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


@pytest.mark.skipif(
    (BASE_DIR / ".env").exists(), reason="a local .env file configures this checkout"
)
def test_with_nothing_set_it_runs_on_sqlite_with_eager_celery():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.DATABASES['default']['ENGINE'], "
        "str(s.DATABASES['default']['NAME']), s.CELERY_TASK_ALWAYS_EAGER]))"
    )

    result = _run(["-c", script], {"DJANGO_SETTINGS_MODULE": "backoffice.settings"})

    assert result.returncode == 0, result.stderr
    debug, engine, name, eager = json.loads(result.stdout)
    assert debug is True
    assert engine == "django.db.backends.sqlite3"
    assert name == str(BASE_DIR / "db.sqlite3")
    assert eager is True


def _database_settings(env: dict[str, str]) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; "
        "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))"
    )
    result = _run(["-c", script], {"DJANGO_SETTINGS_MODULE": "backoffice.settings"} | env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_keeps_database_connections_and_checks_them_before_reuse(tmp_path):
    assert _database_settings(_production(tmp_path)) == [60, True]
    assert _database_settings(_production(tmp_path) | {"CONN_MAX_AGE": "0"}) == [0, True]


@pytest.mark.skipif(
    (BASE_DIR / ".env").exists(), reason="a local .env file configures this checkout"
)
def test_development_opens_a_connection_per_request():
    assert _database_settings({}) == [0, False]


def _database_options(env: dict[str, str]) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
    )
    result = _run(["-c", script], {"DJANGO_SETTINGS_MODULE": "backoffice.settings"} | env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_on_postgresql_the_server_binds_parameters_and_repeated_statements_are_prepared(
    tmp_path,
):
    postgres = _production(tmp_path) | {"DATABASE_URL": "postgres://app@db.example.com/app"}
    options = _database_options(postgres)
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    # A pooler that cannot keep prepared statements turns both off.
    assert _database_options(postgres | {"DATABASE_PREPARE": "false"}) == {}
    # SQLite has neither.
    assert "server_side_binding" not in _database_options(_production(tmp_path))


@pytest.mark.postgres("prepared statements are PostgreSQL's")
@pytest.mark.django_db
def test_a_statement_run_five_times_on_a_connection_is_prepared_by_the_server():
    from django.db import connection

    from accounts.models import Workspace

    def prepared() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return {row[0] for row in cursor.fetchall()}

    for pk in range(1, 7):
        Workspace.objects.filter(pk=pk).exists()
    assert any('FROM "accounts_workspace"' in sql and "$1" in sql for sql in prepared())
