"""Scenario files for the simulator (`manage.py quote_refund`, the admin "Policy simulator").

A scenario names a policy (`slug` or `slug@version`) and describes a subscription and a
cancellation moment; `parse_scenario` turns the JSON object into a `Scenario` or raises
`ScenarioError` naming the first bad field (e.g. `payments[1].kind`; the field readers are
in `scenario_fields`, the subscription's attributes in `scenario_attributes`). Pure.
Datetimes are ISO 8601; without an offset they are read as UTC.

Strict: an unknown or misspelled key is an error (a `refund` key silently ignored would
change the quote), and so are values that contradict each other (a refund larger than its
payment, a trial ending before the subscription starts, a period starting before it).
A scenario with `change_to` and `change_at` (instead of `cancel_at`) quotes a plan change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing.money import MINOR_UNITS, ZERO

from .cancellation import quote_cancellation
from .plan_change import quote_plan_change
from .rules import (
    Destination,
    Effective,
    Initiator,
    Interval,
    PaymentKind,
    PolicyRules,
    ServiceKind,
)
from .scenario_attributes import ATTRIBUTE_KEYS, attributes, attributes_json
from .scenario_fields import (
    ScenarioError,
    as_list,
    as_object,
    decimal,
    enum_value,
    known_keys,
    moment,
    money,
    required,
    text,
)
from .snapshot import PaymentSnapshot, RefundSnapshot, ServiceSnapshot, SubscriptionSnapshot

# The shipped example (in `scenarios/`) the admin simulator starts from, per preset.
EXAMPLES = {
    "connex": "connex-preliminary-call.json",
    "sync-with-connex": "sync-with-connex-annual-first-year.json",
    "orgix": "orgix-monthly.json",
    "prorated-credit": "prorated-credit-example.json",
    "example-slack": "examples/example-slack.json",
    "example-adobe": "examples/example-adobe.json",
    "example-atlassian": "examples/example-atlassian.json",
    "example-github": "examples/example-github.json",
    "example-microsoft-365": "examples/example-microsoft-365.json",
    "example-basecamp": "examples/example-basecamp.json",
    "example-google-workspace": "examples/example-google-workspace.json",
}


TOP_KEYS = (
    "policy",
    "currency",
    "plan",
    "subscribed_at",
    "trial_end",
    "period_start",
    "period_end",
    "payments",
    "refunds",
    "services",
    "discount_percent",
    "suspended_for_misuse",
    "destination",
    "cancel_at",
    "change_to",
    "change_at",
    *ATTRIBUTE_KEYS,  # what conditions, charges, seat rules and limits read
    "timing",
    "initiated_by",
)
PLAN_KEYS = ("interval", "price", "name")
PAYMENT_KEYS = (
    "ref",
    "kind",
    "amount",
    "paid_at",
    "tax",
    "refunded",
    "disputed",
    "period_start",
    "period_end",
)
REFUND_KEYS = ("amount", "payment")
SERVICE_KEYS = ("kind", "completed_at", "price")


@dataclass(frozen=True)
class PlanChangeTo:
    """The plan a scenario changes to (`change_to`)."""

    price: Decimal
    interval: Interval
    plan: str = ""


@dataclass(frozen=True)
class Scenario:
    policy_slug: str
    policy_version: int | None  # None: the latest version
    snapshot: SubscriptionSnapshot
    cancel_at: datetime  # the moment quoted: the cancellation, or the plan change
    destination: Destination | None = None
    change_to: PlanChangeTo | None = None  # set: quote a plan change at `cancel_at`
    plan_name: str = ""  # `plan.name`: how a plan-change quote names the current plan
    timing: Effective | None = None  # period_end: the customer keeps the time instead
    initiated_by: Initiator = Initiator.CUSTOMER


def parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("the scenario must be a JSON object", field="scenario")
    known_keys(data, TOP_KEYS)
    slug, version = parse_policy_ref(required(data, "policy"))
    currency = required(data, "currency")
    if currency not in MINOR_UNITS:
        raise ScenarioError(
            f"unknown currency {currency!r} (expected one of {', '.join(MINOR_UNITS)})",
            field="currency",
        )
    plan = required(data, "plan")
    if not isinstance(plan, dict):
        raise ScenarioError("expected an object with interval and price", field="plan")
    known_keys(plan, (*PLAN_KEYS, "code"), "plan.")
    interval = enum_value(Interval, required(plan, "interval", "plan."), "plan.interval")
    price = money(required(plan, "price", "plan."), currency, "plan.price")
    subscribed_at = moment(required(data, "subscribed_at"), "subscribed_at")
    trial_end = data.get("trial_end")
    trial_end = None if trial_end is None else moment(trial_end, "trial_end")
    if trial_end is not None and trial_end < subscribed_at:
        raise ScenarioError("the trial ends before subscribed_at", field="trial_end")
    period_start = moment(required(data, "period_start"), "period_start")
    if period_start < subscribed_at:
        raise ScenarioError("the period starts before subscribed_at", field="period_start")
    period_end = moment(required(data, "period_end"), "period_end")
    if period_end <= period_start:
        raise ScenarioError("must be after period_start", field="period_end")
    cancel_at, change_to = _moment_and_change(data, currency, subscribed_at)
    payments = tuple(
        _payment(item, index, currency, subscribed_at)
        for index, item in enumerate(as_list(data, "payments"))
    )
    refs: set[str] = set()
    for index, payment in enumerate(payments):
        if payment.ref in refs:
            raise ScenarioError(f"duplicate ref {payment.ref!r}", field=f"payments[{index}].ref")
        refs.add(payment.ref)
    refunds = tuple(
        _refund(item, index, currency, refs) for index, item in enumerate(as_list(data, "refunds"))
    )
    _refunds_fit(payments, refunds)
    services = tuple(
        _service(item, index, currency) for index, item in enumerate(as_list(data, "services"))
    )
    discount = decimal(data.get("discount_percent", "0"), "discount_percent")
    if not ZERO <= discount <= 100:
        raise ScenarioError("must be between 0 and 100", field="discount_percent")
    misuse = data.get("suspended_for_misuse", False)
    if not isinstance(misuse, bool):
        raise ScenarioError("must be true or false", field="suspended_for_misuse")
    destination = data.get("destination")
    destination = (
        None if destination is None else enum_value(Destination, destination, "destination")
    )
    timing = data.get("timing")
    timing = None if timing is None else enum_value(Effective, timing, "timing")
    initiated_by = enum_value(Initiator, data.get("initiated_by", "customer"), "initiated_by")
    snapshot = SubscriptionSnapshot(
        currency=currency,
        interval=interval,
        price=price,
        subscribed_at=subscribed_at,
        trial_end=trial_end,
        period_start=period_start,
        period_end=period_end,
        payments=payments,
        refunds=refunds,
        services=services,
        discount_percent=discount,
        suspended_for_misuse=misuse,
        **attributes(data, currency, subscribed_at),
    )
    plan_name = text(plan.get("name", ""), "plan.name")
    return Scenario(
        slug,
        version,
        snapshot,
        cancel_at,
        destination,
        change_to,
        plan_name,
        timing,
        initiated_by,
    )


def _moment_and_change(
    data: dict, currency: str, subscribed_at: datetime
) -> tuple[datetime, PlanChangeTo | None]:
    """`cancel_at`, or `change_to` with `change_at` (one or the other)."""
    if "change_to" in data or "change_at" in data:
        if "cancel_at" in data:
            raise ScenarioError(
                "a scenario quotes a cancellation (cancel_at) or a plan change "
                "(change_to, change_at), not both",
                field="cancel_at",
            )
        target = as_object(required(data, "change_to"), "change_to")
        known_keys(target, PLAN_KEYS, "change_to.")
        change_to = PlanChangeTo(
            price=money(required(target, "price", "change_to."), currency, "change_to.price"),
            interval=enum_value(
                Interval, required(target, "interval", "change_to."), "change_to.interval"
            ),
            plan=text(target.get("name", ""), "change_to.name"),
        )
        at = moment(required(data, "change_at"), "change_at")
        if at < subscribed_at:
            raise ScenarioError("the plan change is before subscribed_at", field="change_at")
        return at, change_to
    at = moment(required(data, "cancel_at"), "cancel_at")
    if at < subscribed_at:
        raise ScenarioError("the cancellation is before subscribed_at", field="cancel_at")
    return at, None


def _refunds_fit(payments: tuple[PaymentSnapshot, ...], refunds: tuple[RefundSnapshot, ...]):
    """No refund larger than what is left of its payment (or, untied, of all payments)."""
    left = {p.ref: p.amount - p.refunded for p in payments}
    untied_left = sum(left.values(), ZERO)
    for index, refund in enumerate(refunds):
        name = f"refunds[{index}].amount"
        if refund.payment_ref is not None:
            if refund.amount > left[refund.payment_ref]:
                raise ScenarioError(
                    f"{refund.amount} is more than what is left of payment "
                    f"{refund.payment_ref!r} ({left[refund.payment_ref]})",
                    field=name,
                )
            left[refund.payment_ref] -= refund.amount
            untied_left -= refund.amount
        else:
            if refund.amount > untied_left:
                raise ScenarioError(
                    f"{refund.amount} is more than what is left of all payments ({untied_left})",
                    field=name,
                )
            untied_left -= refund.amount


def quote_scenario(rules: PolicyRules, policy_label: str, scenario: Scenario):
    """The scenario's quote: a plan change if it has `change_to`, else a cancellation."""
    if scenario.change_to is not None:
        return quote_plan_change(
            rules=rules,
            policy_label=policy_label,
            snapshot=scenario.snapshot,
            new_price=scenario.change_to.price,
            new_interval=scenario.change_to.interval,
            new_plan=scenario.change_to.plan,
            old_plan=scenario.plan_name,
            at=scenario.cancel_at,
        )
    return quote_cancellation(
        rules=rules,
        policy_label=policy_label,
        snapshot=scenario.snapshot,
        at=scenario.cancel_at,
        destination=scenario.destination,
        timing=scenario.timing,
        initiated_by=scenario.initiated_by,
    )


