"""Reads a workspace's usage and effective limits (plan + active add-ons)."""

from datetime import datetime

from django.db.models import Count, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Workspace, WorkspaceMember, WorkspaceModule
from backoffice.compiled import CompiledQuery
from billing.models import Plan, Subscription
from billing.policy.limits import Limits, Usage, with_addons


def workspace_usage(workspace: Workspace, subscription: Subscription | None = None) -> Usage:
    # Seats and modules of one workspace in one query (a request path: the quote, the POST).
    counts = Workspace.objects.filter(pk=workspace.pk).aggregate(
        seats=Count("members", distinct=True), modules=Count("modules", distinct=True)
    )
    return Usage(
        seats=counts["seats"],
        storage_mb=workspace.storage_used_mb,
        modules=counts["modules"],
        orders_this_period=subscription.orders_used_this_period if subscription else 0,
    )


def workspaces_usage(workspace_ids: list[int]) -> dict[int, Usage]:
    """`workspace_usage` of many workspaces in one query (a batch job; no orders counted:
    the usage against a plan that has just started)."""
    rows = (
        Workspace.objects.filter(pk__in=workspace_ids)
        .annotate(
            seat_count=Count("members", distinct=True),
            module_count=Count("modules", distinct=True),
        )
        .values_list("pk", "seat_count", "storage_used_mb", "module_count")
    )
    return {
        pk: Usage(seats=seats, storage_mb=storage, modules=modules)
        for pk, seats, storage, modules in rows
    }


def free_plans_for(policy_slugs) -> dict[str, Plan]:
    """The Free plan of several policy families in one query (the one
    `free_plan_with_usage` picks)."""
    found: dict[str, Plan] = {}
    for plan in Plan.objects.filter(
        policy_slug__in=set(policy_slugs), interval=Plan.Interval.NONE, is_active=True
    ).order_by("policy_slug", "tier_rank", "interval", "pk"):
        found.setdefault(plan.policy_slug, plan)  # the first in `Plan.Meta.ordering`
    return found


def plan_limits(plan: Plan) -> Limits:
    return Limits(
        seats=plan.seat_limit,
        storage_mb=plan.storage_limit_mb,
        modules=plan.module_limit,
        orders=plan.orders_per_month_limit,
        plan_name=plan.name,
        paid_addons_allowed=not plan.is_free,
    )


def subscription_limits(subscription: Subscription, *, now: datetime) -> Limits:
    active = subscription.addons.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    return with_addons(plan_limits(subscription.plan), active.values_list("kind", "quantity"))


def _free_plans(policy_slug: str):
    """A policy family's Free plans; the first in `Plan.Meta.ordering` is the one used."""
    return Plan.objects.filter(policy_slug=policy_slug, interval=Plan.Interval.NONE, is_active=True)


def free_plan_with_usage(policy_slug: str, workspace: Workspace) -> tuple[Plan, Usage] | None:
    """The Free plan of `policy_slug` with the `workspace_usage(workspace)` to hold against
    it, in one query (the quote's Free-plan fallback, compiled once); None without a plan."""
    found = _FREE_PLAN_WITH_USAGE.all(
        policy_slug=policy_slug, seats_of=workspace.pk, modules_of=workspace.pk
    )
    if not found:
        return None
    plan = found[0]
    usage = Usage(
        seats=plan.workspace_seats,
        storage_mb=workspace.storage_used_mb,
        modules=plan.workspace_modules,
        orders_this_period=0,
    )
    return plan, usage


def _count_of(model, workspace_id: int) -> Coalesce:
    rows = model.objects.filter(workspace_id=workspace_id).order_by().values("workspace_id")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


_FREE_PLAN_WITH_USAGE = CompiledQuery(
    lambda policy_slug, seats_of, modules_of: _free_plans(policy_slug).annotate(
        workspace_seats=_count_of(WorkspaceMember, seats_of),
        workspace_modules=_count_of(WorkspaceModule, modules_of),
    )[:1],
    policy_slug="compiled-query-marker",
    seats_of=-7_777_777,
    modules_of=-7_777_778,
)


__all__ = [
    "free_plan_with_usage",
    "free_plans_for",
    "plan_limits",
    "subscription_limits",
    "workspace_usage",
    "workspaces_usage",
]
