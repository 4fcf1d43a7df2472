"""The demo's story: one workspace per situation an agent meets, made by the services
themselves at moments before `now`, so every record is consistent with the others and
with `now` (nothing in the future, no activity before a workspace existed, an approved
request's refunds exist because approval proposed them).

Each situation is a workspace with the slug `showcase-<name>`; an existing one is left
alone, so `seed_demo` stays idempotent. The demo never emails anyone: the services run
with Django's dummy email backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.test.utils import override_settings

from accounts.models import User, Workspace, WorkspaceMember
from accounts.services.retention import (
    workspace_place_legal_hold,
    workspaces_refresh_retention,
)
from billing.gateways import GatewayError, GatewayResult
from billing.gateways.local import LocalLedgerGateway
from billing.models import Payment, Plan, RefundPolicy, Subscription
from billing.policy.rules import PolicyRules
from billing.services.cancellations import (
    cancellation_approve,
    cancellation_assign,
    cancellation_submit,
)
from billing.services.disputes import dispute_open
from billing.services.dunning import subscription_charge_failed
from billing.services.refunds import refund_approve, refund_execute
from billing.services.review_verification import review_request_verify
from billing.services.reviews import review_request_submit

SLUG_PREFIX = "showcase-"
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Cast:
    now: dt.datetime
    plans: dict[tuple[str, int, str], Plan]
    agent: User
    lead: User
    password: str  # the customers' password hash


class _DecliningGateway:
    """The card network refuses the refund (expired card): how a refund ends up failed."""

    name = "demo"

    def refund(self, **kwargs) -> GatewayResult:
        raise GatewayError("card_expired: the original card has expired", retryable=False)

    def charge(self, **kwargs):
        raise GatewayError("the demo charges nothing", retryable=False)


def _customer(cast: Cast, name: str, slug: str, created: dt.datetime) -> Workspace:
    owner, _ = User.objects.get_or_create(
        email=f"owner@{slug}.example.test",
        defaults={
            "full_name": f"Owner of {name}",
            "password": cast.password,
            "date_joined": created,
        },
    )
    workspace = Workspace.objects.create(
        name=name,
        slug=slug,
        owner=owner,
        billing_email=f"billing@{slug}.example.test",
        country="LU",
        created_at=created,
        last_activity_at=created + HOUR,
    )
    WorkspaceMember.objects.create(
        workspace=workspace, user=owner, role=WorkspaceMember.Role.OWNER, joined_at=created
    )
    return workspace


def _subscribed(
    cast: Cast,
    workspace: Workspace,
    plan: Plan,
    *,
    started: dt.datetime,
    periods: int = 1,
) -> Subscription:
    """Paid from `started` for `periods` periods (a payment per period); the last one is
    current. Activity follows each payment."""
    step = dt.timedelta(days=365 if plan.interval == Plan.Interval.YEAR else 30)
    policy = RefundPolicy.objects.filter(slug=plan.policy_slug).order_by("-version").first()
    current = started + step * (periods - 1)
    subscription = Subscription.objects.create(
        workspace=workspace,
        plan=plan,
        policy=policy,
        status=Subscription.Status.ACTIVE,
        started_at=started,
        current_period_start=current,
        current_period_end=current + step,
    )
    for n in range(periods):
        start = started + step * n
        Payment.objects.create(
            workspace=workspace,
            subscription=subscription,
            kind=Payment.Kind.SUBSCRIPTION,
            amount=plan.price,
            currency=plan.currency,
            period_start=start,
            period_end=start + step,
            paid_at=start,
            provider_reference=f"pay_{workspace.slug}_{n}",
        )
    Workspace.objects.filter(pk=workspace.pk).update(last_activity_at=current + HOUR)
    workspace.last_activity_at = current + HOUR
    return subscription


def _cancel(cast: Cast, subscription: Subscription, *, at: dt.datetime, reason: str):
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason=reason,
        reason_text="",
        now=at,
    )
    return request


# --- the situations ----------------------------------------------------------------------


def _submitted(cast: Cast, slug: str) -> None:
    """A fresh request inside connex's 30-day refund window: quoted with a refund."""
    now = cast.now
    workspace = _customer(cast, "Northwind Photo Collective", slug, now - 40 * DAY)
    subscription = _subscribed(
        cast, workspace, cast.plans[("connex", 2, Plan.Interval.MONTH)], started=now - 10 * DAY
    )
    _cancel(cast, subscription, at=now - 2 * HOUR, reason="too_expensive")


