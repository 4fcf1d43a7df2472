"""Demo retention offers (orgix and connex) and one session on the customer's `acme`, so
the portal's offers page and the admin's report have something to show. Idempotent."""

import datetime as dt

from billing.models import Plan, RefundPolicy, RetentionOffer, RetentionSession, Subscription


def ensure_demo_retention_offers(
    *, plans: dict[tuple[str, int, str], Plan], policies: dict[str, RefundPolicy], now: dt.datetime
) -> None:
    month = Plan.Interval.MONTH
    offers = [
        (
            "orgix",
            "downgrade",
            "too_expensive",
            "Stay for less on Essential",
            {"target_plan": plans[("orgix", 1, month)]},
        ),
        (
            "orgix",
            "discount",
            "too_expensive",
            "20% off your next three months",
            {"discount_percent": 20, "discount_periods": 3},
        ),
        ("orgix", "pause", "temporary_pause", "Take a break instead", {"max_pause_months": 3}),
        ("connex", "pause", "not_using", "Pause until you need it again", {"max_pause_months": 2}),
    ]
    for slug, kind, reason, headline, terms in offers:
        RetentionOffer.objects.get_or_create(
            policy=policies[slug],
            headline=headline,
            defaults={"kind": kind, "reason": reason, "created_at": now, **terms},
        )
    acme = Subscription.objects.filter(
        workspace__slug="acme", status__in=Subscription.LIVE_STATUSES
    ).first()
    if acme is None or RetentionSession.objects.filter(subscription=acme).exists():
        return
    session = RetentionSession.objects.create(
        workspace_id=acme.workspace_id,
        subscription=acme,
        reason="too_expensive",
        monthly_revenue=acme.plan.price,
        retained_monthly_revenue=acme.plan.price,
        currency=acme.plan.currency,
        started_at=now - dt.timedelta(days=40),
    )
    session.offers.set(RetentionOffer.objects.filter(policy=acme.policy, reason="too_expensive"))
