"""Schemathesis over /api/schema/, as a customer and as a staff agent: no generated
request, valid or not, gets a server error or a status code the schema does not document.

Each operation gets a few positive and a few negative cases per identity (bounded, so the
suite stays fast; the seed is fixed so a failure reproduces). The requests go through the
real WSGI application, inside the test's transaction.
"""

from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from backoffice.wsgi import application
from tests.factories.cancellations import paid_subscription
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db
CASES_PER_OPERATION = 4
CHECKS = [not_a_server_error, status_code_conformance]


@contextmanager
def requests_inside_the_test_transaction():
    """A WSGI request closes the database connection when it ends (Django's test client
    switches that off the same way); here it would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _fuzz(schema, headers: dict[str, str], slug: str) -> tuple[int, list[str], dict[int, int]]:
    cases, failures, statuses = 0, [], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            # Valid cases name the customer's real workspace, so they reach the services.
            real = {"slug": slug} if "{slug}" in operation.path else {}
            fixed = real if mode is schemathesis.GenerationMode.POSITIVE else {}

            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
            @settings(
                max_examples=CASES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                nonlocal cases
                cases += 1
                response = case.call(headers=headers)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as failure:  # collected, so every operation still runs
                    failures.append(f"{case.operation.label} -> {response.status_code}: {failure}")

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
    return cases, failures, statuses


@pytest.fixture
def generous_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "customer": "100000/min",
            "anon": "100000/min",
        },
    }


def test_schemathesis_finds_no_server_error_and_no_undocumented_status(generous_rates):
    subscription = paid_subscription("orgix")
    identities = {
        "customer": Token.objects.create(user=subscription.workspace.owner).key,
        "staff": Token.objects.create(user=agent()).key,
    }
    total, all_failures = 0, []
    with requests_inside_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
        for who, key in identities.items():
            cases, failures, statuses = _fuzz(
                schema, {"Authorization": f"Token {key}"}, subscription.workspace.slug
            )
            print(
                f"\nschemathesis as {who}: {cases} cases, statuses {dict(sorted(statuses.items()))}"
            )
            total += cases
            all_failures += failures

    print(f"schemathesis cases: {total}, failures: {len(all_failures)}")
    assert total >= 300
    assert all_failures == []
