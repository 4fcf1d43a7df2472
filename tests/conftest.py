import pytest


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories hash a password per user; PBKDF2 would dominate the suite's run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(items):
    """`@pytest.mark.postgres("why")` tests are skipped, with that reason, unless the
    suite runs on PostgreSQL (CI's second pass always does).

    Every transactional test restores the migrations' data (preset policies, staff
    groups, beat schedules) with serialized rollback. Mixing transactional tests with and
    without it breaks the ones with it: a plain flush re-creates content types that the
    serialized data then inserts again."""
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    for item in items:
        postgres = item.get_closest_marker("postgres")
        if postgres is not None and not on_postgres:
            why = postgres.args[0] if postgres.args else "PostgreSQL only"
            item.add_marker(pytest.mark.skip(reason=f"needs PostgreSQL: {why}"))
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
            name in item.fixturenames for name in ("transactional_db", "live_server")
        )
        if transactional:
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the migrations' data back after a serialized-rollback test. Django's flush
    leaves the tables empty for the next transactional test to reload, but pytest-django
    only runs transactional tests last within a process when all files go to it: under
    `--dist loadfile` the plain tests of the next file come after them and would find no
    preset policies, staff groups or beat schedules."""
    result = yield
    marker = item.get_closest_marker("django_db")
    # With no next test, the session's fixtures (the test database itself) are gone.
    if nextitem is not None and marker is not None and marker.kwargs.get("serialized_rollback"):
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for connection in connections.all(initialized_only=True):
                contents = getattr(connection, "_test_serialized_contents", None)
                if contents:
                    connection.creation.deserialize_db_from_string(contents)
    return result
