"""Numbers and dates that come from outside are bounded in the models too: validators
for forms and `full_clean`, CheckConstraints for everything else."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.models import Dispute, RefundPolicy, RefundReviewRequest
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def _review(**overrides) -> RefundReviewRequest:
    data = {
        "kind": "other",
        "workspace_name": "Acme",
        "billing_email": "a@example.com",
        "approximate_payment_date": dt.date(2026, 1, 1),
        "amount_charged": Decimal("10.00"),
        "currency": "EUR",
        "explanation": "x",
        "created_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    }
    return RefundReviewRequest(**(data | overrides))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("approximate_payment_date", dt.date(1, 1, 1)),
        ("approximate_payment_date", dt.date(9999, 12, 31)),
        ("amount_charged", Decimal("0")),
        ("amount_charged", Decimal("1000000000.00")),
    ],
)
def test_the_database_refuses_a_review_request_out_of_bounds(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        _review(**{field: value}).save()


@pytest.mark.parametrize(
    ("field", "value"),
    [("approximate_payment_date", dt.date(1, 1, 1)), ("amount_charged", Decimal("1e9"))],
)
def test_model_validation_names_the_field_out_of_bounds(field, value):
    with pytest.raises(ValidationError) as error:
        _review(**{field: value}).full_clean()

    assert field in error.value.message_dict


def test_a_policy_cannot_take_effect_in_year_9999():
    policy = RefundPolicy.objects.filter(slug="orgix").first()
    policy.pk, policy.version, policy.effective_from = None, 999, dt.date(9999, 1, 1)

    with pytest.raises(IntegrityError), transaction.atomic():
        policy.save()


def test_a_dispute_opened_in_year_1_does_not_validate():
    payment = PaymentFactory()
    dispute = Dispute(
        payment=payment,
        amount=Decimal("1.00"),
        currency=payment.currency,
        opened_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    )

    with pytest.raises(ValidationError) as error:
        dispute.full_clean()

    assert "opened_at" in error.value.message_dict
