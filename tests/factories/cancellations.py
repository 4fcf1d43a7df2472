"""Paid subscriptions ready to cancel, one per preset policy, at fixed moments."""

import datetime as dt

from billing.models import Plan, Subscription

from .accounts import EPOCH, WorkspaceFactory, WorkspaceMemberFactory
from .billing import PaymentFactory, PlanFactory, SubscriptionFactory

PERIOD_START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
MID_PERIOD = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
INSIDE_NOTICE = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)  # 4 days before the renewal


def paid_subscription(
    policy_slug: str = "orgix",
    *,
    workspace=None,
    started_at: dt.datetime = EPOCH,
    period_start: dt.datetime = PERIOD_START,
    with_payment: bool = True,
    **kwargs,
) -> Subscription:
    """A monthly subscription under `policy_slug`, in the period starting `period_start`,
    with its payment for that period (unless `with_payment=False`)."""
    plan = PlanFactory(policy_slug=policy_slug)
    subscription = SubscriptionFactory(
        plan=plan,
        workspace=workspace or WorkspaceFactory(),
        started_at=started_at,
        current_period_start=period_start,
        **kwargs,
    )
    if with_payment:
        PaymentFactory(subscription=subscription)
    return subscription


def refundable_connex(**kwargs) -> Subscription:
    """A connex customer who bought on PERIOD_START: inside the 30-day refund window at
    MID_PERIOD, so the quote refunds the payment in full and ends immediately."""
    return paid_subscription("connex", started_at=PERIOD_START, **kwargs)


def free_plan(policy_slug: str = "orgix") -> Plan:
    return PlanFactory(free=True, policy_slug=policy_slug)


def crowd(workspace, seats: int) -> None:
    """Fill the workspace up to `seats` members (the owner's seat included)."""
    for _ in range(seats - workspace.members.count()):
        WorkspaceMemberFactory(workspace=workspace)


def make_agent(email: str = "agent@support.example"):
    """A staff user who may see the queue and process cancellations."""
    from django.contrib.auth.models import Permission

    from .accounts import UserFactory

    agent = UserFactory(email=email, is_staff=True)
    agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["billing", "accounts"],
            codename__in=[
                "view_cancellationrequest",
                "process_cancellation",
                "view_workspace",
                "view_subscription",
            ],
        )
    )
    return agent
