"""The dunning job per batch: constant queries, the same end state as one subscription per
transaction, and no subscription lost or charged twice when the batch fails."""

import datetime as dt
from collections import Counter

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditRecord, Workspace
from billing.gateways import GatewayError
from billing.models import Payment, Plan, Subscription
from billing.services import dunning_steps
from billing.services.dunning_job import dunning_run_batch, dunning_run_each
from tests.factories.billing import SubscriptionFactory
from tests.factories.lifecycle import ScriptedGateway, family_plans

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 15, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
# (policy, status, days past due, failed attempts, next retry in days after the failure,
#  the card declines): connex retries on days 1, 3, 5, 7, suspends at 14 and expires at 30
# (workspace disabled); orgix expires at 45 onto its Free plan.
KINDS = {
    "recovers": ("connex", "past_due", 1, 1, 1, False),
    "declined again": ("connex", "past_due", 1, 1, 1, True),
    "declined and suspended": ("connex", "past_due", 14, 4, 7, True),
    "expires, disabled": ("connex", "suspended", 30, 5, None, True),
    "expires to Free": ("orgix", "suspended", 45, 5, None, True),
}


class DecliningSome(ScriptedGateway):
    """Declines the cards of the workspaces in `declined`."""

    def __init__(self):
        super().__init__()
        self.declined: set[str] = set()

    def charge(self, *, customer_reference, **kwargs):
        if customer_reference in self.declined:
            raise GatewayError("Your card was declined.", code="card_declined")
        return super().charge(customer_reference=customer_reference, **kwargs)


def in_dunning(kind: str, gateway: DecliningSome) -> Subscription:
    slug, status, days, attempts, retry_day, declines = KINDS[kind]
    plans = family_plans(slug)
    since = NOW - days * DAY
    subscription = SubscriptionFactory(
        plan=plans["pro"],
        status=status,
        started_at=since - 62 * DAY,
        current_period_start=since - 31 * DAY,
        current_period_end=since,
        past_due_since=since,
        dunning_attempts=attempts,
        next_retry_at=since + retry_day * DAY if retry_day else None,
        grace_until=None,
    )
    workspace = subscription.workspace
    workspace.status = "restricted" if status == "past_due" else "suspended"
    workspace.suspension_reason = Workspace.SuspensionReason.NON_PAYMENT
    workspace.save()
    if declines:
        gateway.declined.add(f"workspace-{workspace.pk}")
    return subscription


def end_state(subscription: Subscription) -> tuple:
    subscription.refresh_from_db()
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    audits = sorted(
        AuditRecord.objects.filter(workspace_id=workspace.pk, created_at=NOW).values_list(
            "action", "before", "after", "note"
        ),
        key=repr,
    )
    return (
        subscription.status,
        subscription.dunning_attempts,
        subscription.next_retry_at,
        subscription.grace_until,
        subscription.current_period_end,
        subscription.ended_at,
        subscription.discount_void,
        (workspace.status, workspace.suspension_reason, workspace.ended_at),
        sorted(
            Payment.objects.filter(subscription=subscription).values_list(
                "status", "amount", "period_start", "failure_message"
            )
        ),
        [
            (a, b, {k: v for k, v in after.items() if k != "replaces"}, n)
            for a, b, after, n in audits
        ],
        list(
            workspace.subscriptions.exclude(pk=subscription.pk).values_list("plan__code", "status")
        ),
    )


def test_a_dunning_batch_leaves_the_same_end_state_as_one_by_one(
    django_capture_on_commit_callbacks, mailoutbox
):
    gateway = DecliningSome()
    one_by_one = [in_dunning(kind, gateway) for kind in KINDS]
    batched = [in_dunning(kind, gateway) for kind in KINDS]

    with django_capture_on_commit_callbacks(execute=True):
        single = dunning_run_each(
            subscription_ids=[s.pk for s in one_by_one], now=NOW, gateway=gateway
        )
    single_emails = subjects(mailoutbox)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as batch_tasks:
        batch = dunning_run_batch(
            subscription_ids=[s.pk for s in batched], now=NOW, gateway=gateway
        )

    assert batch == single
    assert (batch.retried, batch.recovered, batch.suspended, batch.expired) == (3, 1, 1, 2)
    assert [end_state(s) for s in batched] == [end_state(s) for s in one_by_one]
    assert subjects(mailoutbox) == single_emails and len(single_emails) == 6
    assert len(batch_tasks) == 1  # the batch's e-mails queued as one task


def subjects(outbox) -> list[str]:
    """The e-mails' subjects, without the names of the workspaces."""
    names = sorted(Workspace.objects.values_list("name", flat=True), key=len, reverse=True)
    found = []
    for message in outbox:
        subject = message.subject
        for name in names:
            subject = subject.replace(name, "<workspace>")
        found.append(subject)
    return sorted(found)


def _batch_queries(copies: int) -> int:
    gateway = DecliningSome()
    ids = [in_dunning(kind, gateway).pk for _ in range(copies) for kind in KINDS]

    with CaptureQueriesContext(connection) as queries:
        summary = dunning_run_batch(subscription_ids=ids, now=NOW, gateway=gateway)

    assert (summary.recovered, summary.expired) == (copies, 2 * copies)
    return len(queries)


def test_the_queries_of_a_dunning_batch_do_not_grow_with_its_size():
    few = _batch_queries(1)

    assert _batch_queries(10) == few


def test_a_failed_batch_runs_one_by_one_and_charges_each_retry_once(monkeypatch):
    gateway = DecliningSome()
    subscriptions = [in_dunning(kind, gateway) for kind in KINDS for _ in range(2)]

    write = dunning_steps.DunningSteps.write

    def deadlocked_when_many(self):
        """A deadlock of the whole batch's rows: a transaction of one subscription (the
        same code) gets through."""
        if len(self.changed) + len(self.recovered) > 1:
            raise DatabaseError("deadlock detected")
        write(self)

    monkeypatch.setattr(dunning_steps.DunningSteps, "write", deadlocked_when_many)
    summary = dunning_run_batch(
        subscription_ids=[s.pk for s in subscriptions], now=NOW, gateway=gateway
    )

    assert (summary.examined, summary.recovered, summary.expired) == (10, 2, 4)
    assert len(gateway.charges) == 2  # the batch's charges replayed under the same keys
    paid = Counter(
        Payment.objects.filter(status="succeeded").values_list("subscription_id", flat=True)
    )
    assert sorted(paid.values()) == [1, 1]
    assert AuditRecord.objects.filter(action="subscription.expire").count() == 4


def test_an_expiry_without_a_free_plan_is_reported_and_the_others_proceed():
    gateway = DecliningSome()
    others = [in_dunning(kind, gateway) for kind in KINDS if kind != "expires to Free"]
    orphan = in_dunning("expires to Free", gateway)
    Plan.objects.filter(policy_slug="orgix", interval="none").update(is_active=False)

    summary = dunning_run_batch(
        subscription_ids=[s.pk for s in [*others, orphan]], now=NOW, gateway=gateway
    )

    assert summary.errors == [f"subscription {orphan.pk}: No active Free plan exists for orgix."]
    assert (summary.recovered, summary.suspended, summary.expired) == (1, 1, 1)
    orphan.refresh_from_db()
    assert orphan.status == "suspended"