def _in_review(cast: Cast, slug: str) -> None:
    now = cast.now
    workspace = _customer(cast, "Harbour Rowing Club", slug, now - 120 * DAY)
    subscription = _subscribed(
        cast,
        workspace,
        cast.plans[("orgix", 1, Plan.Interval.MONTH)],
        started=now - 70 * DAY,
        periods=3,
    )
    request = _cancel(cast, subscription, at=now - 2 * DAY, reason="missing_features")
    cancellation_assign(request=request, agent=cast.agent, now=now - DAY)


def _awaiting_lead(cast: Cast, slug: str) -> None:
    """A yearly connex customer cancels inside the window: the refund is above the
    Billing lead threshold, approved by the agent's cancellation, awaiting a lead."""
    now = cast.now
    workspace = _customer(cast, "Summit Events Agency", slug, now - 30 * DAY)
    subscription = _subscribed(
        cast, workspace, cast.plans[("connex", 3, Plan.Interval.YEAR)], started=now - 6 * DAY
    )
    request = _cancel(cast, subscription, at=now - DAY, reason="switched")
    cancellation_approve(request=request, actor=cast.agent, now=now - 20 * HOUR)


def _failed_refund(cast: Cast, slug: str) -> None:
    now = cast.now
    workspace = _customer(cast, "Lakeside Yoga Studio", slug, now - 60 * DAY)
    subscription = _subscribed(
        cast, workspace, cast.plans[("connex", 1, Plan.Interval.MONTH)], started=now - 12 * DAY
    )
    request = _cancel(cast, subscription, at=now - 5 * DAY, reason="not_using")
    with transaction.atomic():
        approved = cancellation_approve(request=request, actor=cast.agent, now=now - 4 * DAY)
        refund = approved.refunds.get()
        refund_approve(refund=refund, actor=cast.lead, now=now - 3 * DAY)
        # Executed here, before commit: the execution scheduled on commit then finds the
        # refund failed and leaves it alone.
        refund_execute(refund_id=refund.pk, now=now - 3 * DAY, gateway=_DecliningGateway())


def _refunded(cast: Cast, slug: str) -> None:
    """The whole story done: approved, the refund approved by a lead and paid out."""
    now = cast.now
    workspace = _customer(cast, "Meadow Gardening Society", slug, now - 50 * DAY)
    subscription = _subscribed(
        cast, workspace, cast.plans[("connex", 2, Plan.Interval.MONTH)], started=now - 20 * DAY
    )
    request = _cancel(cast, subscription, at=now - 8 * DAY, reason="temporary_pause")
    with transaction.atomic():
        approved = cancellation_approve(request=request, actor=cast.agent, now=now - 7 * DAY)
        refund = approved.refunds.get()
        refund_approve(refund=refund, actor=cast.lead, now=now - 6 * DAY)
        refund_execute(refund_id=refund.pk, now=now - 6 * DAY, gateway=LocalLedgerGateway())


def _reviews(cast: Cast, slug: str, *, verified: bool) -> None:
    now = cast.now
    # Not a name the bulk workspaces can draw (adjective noun kind): the review matches
    # exactly one workspace at any --workspaces size.
    name = "Maplewood Choir Association" if verified else "Granite Climbing Gym"
    workspace = _customer(cast, name, slug, now - 90 * DAY)
    subscription = _subscribed(
        cast,
        workspace,
        cast.plans[("orgix", 2, Plan.Interval.MONTH)],
        started=now - 45 * DAY,
        periods=2,
    )
    payment = subscription.payments.order_by("-paid_at").first()
    review = review_request_submit(
        submitted_by=workspace.owner,
        kind="accidental_payment",
        workspace_name=workspace.name,
        billing_email=workspace.billing_email,
        approximate_payment_date=payment.paid_at.date(),
        amount_charged=payment.amount,
        currency=payment.currency,
        explanation="We were charged twice this month, once by mistake.",
        now=now - 3 * DAY,
    )
    if verified:
        review_request_verify(request=review, agent=cast.agent, method="member", now=now - 2 * DAY)


def _accidental_renewal(cast: Cast, slug: str) -> None:
    """Renewed ten days ago, nobody has signed in since the renewal."""
    now = cast.now
    workspace = _customer(cast, "Riverside Chess Club", slug, now - 200 * DAY)
    _subscribed(
        cast,
        workspace,
        cast.plans[("orgix", 1, Plan.Interval.MONTH)],
        started=now - 70 * DAY,
        periods=3,
    )
    Workspace.objects.filter(pk=workspace.pk).update(last_activity_at=now - 15 * DAY)


