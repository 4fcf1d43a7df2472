"""Every email a customer receives, rendered from `templates/emails/<kind>.txt` (the first
line is the subject). `email_send` runs in the `billing.send_customer_email` task after
the change committed; `email_render` is also what the admin's preview page shows.

Each kind names the record it is about (a cancellation request, a refund, a
subscription); the context is built from that record when the email is rendered, plus
the small `extra` the service handed over (see `billing.email_payload`)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse

from billing.email_payload import payload_decode
from billing.models import CancellationRequest, Refund, RetentionSession, Subscription
from billing.services.cancellations import DESTINATION_LABELS, FALLBACK_LABELS


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str
    recipients: list[str]


@dataclass(frozen=True)
class EmailKind:
    model: type[models.Model]
    context: Callable[[Any], tuple[dict, list[str]]]  # record -> (context, recipients)
    description: str
    preview_extra: dict | None = None  # what a service would pass, for the admin preview


def _link(name: str, *args: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _cancellation(request: CancellationRequest) -> tuple[dict, list[str]]:
    quote = request.quote
    return {
        "request": request,
        "workspace": request.workspace,
        "quote": quote,
        "destination": DESTINATION_LABELS[quote["destination"]],
        "fallback": FALLBACK_LABELS[quote["fallback"]],
        "status_url": _link("billing:cancellation-status", request.workspace.slug),
    }, [request.workspace.billing_email]


def _refund(refund: Refund) -> tuple[dict, list[str]]:
    return {
        "refund": refund,
        "workspace": refund.workspace,
        "to_credit": refund.destination == Refund.Destination.CUSTOMER_CREDIT,
        "status_url": _link("billing:cancellation-status", refund.workspace.slug)
        if refund.cancellation_id
        else _link("billing:review"),
    }, [refund.workspace.billing_email]


def _subscription(subscription: Subscription) -> tuple[dict, list[str]]:
    workspace = subscription.workspace
    recipients = sorted({workspace.billing_email, workspace.owner.email} - {""})
    return {
        "subscription": subscription,
        "workspace": workspace,
        "home_url": _link("billing:home"),
    }, recipients


def _offer_session(session: RetentionSession) -> tuple[dict, list[str]]:
    context, recipients = _subscription(session.subscription)
    return {**context, "session": session}, recipients


def _cancellations(description: str) -> EmailKind:
    return EmailKind(CancellationRequest, _cancellation, description)


def _subscriptions(description: str, **preview_extra: Any) -> EmailKind:
    return EmailKind(Subscription, _subscription, description, preview_extra or None)


EMAILS: dict[str, EmailKind] = {
    "cancellation_submitted": _cancellations("The customer asked to cancel."),
    "cancellation_approved": _cancellations(
        "An agent approved a cancellation that ends later (at the period end)."
    ),
    "cancellation_rejected": _cancellations("An agent rejected the request, with the reason."),
    "cancellation_withdrawn": _cancellations("The customer withdrew their request."),
    "cancellation_completed": _cancellations("The subscription ended."),
    "refund_paid": EmailKind(Refund, _refund, "A refund reached the card or the credit."),
    "refund_rejected": EmailKind(Refund, _refund, "Our billing team did not approve a refund."),
    "dunning_failed": _subscriptions("A charge failed.", failure="Card declined (preview)"),
    "dunning_retry_failed": _subscriptions("A retry failed.", failure="Card declined (preview)"),
    "dunning_recovered": _subscriptions("A retry succeeded."),
    "dunning_suspended": _subscriptions("The grace period is over: suspended."),
    "dunning_expired": _subscriptions(
        "The subscription expired unpaid.", fallback_note="Moved to the Free plan (preview)."
    ),
    "dunning_grace_extended": _subscriptions("An agent extended the grace period.", days=7),
    "subscription_paused": _subscriptions("The customer paused the subscription."),
    "subscription_resumed": _subscriptions("A pause ended, early or at its end."),
    "offer_accepted": EmailKind(
        RetentionSession,
        _offer_session,
        "The customer accepted a retention offer instead of cancelling.",
        {"consequences": ["You pay 19.00 EUR a month from 1 April 2026 (preview)."]},
    ),
    "limits_restricted": _subscriptions(
        "The workspace went over its plan's limits.",
        breaches=[{"message": "The Basic plan allows 3 seats; this workspace uses 5 (preview)."}],
    ),
}


def email_render(kind: str, record: models.Model, extra: dict | None = None) -> RenderedEmail:
    context, recipients = EMAILS[kind].context(record)
    context = {**context, **(extra or {}), "site_name": settings.SITE_NAME}
    subject, _, body = render_to_string(f"emails/{kind}.txt", context).partition("\n")
    return RenderedEmail(subject.strip(), body.strip() + "\n", recipients)


def email_send(*, kind: str, object_id: int, extra: dict | None = None) -> bool:
    """Render and send; False when the record is gone (nothing to tell anyone)."""
    record = EMAILS[kind].model._default_manager.filter(pk=object_id).first()
    if record is None:
        return False
    email = email_render(kind, record, payload_decode(extra or {}))
    send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, email.recipients)
    return True
