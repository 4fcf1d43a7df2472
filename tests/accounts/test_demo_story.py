"""The demo tells a coherent story: consistent with itself and with `now`, and showing
every situation an agent meets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import F

from accounts.demo import seed_demo
from accounts.demo.showcase import SITUATIONS, SLUG_PREFIX
from accounts.models import AuditRecord, Workspace, WorkspaceMember
from billing.models import (
    CancellationRequest,
    Dispute,
    Payment,
    Refund,
    RefundReviewRequest,
    Subscription,
)
from billing.services.reviews import accidental_renewals

from .conftest import DEMO_NOW

pytestmark = pytest.mark.django_db

# Moments that happened (never after `now`); planned moments (period ends, retries,
# deadlines) are left out on purpose.
HAPPENED = {
    Workspace: ["created_at", "last_activity_at", "deletion_warning_sent_at", "ended_at"],
    WorkspaceMember: ["joined_at"],
    Subscription: ["started_at", "current_period_start", "cancelled_at", "past_due_since"],
    Payment: ["paid_at"],
    CancellationRequest: ["created_at", "decided_at"],
    Refund: ["created_at", "decided_at", "completed_at"],
    RefundReviewRequest: ["created_at", "verified_at"],
    Dispute: ["opened_at", "closed_at"],
    AuditRecord: ["created_at"],
}


@pytest.fixture
def seeded():
    return seed_demo(workspaces=30, seed=7, now=DEMO_NOW)


def test_nothing_in_the_demo_is_dated_after_now(seeded):
    late = {
        f"{model.__name__}.{name}": model.objects.filter(**{f"{name}__gt": DEMO_NOW}).count()
        for model, names in HAPPENED.items()
        for name in names
    }
    assert {key: count for key, count in late.items() if count} == {}


def test_no_activity_before_its_workspace_existed(seeded):
    before = {
        "last activity": Workspace.objects.filter(last_activity_at__lt=F("created_at")),
        "subscription": Subscription.objects.filter(started_at__lt=F("workspace__created_at")),
        "payment": Payment.objects.filter(paid_at__lt=F("workspace__created_at")),
        "request": CancellationRequest.objects.filter(created_at__lt=F("workspace__created_at")),
        "refund": Refund.objects.filter(created_at__lt=F("payment__paid_at")),
        "dispute": Dispute.objects.filter(opened_at__lt=F("payment__paid_at")),
    }
    assert {name: list(q.values_list("pk", flat=True)) for name, q in before.items() if q} == {}


def test_approved_requests_quoting_a_refund_have_that_refund(seeded):
    decided = CancellationRequest.objects.filter(
        status__in=("approved", "completed"), quoted_refund__gt=0
    )
    assert decided.exists()
    for request in decided:
        proposed = sum((r.amount for r in request.refunds.all()), Decimal("0"))
        assert proposed == request.quoted_refund, request.workspace.slug


def test_every_situation_is_in_the_demo(seeded):
    showcase = Workspace.objects.filter(slug__startswith=SLUG_PREFIX)
    assert showcase.count() == len(SITUATIONS)
    open_states = set(
        CancellationRequest.objects.filter(status__in=CancellationRequest.OPEN_STATUSES)
        .values_list("status", flat=True)
        .distinct()
    )
    assert open_states == {"submitted", "in_review"}
    assert Refund.objects.filter(
        status="proposed", amount__gt=settings.REFUND_LEAD_APPROVAL_THRESHOLD
    ).exists()
    assert Refund.objects.filter(status="failed").exists()
    assert RefundReviewRequest.objects.filter(status="submitted").exists()
    assert RefundReviewRequest.objects.filter(status="verified").exists()
    assert accidental_renewals().filter(workspace__slug__startswith=SLUG_PREFIX).exists()
    assert Subscription.objects.filter(status="past_due").exists()
    assert Dispute.objects.filter(status="open").exists()
    soon = DEMO_NOW + dt.timedelta(days=7)
    assert Workspace.objects.filter(
        deletion_warning_sent_at__isnull=False,
        deletion_due_at__gt=DEMO_NOW,
        deletion_due_at__lte=soon,
        legal_hold=False,
    ).exists()
    assert Workspace.objects.filter(legal_hold=True).exists()


def test_seeding_twice_adds_no_situation(seeded):
    again = seed_demo(workspaces=30, seed=7, now=DEMO_NOW)
    assert again.created["showcase situations"] == 0
