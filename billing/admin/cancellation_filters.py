"""The cancellation queue's filters.

The policy and the plan interval belong to the subscription. Filtering them through a
join let PostgreSQL hash-join every subscription (a million at a million workspaces) to
find the few requests of the queue that match. The policy is read from the request's own
quote instead (indexed); the interval, which the request does not store, as "the
subscription is one of those on the interval's plans" (`subscription_id IN (SELECT ...
WHERE plan_id IN ...)`): the planner knows from the plan ids' statistics how many
requests match, so a large match is counted by its estimate, and the page is a nested
loop along the queue's order that probes each request's subscription by primary key.
"""

from datetime import timedelta

from django.contrib import admin
from django.db.models import TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from backoffice.admin_queues import QueueStatusFilter, status_queues
from billing.models import CancellationRequest, Plan, RefundPolicy, Subscription

AGE_BUCKETS = {
    "day": ("Under a day", timedelta(0), timedelta(days=1)),
    "week": ("1 to 7 days", timedelta(days=1), timedelta(days=7)),
    "month": ("7 to 30 days", timedelta(days=7), timedelta(days=30)),
    "older": ("Over 30 days", timedelta(days=30), None),
}


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in AGE_BUCKETS.items()]

    def queryset(self, request, queryset):
        if self.value() not in AGE_BUCKETS:
            return queryset
        _, younger, older = AGE_BUCKETS[self.value()]
        now = timezone.now()
        queryset = queryset.filter(created_at__lte=now - younger)
        return queryset.filter(created_at__gt=now - older) if older else queryset


class CancellationQueueFilter(QueueStatusFilter):
    default = "open"
    queues = status_queues(
        CancellationRequest,
        work=("open", "Open (submitted or in review)", CancellationRequest.OPEN_STATUSES),
    )


class AssignedFilter(admin.SimpleListFilter):
    """Uses the index of the `assigned_to` foreign key."""

    title = "assignment"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Assigned to me"), ("nobody", "Nobody yet")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class PolicyFilter(admin.SimpleListFilter):
    """By the policy the request was quoted under (any version of the slug): the quote
    stores its label (`connex@2`), indexed with the queue's order
    (`cancellation_quoted_policy`), so the filter neither joins nor visits each request's
    subscription."""

    title = "policy"
    parameter_name = "policy"

    def lookups(self, request, model_admin):
        slugs = RefundPolicy.objects.order_by("slug").values_list("slug", flat=True).distinct()
        return [(slug, slug) for slug in slugs]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        labels = [policy.label for policy in RefundPolicy.objects.filter(slug=self.value())]
        # As text (`->>`), the indexed expression; `quote__policy` compares JSON values
        # (the cast keeps SQLite from reading the labels as JSON; PostgreSQL drops it).
        quoted = Cast(KT("quote__policy"), TextField())
        return queryset.alias(_policy=quoted).filter(_policy__in=labels)


class PlanIntervalFilter(admin.SimpleListFilter):
    """By the subscription's billing interval. Only billed intervals are offered: a Free
    plan has nothing to cancel (`cancellation_submit` refuses it)."""

    title = "plan interval"
    parameter_name = "plan_interval"

    def lookups(self, request, model_admin):
        return [(v, label) for v, label in Plan.Interval.choices if v != Plan.Interval.NONE]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        plans = list(Plan.objects.filter(interval=self.value()).values_list("pk", flat=True))
        on_plans = Subscription.objects.filter(plan_id__in=plans).values("pk")
        return queryset.filter(subscription_id__in=on_plans)
