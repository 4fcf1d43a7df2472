"""The period-end job per batch: constant queries, the same end state as one by one, no
item lost or applied twice when one fails, and concurrent runs on PostgreSQL."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditRecord, Workspace
from billing.models import CancellationRequest, Subscription
from billing.selectors import quote_for_subscription
from billing.services import cancellation_endings
from billing.services.cancellation_endings import subscriptions_end_batch
from billing.services.cancellations import cancellation_apply
from billing.services.period_end import period_end_changes_apply
from billing.services.period_end_plans import downgrades_apply_batch
from tests.factories.accounts import WorkspaceMemberFactory
from tests.factories.billing import PlanFactory
from tests.factories.lifecycle import family_plans, subscription_on

JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
FEB = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
# One of each fallback: orgix → Free plan, connex → disabled, prorated-credit → expired.
FAMILIES = ("orgix", "connex", "prorated-credit")


@pytest.fixture
def plans():
    return {slug: family_plans(slug) for slug in FAMILIES}


def ending_at_feb(plan, *, crowded: bool = False) -> Subscription:
    """A subscription whose approved cancellation takes effect on 1 February."""
    subscription = subscription_on(
        plan, start=JAN, cancel_at_period_end=True, cancel_effective_at=FEB, cancelled_at=JAN
    )
    CancellationRequest.objects.create(
        workspace=subscription.workspace,
        subscription=subscription,
        status=CancellationRequest.Status.APPROVED,
        reason=CancellationRequest.Reason.NOT_USING,
        quote=_quote(subscription),
        currency=plan.currency,
        effective_at=FEB,
        created_at=JAN,
    )
    if crowded:  # over the Free plan's seat limit: restricted, not active, after the end
        for _ in range(5):
            WorkspaceMemberFactory(workspace=subscription.workspace)
    return subscription


_quotes: dict[str, dict] = {}


def _quote(subscription: Subscription) -> dict:
    """The quote at approval; the same for every subscription of a plan started in January
    without payments, so computed once per plan."""
    if subscription.plan.code not in _quotes:
        _quotes[subscription.plan.code] = quote_for_subscription(subscription, at=JAN).to_dict()
    return _quotes[subscription.plan.code]


def endings(plans, count: int) -> list[Subscription]:
    return [ending_at_feb(plans[FAMILIES[i % 3]]["pro"], crowded=i % 2 == 0) for i in range(count)]


def end_state(subscription: Subscription) -> tuple:
    """What ending a subscription leaves behind, without ids or names."""
    subscription.refresh_from_db()
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    request = CancellationRequest.objects.get(subscription=subscription)
    actions = sorted(
        AuditRecord.objects.filter(workspace_id=workspace.pk, created_at=FEB).values_list(
            "action", "before", "after", "note"
        ),
        key=repr,
    )
    free = workspace.subscriptions.exclude(pk=subscription.pk).values_list(
        "plan__code", "status", "current_period_end"
    )
    return (
        (subscription.status, subscription.ended_at, subscription.cancelled_at),
        (workspace.status, workspace.suspension_reason, workspace.ended_at),
        workspace.deletion_due_at,
        (request.status, request.completed_at),
        [_without_ids(action) for action in actions],
        list(free),
    )


def _without_ids(action: tuple) -> tuple:
    name, before, after, note = action
    after = {k: v for k, v in after.items() if k != "replaces"}
    return name, before, after, note


def _batch_queries(plans, size: int) -> int:
    ids = [s.pk for s in endings(plans, size)]

    with CaptureQueriesContext(connection) as queries:
        summary = subscriptions_end_batch(subscription_ids=ids, now=FEB)

    assert summary.applied == size and not summary.failed
    return len(queries)


@pytest.mark.django_db
def test_the_queries_of_a_period_end_batch_do_not_grow_with_its_size(plans):
    few = _batch_queries(plans, 6)

    assert _batch_queries(plans, 48) == few


@pytest.mark.django_db
def test_a_batch_leaves_the_same_end_state_as_ending_one_by_one(
    plans, django_capture_on_commit_callbacks, mailoutbox
):
    one_by_one, batched = endings(plans, 6), endings(plans, 6)

    with django_capture_on_commit_callbacks(execute=True):
        for subscription in one_by_one:
            cancellation_apply(subscription=subscription, now=FEB)
    single_emails = subjects(mailoutbox)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as batch_tasks:
        summary = subscriptions_end_batch(subscription_ids=[s.pk for s in batched], now=FEB)

    assert summary.applied == 6
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


@pytest.mark.django_db
def test_a_subscription_that_cannot_end_is_reported_and_the_others_end_once(plans):
    subscriptions = endings(plans, 6)
    family_without_free_plan = ending_at_feb(plans["orgix"]["pro"])
    family_without_free_plan.plan = PlanFactory(policy_slug="no-free-plan")
    family_without_free_plan.save()
    ids = sorted([s.pk for s in subscriptions] + [family_without_free_plan.pk])

    first = period_end_changes_apply(now=FEB, batch_size=4)
    second = period_end_changes_apply(now=FEB, batch_size=4)

    assert first.cancellations_applied == 6
    assert first.failed == [
        (family_without_free_plan.pk, "No active Free plan exists for no-free-plan.")
    ]
    assert second.cancellations_applied == 0
    ended = Counter(
        AuditRecord.objects.filter(action="subscription.cancel_apply").values_list(
            "target_id", flat=True
        )
    )
    assert ended == {str(pk): 1 for pk in ids if pk != family_without_free_plan.pk}
    family_without_free_plan.refresh_from_db()
    assert family_without_free_plan.is_live


@pytest.mark.django_db
def test_a_batch_that_hits_a_database_error_ends_each_subscription_once_one_by_one(
    plans, monkeypatch
):
    subscriptions = endings(plans, 5)
    complete = cancellation_endings._requests_complete

    def deadlocked_when_many(requests, *args):
        """A deadlock of the whole batch's rows: a transaction of one subscription (the
        same code) gets through."""
        if len(requests) > 1:
            raise DatabaseError("deadlock detected")
        complete(requests, *args)

    monkeypatch.setattr(cancellation_endings, "_requests_complete", deadlocked_when_many)
    summary = subscriptions_end_batch(subscription_ids=[s.pk for s in subscriptions], now=FEB)

    assert (summary.applied, summary.failed, summary.skipped) == (5, [], 0)
    for subscription in subscriptions:
        subscription.refresh_from_db()
        assert not subscription.is_live
    assert Subscription.objects.filter(plan__interval="none").count() == 2  # orgix's Free
    assert AuditRecord.objects.filter(action="subscription.cancel_apply").count() == 5
    assert CancellationRequest.objects.filter(status="completed").count() == 5


def _downgrade_batch_queries(size: int) -> int:
    plans = family_plans("orgix")
    subscriptions = [
        subscription_on(
            plans["pro"], start=JAN, pending_plan=plans["basic"], pending_plan_effective_at=FEB
        )
        for _ in range(size)
    ]
    for subscription in subscriptions[::2]:  # over Basic's 3 seats: restricted
        for _ in range(4):
            WorkspaceMemberFactory(workspace=subscription.workspace)

    with CaptureQueriesContext(connection) as queries:
        summary = downgrades_apply_batch(subscription_ids=[s.pk for s in subscriptions], now=FEB)

    assert (summary.downgrades_applied, summary.over_limits) == (size, (size + 1) // 2)
    return len(queries)


@pytest.mark.django_db
def test_the_queries_of_a_downgrade_batch_do_not_grow_with_its_size():
    few = _downgrade_batch_queries(5)

    assert _downgrade_batch_queries(50) == few


@pytest.mark.django_db
def test_a_subscription_ending_now_is_not_downgraded_whichever_batch_runs_first(plans):
    subscription = ending_at_feb(plans["orgix"]["pro"])
    subscription.pending_plan, subscription.pending_plan_effective_at = plans["orgix"]["basic"], FEB
    subscription.save()

    downgrades = downgrades_apply_batch(subscription_ids=[subscription.pk], now=FEB)
    ended = subscriptions_end_batch(subscription_ids=[subscription.pk], now=FEB)

    subscription.refresh_from_db()
    assert (downgrades.downgrades_applied, ended.applied) == (0, 1)
    assert (subscription.status, subscription.plan) == ("cancelled", plans["orgix"]["pro"])


@pytest.mark.postgres("row locks (SKIP LOCKED)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_period_end_runs_end_each_subscription_once(plans):
    subscriptions = endings(plans, 12)
    summaries = []

    def run():
        try:
            summaries.append(period_end_changes_apply(now=FEB, batch_size=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(s.cancellations_applied for s in summaries) == 12
    assert not any(s.failed for s in summaries)
    ended = Counter(
        AuditRecord.objects.filter(action="subscription.cancel_apply").values_list(
            "target_id", flat=True
        )
    )
    assert ended == {str(s.pk): 1 for s in subscriptions}
    assert Subscription.objects.filter(plan__interval="none").count() == 4  # orgix's Free


@pytest.mark.postgres("row locks (SKIP LOCKED)")
@pytest.mark.django_db(transaction=True)
def test_a_period_end_batch_skips_a_subscription_another_run_holds(plans):
    held, other = endings(plans, 2)
    holding, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with transaction.atomic():
                Subscription.objects.select_for_update().get(pk=held.pk)
                holding.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    holding.wait(timeout=5)
    try:
        summary = subscriptions_end_batch(subscription_ids=[held.pk, other.pk], now=FEB)
    finally:
        release.set()
        thread.join()
    again = subscriptions_end_batch(subscription_ids=[held.pk, other.pk], now=FEB)

    assert (summary.applied, summary.skipped) == (1, 1)
    assert (again.applied, again.skipped) == (1, 1)
    held.refresh_from_db()
    other.refresh_from_db()
    assert not held.is_live and not other.is_live
