"""Stripe events → our records. Each event is processed once (`WebhookEvent` is unique per
provider and event id) and an event older than one already processed for the same Stripe
object is recorded but not applied, so replays and out-of-order deliveries are harmless.
Terminal states never move back (a refund that succeeded stays succeeded; a closed dispute
stays closed).

Stripe objects are matched to ours by provider reference: refunds by `Refund.provider_
reference`, charges and payment intents by `Payment.provider_reference`, disputes by
`Dispute.provider_reference`. A failed invoice names its workspace by `metadata.workspace`
(the slug) or, failing that, by the customer's billing email.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Workspace
from backoffice.bounds import date_out_of_range
from billing.errors import DomainError
from billing.models import Dispute, Payment, Refund, Subscription, WebhookEvent
from billing.money import MINOR_UNITS
from billing.services.disputes import dispute_close, dispute_open
from billing.services.dunning import subscription_charge_failed
from billing.services.refunds import refund_mark_from_provider

PROVIDER = "stripe"


def from_minor_units(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-MINOR_UNITS[currency.upper()])


class MalformedEvent(DomainError):
    """A validly signed event whose shape we cannot read: nothing is applied."""


def _envelope(event: Any) -> tuple[dict[str, Any], datetime]:
    """The event's object and creation time, or `MalformedEvent` naming what is wrong."""
    if not isinstance(event, dict):
        raise MalformedEvent("The event is not a JSON object.", field="event")
    for key, limit in (("id", 120), ("type", 80)):
        value = event.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise MalformedEvent(f"`{key}` must be a text of 1 to {limit} characters.", field=key)
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise MalformedEvent("`created` must be a Unix timestamp.", field="created")
    moment = datetime.fromtimestamp(min(max(created, 0), 2**32), tz=UTC)
    if date_out_of_range(moment):
        raise MalformedEvent(f"`created` {date_out_of_range(moment)}.", field="created")
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id", ""), str):
        raise MalformedEvent("`data.object` must be an object with a text `id`.", field="data")
    return obj, moment


def webhook_stripe_handle(*, event: dict[str, Any], now: datetime) -> str:
    """Apply a verified Stripe event. Returns what happened: processed, replayed, stale or
    ignored (a type or object we don't track). A shape we cannot read raises
    `MalformedEvent` and changes nothing (the transaction is rolled back)."""
    obj, created = _envelope(event)
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(
                    provider=PROVIDER,
                    event_id=event["id"],
                    event_type=event["type"],
                    created=created,
                    received_at=now,
                    payload=event,
                )
        except IntegrityError:
            return "replayed"
        newer = (
            WebhookEvent.objects.filter(
                provider=PROVIDER, payload__data__object__id=obj.get("id"), created__gt=created
            )
            .exclude(event_id=event["id"])
            .exists()
        )
        if newer:
            return "stale"
        handler = HANDLERS.get(event["type"])
        if handler is None:
            return "ignored"
        try:
            applied = handler(obj, now=now)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
            raise MalformedEvent(
                f"A {event['type']} event without the fields we read ({error!r}).",
                field="data",
            ) from error
        return "processed" if applied else "ignored"


def _refund_event(obj: dict[str, Any], *, now: datetime) -> bool:
    refund = Refund.objects.filter(provider_reference=obj["id"]).first()
    if refund is None or obj.get("status") not in ("succeeded", "failed", "canceled"):
        return False
    message = (
        ""
        if obj["status"] == "succeeded"
        else f"Stripe: {obj.get('failure_reason') or obj['status']}"
    )
    return refund_mark_from_provider(
        refund=refund, succeeded=obj["status"] == "succeeded", message=message, now=now
    )


def _charge_refunded(obj: dict[str, Any], *, now: datetime) -> bool:
    refunds = (obj.get("refunds") or {}).get("data") or []
    return any([_refund_event(refund, now=now) for refund in refunds])


def _disputed_payment(obj: dict[str, Any]) -> Payment | None:
    references = [ref for ref in (obj.get("charge"), obj.get("payment_intent")) if ref]
    return Payment.objects.filter(provider_reference__in=references).first()


def _dispute_created(obj: dict[str, Any], *, now: datetime) -> Dispute | None:
    payment = _disputed_payment(obj)
    if payment is None:
        return None
    return dispute_open(
        payment=payment,
        amount=from_minor_units(obj["amount"], obj["currency"]),
        reason=obj.get("reason") or "",
        reference=obj["id"],
        actor=None,
        now=now,
    )


def _dispute_closed(obj: dict[str, Any], *, now: datetime) -> bool:
    dispute = Dispute.objects.filter(provider_reference=obj["id"]).first()
    dispute = dispute or _dispute_created(obj, now=now)
    if dispute is None or dispute.status != Dispute.Status.OPEN:
        return False
    outcome = Dispute.Status.LOST if obj.get("status") == "lost" else Dispute.Status.WON
    dispute_close(dispute=dispute, outcome=outcome, actor=None, now=now)
    return True


def invoice_payment_failed_record(*, invoice: dict[str, Any], now: datetime) -> Payment | None:
    """Record a failed Stripe invoice payment (one Payment per invoice, updated on each
    failed attempt) and put the workspace's live subscription on the non-payment path.
    The integrator may route this to the dunning service."""
    slug = (invoice.get("metadata") or {}).get("workspace")
    workspaces = Workspace.objects.all()
    workspace = (
        workspaces.filter(slug=slug).first()
        if slug
        else workspaces.filter(billing_email__iexact=invoice.get("customer_email") or "").first()
    )
    if workspace is None:
        return None
    currency = invoice["currency"].upper()
    subscription = workspace.subscriptions.filter(status__in=Subscription.LIVE_STATUSES).first()
    error = invoice.get("last_finalization_error") or {}
    message = (error.get("message") or "Stripe could not collect the invoice.")[:300]
    payment, _ = Payment.objects.update_or_create(
        provider=Payment.Provider.STRIPE,
        provider_reference=invoice["id"],
        status=Payment.Status.FAILED,
        defaults={"failure_message": message},
        create_defaults={
            "workspace": workspace,
            "subscription": subscription,
            "kind": Payment.Kind.SUBSCRIPTION,
            "amount": from_minor_units(invoice.get("amount_due") or 0, currency),
            "currency": currency,
            "paid_at": now,
            "failure_message": message,
        },
    )
    if subscription:
        subscription_charge_failed(
            subscription=subscription,
            now=now,
            payment_failure_message=f"Stripe invoice {invoice['id']} payment failed",
        )
    return payment


def _invoice_payment_failed(obj: dict[str, Any], *, now: datetime) -> bool:
    return invoice_payment_failed_record(invoice=obj, now=now) is not None


HANDLERS = {
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "refund.failed": _refund_event,
    "charge.refund.updated": _refund_event,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": lambda obj, now: _dispute_created(obj, now=now) is not None,
    "charge.dispute.closed": _dispute_closed,
    "invoice.payment_failed": _invoice_payment_failed,
}
