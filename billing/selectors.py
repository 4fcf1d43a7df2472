"""Read-side helpers: turn models into the frozen inputs of the pure policy engine.

Query budget: `subscription_snapshot` costs a constant number of queries (payments with
their open disputes, services, add-ons), whatever the number of payments, and skips the
services or add-ons query of a subscription loaded through `with_snapshot_flags` that has
none; `policy_rules` parses a policy version's JSON once per process (versions in use are
never edited).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection
from django.db.models import Exists, JSONField, OuterRef, Subquery, Sum, TextField
from django.db.models.functions import Cast, JSONArray

from backoffice.compiled import CompiledQuery
from billing.account_history import snapshot_extras
from billing.models import (
    AddOn,
    CreditEntry,
    Dispute,
    OnboardingService,
    Payment,
    RefundPolicy,
    Subscription,
)
from billing.policy.engine import quote_cancellation
from billing.policy.pauses import quote_while_paused
from billing.policy.quotes import Quote
from billing.policy.rules import (
    Channel,
    Interval,
    PaymentKind,
    PaymentMethod,
    PolicyRules,
    ServiceKind,
)
from billing.policy.snapshot import (
    AddOnSnapshot,
    ChangeEvent,
    PaymentSnapshot,
    SeatSnapshot,
    ServiceSnapshot,
    SubscriptionSnapshot,
)

REFUNDABLE_PAYMENT_STATUSES = (Payment.Status.SUCCEEDED,)


def policy_rules(policy: RefundPolicy) -> PolicyRules:
    """The parsed rules of a policy version, cached by (pk, version, JSON) so an edit of an
    unused version is never served stale. The instance keeps them for its `rules` object:
    a quote asks twice per request, and the cache's key (6 kB of JSON dumped) cost more
    than the rest of the lookup."""
    kept = policy.__dict__.get("_parsed_rules")
    if kept is not None and kept[0] is policy.rules:
        return kept[1]
    parsed = _parse_rules(policy.pk, policy.version, _freeze(policy.rules))
    policy.__dict__["_parsed_rules"] = (policy.rules, parsed)
    return parsed


@lru_cache(maxsize=256)
def _parse_rules(pk: int, version: int, frozen: str) -> PolicyRules:
    return PolicyRules.from_dict(json.loads(frozen))


def _freeze(rules: dict) -> str:
    return json.dumps(rules, sort_keys=True)


def policy_by_ref(slug: str, version: int | None = None) -> RefundPolicy | None:
    """`slug@version`, or the latest published version of `slug`; None if there is none."""
    qs = RefundPolicy.objects.filter(slug=slug)
    if version is not None:
        return qs.filter(version=version).first()
    return qs.filter(state=RefundPolicy.State.PUBLISHED).order_by("-version").first()


def policy_for_new_subscription(slug: str, *, on: date) -> RefundPolicy | None:
    """The version a subscription bought on `on` starts under: the latest published one
    in force that day (whichever subscriptions it moves at renewal)."""
    return (
        RefundPolicy.objects.filter(
            slug=slug, state=RefundPolicy.State.PUBLISHED, effective_from__lte=on
        )
        .order_by("-version")
        .first()
    )


def with_snapshot_flags(subscriptions):
    """Annotate `has_services` and `has_addons`, so the snapshot of a subscription without
    any (most of them) reads neither table: two EXISTS in the subscription's own query
    instead of two round trips."""
    return subscriptions.annotate(
        has_services=Exists(OnboardingService.objects.filter(subscription=OuterRef("pk"))),
        has_addons=Exists(AddOn.objects.filter(subscription=OuterRef("pk"))),
    )


def with_snapshot_payments(subscriptions):
    """On PostgreSQL, annotate `payment_rows`: the succeeded payments' snapshot columns
    (`_PAYMENT_COLUMNS`, amounts as text) as one JSON array in `snapshot_payments_of`'s
    order, so the snapshot of a subscription read on the quote's or the submit's path costs
    no query of its own (one round trip less); elsewhere the queryset is unchanged."""
    if connection.vendor != "postgresql":
        return subscriptions
    open_dispute = Dispute.objects.filter(payment=OuterRef("pk"), status=Dispute.Status.OPEN)
    columns = [
        Cast(name, TextField()) if name in _AMOUNT_COLUMNS else name
        for name in _PAYMENT_COLUMNS
        if name != "has_open_dispute"
    ]
    columns.insert(_PAYMENT_COLUMNS.index("has_open_dispute"), Exists(open_dispute))
    rows = (
        Payment.objects.filter(
            subscription_id=OuterRef("pk"), status__in=REFUNDABLE_PAYMENT_STATUSES
        )
        .order_by()
        .values("subscription_id")
        .annotate(rows=JSONBAgg(JSONArray(*columns), order_by=("paid_at", "pk")))
        .values("rows")
    )
    return subscriptions.annotate(payment_rows=Subquery(rows, output_field=JSONField()))


def live_subscription_with_flags(workspace_id: int) -> Subscription | None:
    """The workspace's live subscription with its plan, policy and snapshot flags, or None
    (at most one is live: a constraint). The submit's hot path: compiled once."""
    found = _LIVE_WITH_FLAGS.all(workspace_id=workspace_id)
    return found[0] if found else None


