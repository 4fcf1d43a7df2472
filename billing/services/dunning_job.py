"""The daily dunning job, per batch: retry, suspend or expire every subscription in
dunning whose next step is due (the steps are `dunning_steps`, shared with the agents'
retry now; described in `dunning`).

Invariants (`tests/billing/test_dunning_batches.py`):
- a batch is one transaction with a constant number of queries (`dunning_steps_apply`),
  the same end state, audit records and e-mails as the same subscriptions one per
  transaction;
- rows are claimed with SKIP LOCKED and re-checked, so concurrent runs split the work
  and a second run the same day finds nothing due;
- a database error rolls the batch back; the batch is then run one subscription per
  transaction, and the retries charged again with the same idempotency keys, so the
  gateway never charges twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import Q

from billing.errors import DomainError
from billing.gateways import PaymentGateway, get_gateway
from billing.models import Subscription
from billing.services.dunning_steps import IN_DUNNING, DunningSummary, dunning_steps_apply
from billing.services.subscription_locks import (
    subscription_id_batches,
    subscription_lock,
    subscriptions_lock,
)

logger = logging.getLogger(__name__)


def dunning_due_queryset(now: datetime):
    """Subscriptions in dunning with a step possibly due: a retry, or the grace period over
    (expiry always comes after the grace period, so it is covered too)."""
    return Subscription.objects.filter(status__in=IN_DUNNING).filter(
        Q(next_retry_at__lte=now) | Q(grace_until__lte=now) | Q(grace_until__isnull=True)
    )


def dunning_run_due(
    *, now: datetime, gateway: PaymentGateway | None = None, batch_size: int = 500
) -> DunningSummary:
    """Every subscription in dunning whose next step is due, batch after batch (the
    command's path; the daily task fans the same batches out to workers)."""
    gateway = gateway or get_gateway()
    summary = DunningSummary()
    for ids in dunning_batches(now=now, batch_size=batch_size):
        summary.add(dunning_run_batch(subscription_ids=ids, now=now, gateway=gateway))
    return summary


def dunning_batches(*, now: datetime, batch_size: int):
    """Ids of the subscriptions with a dunning step due, in keyset pages of `batch_size`."""
    return subscription_id_batches(dunning_due_queryset(now), batch_size=batch_size)


def dunning_run_batch(
    *, subscription_ids: list[int], now: datetime, gateway: PaymentGateway | None = None
) -> DunningSummary:
    """The due steps of those of these subscriptions still in dunning and not held by
    another run, in one transaction (one by one if the batch hits a database error)."""
    gateway = gateway or get_gateway()
    try:
        with transaction.atomic():
            locked = subscriptions_lock(
                subscription_ids, Q(status__in=IN_DUNNING), with_workspace=True, with_rules=True
            )
            summary = dunning_steps_apply(subscriptions=locked, now=now, gateway=gateway)
            summary.skipped_locked = len(subscription_ids) - len(locked)
            return summary
    except DatabaseError:
        logger.exception("dunning batch of %s failed: running one by one", len(subscription_ids))
        return dunning_run_each(subscription_ids=subscription_ids, now=now, gateway=gateway)


def dunning_run_each(
    *, subscription_ids: list[int], now: datetime, gateway: PaymentGateway | None = None
) -> DunningSummary:
    """The same, one subscription per transaction: the fallback of a failed batch, and
    the per-item baseline of `bench/jobs.py`."""
    gateway = gateway or get_gateway()
    summary = DunningSummary()
    for pk in subscription_ids:
        try:
            with transaction.atomic():
                locked = subscription_lock(pk, status__in=IN_DUNNING)
                if locked is None:
                    summary.skipped_locked += 1
                    continue
                summary.add(dunning_steps_apply(subscriptions=[locked], now=now, gateway=gateway))
        except DomainError as error:  # a charge refused outright: this one waits, not all
            summary.errors.append(f"subscription {pk}: {error.message}")
    return summary
