import datetime as dt
from decimal import Decimal

import factory

from billing.models import AddOn, OnboardingService, Payment, Plan, RefundPolicy, Subscription

from .accounts import EPOCH, WorkspaceFactory


def policy_version(slug: str, version: int | None = None) -> RefundPolicy:
    """A preset policy (loaded by migration 0002), latest published version unless one is
    named (a subscription never starts under a draft)."""
    qs = RefundPolicy.objects.filter(slug=slug)
    if version:
        return qs.get(version=version)
    return qs.filter(state=RefundPolicy.State.PUBLISHED).order_by("-version").first()


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("code",)

    code = factory.LazyAttribute(lambda o: f"{o.policy_slug}-{o.name.lower()}-{o.interval}")
    name = "Pro"
    policy_slug = "orgix"
    tier_rank = 2
    interval = Plan.Interval.MONTH
    price = Decimal("100.00")
    currency = "USD"
    seat_limit = 10
    storage_limit_mb = 10_000
    module_limit = 5
    orders_per_month_limit = 1_000

    class Params:
        free = factory.Trait(
            name="Free",
            tier_rank=0,
            interval=Plan.Interval.NONE,
            price=Decimal("0"),
            seat_limit=3,
            storage_limit_mb=500,
            module_limit=1,
            orders_per_month_limit=50,
        )
        yearly = factory.Trait(interval=Plan.Interval.YEAR, price=Decimal("1000.00"))


def _period_end(o) -> dt.datetime:
    months = 12 if o.plan.interval == Plan.Interval.YEAR else 1
    start = o.current_period_start
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    workspace = factory.SubFactory(WorkspaceFactory)
    plan = factory.SubFactory(PlanFactory)
    policy = factory.LazyAttribute(lambda o: policy_version(o.plan.policy_slug))
    status = Subscription.Status.ACTIVE
    started_at = EPOCH
    current_period_start = factory.LazyAttribute(lambda o: o.started_at)
    current_period_end = factory.LazyAttribute(_period_end)

    class Params:
        trialing = factory.Trait(
            status=Subscription.Status.TRIALING,
            trial_end=factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(days=14)),
        )
        past_due = factory.Trait(
            status=Subscription.Status.PAST_DUE,
            past_due_since=factory.LazyAttribute(lambda o: o.current_period_start),
        )
        cancelled = factory.Trait(
            status=Subscription.Status.CANCELLED,
            cancelled_at=factory.LazyAttribute(lambda o: o.current_period_start),
            ended_at=factory.LazyAttribute(lambda o: o.current_period_end),
        )
        expired = factory.Trait(
            status=Subscription.Status.EXPIRED,
            ended_at=factory.LazyAttribute(lambda o: o.current_period_end),
        )
        suspended = factory.Trait(status=Subscription.Status.SUSPENDED)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    subscription = factory.SubFactory(SubscriptionFactory)
    workspace = factory.LazyAttribute(lambda o: o.subscription.workspace)
    kind = Payment.Kind.SUBSCRIPTION
    amount = factory.LazyAttribute(lambda o: o.subscription.plan.price)
    currency = factory.LazyAttribute(lambda o: o.subscription.plan.currency)
    paid_at = factory.LazyAttribute(lambda o: o.subscription.current_period_start)
    period_start = factory.LazyAttribute(lambda o: o.subscription.current_period_start)
    period_end = factory.LazyAttribute(lambda o: o.subscription.current_period_end)
    provider_reference = factory.Sequence(lambda n: f"pay_{n:08d}")


class AddOnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AddOn

    subscription = factory.SubFactory(SubscriptionFactory)
    kind = AddOn.Kind.EXTRA_SEATS
    quantity = 5
    price = Decimal("25.00")
    currency = factory.LazyAttribute(lambda o: o.subscription.plan.currency)
    started_at = factory.LazyAttribute(lambda o: o.subscription.current_period_start)


class OnboardingServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnboardingService

    subscription = factory.SubFactory(SubscriptionFactory)
    kind = OnboardingService.Kind.PRELIMINARY_CALL
    completed_at = factory.LazyAttribute(lambda o: o.subscription.started_at + dt.timedelta(days=3))
