"""Hypothesis over every customer form and every admin action form: whatever is typed
into the fields, the answer is a page (never a 500), and when the answer is an error
(the form shown again, a 400) nothing changed: no audit record, no new row, no state moved.

Values mix nasty constants (huge and non-ASCII numbers, years 1 and 9999, NUL, 5,000
characters) with generated text, numbers and dates; a fixed seed keeps failures
reproducible.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import AuditRecord, Workspace
from billing.models import (
    CancellationRequest,
    CreditEntry,
    Payment,
    Refund,
    RefundPolicy,
    RefundReviewRequest,
    Subscription,
)
from billing.services.cancellations import cancellation_submit
from billing.services.refunds import refund_propose
from tests.factories import PaymentFactory
from tests.factories.cancellations import paid_subscription
from tests.factories.refunds import agent, lead, review_for

pytestmark = pytest.mark.django_db
EXAMPLES_PER_FORM = 12
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "-0.01",
    "1e27",
    "NaN",
    "Infinity",
    "99999999999999999999999",
    "²",
    "١٢٣",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "1999-12-31",
    "x" * 5000,
    "a\x00b",
    "<script>alert(1)</script>",
    "'; DROP TABLE billing_refund; --",
    "💸",
    "1.005",
    "owner@example.com",
    "a" * 250 + "@example.com",
]
VALUE = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers(-(10**30), 10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
)
EXAMPLE_COUNTS: dict[str, int] = {}


def snapshot() -> tuple:
    """What a successful form changes somewhere."""
    counts = tuple(
        model.objects.count()
        for model in (
            AuditRecord,
            Refund,
            CancellationRequest,
            RefundReviewRequest,
            CreditEntry,
            Payment,
            RefundPolicy,
        )
    )
    states = (
        tuple(Subscription.objects.order_by("pk").values_list("status", "plan_id", "grace_until")),
        tuple(Workspace.objects.order_by("pk").values_list("status", "legal_hold")),
        tuple(Refund.objects.order_by("pk").values_list("status", "amount")),
        tuple(CancellationRequest.objects.order_by("pk").values_list("status")),
        tuple(RefundReviewRequest.objects.order_by("pk").values_list("status", "verification")),
    )
    return counts, states


def fuzz_form(name: str, client: Client, url: str, fields: list[str], fixed: dict | None = None):
    """Post generated values for `fields` (plus `fixed`) to `url`: never a 500; an error
    answer (200 page again, 400) leaves `snapshot()` as it was."""

    @given(values=st.fixed_dictionaries({field: VALUE for field in fields}))
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def post(values):
        EXAMPLE_COUNTS[name] = EXAMPLE_COUNTS.get(name, 0) + 1
        before = snapshot()
        response = client.post(url, {**(fixed or {}), **values})
        assert response.status_code < 500, (name, values)
        if response.status_code in (200, 400, 429):
            assert snapshot() == before, (name, values, response.status_code)

    post()


@pytest.fixture
def world(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            key: "100000/min" for key in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        },
    }
    subscription = paid_subscription("orgix")
    payment = subscription.payments.get()
    now = timezone.now()
    cancellation, _ = cancellation_submit(
        workspace=paid_subscription("connex").workspace,
        actor=None,
        reason=CancellationRequest.Reason.TOO_EXPENSIVE,
        reason_text="",
        now=now,
    )
    proposer = agent()
    refund = refund_propose(
        payment=PaymentFactory(amount=Decimal("80.00")),
        amount=Decimal("10.00"),
        destination="",
        actor=proposer,
        now=now,
    )
    return {
        "subscription": subscription,
        "past_due": paid_subscription("orgix", past_due=True),
        "payment": payment,
        "cancellation": cancellation,
        "refund": refund,
        "review": review_for(payment, submitted_by=subscription.workspace.owner),
        "policy": RefundPolicy.objects.filter(slug="orgix").first(),
    }


def customer_client(world) -> Client:
    client = Client()
    client.force_login(world["subscription"].workspace.owner)
    return client


def test_customer_forms_never_fail_and_change_nothing_on_error(world):
    slug = world["subscription"].workspace.slug
    client = customer_client(world)
    review_fields = [
        "workspace_name",
        "billing_email",
        "approximate_payment_date",
        "amount_charged",
        "currency",
        "kind",
        "explanation",
    ]

    fuzz_form("review request", client, "/billing/review/", review_fields)
    fuzz_form("cancellation", client, f"/workspaces/{slug}/cancel/", ["reason", "reason_text"])
    fuzz_form("login", Client(), "/accounts/login/", ["username", "password"])
    fuzz_form("password reset", Client(), "/accounts/password_reset/", ["email"])

    tokens = st.one_of(st.sampled_from(NASTY[:15]), st.text(min_size=1, max_size=60))

    @given(token=tokens.filter(lambda t: "/" not in t and "\x00" not in t))
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def confirm(token):
        EXAMPLE_COUNTS["review confirmation link"] = (
            EXAMPLE_COUNTS.get("review confirmation link", 0) + 1
        )
        before = snapshot()
        response = Client().post(f"/billing/review/confirm/{token}/")
        assert response.status_code in (400, 404)
        assert snapshot() == before

    confirm()


SCENARIO = json.loads((Path(settings.BASE_DIR) / "scenarios" / "orgix-monthly.json").read_text())


def _fuzz_scenario_values(client: Client, policy: RefundPolicy) -> None:
    """A valid scenario with one value replaced: reaches the parser's every field."""

    @given(key=st.sampled_from(sorted(SCENARIO)), value=st.one_of(VALUE, st.integers()))
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_FORM * 3,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def post(key, value):
        EXAMPLE_COUNTS["simulator scenario values"] = (
            EXAMPLE_COUNTS.get("simulator scenario values", 0) + 1
        )
        scenario = json.dumps(SCENARIO | {key: value})
        response = client.post(
            "/admin/billing/refundpolicy/simulator/", {"policy": policy.pk, "scenario": scenario}
        )
        assert response.status_code == 200, (key, value)

    post()


