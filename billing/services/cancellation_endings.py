"""Ending subscriptions whose cancellation takes effect: the one implementation, for a
batch of the period-end job (`subscriptions_end_batch`) as for one subscription
(`cancellations.cancellation_apply`: an immediate cancellation, a lost dispute), both
through `subscriptions_end_locked`.

Invariants:
- a constant number of queries whatever the number of subscriptions: their approved
  requests and the Free plans are read in a few queries, and every table is written with
  one statement per distinct value (a status, a fallback);
- the batch claims rows with SKIP LOCKED and re-checks the due condition on the locked
  rows (`subscription_locks`), so concurrent runs split the work and a second run does
  nothing more;
- an item that cannot end (no Free plan for its family, a status that cannot end) is
  refused before anything of it is written: a batch reports it and ends the others, one
  subscription raises it; an unexpected database error rolls the batch back and the batch
  is applied again one subscription per transaction, so no item is lost or applied twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.services.audit import audit_entry, audit_records_write, snapshot_fields
from billing.errors import DomainError
from billing.models import AddOn, CancellationRequest, RefundPolicy, Subscription
from billing.policy.rules import Fallback
from billing.selectors import policy_rules
from billing.services.fallback import Ending, subscriptions_fall_back_batch
from billing.services.job_emails import JobEmails
from billing.services.subscription_locks import subscription_lock, subscriptions_lock
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition
from billing.usage import free_plans_for

logger = logging.getLogger(__name__)
S = Subscription.Status


def cancellation_due(now: datetime) -> Q:
    """Live subscriptions whose cancellation takes effect by `now`: a condition on the row,
    so the lock re-checks it."""
    return Q(
        status__in=Subscription.LIVE_STATUSES,
        cancel_effective_at__isnull=False,
        cancel_effective_at__lte=now,
    )


@dataclass
class EndingSummary:
    applied: int = 0
    skipped: int = 0  # held by a concurrent run, or no longer due
    failed: list[tuple[int, str]] = field(default_factory=list)  # (subscription id, message)

    def add(self, ended: Ended) -> None:
        self.applied += len(ended.endings)
        for pk, error in ended.failed:
            self.failed.append((pk, error.message))
            logger.warning("subscription %s not ended: %s", pk, error.message)


@dataclass
class Ended:
    """What `subscriptions_end_locked` did: the subscriptions ended, those refused (with
    the error, untouched) and the requests completed, by subscription id."""

    endings: list[Ending] = field(default_factory=list)
    failed: list[tuple[int, DomainError]] = field(default_factory=list)
    requests: dict[int, CancellationRequest] = field(default_factory=dict)


def subscriptions_end_batch(
    *, subscription_ids: list[int], now: datetime, actor: User | None = None
) -> EndingSummary:
    """End those of these subscriptions whose cancellation is still due, in one
    transaction (one by one if the batch hits a database error)."""
    try:
        with transaction.atomic():
            summary = EndingSummary()
            locked = subscriptions_lock(
                subscription_ids, cancellation_due(now), with_workspace=True
            )
            summary.skipped = len(subscription_ids) - len(locked)
            summary.add(subscriptions_end_locked(subscriptions=locked, now=now, actor=actor))
            return summary
    except DatabaseError:
        logger.exception("period-end batch of %s failed: ending one by one", len(subscription_ids))
        return subscriptions_end_each(subscription_ids=subscription_ids, now=now, actor=actor)


def subscriptions_end_each(
    *, subscription_ids: list[int], now: datetime, actor: User | None = None
) -> EndingSummary:
    """The same, one subscription per transaction: the fallback of a failed batch, and
    the per-item baseline of `bench/jobs.py`."""
    summary = EndingSummary()
    for pk in subscription_ids:
        try:
            with transaction.atomic():
                locked = subscription_lock(pk, cancellation_due(now))
                if locked is None:
                    summary.skipped += 1
                    continue
                summary.add(subscriptions_end_locked(subscriptions=[locked], now=now, actor=actor))
        except DatabaseError as error:
            summary.failed.append((pk, str(error)))
            logger.warning("subscription %s not ended: %s", pk, error)
    return summary


def subscriptions_end_locked(
    *,
    subscriptions: list[Subscription],
    now: datetime,
    actor: User | None,
    emails: JobEmails | None = None,
) -> Ended:
    """End these locked live subscriptions now (loaded with plan, policy and workspace):
    status cancelled or expired by the fallback of the approved request's quote (else of
    the policy), add-ons ended, the workspace moved to its fallback, the request completed
    and its "completed" e-mail queued (`emails`, one task per call by default). Call
    inside `transaction.atomic()`."""
    ended = Ended()
    # Only the quote's fallback is read: decoding each request's quote and snapshot JSON
    # would cost more than the rest of its ending.
    for request in (
        CancellationRequest.objects.select_for_update()
        .filter(subscription__in=subscriptions, status=CancellationRequest.Status.APPROVED)
        .defer("quote", "snapshot")
        .annotate(quoted_fallback=KeyTextTransform("fallback", "quote"))
        .order_by("created_at", "pk")
    ):
        ended.requests.setdefault(request.subscription_id, request)  # what `.first()` picks
    free_plans = free_plans_for(s.plan.policy_slug for s in subscriptions)
    policy_fallbacks = _policy_fallbacks(
        s.policy_id for s in subscriptions if s.pk not in ended.requests
    )
    for subscription in subscriptions:
        request = ended.requests.get(subscription.pk)
        fallback = (
            Fallback(request.quoted_fallback)
            if request is not None
            else policy_fallbacks[subscription.policy_id]
        )
        target = S.EXPIRED if fallback == Fallback.EXPIRED else S.CANCELLED
        try:
            ensure_transition(
                SUBSCRIPTION_TRANSITIONS, subscription.status, target, what="The subscription"
            )
            if fallback == Fallback.FREE_PLAN and subscription.plan.policy_slug not in free_plans:
                raise DomainError(
                    f"No active Free plan exists for {subscription.plan.policy_slug}.",
                    field="plan",
                )
        except DomainError as error:
            ended.failed.append((subscription.pk, error))
            ended.requests.pop(subscription.pk, None)
            continue
        ended.endings.append(Ending(subscription, fallback))
    endings = ended.endings
    _write_ended(endings, now, actor)
    subscriptions_fall_back_batch(endings=endings, free_plans=free_plans, actor=actor, now=now)
    completed = [
        ended.requests[pk] for pk in (e.subscription.pk for e in endings) if pk in ended.requests
    ]
    _requests_complete(completed, now, actor, emails or JobEmails())
    if endings:  # one line per call: a line per subscription costs more than its UPDATE
        logger.info(
            "%s subscriptions ended (%s to %s): fallbacks %s",
            len(endings),
            endings[0].subscription.pk,
            endings[-1].subscription.pk,
            dict(Counter(e.fallback.value for e in endings)),
        )
    return ended


def _policy_fallbacks(policy_ids) -> dict[int, Fallback]:
    """The fallback of each of these policy versions (one query, none if there are none):
    for a subscription ended without an approved request."""
    ids = set(policy_ids)
    if not ids:
        return {}
    return {
        policy.pk: policy_rules(policy).fallback
        for policy in RefundPolicy.objects.filter(pk__in=ids)
    }


def _write_ended(endings: list[Ending], now: datetime, actor: User | None) -> None:
    """The subscriptions' status and end (one UPDATE per target status), their add-ons
    ended now, and one audit record each."""
    audits, by_target = [], {}
    for ending in endings:
        subscription = ending.subscription
        target = S.EXPIRED if ending.fallback == Fallback.EXPIRED else S.CANCELLED
        before = snapshot_fields(subscription, "status", "ended_at")
        subscription.status, subscription.ended_at = target, now
        subscription.cancelled_at = subscription.cancelled_at or now
        by_target.setdefault(target, []).append(subscription.pk)
        audits.append(
            audit_entry(
                actor=actor,
                action="subscription.cancel_apply",
                target=subscription,
                now=now,
                before=before,
                after={
                    **snapshot_fields(subscription, "status", "ended_at"),
                    "fallback": ending.fallback,
                },
            )
        )
    for target, ids in by_target.items():
        Subscription.objects.filter(pk__in=ids).update(
            status=target, ended_at=now, cancelled_at=Coalesce("cancelled_at", Value(now))
        )
    ended = [e.subscription.pk for e in endings]
    AddOn.objects.filter(subscription_id__in=ended, ends_at__isnull=True).update(ends_at=now)
    AddOn.objects.filter(subscription_id__in=ended, ends_at__gt=now).update(ends_at=now)
    audit_records_write(audits)


def _requests_complete(
    requests: list[CancellationRequest], now: datetime, actor: User | None, emails: JobEmails
) -> None:
    """Approved → completed (always allowed), one UPDATE and one audit INSERT; the
    "completed" e-mail of each after commit."""
    audits = []
    for request in requests:
        before = snapshot_fields(request, "status", "completed_at")
        request.status = CancellationRequest.Status.COMPLETED
        request.completed_at = now
        audits.append(
            audit_entry(
                actor=actor,
                action=f"cancellation.{request.status}",
                target=request,
                now=now,
                before=before,
                after=snapshot_fields(request, "status", "completed_at"),
            )
        )
    CancellationRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        status=CancellationRequest.Status.COMPLETED, completed_at=now
    )
    audit_records_write(audits)
    for request in requests:
        emails.add("cancellation_completed", request.pk)
    emails.send_on_commit()
