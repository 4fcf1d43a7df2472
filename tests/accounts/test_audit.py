"""accounts.services.audit.insert_with_audit_record: the row and its audit record, as two
saves would write them (one statement on PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import AuditRecord
from accounts.services.audit import insert_with_audit_record
from billing.models import CancellationRequest
from tests.factories.cancellations import MID_PERIOD, paid_subscription

pytestmark = pytest.mark.django_db


def _request(subscription) -> CancellationRequest:
    return CancellationRequest(
        workspace=subscription.workspace,
        subscription=subscription,
        requested_by=subscription.workspace.owner,
        reason=CancellationRequest.Reason.TOO_EXPENSIVE,
        reason_text="Too dear",
        quote={"refund": "12.50", "lines": [{"label": "x"}]},
        snapshot=None,
        quoted_refund=Decimal("12.50"),
        currency="EUR",
        effective_at=MID_PERIOD + dt.timedelta(days=3),
        created_at=MID_PERIOD,
    )


def test_the_row_and_its_record_are_stored_as_two_saves_would_store_them():
    subscription = paid_subscription("orgix")
    owner = subscription.workspace.owner
    request = _request(subscription)

    with transaction.atomic():
        record = insert_with_audit_record(
            request,
            actor=owner,
            action="cancellation.submit",
            now=MID_PERIOD,
            after={"status": request.status, "quoted_refund": Decimal("12.50")},
        )

    stored = CancellationRequest.objects.get()
    assert request.pk == stored.pk and not request._state.adding
    assert (stored.status, stored.reason_text, stored.quoted_refund, stored.quote) == (
        "submitted",
        "Too dear",
        Decimal("12.50"),
        {"refund": "12.50", "lines": [{"label": "x"}]},
    )
    assert stored.snapshot is None and stored.effective_at == MID_PERIOD + dt.timedelta(days=3)
    saved = AuditRecord.objects.get()
    assert saved.pk == record.pk and record.target_id == str(stored.pk)
    assert (saved.actor_id, saved.actor_label, saved.action) == (
        owner.pk,
        owner.email,
        "cancellation.submit",
    )
    assert (saved.target_type, saved.target_id, saved.workspace_id) == (
        "billing.CancellationRequest",
        str(stored.pk),
        subscription.workspace_id,
    )
    assert saved.after == {"status": "submitted", "quoted_refund": "12.50"}
    assert saved.created_at == MID_PERIOD


def test_a_row_refused_by_a_constraint_writes_no_record():
    subscription = paid_subscription("orgix")
    with transaction.atomic():
        insert_with_audit_record(
            _request(subscription), actor=None, action="cancellation.submit", now=MID_PERIOD
        )

    with pytest.raises(IntegrityError), transaction.atomic():  # one open request only
        insert_with_audit_record(
            _request(subscription), actor=None, action="cancellation.submit", now=MID_PERIOD
        )

    assert CancellationRequest.objects.count() == AuditRecord.objects.count() == 1