def _action(model: str, action: str, pk: int, **extra) -> tuple[str, dict]:
    return f"/admin/{model}/", {"action": action, ACTION_CHECKBOX_NAME: [pk], "apply": "1", **extra}


def test_admin_action_forms_never_fail_and_change_nothing_on_error(world):
    client = Client()
    client.force_login(lead())
    policy = world["policy"]
    forms = [
        (
            "propose refund",
            f"/admin/billing/refund/propose/{world['payment'].pk}/",
            {},
            ["amount", "tax_amount", "destination", "reason"],
        ),
        ("reject refund", *_action("billing/refund", "reject", world["refund"].pk), ["text"]),
        (
            "reject cancellation",
            *_action("billing/cancellationrequest", "reject", world["cancellation"].pk),
            ["reason"],
        ),
        (
            "extend grace",
            *_action("billing/subscription", "extend_grace", world["past_due"].pk),
            ["days", "reason"],
        ),
        (
            "change plan",
            *_action("billing/subscription", "change_plan", world["subscription"].pk),
            ["plan"],
        ),
        (
            "legal hold",
            *_action("accounts/workspace", "place_legal_hold", world["subscription"].workspace_id),
            ["reason"],
        ),
        (
            "delete on request",
            *_action("accounts/workspace", "delete_on_request", world["past_due"].workspace_id),
            ["note", "confirm"],
        ),
        (
            "verify manually",
            *_action("billing/refundreviewrequest", "verify_manually", world["review"].pk),
            ["text"],
        ),
        (
            "answer review",
            *_action("billing/refundreviewrequest", "answer", world["review"].pk),
            ["text"],
        ),
        ("simulator", "/admin/billing/refundpolicy/simulator/", {}, ["policy", "scenario"]),
        (
            "simulator scenario",
            "/admin/billing/refundpolicy/simulator/",
            {"policy": policy.pk},
            ["scenario"],
        ),
        (
            "new policy version",
            f"/admin/billing/refundpolicy/{policy.pk}/new-version/",
            {},
            ["effective_from", "rules", "changelog"],
        ),
        ("accidental renewal", "/admin/billing/refund/accidental-renewals/", {}, ["subscription"]),
    ]
    for name, url, fixed, fields in forms:
        fuzz_form(name, client, url, fields, fixed)
    _fuzz_scenario_values(client, policy)

    tried = sum(EXAMPLE_COUNTS.values())
    print(f"\nhypothesis form posts: {tried} over {len(EXAMPLE_COUNTS)} forms, server errors: 0")
    assert len(EXAMPLE_COUNTS) >= 13
