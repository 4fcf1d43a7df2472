"""Cancellation requests: a customer submits, an agent approves or rejects, and
`cancellation_apply` ends the subscription at its effective moment.

Invariants:
- at most one open (submitted / in review) request per subscription (a partial unique
  constraint); submitting again returns the open one;
- the quote stored on the request is the one the customer confirmed; approval acts on it
  (refund proposals, effective moment) rather than re-quoting;
- `cancellation_apply` and the period-end batch are the only code that ends a
  subscription because of a cancellation, and share one implementation
  (`cancellation_endings.subscriptions_end_locked`); it is idempotent (a subscription
  that is no longer live is left alone).
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery

from accounts.models import User, Workspace
from accounts.services.audit import audit_record, insert_with_audit_record, snapshot_fields
from backoffice.compiled import CompiledQuery
from billing.errors import DomainError
from billing.models import CancellationRequest, Payment, Plan, Subscription
from billing.policy.limits import LimitBreach, exceeded_limits
from billing.policy.quotes import Quote
from billing.policy.rules import Effective, Fallback, PolicyRules
from billing.quote_snapshots import snapshot_json
from billing.selectors import (
    live_subscription_with_flags,
    policy_rules,
    quote_for_subscription,
    quote_with_snapshot,
)
from billing.services.cancellation_endings import subscriptions_end_locked
from billing.services.customer_emails import customer_email_on_commit
from billing.services.job_emails import JobEmails
from billing.services.refunds import refund_propose
from billing.services.subscription_locks import subscription_lock
from billing.states import CANCELLATION_TRANSITIONS, ensure_transition
from billing.usage import free_plan_with_usage, plan_limits

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
DESTINATION_LABELS = {
    "original_payment_method": "original payment method",
    "customer_credit": "customer credit balance (used for future invoices)",
    "none": "no refund",
}
FALLBACK_LABELS = {
    "free_plan": "moved to the Free plan",
    "disabled": "disabled",
    "expired": "expired (no plan)",
}


@dataclass(frozen=True)
class CancellationPreview:
    """Everything the customer sees before confirming."""

    subscription: Subscription
    quote: Quote
    free_plan: Plan | None  # the plan the workspace falls back to (fallback free_plan)
    exceeded: tuple[LimitBreach, ...]  # Free-plan limits the workspace would exceed
    notice: str  # the notice-period explanation, empty if the policy has none


def cancellable_subscription(workspace: Workspace) -> Subscription:
    """The live paid subscription of the workspace, or a DomainError naming `subscription`.

    Loaded with its plan, policy and snapshot flags: quoting it reads only its payments
    (and its services or add-ons when it has some)."""
    live = live_subscription_with_flags(workspace.pk)
    if live is None:
        latest = (
            Subscription.objects.filter(workspace=workspace).order_by("-started_at", "-pk").first()
        )
        if latest is None:
            raise DomainError("This workspace has no subscription to cancel.", field="subscription")
        raise DomainError(
            f"The subscription is already {latest.get_status_display().lower()}.",
            field="subscription",
        )
    if live.plan.is_free:
        raise DomainError(
            "This workspace is on the Free plan: there is no paid subscription to cancel.",
            field="subscription",
        )
    if live.cancel_effective_at is not None:
        raise DomainError(
            f"The subscription is already cancelled and ends on "
            f"{live.cancel_effective_at:%d %B %Y}.",
            field="subscription",
        )
    live.workspace = workspace  # already loaded by the caller: no query to read it again
    return live


def notice_explanation(rules: PolicyRules, quote: Quote) -> str:
    notice = rules.cancellation_notice
    if notice is None:
        return ""
    text = (
        f"Cancellations must be requested at least {notice.days} days before the renewal "
        f"date ({notice.clause.ref})."
    )
    if quote.notice_applied:
        text += (
            f" This request falls inside that window, so the subscription renews once more "
            f"and ends on {quote.ends_at:%d %B %Y}; {quote.amount_due} {quote.currency} "
            "is still due for that period."
        )
    return text


def cancellation_preview(*, subscription: Subscription, at: datetime) -> CancellationPreview:
    quote = quote_for_subscription(subscription, at=at)
    free_plan = None
    exceeded: tuple[LimitBreach, ...] = ()
    if quote.fallback == Fallback.FREE_PLAN:
        found = free_plan_with_usage(subscription.plan.policy_slug, subscription.workspace)
        if found is not None:
            free_plan, usage = found
            exceeded = exceeded_limits(usage, plan_limits(free_plan))
    rules = policy_rules(subscription.policy)
    return CancellationPreview(
        subscription=subscription,
        quote=quote,
        free_plan=free_plan,
        exceeded=exceeded,
        notice=notice_explanation(rules, quote),
    )


def cancellation_submit(
    *,
    workspace: Workspace,
    actor: User | None,
    reason: str,
    reason_text: str,
    now: datetime,
) -> tuple[CancellationRequest, bool]:
    """Create the request (or return the open one): `(request, created)`."""
    if reason not in CancellationRequest.Reason.values:
        raise DomainError(f"Unknown reason {reason!r}.", field="reason")
    reason_text = (reason_text or "").strip()
    if len(reason_text) > MAX_TEXT:
        raise DomainError(
            f"Keep the explanation under {MAX_TEXT} characters (it has {len(reason_text)}).",
            field="reason_text",
        )
    try:
        # No savepoint of its own: a concurrent submit that wins the partial unique
        # constraint rolls this whole block back, and its request is returned instead.
        with transaction.atomic():
            open_request = _lock_workspace_open_request(workspace.pk)
            if open_request is not None:
                return open_request, False
            subscription = cancellable_subscription(workspace)
            quote, snapshot = quote_with_snapshot(subscription, at=now)
            request = CancellationRequest(
                workspace=workspace,
                subscription=subscription,
                requested_by=actor,
                reason=reason,
                reason_text=reason_text,
                quote=quote.to_dict(),
                snapshot=snapshot_json(snapshot),
                quoted_refund=quote.refund,
                currency=quote.currency,
                effective_at=quote.ends_at,
                created_at=now,
            )
            insert_with_audit_record(
                request,
                actor=actor,
                action="cancellation.submit",
                now=now,
                after={
                    "status": request.status,
                    "reason": reason,
                    "quoted_refund": quote.refund,
                    "effective_at": quote.ends_at,
                },
            )
            _email_on_commit(request.pk, "submitted")
    except IntegrityError:
        return CancellationRequest.objects.get(
            workspace=workspace, status__in=CancellationRequest.OPEN_STATUSES
        ), False
    logger.info("cancellation %s submitted for workspace %s", request.pk, workspace.pk)
    return request, True


def _lock_workspace_open_request(workspace_id: int) -> CancellationRequest | None:
    """Lock the workspace row (submits of one workspace take turns) and return its open
    request, if any: one statement, the open request's id read with the lock.

    That id comes from the statement's snapshot, taken before the lock was granted: a
    concurrent submit that held the lock and committed its request is not seen, and this
    one's insert then fails on `one_open_cancellation_per_subscription` and returns the
    winner (`cancellation_submit`'s IntegrityError). A request seen open but closed since
    (only code that does not take this lock closes one) is checked again by its row."""
    found = _WORKSPACE_LOCK.all(workspace_id=workspace_id)
    if not found or found[0] is None:
        return None
    return CancellationRequest.objects.filter(
        pk=found[0], status__in=CancellationRequest.OPEN_STATUSES
    ).first()


_WORKSPACE_LOCK = CompiledQuery(
    lambda workspace_id: Workspace.objects.select_for_update(of=("self",))
    .filter(pk=workspace_id)
    .annotate(
        open_request_id=Subquery(
            CancellationRequest.objects.filter(
                workspace_id=OuterRef("pk"), status__in=CancellationRequest.OPEN_STATUSES
            )
            .order_by(*CancellationRequest._meta.ordering, "pk")
            .values("pk")[:1]
        )
    )
    .values_list("open_request_id", flat=True),
    workspace_id=-7_777_777,
)


def _move(
    request: CancellationRequest, target: str, *, actor: User | None, now: datetime, **changes
) -> CancellationRequest:
    """Lock the request, check the transition, save `changes` and write the audit record."""
    locked = CancellationRequest.objects.select_for_update().get(pk=request.pk)
    ensure_transition(CANCELLATION_TRANSITIONS, locked.status, target, what="The request")
    names = ["status", *changes]
    before = snapshot_fields(locked, *names)
    locked.status = target
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=names)
    audit_record(
        actor=actor,
        action=f"cancellation.{target}",
        target=locked,
        now=now,
        before=before,
        after=snapshot_fields(locked, *names),
    )
    return locked


def cancellation_withdraw(
    *, request: CancellationRequest, actor: User | None, now: datetime
) -> CancellationRequest:
    with transaction.atomic():
        request = _move(request, CancellationRequest.Status.WITHDRAWN, actor=actor, now=now)
        _email_on_commit(request.pk, "withdrawn")
        return request


def cancellation_assign(
    *, request: CancellationRequest, agent: User, now: datetime
) -> CancellationRequest:
    """Assign an open request to an agent; a submitted one moves to in review."""
    with transaction.atomic():
        locked = CancellationRequest.objects.select_for_update().get(pk=request.pk)
        if not locked.is_open:
            raise DomainError(
                f"The request is {locked.get_status_display().lower()}: only open requests "
                "can be assigned.",
                field="status",
            )
        if locked.status == CancellationRequest.Status.SUBMITTED:
            return _move(
                locked,
                CancellationRequest.Status.IN_REVIEW,
                actor=agent,
                now=now,
                assigned_to=agent,
            )
        before = snapshot_fields(locked, "assigned_to")
        locked.assigned_to = agent
        locked.save(update_fields=["assigned_to"])
        audit_record(
            actor=agent,
            action="cancellation.assign",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, "assigned_to"),
        )
        return locked


def cancellation_approve(
    *, request: CancellationRequest, actor: User, now: datetime
) -> CancellationRequest:
    """Approve as quoted: schedule the end (or apply it now) and propose the refunds."""
    with transaction.atomic():
        request = _move(
            request,
            CancellationRequest.Status.APPROVED,
            actor=actor,
            now=now,
            decided_by=actor,
            decided_at=now,
        )
        subscription = Subscription.objects.select_for_update().get(pk=request.subscription_id)
        quote = request.quote
        for entry in quote.get("payment_refunds", []):
            refund_propose(
                payment=Payment.objects.get(pk=int(entry["payment_ref"])),
                amount=Decimal(entry["amount"]),
                tax_amount=Decimal(entry["tax"]),
                destination=quote["destination"],
                actor=actor,
                now=now,
                reason=f"Cancellation #{request.pk} as quoted under {quote['policy']}",
                cancellation=request,
                quote=quote,
            )
        before = snapshot_fields(subscription, "cancel_at_period_end", "cancel_effective_at")
        subscription.cancel_at_period_end = quote.get("effective") == Effective.PERIOD_END
        subscription.cancel_effective_at = max(request.effective_at, now)
        # The customer's request, not this approval: retention counted from the request
        # (`RetentionFrom.REQUEST`) counts from the moment its quote was made.
        subscription.cancelled_at = min(request.created_at, now)
        subscription.save(
            update_fields=["cancel_at_period_end", "cancel_effective_at", "cancelled_at"]
        )
        audit_record(
            actor=actor,
            action="subscription.cancel_schedule",
            target=subscription,
            now=now,
            before=before,
            after=snapshot_fields(subscription, "cancel_at_period_end", "cancel_effective_at"),
            note=f"cancellation #{request.pk}",
        )
        if subscription.cancel_effective_at <= now:
            # Ending now: the "completed" email tells the whole decision.
            cancellation_apply(subscription=subscription, now=now, actor=actor)
            request.refresh_from_db()
        else:
            _email_on_commit(request.pk, "approved")
    return request


def cancellation_reject(
    *, request: CancellationRequest, actor: User, reason: str, now: datetime
) -> CancellationRequest:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the request is rejected: the customer sees it.", field="reason")
    if len(reason) > MAX_TEXT:
        raise DomainError(f"Keep the reason under {MAX_TEXT} characters.", field="reason")
    with transaction.atomic():
        request = _move(
            request,
            CancellationRequest.Status.REJECTED,
            actor=actor,
            now=now,
            rejection_reason=reason,
            decided_by=actor,
            decided_at=now,
        )
        _email_on_commit(request.pk, "rejected")
    return request


def cancellation_apply(
    *, subscription: Subscription, now: datetime, actor: User | None = None
) -> CancellationRequest | None:
    """End the subscription now and move the workspace to its fallback: the period-end
    job's ending (`subscriptions_end_locked`) for this one subscription, waiting for its
    lock, with its e-mail on a task of its own. Raises the domain error of a subscription
    that cannot end.

    Returns the completed request (None if there was none). A subscription that is no
    longer live is left unchanged, so running this twice changes nothing more.
    """
    with transaction.atomic():
        locked = subscription_lock(
            subscription.pk, Q(status__in=Subscription.LIVE_STATUSES), skip_locked=False
        )
        if locked is None:
            return None
        ended = subscriptions_end_locked(
            subscriptions=[locked], now=now, actor=actor, emails=JobEmails(one_task_each=True)
        )
        if ended.failed:
            raise ended.failed[0][1]
    return ended.requests.get(locked.pk)


def _email_on_commit(request_id: int, kind: str) -> None:
    customer_email_on_commit(f"cancellation_{kind}", object_id=request_id)