def parse_policy_ref(value: Any) -> tuple[str, int | None]:
    """`connex` → ("connex", None); `connex@2` → ("connex", 2)."""
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError("expected a policy slug, optionally slug@version", field="policy")
    slug, _, version = value.strip().partition("@")
    if not version:
        return slug, None
    if not version.isdigit():
        raise ScenarioError(f"bad version in {value!r}: expected slug@N", field="policy")
    return slug, int(version)


def _payment(item: Any, index: int, currency: str, subscribed_at: datetime) -> PaymentSnapshot:
    name = f"payments[{index}]"
    item = as_object(item, name)
    known_keys(item, PAYMENT_KEYS, f"{name}.")
    kind = enum_value(PaymentKind, required(item, "kind", f"{name}."), f"{name}.kind")
    amount = money(required(item, "amount", f"{name}."), currency, f"{name}.amount")
    tax = money(item.get("tax", "0"), currency, f"{name}.tax")
    if tax > amount:
        raise ScenarioError("cannot exceed the amount (amounts include tax)", field=f"{name}.tax")
    refunded = money(item.get("refunded", "0"), currency, f"{name}.refunded")
    if refunded > amount:
        raise ScenarioError("cannot exceed the amount", field=f"{name}.refunded")
    disputed = item.get("disputed", False)
    if not isinstance(disputed, bool):
        raise ScenarioError("must be true or false", field=f"{name}.disputed")
    start, end = item.get("period_start"), item.get("period_end")
    start = None if start is None else moment(start, f"{name}.period_start")
    end = None if end is None else moment(end, f"{name}.period_end")
    if start is not None and start < subscribed_at:
        raise ScenarioError("the period starts before subscribed_at", field=f"{name}.period_start")
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise ScenarioError("period_start and period_end go together", field=f"{name}.{missing}")
    if start is not None and end is not None and end <= start:
        raise ScenarioError("must be after period_start", field=f"{name}.period_end")
    return PaymentSnapshot(
        ref=str(item.get("ref", index + 1)),
        kind=kind,
        amount=amount,
        paid_at=moment(required(item, "paid_at", f"{name}."), f"{name}.paid_at"),
        tax=tax,
        refunded=refunded,
        disputed=disputed,
        period_start=start,
        period_end=end,
    )