def _dunning(cast: Cast, slug: str) -> None:
    now = cast.now
    workspace = _customer(cast, "Oakwood Theatre Company", slug, now - 100 * DAY)
    subscription = _subscribed(
        cast,
        workspace,
        cast.plans[("prorated-credit", 1, Plan.Interval.MONTH)],
        started=now - 33 * DAY,
        periods=2,
    )
    # The renewal three days ago was declined: its payment failed, dunning began.
    renewal = subscription.payments.order_by("-paid_at").first()
    Payment.objects.filter(pk=renewal.pk).update(
        status=Payment.Status.FAILED, failure_message="card_declined: insufficient funds"
    )
    subscription_charge_failed(
        subscription=subscription,
        payment_failure_message="card_declined: insufficient funds",
        now=now - 3 * DAY,
    )


def _dispute(cast: Cast, slug: str) -> None:
    now = cast.now
    workspace = _customer(cast, "Pinecrest Football Club", slug, now - 80 * DAY)
    subscription = _subscribed(
        cast, workspace, cast.plans[("orgix", 2, Plan.Interval.MONTH)], started=now - 20 * DAY
    )
    dispute_open(
        payment=subscription.payments.get(),
        amount=subscription.plan.price,
        reason="unrecognised",
        reference=f"dp_{slug}",
        actor=cast.agent,
        now=now - 2 * DAY,
    )


def _ended(cast: Cast, slug: str, name: str, *, deletes_in: dt.timedelta) -> Workspace:
    """A workspace whose connex subscription ended, inactive since; its deletion falls
    `deletes_in` from now (negative: overdue)."""
    now = cast.now
    plan = cast.plans[("connex", 1, Plan.Interval.MONTH)]
    policy = RefundPolicy.objects.filter(slug="connex").order_by("-version").first()
    rules = PolicyRules.from_dict(policy.rules)
    keep = min(
        days
        for days in (rules.retention.after_end_days, rules.retention.inactivity_days)
        if days is not None
    )
    ended = now + deletes_in - dt.timedelta(days=keep)
    started = ended - 60 * DAY
    workspace = _customer(cast, name, slug, started - 10 * DAY)
    subscription = _subscribed(cast, workspace, plan, started=started, periods=2)
    Subscription.objects.filter(pk=subscription.pk).update(
        status=Subscription.Status.CANCELLED, cancelled_at=ended - 5 * DAY, ended_at=ended
    )
    Workspace.objects.filter(pk=workspace.pk).update(ended_at=ended, last_activity_at=ended)
    workspaces_refresh_retention(workspace_ids=[workspace.pk])
    workspace.refresh_from_db()
    return workspace


def _deletion_due(cast: Cast, slug: str) -> None:
    """Warned three days ago; deleted in five days unless someone signs in."""
    workspace = _ended(cast, slug, "Willow Book Circle", deletes_in=5 * DAY)
    Workspace.objects.filter(pk=workspace.pk).update(deletion_warning_sent_at=cast.now - 3 * DAY)


def _legal_hold(cast: Cast, slug: str) -> None:
    workspace = _ended(cast, slug, "Ironbridge Sailing School", deletes_in=-10 * DAY)
    workspace_place_legal_hold(
        workspace=workspace,
        reason="Litigation hold requested by legal (case 2026-117).",
        actor=cast.lead,
        now=cast.now - 20 * DAY,
    )


SITUATIONS: dict[str, Callable[[Cast, str], None]] = {
    "submitted": _submitted,
    "in-review": _in_review,
    "awaiting-lead": _awaiting_lead,
    "failed-refund": _failed_refund,
    "refunded": _refunded,
    "review-unverified": lambda cast, slug: _reviews(cast, slug, verified=False),
    "review-verified": lambda cast, slug: _reviews(cast, slug, verified=True),
    "accidental-renewal": _accidental_renewal,
    "dunning": _dunning,
    "dispute": _dispute,
    "deletion-due": _deletion_due,
    "legal-hold": _legal_hold,
}


def seed_showcase(
    *,
    now: dt.datetime,
    plans: dict[tuple[str, int, str], Plan],
    agent: User,
    lead: User,
    password: str,
) -> int:
    """Create the situations that do not exist yet; returns how many were created."""
    cast = Cast(now=now, plans=plans, agent=agent, lead=lead, password=password)
    existing = set(
        Workspace.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True)
    )
    created = 0
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for name, build in SITUATIONS.items():
            slug = f"{SLUG_PREFIX}{name}"
            if slug in existing:
                continue
            with transaction.atomic():
                build(cast, slug)
            created += 1
    return created
