"""Policy rules: what a refund & cancellation policy says, as data.

Every rule carries the clause of the policy text it comes from and, where the text is
ambiguous, the reading we chose (`reading`), so a policy author can see and change it.
`PolicyRules.from_dict(policy.rules)` / `to_dict()` convert to and from the JSON stored on
`billing.RefundPolicy`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.errors import DomainError
from billing.money import MINOR_UNITS


class PaymentKind(StrEnum):
    SUBSCRIPTION = "subscription"
    IMPLEMENTATION_FEE = "implementation_fee"
    ACTIVATION_FEE = "activation_fee"
    ADD_ON = "add_on"
    ONE_TIME_PURCHASE = "one_time_purchase"
    UPGRADE_PRORATION = "upgrade_proration"
    INTERNAL_MEMBERSHIP = "internal_membership"


class ServiceKind(StrEnum):
    PRELIMINARY_CALL = "preliminary_call"
    ONBOARDING = "onboarding"
    FOLLOW_UP_CALL = "follow_up_call"
    CUSTOMIZATION = "customization"


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class Proration(StrEnum):
    NONE = "none"
    BY_MINUTE = "by_minute"
    BY_DAY = "by_day"
    WHOLE_MONTHS = "whole_months"  # whole months remaining, the current one included
    WHOLE_MONTHS_EXCEPT_CURRENT = "whole_months_except_current"


class Destination(StrEnum):
    ORIGINAL_PAYMENT_METHOD = "original_payment_method"
    CUSTOMER_CREDIT = "customer_credit"
    NONE = "none"


class Effective(StrEnum):
    IMMEDIATELY = "immediately"
    PERIOD_END = "period_end"


class Fallback(StrEnum):
    FREE_PLAN = "free_plan"
    DISABLED = "disabled"
    EXPIRED = "expired"


class WindowFrom(StrEnum):
    """Where a refund window starts."""

    SIGNUP = "signup"  # the subscription's start (a free trial's activation included)
    FIRST_PAYMENT = "first_payment"  # the first payment (the first paid signup)
    TRIAL_END = "trial_end"  # the end of the free trial; the signup without one


class DayCount(StrEnum):
    """How "within N days" is counted."""

    # Inclusive, by the calendar: open until the end of the Nth day after the start's day,
    # in the policy's time zone (from 1 January 10:00, 30 days run to 31 January 23:59).
    CALENDAR_DAYS = "calendar_days"
    # Inclusive, by elapsed time: open until N x 24 hours after the start, that instant too.
    ELAPSED = "elapsed"


class AccessEnd(StrEnum):
    """Where access ends when a cancellation takes effect at the period end."""

    INSTANT = "instant"  # at the period's end instant
    END_OF_DAY = "end_of_day"  # at the end of the day the period ends on (policy time zone)


@dataclass(frozen=True)
class Money:
    """A fixed amount in a policy, with its currency: never applied in another one."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency {self.currency!r}")
        if self.amount < 0:
            raise ValueError(f"a fixed amount cannot be negative ({self.amount})")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class NoAmountInCurrency(DomainError):
    """A rule's fixed amount is not defined in the subscription's currency: the quote is
    refused rather than applying it in another currency (no silent conversion)."""


def amount_in(amounts: tuple[Money, ...], currency: str) -> Decimal | None:
    """The amount a rule defines for `currency`: zero when it defines no amount at all,
    None when it defines amounts but none in `currency` (the quote then refuses)."""
    if not amounts:
        return Decimal("0")
    for money in amounts:
        if money.currency == currency:
            return money.amount
    return None


def amount_for(amounts: tuple[Money, ...], currency: str, *, rule: str, clause: Clause) -> Decimal:
    """`amount_in`, or `NoAmountInCurrency` naming the rule and its clause."""
    amount = amount_in(amounts, currency)
    if amount is None:
        defined = ", ".join(str(money) for money in amounts)
        raise NoAmountInCurrency(
            f"{clause.ref}: this policy version defines the amount only as {defined}, "
            f"not in {currency}; it is never converted",
            field=rule,
        )
    return amount


@dataclass(frozen=True)
class Clause:
    """Where a rule comes from: `ref` names the section, `reading` explains our interpretation."""

    ref: str
    reading: str = ""


@dataclass(frozen=True)
class RefundWindow:
    """Inside the window, these payment kinds are refunded (minus service deductions)."""

    days: int
    counted_from: WindowFrom
    refundable_kinds: tuple[PaymentKind, ...]
    clause: Clause
    applies_after_trial: bool = True  # connex: "30-Day Refund No Trial" sets this to False
    counted: DayCount = DayCount.CALENDAR_DAYS


@dataclass(frozen=True)
class ServiceDeduction:
    """Deduction from the first subscription payment once `service` is completed.

    `amount=None` means nothing of that payment is refunded; otherwise one amount per
    currency the version defines. The largest deduction among completed services applies
    (the schedule is cumulative, not additive).
    """

    service: ServiceKind
    amount: tuple[Money, ...] | None
    clause: Clause


@dataclass(frozen=True)
class TrialRule:
    """What a cancellation after a trial refunds, per plan interval."""

    monthly_refund: bool
    annual_prorate_days: int | None  # prorate for the first N days after the trial, then none
    cancel_during_trial_charges_nothing: bool
    clause: Clause
    # True: after a trial this rule (not the window or proration rules) decides the refund.
    governs_after_trial: bool = False
    annual_prorate_counted: DayCount = DayCount.CALENDAR_DAYS