def _refund(item: Any, index: int, currency: str, refs: set[str]) -> RefundSnapshot:
    name = f"refunds[{index}]"
    item = as_object(item, name)
    known_keys(item, REFUND_KEYS, f"{name}.")
    amount = money(required(item, "amount", f"{name}."), currency, f"{name}.amount")
    payment = item.get("payment")
    if payment is not None and str(payment) not in refs:
        raise ScenarioError(f"no payment {payment!r} in payments", field=f"{name}.payment")
    return RefundSnapshot(amount=amount, payment_ref=None if payment is None else str(payment))


def _service(item: Any, index: int, currency: str) -> ServiceSnapshot:
    name = f"services[{index}]"
    item = as_object(item, name)
    known_keys(item, SERVICE_KEYS, f"{name}.")
    kind = enum_value(ServiceKind, required(item, "kind", f"{name}."), f"{name}.kind")
    done = item.get("completed_at")
    return ServiceSnapshot(
        kind=kind,
        completed_at=None if done is None else moment(done, f"{name}.completed_at"),
        price=money(item.get("price", "0"), currency, f"{name}.price"),
    )


def scenario_from_snapshot(
    policy_label: str, snapshot: SubscriptionSnapshot, cancel_at: datetime
) -> dict[str, Any]:
    """The scenario JSON for an existing subscription (admin: "start from a subscription")."""
    return {
        "policy": policy_label,
        "currency": snapshot.currency,
        "plan": {
            "interval": snapshot.interval.value,
            "price": str(snapshot.price),
            "code": snapshot.plan_code,
        },
        "subscribed_at": snapshot.subscribed_at.isoformat(),
        "trial_end": snapshot.trial_end.isoformat() if snapshot.trial_end else None,
        "period_start": snapshot.period_start.isoformat(),
        "period_end": snapshot.period_end.isoformat(),
        "payments": [
            {
                "ref": p.ref,
                "kind": p.kind.value,
                "amount": str(p.amount),
                "tax": str(p.tax),
                "paid_at": p.paid_at.isoformat(),
                "refunded": str(p.refunded),
                "disputed": p.disputed,
                "period_start": p.period_start.isoformat() if p.period_start else None,
                "period_end": p.period_end.isoformat() if p.period_end else None,
            }
            for p in snapshot.payments
        ],
        "refunds": [{"amount": str(r.amount), "payment": r.payment_ref} for r in snapshot.refunds],
        "services": [
            {
                "kind": s.kind.value,
                "completed_at": s.completed_at.isoformat() if s.completed_at else None,
                "price": str(s.price),
            }
            for s in snapshot.services
        ],
        "discount_percent": str(snapshot.discount_percent),
        "suspended_for_misuse": snapshot.suspended_for_misuse,
        **attributes_json(snapshot),
        "cancel_at": cancel_at.isoformat(),
    }
