"""The figures of the agents' dashboard (the admin index).

Invariants: a fixed number of queries whatever the number of rows (one per count, one per
chart); a count that the planner puts above `ESTIMATE_THRESHOLD` rows is shown as its
estimate ("about 12 k", `estimated_count`) instead of being counted; every query filters
on an indexed column (`status`, `created_at`, `deletion_due_at`, `action`) and charts
cover a bounded window, so the database reads the few rows that need work or fall in the
window, not the tables. Charts are aggregated in the database (GROUP BY on a truncated
date), never by loading rows, and cached for `CHART_CACHE_SECONDS` (`cached_charts`): a
window's rows grow with the customer base, the figures above them do not wait.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.urls import reverse

from accounts.models import AuditRecord, Workspace
from backoffice.admin_mixins import estimated_count
from billing.models import CancellationRequest, Dispute, Refund, RefundReviewRequest, Subscription
from billing.money import round_money
from billing.queues import awaiting_approval_q, needs_lead_q

DUE_SOON_DAYS = 7
CHART_CACHE_SECONDS = 300
WEEKS = 12
MONTHS = 12
DUNNING_OUTCOMES = {
    "subscription.past_due": "Entered dunning",
    "subscription.recovered": "Recovered (paid)",
    "subscription.suspend": "Suspended",
    "subscription.expire": "Expired unpaid",
}


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    url: str
    detail: str = ""
    urgent: bool = False


def _url(name: str, query: str = "") -> str:
    return reverse(f"admin:{name}_changelist") + (f"?{query}" if query else "")


def _age(oldest: dt.datetime | None, now: dt.datetime) -> str:
    if oldest is None:
        return "none waiting"
    days = (now - oldest).days
    if days >= 1:
        return f"oldest {days} day{'s' if days != 1 else ''}"
    hours = int((now - oldest).total_seconds() // 3600)
    return f"oldest {hours} hour{'s' if hours != 1 else ''}"


def _older_than(oldest: dt.datetime | None, now: dt.datetime, age: dt.timedelta) -> bool:
    return oldest is not None and now - oldest > age


def work_counts(user, *, now: dt.datetime) -> list[Figure]:
    """What needs work, each count linking to its filtered queue."""
    open_queue = CancellationRequest.objects.filter(status__in=CancellationRequest.OPEN_STATUSES)
    open_requests = {
        "count": estimated_count(open_queue),
        "oldest": open_queue.aggregate(oldest=Min("created_at"))["oldest"],
    }
    refunds = Refund.objects.filter(status__in=(Refund.Status.PROPOSED, Refund.Status.FAILED))
    refund_counts = refunds.aggregate(
        mine=Count("pk", filter=awaiting_approval_q(user)),
        lead=Count("pk", filter=needs_lead_q()),
        failed=Count("pk", filter=Q(status=Refund.Status.FAILED)),
    )
    due_soon = estimated_count(
        Workspace.objects.filter(
            deletion_due_at__gt=now,
            deletion_due_at__lte=now + dt.timedelta(days=DUE_SOON_DAYS),
            legal_hold=False,
        ).exclude(status=Workspace.Status.DELETED)
    )
    refund_list = "billing_refund"
    return [
        Figure(
            "Open cancellation requests",
            open_requests["count"],
            _url("billing_cancellationrequest"),
            _age(open_requests["oldest"], now),
            urgent=bool(
                open_requests["oldest"] and now - open_requests["oldest"] > dt.timedelta(days=2)
            ),
        ),
        Figure(
            "Refunds awaiting my approval",
            refund_counts["mine"],
            _url(refund_list, "approval=mine"),
            "proposed by someone else, within what I may approve",
        ),
        Figure(
            "Refunds needing a Billing lead",
            refund_counts["lead"],
            _url(refund_list, "approval=lead"),
            f"goodwill or above {settings.REFUND_LEAD_APPROVAL_THRESHOLD}",
        ),
        Figure(
            "Failed refunds",
            refund_counts["failed"],
            _url(refund_list, "status=failed"),
            "retry or send to credit",
            urgent=refund_counts["failed"] > 0,
        ),
        Figure(
            "Review requests to verify",
            estimated_count(
                RefundReviewRequest.objects.filter(status=RefundReviewRequest.Status.SUBMITTED)
            ),
            _url("billing_refundreviewrequest", "status__exact=submitted"),
            "verify the requester first",
        ),
        Figure(
            f"Deletions due within {DUE_SOON_DAYS} days",
            due_soon,
            _url("accounts_workspace", "retention=due_soon"),
            "workspaces not on legal hold",
            urgent=due_soon > 0,
        ),
        Figure(
            "Subscriptions in dunning",
            estimated_count(
                Subscription.objects.filter(
                    status__in=(Subscription.Status.PAST_DUE, Subscription.Status.SUSPENDED)
                )
            ),
            _url("billing_subscription", "status__in=past_due,suspended"),
            "past due or suspended",
        ),
        Figure(
            "Open disputes",
            estimated_count(Dispute.objects.filter(status=Dispute.Status.OPEN)),
            _url("billing_dispute", "status__exact=open"),
            "refunds of their payments are refused",
        ),
    ]


def _week_start(moment: dt.datetime) -> dt.date:
    day = moment.date()
    return day - dt.timedelta(days=day.weekday())


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months_back(now: dt.datetime, months: int) -> list[dt.date]:
    first = _month_start(now.date())
    result = []
    for _ in range(months):
        result.append(first)
        first = _month_start(first - dt.timedelta(days=1))
    return result[::-1]


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def cancellations_per_week(*, now: dt.datetime, weeks: int = WEEKS) -> dict:
    """Requests submitted per week (Monday, UTC) by reason, the last `weeks` weeks."""
    starts = [_week_start(now) - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.UTC)
    rows = (
        CancellationRequest.objects.filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at", tzinfo=dt.UTC))
        .values("week", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(_as_date(r["week"]), r["reason"]): r["n"] for r in rows}
    return {
        "labels": [f"{start.day} {start:%b}" for start in starts],
        "datasets": [
            {"label": label, "data": [counts.get((start, code), 0) for start in starts]}
            for code, label in CancellationRequest.Reason.choices
        ],
    }


def refunds_per_month(*, now: dt.datetime, months: int = MONTHS) -> dict:
    """Amount of refunds committed (approved, processing, succeeded) per month of proposal,
    by destination and currency (amounts in different currencies are never added up)."""
    starts = _months_back(now, months)
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.UTC)
    rows = (
        Refund.objects.filter(
            created_at__gte=since,
            status__in=(Refund.Status.APPROVED, Refund.Status.PROCESSING, Refund.Status.SUCCEEDED),
        )
        .annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("month", "destination", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    sums: dict[tuple[str, str], dict[dt.date, Decimal]] = {}
    for row in rows:
        sums.setdefault((row["destination"], row["currency"]), {})[_as_date(row["month"])] = row[
            "total"
        ]
    labels = dict(Refund.Destination.choices)
    return {
        "labels": [f"{start:%b %Y}" for start in starts],
        "datasets": [
            {
                "label": f"{labels.get(destination, destination)} ({currency})",
                "data": [
                    str(round_money(Decimal(by_month.get(start, 0)), currency)) for start in starts
                ],
            }
            for (destination, currency), by_month in sorted(sums.items())
        ],
    }


def approval_time(*, now: dt.datetime, months: int = MONTHS) -> dict:
    """Average hours from proposal to decision (approved or rejected) of refunds proposed
    each month."""
    starts = _months_back(now, months)
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.UTC)
    waited = ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    rows = (
        Refund.objects.filter(created_at__gte=since, decided_at__isnull=False)
        .annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(average=Avg(waited), n=Count("pk"))
        .order_by()
    )
    hours = {_as_date(r["month"]): round(_seconds(r["average"]) / 3600, 1) for r in rows if r["n"]}
    return {
        "labels": [f"{start:%b %Y}" for start in starts],
        "datasets": [
            {
                "label": "Average hours to a decision",
                "data": [hours.get(start) for start in starts],
            }
        ],
    }


def _seconds(value) -> float:
    """A duration average: a timedelta, or microseconds where the backend returns a number."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value or 0) / 1_000_000


