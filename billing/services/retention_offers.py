"""Retention offers: which ones a cancelling customer sees, what each would mean for them
(from the policy engine, side by side with what cancelling gives), and accepting one.

Invariants:
- an offer is shown only when the policy allows it now (a limit on pauses or downgrades
  reached hides it), and in the shape the policy gives it: a downgrade takes effect when
  `quote_plan_change` says (orgix: at the period end only); one the subscription cannot
  take (not active, already discounted, not a downgrade) is not shown at all;
- accepting is one call (`retention_offer_accept`), audited, idempotent: accepting the
  same offer again in the same session returns the session and changes nothing more;
- every session ends as accepted or cancelled, or stays without outcome (the customer
  left); `retained_monthly_revenue` is what the subscription brings per month afterwards.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from accounts.services.audit import audit_record, snapshot_fields
from billing.errors import DomainError, InvalidTransition
from billing.models import CancellationRequest, Plan, RetentionOffer, RetentionSession, Subscription
from billing.money import ZERO, format_money, round_money
from billing.policy.pauses import pause_window
from billing.policy.rules import LimitedChange
from billing.services.change_limits import change_limit_refusal
from billing.services.customer_emails import customer_email_on_commit
from billing.services.pauses import subscription_pause
from billing.services.plan_changes import plan_change_preview, subscription_downgrade
from billing.services.subscription_locks import subscription_lock

Kind = RetentionOffer.Kind
SESSION_REUSE = timedelta(days=1)  # reloading the page does not start a new session


def _day(moment: datetime) -> str:
    return f"{moment:%-d %B %Y}"


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def monthly(price: Decimal, plan: Plan) -> Decimal:
    months = 12 if plan.interval == Plan.Interval.YEAR else 1
    return round_money(price / months, plan.currency)


@dataclass(frozen=True)
class PauseChoice:
    months: int
    resumes_at: datetime
    next_charge_at: datetime


@dataclass(frozen=True)
class OfferTerms:
    """What accepting `offer` means, in figures: the next charge and when, then what the
    customer keeps; `lines` are the engine's explained lines where it has them."""

    offer: RetentionOffer
    currency: str
    pay_next: Decimal
    pay_next_at: datetime
    monthly_after: Decimal  # what the subscription brings per month if accepted
    summary: tuple[str, ...]
    lines: tuple[dict, ...] = ()
    pause_choices: tuple[PauseChoice, ...] = ()


def offers_for(*, subscription: Subscription, reason: str) -> list[RetentionOffer]:
    return list(
        RetentionOffer.objects.filter(reason=reason, is_active=True)
        .filter(Q(policy=subscription.policy_id) | Q(plan=subscription.plan_id))
        .select_related("target_plan")
        .order_by("kind", "pk")
    )


def _downgrade_terms(offer: RetentionOffer, subscription: Subscription, now: datetime):
    target = offer.target_plan
    try:
        preview = plan_change_preview(subscription=subscription, plan=target, now=now)
    except DomainError:
        return None
    if preview["direction"] != "downgrade":
        return None
    effective_at = datetime.fromisoformat(preview["effective_at"])
    interval = target.get_interval_display().lower()
    current = subscription.plan
    summary = [
        f"You keep {current.name} until {_day(effective_at)}; nothing is charged now."
        if effective_at > now
        else f"You move to {target.name} now.",
        f"From {_day(effective_at)} you pay {_money(target.price, target.currency)} {interval} "
        f"instead of {_money(current.price, current.currency)}.",
    ]
    if Decimal(preview["refund"]) > 0:
        refund = _money(Decimal(preview["refund"]), target.currency)
        summary.append(f"{refund} comes back as customer credit.")
    summary += [warning["message"] for warning in preview["limit_warnings"]]
    return OfferTerms(
        offer=offer,
        currency=target.currency,
        pay_next=target.price,
        pay_next_at=effective_at,
        monthly_after=monthly(target.price, target),
        summary=tuple(summary),
        lines=tuple(preview["lines"]),
    )


