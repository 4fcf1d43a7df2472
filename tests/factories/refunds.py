"""Staff users in the real groups, refunds in each state, and a gateway that counts calls."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from billing.gateways import GatewayError, GatewayResult
from billing.models import Dispute, Refund, RefundReviewRequest
from billing.services.reviews import review_request_submit

from .accounts import EPOCH, UserFactory
from .billing import PaymentFactory


def staff(group: str, **kwargs):
    """A staff user in the "Support agent" or "Billing lead" group. No usable password
    (tests sign them in with `force_login`), which also skips the slow hashing."""
    kwargs.setdefault("password", "!")
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group))
    return user


def agent(**kwargs):
    return staff("Support agent", **kwargs)


def lead(**kwargs):
    return staff("Billing lead", **kwargs)


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    workspace = factory.LazyAttribute(lambda o: o.payment.workspace)
    amount = Decimal("10.00")
    currency = factory.LazyAttribute(lambda o: o.payment.currency)
    destination = Refund.Destination.ORIGINAL_PAYMENT_METHOD
    idempotency_key = factory.LazyFunction(lambda: f"refund-{uuid.uuid4()}")
    created_at = EPOCH


class DisputeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispute

    payment = factory.SubFactory(PaymentFactory)
    amount = factory.LazyAttribute(lambda o: o.payment.amount)
    currency = factory.LazyAttribute(lambda o: o.payment.currency)
    reason = "fraudulent"
    opened_at = EPOCH


@dataclass
class FakeGateway:
    """Records every successful refund call per idempotency key (`moved[key]` lists the
    amounts), so a test can check money moved exactly once. `fail_next` errors are raised
    before anything moves."""

    name: str = "fake"
    moved: dict[str, list[Decimal]] = field(default_factory=dict)
    calls: int = 0
    fail_next: list[GatewayError] = field(default_factory=list)

    def refund(self, *, payment_reference, amount, currency, idempotency_key):
        self.calls += 1
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.moved.setdefault(idempotency_key, []).append(amount)
        return GatewayResult(reference=f"re_{idempotency_key[-12:]}")

    def charge(self, **kwargs):
        raise NotImplementedError("refund tests never charge")


def review_for(payment, *, submitted_by=None, **overrides) -> RefundReviewRequest:
    """A review request about `payment`, as a customer would file it (fields overridable)."""
    data = {
        "kind": "accidental_payment",
        "workspace_name": payment.workspace.name,
        "billing_email": payment.workspace.billing_email,
        "approximate_payment_date": payment.paid_at.date(),
        "amount_charged": payment.amount,
        "currency": payment.currency,
        "explanation": "Paid by mistake",
    }
    return review_request_submit(
        submitted_by=submitted_by, now=timezone.now(), **(data | overrides)
    )
