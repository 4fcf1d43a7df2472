"""Plans of each preset family, subscriptions that start a trial, and a gateway that
declines on demand, for the lifecycle tests."""

import datetime as dt
from decimal import Decimal

from billing.gateways import GatewayError, GatewayResult
from billing.models import Plan
from billing.policy.engine import add_months

from .billing import PlanFactory, SubscriptionFactory

CURRENCIES = {"connex": "USD", "sync-with-connex": "USD", "orgix": "EUR", "prorated-credit": "USD"}


def family_plans(policy_slug: str, interval: str = Plan.Interval.MONTH) -> dict[str, Plan]:
    """Free, Basic (50), Pro (100) and Max (200) per month; a year costs ten months."""
    currency = CURRENCIES[policy_slug]
    months = 10 if interval == Plan.Interval.YEAR else 1
    plans = {"free": PlanFactory(policy_slug=policy_slug, free=True, currency=currency)}
    for name, rank, price, seats in (
        ("Basic", 1, "50", 3),
        ("Pro", 2, "100", 10),
        ("Max", 3, "200", 50),
    ):
        plans[name.lower()] = PlanFactory(
            policy_slug=policy_slug,
            name=name,
            tier_rank=rank,
            interval=interval,
            price=Decimal(price) * months,
            currency=currency,
            seat_limit=seats,
        )
    return plans


def subscription_on(plan: Plan, *, start: dt.datetime, trial_days: int = 0, **kwargs):
    """A subscription starting at `start`; with a trial, its first period is the trial."""
    if trial_days:
        trial_end = start + dt.timedelta(days=trial_days)
        return SubscriptionFactory(
            plan=plan,
            status="trialing",
            started_at=start,
            trial_end=trial_end,
            current_period_start=start,
            current_period_end=trial_end,
            **kwargs,
        )
    months = 12 if plan.interval == Plan.Interval.YEAR else 1
    return SubscriptionFactory(
        plan=plan,
        started_at=start,
        current_period_start=start,
        current_period_end=add_months(start, months),
        **kwargs,
    )


class ScriptedGateway:
    """Declines while `declining` is true; records every charge it accepts or declines."""

    name = "local"

    def __init__(self):
        self.declining = False
        self.charges: list[tuple[str, Decimal]] = []
        self.keys: set[str] = set()

    def charge(self, *, customer_reference, amount, currency, idempotency_key, description):
        if self.declining:
            raise GatewayError("Your card was declined.", code="card_declined")
        if idempotency_key not in self.keys:
            self.keys.add(idempotency_key)
            self.charges.append((idempotency_key, amount))
        return GatewayResult(reference=f"ch_{len(self.keys)}")

    def refund(self, *, payment_reference, amount, currency, idempotency_key):
        return GatewayResult(reference=f"re_{idempotency_key}")


def add_members(workspace, count: int) -> None:
    """`count` more members (seats), without password hashing (that is slow)."""
    from accounts.models import User, WorkspaceMember

    start = WorkspaceMember.objects.count()
    users = User.objects.bulk_create(
        User(email=f"member{start + i}-{workspace.pk}@example.com", password="!")
        for i in range(count)
    )
    WorkspaceMember.objects.bulk_create(
        WorkspaceMember(workspace=workspace, user=user, joined_at=workspace.created_at)
        for user in users
    )