def _discount_terms(offer: RetentionOffer, subscription: Subscription):
    if subscription.discount_percent and not subscription.discount_void:
        return None  # one discount at a time
    plan = subscription.plan
    discounted = round_money(plan.price * (100 - offer.discount_percent) / 100, plan.currency)
    periods = offer.discount_periods
    interval = plan.get_interval_display().lower()
    return OfferTerms(
        offer=offer,
        currency=plan.currency,
        pay_next=discounted,
        pay_next_at=subscription.current_period_end,
        monthly_after=monthly(discounted, plan),
        summary=(
            f"Your next {periods} renewal{'s' if periods > 1 else ''} cost "
            f"{_money(discounted, plan.currency)} instead of {_money(plan.price, plan.currency)} "
            f"({offer.discount_percent.normalize()}% off), from "
            f"{_day(subscription.current_period_end)}.",
            f"Then {_money(plan.price, plan.currency)} {interval} again. You keep {plan.name} "
            "and everything in it.",
        ),
    )


def _pause_terms(offer: RetentionOffer, subscription: Subscription, now: datetime):
    if change_limit_refusal(subscription=subscription, change=LimitedChange.PAUSE, now=now):
        return None  # the policy's limit on pauses is reached: not offered
    plan = subscription.plan
    choices = tuple(
        PauseChoice(months, window.resumes_at, window.period_end)
        for months in range(1, offer.max_pause_months + 1)
        for window in [
            pause_window(period_end=subscription.current_period_end, at=now, months=months)
        ]
    )
    first = choices[0]
    return OfferTerms(
        offer=offer,
        currency=plan.currency,
        pay_next=plan.price,
        pay_next_at=first.next_charge_at,
        monthly_after=monthly(plan.price, plan),
        summary=(
            f"Pause for 1 to {offer.max_pause_months} months: nothing is charged meanwhile.",
            "Your workspace, its data and your access stay as they are.",
            f"Your renewal moves by the pause: with 1 month, {_money(plan.price, plan.currency)} "
            f"on {_day(first.next_charge_at)} instead of "
            f"{_day(subscription.current_period_end)}. Resume earlier whenever you like.",
        ),
        pause_choices=choices,
    )


def offer_terms(
    *, offer: RetentionOffer, subscription: Subscription, now: datetime
) -> OfferTerms | None:
    """The offer's consequences now, or None when the subscription cannot take it."""
    if subscription.status != Subscription.Status.ACTIVE or subscription.cancel_effective_at:
        return None
    if offer.kind == Kind.DOWNGRADE:
        return _downgrade_terms(offer, subscription, now)
    if offer.kind == Kind.DISCOUNT:
        return _discount_terms(offer, subscription)
    return _pause_terms(offer, subscription, now)


def offers_with_terms(
    *, subscription: Subscription, reason: str, now: datetime
) -> list[OfferTerms]:
    terms = (
        offer_terms(offer=offer, subscription=subscription, now=now)
        for offer in offers_for(subscription=subscription, reason=reason)
    )
    return [term for term in terms if term is not None]


def retention_session_open(
    *,
    subscription: Subscription,
    reason: str,
    offers: list[RetentionOffer],
    actor: User | None,
    now: datetime,
) -> RetentionSession:
    """Record that the customer saw `offers` for `reason` (the same open session is reused
    for a day, so reloading the page counts once)."""
    with transaction.atomic():
        session = (
            RetentionSession.objects.select_for_update()
            .filter(
                subscription=subscription,
                reason=reason,
                outcome="",
                started_at__gte=now - SESSION_REUSE,
            )
            .first()
        )
        if session is None:
            session = RetentionSession.objects.create(
                workspace_id=subscription.workspace_id,
                subscription=subscription,
                started_by=actor,
                reason=reason,
                monthly_revenue=monthly(subscription.plan.price, subscription.plan),
                retained_monthly_revenue=monthly(subscription.plan.price, subscription.plan),
                currency=subscription.plan.currency,
                started_at=now,
            )
        session.offers.add(*offers)
    return session