@dataclass(frozen=True)
class ProrationRule:
    """Outside the refund window: how unused subscription time is refunded.

    `interval`: which plans it applies to (None = all). `phase`: `first_year` (before the
    first anniversary of signup), `after_first_year`, or `any`. `fixed_deduction` (one
    amount per currency) is taken off the prorated amount (sync-with-connex's activation
    fee); `fixed_deduction_kind` names the payment kind the deduction stands for: where such
    a payment was charged on its own, the fee is not deducted a second time.
    """

    interval: Interval | None
    phase: str
    mode: Proration
    fixed_deduction: tuple[Money, ...]
    fixed_deduction_label: str
    clause: Clause
    # Time-based payment kinds the proration applies to; other kinds are not refunded.
    kinds: tuple[PaymentKind, ...] = (PaymentKind.SUBSCRIPTION,)
    fixed_deduction_kind: PaymentKind | None = None


@dataclass(frozen=True)
class NoticeRule:
    days: int
    clause: Clause


@dataclass(frozen=True)
class RetentionRule:
    after_end_days: int | None  # data kept this long after the subscription ends
    inactivity_days: int | None  # account deleted after this long without activity
    clause: Clause


@dataclass(frozen=True)
class DunningRule:
    retry_after_days: tuple[int, ...]  # counted from the first failed charge
    restrict_paid_features: bool
    suspend_after_days: int  # grace period, counted from the first failed charge
    expire_after_days: int
    refund_on_expiry: bool
    discount_void_on_expiry: bool
    can_reinstate: bool
    clause: Clause


@dataclass(frozen=True)
class ChangeRule:
    """Upgrades and downgrades."""

    upgrade_effective: Effective
    upgrade_proration: Proration
    downgrade_effective: Effective
    downgrade_refunds_current_period: bool
    clause: Clause
    downgrade_proration: Proration = Proration.BY_MINUTE  # an immediate downgrade's credit


@dataclass(frozen=True)
class Refusal:
    """A situation in which the policy refuses any refund."""

    code: str  # "open_chargeback", "suspended_for_misuse"
    message: str
    clause: Clause


@dataclass(frozen=True)
class PolicyRules:
    name: str
    currency: str
    refund_destination: Destination
    destination_choice_allowed: bool  # may an agent choose customer credit instead?
    cancellation_effective: Effective
    cancellation_effective_with_refund: Effective  # when a prorated refund is paid out
    access_until: Effective
    fallback: Fallback
    never_refunded_kinds: tuple[PaymentKind, ...]
    refund_window: RefundWindow | None
    service_deductions: tuple[ServiceDeduction, ...]
    trial: TrialRule | None
    proration: tuple[ProrationRule, ...]
    cancellation_notice: NoticeRule | None
    downgrade_notice: NoticeRule | None
    retention: RetentionRule
    dunning: DunningRule
    changes: ChangeRule
    refusals: tuple[Refusal, ...]
    case_by_case_review: bool
    order_packs_reset_at_renewal: bool
    clauses: dict[str, Clause] = field(default_factory=dict)  # general clauses, by key
    # Days named by the text (windows, "the 15th is the last day") are days here.
    time_zone: str = "UTC"
    access_ends: AccessEnd = AccessEnd.INSTANT
    # The unpaid current period is still due on cancellation ("responsible for the current
    # month's payment"); None: the text says nothing, nothing more is due.
    unpaid_period_due: Clause | None = None

    # --- (de)serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone: unknown time zone {self.time_zone!r}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyRules:
        return _from_jsonable(cls, _upgrade_stored(data))


LEGACY_WINDOW_FROM = {"purchase": WindowFrom.TRIAL_END.value}


def _upgrade_stored(data: Any) -> Any:
    """Rules stored before fixed amounts carried a currency: a bare amount was meant in
    the policy's `currency`; `counted_from: purchase` meant the trial end (or signup)."""
    if not isinstance(data, dict):
        return data
    currency = data.get("currency")

    def money(value: Any) -> Any:
        """A bare amount becomes one in the policy's currency; a zero one, no amount."""
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [] if Decimal(str(value)) == 0 else [{"amount": value, "currency": currency}]
        return value

    data = dict(data)
    if isinstance(data.get("service_deductions"), list):
        data["service_deductions"] = [
            {**d, "amount": money(d.get("amount"))} if isinstance(d, dict) else d
            for d in data["service_deductions"]
        ]
    if isinstance(data.get("proration"), list):
        data["proration"] = [
            {**r, "fixed_deduction": money(r.get("fixed_deduction"))} if isinstance(r, dict) else r
            for r in data["proration"]
        ]
    window = data.get("refund_window")
    if isinstance(window, dict) and window.get("counted_from") in LEGACY_WINDOW_FROM:
        data["refund_window"] = {
            **window,
            "counted_from": LEGACY_WINDOW_FROM[window["counted_from"]],
        }
    return data


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    return value


def _from_jsonable(tp: Any, data: Any) -> Any:
    import types
    import typing

    hints = typing.get_type_hints(tp) if dataclasses.is_dataclass(tp) else None
    if hints is not None:
        if not isinstance(data, dict):
            raise ValueError(f"{tp.__name__}: expected an object")
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = _from_jsonable(hints[f.name], data[f.name])
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{tp.__name__}.{f.name} is required")
        return tp(**kwargs)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        return _from_jsonable(next(a for a in args if a is not type(None)), data)
    if origin is tuple:
        return tuple(_from_jsonable(args[0], v) for v in data)
    if origin is dict:
        return {k: _from_jsonable(args[1], v) for k, v in data.items()}
    if tp is Decimal:
        return Decimal(str(data))
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return tp(data)
    return data
