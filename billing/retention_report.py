"""Retention outcomes, counted like Chargebee Retention: a session that saw offers ends as
*accepted offer*, *cancelled* or *left* (no outcome); the customer counts as *saved* when
no cancellation (other than a withdrawn or rejected one) was requested within 30 days of
the session. Sessions younger than 30 days that are not cancelled are *pending*.

Save rate = saved / decided (saved + cancelled within 30 days); retained revenue = the
monthly revenue the saved sessions kept, per currency. One aggregate query per table,
whatever the number of sessions."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models.fields import DateTimeField

from billing.models import CancellationRequest, RetentionOffer, RetentionSession

SAVED_AFTER = timedelta(days=30)
NOT_CANCELLING = (CancellationRequest.Status.WITHDRAWN, CancellationRequest.Status.REJECTED)


@dataclass(frozen=True)
class OutcomeRow:
    label: str
    currency: str
    sessions: int
    accepted: int
    cancelled: int
    left: int
    saved: int
    pending: int
    retained_revenue: Decimal

    @property
    def save_rate(self) -> Decimal | None:
        decided = self.saved + self.cancelled
        return None if decided == 0 else Decimal(self.saved * 100 / decided).quantize(Decimal("1"))


def _sessions(now: datetime):
    """Sessions annotated with whether the customer cancelled within 30 days."""
    window_end = ExpressionWrapper(F("started_at") + SAVED_AFTER, output_field=DateTimeField())
    cancelled = CancellationRequest.objects.filter(
        workspace=OuterRef("workspace"),
        created_at__gte=OuterRef("started_at"),
        created_at__lt=OuterRef("window_end"),
    ).exclude(
        status__in=(CancellationRequest.Status.WITHDRAWN, CancellationRequest.Status.REJECTED)
    )
    return RetentionSession.objects.annotate(
        window_end=window_end, cancelled_within=Exists(cancelled)
    )


def _counts(now: datetime) -> dict:
    matured = Q(started_at__lte=now - SAVED_AFTER)
    saved = matured & Q(cancelled_within=False)
    return {
        "sessions": Count("pk", distinct=True),
        "accepted": Count("pk", filter=Q(outcome=RetentionSession.Outcome.ACCEPTED), distinct=True),
        "cancelled": Count("pk", filter=Q(cancelled_within=True), distinct=True),
        "left": Count("pk", filter=Q(outcome=""), distinct=True),
        "saved": Count("pk", filter=saved, distinct=True),
        "pending": Count("pk", filter=~matured & Q(cancelled_within=False), distinct=True),
        "retained_revenue": Sum("retained_monthly_revenue", filter=saved),
    }


def _row(label: str, values: dict) -> OutcomeRow:
    return OutcomeRow(
        label=label,
        currency=values["currency"],
        sessions=values["sessions"],
        accepted=values["accepted"],
        cancelled=values["cancelled"],
        left=values["left"],
        saved=values["saved"],
        pending=values["pending"],
        retained_revenue=values["retained_revenue"] or Decimal("0.00"),
    )


def outcomes_by_reason(*, now: datetime) -> list[OutcomeRow]:
    labels = dict(CancellationRequest.Reason.choices)
    rows = (
        _sessions(now)
        .values("reason", "currency")
        .annotate(**_counts(now))
        .order_by("reason", "currency")
    )
    return [_row(labels.get(row["reason"], row["reason"]), row) for row in rows]


def outcomes_by_offer(*, now: datetime) -> list[OutcomeRow]:
    """Per offer, the sessions that accepted it (saved and retained revenue of those)."""
    headlines = dict(RetentionOffer.objects.values_list("pk", "headline"))
    rows = (
        _sessions(now)
        .filter(accepted_offer__isnull=False)
        .values("accepted_offer", "currency")
        .annotate(**_counts(now))
        .order_by("accepted_offer", "currency")
    )
    return [_row(headlines.get(row["accepted_offer"], "?"), row) for row in rows]


def offers_shown() -> dict[int, int]:
    """How many sessions saw each offer (for an acceptance rate)."""
    return dict(RetentionOffer.objects.annotate(shown=Count("sessions")).values_list("pk", "shown"))