def retention_offer_accept(
    *,
    session: RetentionSession,
    offer: RetentionOffer,
    actor: User | None,
    now: datetime,
    months: int | None = None,
) -> RetentionSession:
    """Apply the offer to the subscription and close the session as accepted."""
    with transaction.atomic():
        locked = RetentionSession.objects.select_for_update().get(pk=session.pk)
        if locked.outcome == RetentionSession.Outcome.ACCEPTED and (
            locked.accepted_offer_id == offer.pk
        ):
            return locked
        if locked.outcome:
            raise InvalidTransition(
                f"This cancellation already ended as {locked.get_outcome_display().lower()}.",
                field="offer",
            )
        if not offer.is_active or not locked.offers.filter(pk=offer.pk).exists():
            raise DomainError("This offer is not available to you.", field="offer")
        subscription = subscription_lock(locked.subscription_id, skip_locked=False)
        terms = offer_terms(offer=offer, subscription=subscription, now=now)
        if terms is None:
            raise DomainError("This offer no longer applies to your subscription.", field="offer")
        _apply(offer, subscription, terms=terms, actor=actor, now=now, months=months)
        before = snapshot_fields(locked, "outcome", "accepted_offer", "retained_monthly_revenue")
        locked.outcome = RetentionSession.Outcome.ACCEPTED
        locked.accepted_offer = offer
        locked.decided_at = now
        locked.retained_monthly_revenue = terms.monthly_after
        locked.save(
            update_fields=["outcome", "accepted_offer", "decided_at", "retained_monthly_revenue"]
        )
        audit_record(
            actor=actor,
            action="retention.accept",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, "outcome", "accepted_offer", "retained_monthly_revenue"),
            note=offer.headline,
        )
        customer_email_on_commit(
            "offer_accepted",
            object_id=locked.pk,
            consequences=_accepted_summary(terms, months),
        )
    return locked


def _accepted_summary(terms: OfferTerms, months: int | None) -> list[str]:
    if terms.offer.kind != Kind.PAUSE:
        return list(terms.summary)
    choice = next(c for c in terms.pause_choices if c.months == months)
    return [
        f"Paused until {_day(choice.resumes_at)}: nothing is charged meanwhile.",
        f"Next charge: {_money(terms.pay_next, terms.currency)} on {_day(choice.next_charge_at)}.",
    ]


def _apply(
    offer: RetentionOffer,
    subscription: Subscription,
    *,
    terms: OfferTerms,
    actor: User | None,
    now: datetime,
    months: int | None,
) -> None:
    if offer.kind == Kind.DOWNGRADE:
        subscription_downgrade(
            subscription=subscription, plan=offer.target_plan, actor=actor, now=now
        )
    elif offer.kind == Kind.PAUSE:
        if months not in {choice.months for choice in terms.pause_choices}:
            raise DomainError(f"Pause for 1 to {offer.max_pause_months} months.", field="months")
        subscription_pause(subscription=subscription, months=months, actor=actor, now=now)
    else:
        before = snapshot_fields(subscription, "discount_percent", "discount_periods_left")
        subscription.discount_percent = offer.discount_percent
        subscription.discount_periods_left = offer.discount_periods
        subscription.discount_void = False
        subscription.save(
            update_fields=["discount_percent", "discount_periods_left", "discount_void"]
        )
        audit_record(
            actor=actor,
            action="subscription.discount",
            target=subscription,
            now=now,
            before=before,
            after=snapshot_fields(subscription, "discount_percent", "discount_periods_left"),
            note=offer.headline,
        )


def retention_session_cancelled(
    *, session: RetentionSession, cancellation: CancellationRequest, now: datetime
) -> RetentionSession:
    """The customer declined the offers and asked to cancel."""
    with transaction.atomic():
        locked = RetentionSession.objects.select_for_update().get(pk=session.pk)
        if locked.outcome:
            return locked
        locked.outcome = RetentionSession.Outcome.CANCELLED
        locked.cancellation = cancellation
        locked.decided_at = now
        locked.retained_monthly_revenue = ZERO
        locked.save(
            update_fields=["outcome", "cancellation", "decided_at", "retained_monthly_revenue"]
        )
        audit_record(
            actor=cancellation.requested_by,
            action="retention.cancelled",
            target=locked,
            now=now,
            after={"outcome": locked.outcome, "cancellation": cancellation.pk},
        )
    return locked


def retention_discount_period_used(subscription: Subscription) -> None:
    """After a renewal charged at a retention discount: one period fewer; the last one
    ends the discount. Called by the renewal job on the locked row."""
    if subscription.discount_periods_left == 0:
        return
    subscription.discount_periods_left -= 1
    if subscription.discount_periods_left == 0:
        subscription.discount_percent = ZERO
    subscription.save(update_fields=["discount_periods_left", "discount_percent"])
