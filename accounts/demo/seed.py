"""Writes the demo data: logins, catalogue, then workspaces chunk by chunk."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.demo.retention_offers import ensure_demo_retention_offers
from accounts.models import User, Workspace
from billing.models import CancellationRequest, Plan, RefundPolicy, Subscription
from billing.policy.presets import PRESETS
from billing.selectors import quote_for_subscription, snapshot_payments_of
from tests.factories import PlanFactory

from .builder import Context, WorkspaceBuilder, WorkspaceSpec
from .catalogue import (
    ADJECTIVES,
    CATALOGUE,
    CUSTOMER_PASSWORD,
    DEMO_LOGINS,
    DEMO_SLUG_PREFIX,
    FREE_LIMITS,
    KINDS,
    NOUNS,
    POLICY_SLUGS,
    STATUSES,
)
from .rows import Batch, Row
from .showcase import seed_showcase
from .writer import write_batch

LOGINS_JOINED_DAYS_AGO = 400


@dataclass
class SeedSummary:
    created: Counter = field(default_factory=Counter)
    skipped_workspaces: int = 0


def seed_demo(
    *, workspaces: int, seed: int, now: dt.datetime, chunk_size: int = 2_000
) -> SeedSummary:
    """Create the demo logins, the plan catalogue and `workspaces` demo workspaces plus the
    customer's own `acme` and `acme-connex`; existing ones (by slug) are left untouched."""
    summary = SeedSummary()
    logins = ensure_demo_logins(now=now)
    context = Context(
        now=now,
        seed=seed,
        plans=ensure_plan_catalogue(),
        policies={slug: _latest_policy(slug) for slug in POLICY_SLUGS},
        customer_password=make_password(CUSTOMER_PASSWORD),
        agent=logins["agent@example.com"],
    )
    owner = logins["owner@example.com"]
    specs = [
        WorkspaceSpec("acme", "Acme Rowing Club", "orgix", 2, Plan.Interval.MONTH, "active", owner),
        WorkspaceSpec(
            "acme-connex", "Acme Events", "connex", 2, Plan.Interval.YEAR, "active", owner
        ),
    ]
    _write_chunk(specs, context, summary)
    ensure_demo_retention_offers(plans=context.plans, policies=context.policies, now=now)
    for start in range(0, workspaces, chunk_size):
        chunk = [_spec(i, seed) for i in range(start, min(start + chunk_size, workspaces))]
        _write_chunk(chunk, context, summary)
    summary.created["showcase situations"] += seed_showcase(
        now=now,
        plans=context.plans,
        agent=context.agent,
        lead=logins["lead@example.com"],
        password=context.customer_password,
    )
    return summary


def ensure_demo_logins(*, now: dt.datetime) -> dict[str, User]:
    """The fixed demo users with their passwords and groups (restored on every run); new
    ones joined before the demo customer's workspaces were created."""
    users = {}
    for login in DEMO_LOGINS:
        user = User.objects.filter(email=login.email).first() or User(
            email=login.email, date_joined=now - dt.timedelta(days=LOGINS_JOINED_DAYS_AGO)
        )
        user.full_name = login.role
        user.is_staff = login.is_staff
        user.is_superuser = login.is_superuser
        user.is_active = True
        if not user.check_password(login.password):
            # Only when it differs: a new hash would sign out the user's open sessions.
            user.set_password(login.password)
        user.save()
        if login.group:
            user.groups.add(Group.objects.get(name=login.group))
        users[login.email] = user
    return users


def ensure_plan_catalogue() -> dict[tuple[str, int, str], Plan]:
    """Free plan plus three paid tiers, monthly and yearly, for each policy family."""
    plans = {}
    for slug, (currency, tiers) in CATALOGUE.items():
        seats, storage, modules, orders = FREE_LIMITS
        plans[(slug, 0, Plan.Interval.NONE)] = PlanFactory(
            free=True,
            policy_slug=slug,
            currency=currency,
            seat_limit=seats,
            storage_limit_mb=storage,
            module_limit=modules,
            orders_per_month_limit=orders,
        )
        for rank, (name, monthly, seats, storage, modules, orders) in enumerate(tiers, start=1):
            for interval, price in (
                (Plan.Interval.MONTH, Decimal(monthly)),
                (Plan.Interval.YEAR, Decimal(monthly) * 10),
            ):
                plans[(slug, rank, interval)] = PlanFactory(
                    name=name,
                    policy_slug=slug,
                    tier_rank=rank,
                    interval=interval,
                    price=price,
                    currency=currency,
                    seat_limit=seats,
                    storage_limit_mb=storage,
                    module_limit=modules,
                    orders_per_month_limit=orders,
                )
    return plans


def _latest_policy(slug: str) -> RefundPolicy:
    if slug not in PRESETS:
        raise ValueError(f"no preset policy {slug!r}")
    return (
        RefundPolicy.objects.filter(slug=slug, state=RefundPolicy.State.PUBLISHED)
        .order_by("-version")
        .first()
    )


def _spec(index: int, seed: int) -> WorkspaceSpec:
    """The first 48 workspaces cover every (policy, status, interval) on a paid plan; the
    rest are drawn at random, about a third on the Free plan."""
    rng = random.Random(f"{seed}:{index}:spec")
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(KINDS)}"
    policy_slug = POLICY_SLUGS[index % 4]
    if index < 48:
        status = STATUSES[(index // 4) % len(STATUSES)]
        interval = Plan.Interval.MONTH if index < 24 else Plan.Interval.YEAR
        tier = 1 + index % 3
    elif rng.random() < 0.35:
        tier, interval, status = 0, Plan.Interval.NONE, "active"
    else:
        tier = rng.choice((1, 1, 2, 2, 3))
        interval = Plan.Interval.MONTH if rng.random() < 0.65 else Plan.Interval.YEAR
        status = rng.choices(STATUSES, weights=(8, 55, 8, 4, 15, 10))[0]
    return WorkspaceSpec(
        f"{DEMO_SLUG_PREFIX}{index:06d}", name, policy_slug, tier, interval, status, index=index
    )


def _quote_cancellations(requests: list[Row]) -> None:
    """Requests carry the quote the customer saw: the engine's, at the time they asked.
    A constant number of queries however many requests the chunk holds."""
    ids = [request.subscription.pk for request in requests]
    subscriptions = (
        Subscription.objects.select_related("plan", "policy", "workspace")
        .prefetch_related("services", "addons")
        .in_bulk(ids)
    )
    payments = defaultdict(list)
    for payment in snapshot_payments_of(ids):
        payments[payment.subscription_id].append(payment)
    quoted = []
    for request in requests:
        subscription_id = request.subscription.pk
        quote = quote_for_subscription(
            subscriptions[subscription_id],
            at=request.created_at,
            payments=payments[subscription_id],
        )
        quoted.append(
            CancellationRequest(
                pk=request.pk,
                quote=quote.to_dict(),
                quoted_refund=quote.refund,
                effective_at=quote.ends_at,
            )
        )
    CancellationRequest.objects.bulk_update(quoted, ["quote", "quoted_refund", "effective_at"])


def _write_chunk(specs: list[WorkspaceSpec], context: Context, summary: SeedSummary) -> None:
    existing = set(
        Workspace.objects.filter(slug__in=[s.slug for s in specs]).values_list("slug", flat=True)
    )
    batch = Batch()
    for spec in specs:
        if spec.slug in existing:
            summary.skipped_workspaces += 1
            continue
        WorkspaceBuilder(spec, context, batch).build()
    with transaction.atomic():
        write_batch(batch, summary.created)
        _quote_cancellations(batch.rows.get(CancellationRequest, []))