_LIVE_WITH_FLAGS = CompiledQuery(
    lambda workspace_id: with_snapshot_payments(
        with_snapshot_flags(
            Subscription.objects.select_related("plan", "policy").filter(
                workspace_id=workspace_id, status__in=Subscription.LIVE_STATUSES
            )
        )
    ).order_by(*Subscription._meta.ordering, "pk")[:1],
    workspace_id=-7_777_777,
)


def _children(subscription: Subscription, name: str) -> list[tuple]:
    """The snapshot's columns of `subscription.<name>.all()` (services or add-ons): the
    prefetched objects', none when `with_snapshot_flags` found none, else from a query
    compiled once (the quote's and the submit's path, for subscriptions that have some)."""
    if getattr(subscription, f"has_{name}", True) is False:
        return []
    columns, compiled = _CHILDREN[name]
    if name in getattr(subscription, "_prefetched_objects_cache", {}):
        children = getattr(subscription, name).all()
        return [tuple(getattr(child, column) for column in columns) for child in children]
    return compiled.all(subscription_id=subscription.pk)


def _compiled_children(model, columns: tuple[str, ...]) -> tuple[tuple[str, ...], CompiledQuery]:
    """The columns and the compiled query of one kind of `_children` (the model's order)."""
    query = CompiledQuery(
        lambda subscription_id: model.objects.filter(subscription_id=subscription_id).values_list(
            *columns
        ),
        subscription_id=-7_777_777,
    )
    return columns, query


_CHILDREN = {
    "services": _compiled_children(OnboardingService, ("kind", "completed_at", "price")),
    "addons": _compiled_children(AddOn, ("kind", "quantity", "price", "started_at", "ends_at")),
}


def subscription_snapshot(
    subscription: Subscription,
    *,
    payments: list[Payment] | None = None,
    credit_balance: Decimal = Decimal("0"),
    seats: tuple[SeatSnapshot, ...] = (),
    changes: tuple[ChangeEvent, ...] = (),
) -> SubscriptionSnapshot:
    """The engine's view of a subscription. Pass `payments` to reuse rows already loaded;
    they must carry the `has_open_dispute` annotation (see `snapshot_payments_of`).
    `credit_balance` is read only where the policy pays credit out at closure, `seats` and
    `changes` where it has seat rules or limits (`account_history.snapshot_extras`).
    A subscription read through `with_snapshot_payments` brings its payments along."""
    if payments is not None:
        payment_snapshots = tuple(
            _payment_snapshot(
                p.pk,
                p.kind,
                p.amount,
                p.paid_at,
                p.tax,
                p.amount_refunded,
                getattr(p, "has_open_dispute", False),
                p.period_start,
                p.period_end,
            )
            for p in payments
        )
    elif hasattr(subscription, "payment_rows"):
        payment_snapshots = tuple(
            _payment_snapshot_from_json(*row) for row in subscription.payment_rows or ()
        )
    else:
        payment_snapshots = snapshot_payments(subscription)
    plan = subscription.plan
    interval = Interval.YEAR if plan.interval == Interval.YEAR else Interval.MONTH
    return SubscriptionSnapshot(
        currency=plan.currency,
        interval=interval,
        price=plan.price,
        subscribed_at=subscription.started_at,
        trial_end=subscription.trial_end,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        payments=payment_snapshots,
        services=tuple(
            ServiceSnapshot(ServiceKind(kind), completed_at, price)
            for kind, completed_at, price in _children(subscription, "services")
        ),
        addons=tuple(AddOnSnapshot(*row) for row in _children(subscription, "addons")),
        discount_percent=(
            Decimal("0") if subscription.discount_void else Decimal(subscription.discount_percent)
        ),
        status=subscription.status,
        suspended_for_misuse=subscription.workspace.suspension_reason == "misuse",
        channel=Channel(subscription.purchase_channel),
        payment_method=PaymentMethod(subscription.payment_method),
        country=subscription.workspace.country.upper(),
        plan_code=plan.code,
        commitment_end=subscription.commitment_end,
        last_used_at=subscription.workspace.last_activity_at,
        credit_balance=credit_balance,
        seat_price=plan.seat_price,
        seats=seats,
        changes=changes,
    )