def dunning_outcomes(*, now: dt.datetime, months: int = MONTHS) -> dict:
    """Subscriptions entering dunning and how dunning ended, per month (audit records)."""
    starts = _months_back(now, months)
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.UTC)
    rows = (
        AuditRecord.objects.filter(action__in=list(DUNNING_OUTCOMES), created_at__gte=since)
        .annotate(month=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("month", "action")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(_as_date(r["month"]), r["action"]): r["n"] for r in rows}
    return {
        "labels": [f"{start:%b %Y}" for start in starts],
        "datasets": [
            {"label": label, "data": [counts.get((start, action), 0) for start in starts]}
            for action, label in DUNNING_OUTCOMES.items()
        ],
    }


def dashboard(user, *, now: dt.datetime) -> dict:
    return {"figures": work_counts(user, now=now), "charts": cached_charts(now=now)}


def cached_charts(*, now: dt.datetime) -> list[dict]:
    """The charts, computed at most once per `CHART_CACHE_SECONDS` per database. Each
    aggregates every request or refund of its window (weeks or months), which grows with
    the customer base; past weeks do not change, and the current one may lag by minutes."""
    key = f"dashboard-charts:{connection.settings_dict['NAME']}"
    found = cache.get(key)
    if found is None:
        found = charts(now=now)
        cache.set(key, found, CHART_CACHE_SECONDS)
    return found


def charts(*, now: dt.datetime) -> list[dict]:
    return [
        {
            "id": "cancellations",
            "title": f"Cancellation requests per week, by reason (last {WEEKS} weeks)",
            "kind": "bar",
            "stacked": True,
            "data": cancellations_per_week(now=now),
        },
        {
            "id": "refunds",
            "title": "Refunds committed per month, by destination (amount)",
            "kind": "bar",
            "stacked": False,
            "data": refunds_per_month(now=now),
        },
        {
            "id": "approval",
            "title": "Refund approval time (average hours from proposal to decision)",
            "kind": "line",
            "stacked": False,
            "data": approval_time(now=now),
        },
        {
            "id": "dunning",
            "title": "Dunning outcomes per month",
            "kind": "bar",
            "stacked": False,
            "data": dunning_outcomes(now=now),
        },
    ]