def snapshot_payments(subscription: Subscription) -> tuple[PaymentSnapshot, ...]:
    """The engine's view of the subscription's succeeded payments (the quote's and the
    submit's hot path: compiled once, see `backoffice.compiled`, and read as the columns the
    snapshot takes, not as `Payment` objects, whose building cost more than the query)."""
    rows = _SNAPSHOT_PAYMENTS.all(subscription_id=subscription.pk)
    return tuple(_payment_snapshot(*row) for row in rows)


# What a PaymentSnapshot takes from a payment row, in `_payment_snapshot`'s order.
_PAYMENT_COLUMNS = (
    "pk",
    "kind",
    "amount",
    "paid_at",
    "tax",
    "amount_refunded",
    "has_open_dispute",
    "period_start",
    "period_end",
)


_AMOUNT_COLUMNS = frozenset({"amount", "tax", "amount_refunded"})


def _payment_snapshot_from_json(
    pk, kind, amount, paid_at, tax, refunded, disputed, period_start, period_end
) -> PaymentSnapshot:
    """A `with_snapshot_payments` row: amounts as text, moments as ISO 8601 (UTC)."""
    return _payment_snapshot(
        pk,
        kind,
        Decimal(amount),
        datetime.fromisoformat(paid_at),
        Decimal(tax),
        Decimal(refunded),
        disputed,
        None if period_start is None else datetime.fromisoformat(period_start),
        None if period_end is None else datetime.fromisoformat(period_end),
    )


def _payment_snapshot(
    pk, kind, amount, paid_at, tax, refunded, disputed, period_start, period_end
) -> PaymentSnapshot:
    return PaymentSnapshot(
        ref=str(pk),
        kind=PaymentKind(kind),
        amount=amount,
        paid_at=paid_at,
        tax=tax,
        refunded=refunded,
        disputed=bool(disputed),
        period_start=period_start,
        period_end=period_end,
    )


def snapshot_payments_of(subscription_ids: list[int]):
    """`snapshot_payments` for many subscriptions in one query (group by subscription_id)."""
    open_dispute = Dispute.objects.filter(payment=OuterRef("pk"), status=Dispute.Status.OPEN)
    return (
        Payment.objects.filter(
            subscription_id__in=subscription_ids, status__in=REFUNDABLE_PAYMENT_STATUSES
        )
        .annotate(has_open_dispute=Exists(open_dispute))
        .order_by("paid_at", "pk")
    )


_SNAPSHOT_PAYMENTS = CompiledQuery(
    lambda subscription_id: snapshot_payments_of([subscription_id]).values_list(*_PAYMENT_COLUMNS),
    subscription_id=-7_777_777,
)


def quote_for_subscription(
    subscription: Subscription, *, at: datetime, payments: list[Payment] | None = None
) -> Quote:
    """The live quote: what cancelling `subscription` at `at` would do, under its policy."""
    return quote_with_snapshot(subscription, at=at, payments=payments)[0]


def quote_with_snapshot(
    subscription: Subscription, *, at: datetime, payments: list[Payment] | None = None
) -> tuple[Quote, SubscriptionSnapshot]:
    """`quote_for_subscription` and the snapshot it was computed from (stored with a
    request, so the snapshot is read once, not once for the quote and again to keep it)."""
    policy = subscription.policy
    rules = policy_rules(policy)
    if subscription.status == Subscription.Status.PAUSED:
        snapshot = subscription_snapshot(
            subscription, payments=payments, **snapshot_extras(subscription, rules)
        )
        quote = quote_while_paused(
            quote_cancellation=quote_cancellation,
            rules=rules,
            policy_label=policy.label,
            snapshot=snapshot,
            paused_at=subscription.paused_at,
            resumes_at=subscription.resumes_at,
            at=max(at, subscription.paused_at),
        )
        return quote, snapshot
    balance = Decimal("0")
    if rules.credit is not None and rules.credit.paid_out_at_closure:
        balance = (
            CreditEntry.objects.filter(
                workspace_id=subscription.workspace_id, currency=subscription.plan.currency
            ).aggregate(total=Sum("amount"))["total"]
            or balance
        )
    snapshot = subscription_snapshot(
        subscription,
        payments=payments,
        credit_balance=balance,
        **snapshot_extras(subscription, rules),
    )
    quote = quote_cancellation(
        rules=rules,
        policy_label=policy.label,
        snapshot=snapshot,
        at=max(at, subscription.started_at),
    )
    return quote, snapshot


def subscription_for_quote(pk: int) -> Subscription | None:
    """A subscription with everything the snapshot needs loaded in one go."""
    return (
        Subscription.objects.select_related("plan", "policy", "workspace")
        .prefetch_related("services", "addons")
        .filter(pk=pk)
        .first()
    )
