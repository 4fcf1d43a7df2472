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
    SIGNUP = "signup"
    PURCHASE = "purchase"


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


@dataclass(frozen=True)
class ServiceDeduction:
    """Deduction from the first subscription payment once `service` is completed.

    `amount=None` means nothing of that payment is refunded. The largest deduction among
    completed services applies (the schedule is cumulative, not additive).
    """

    service: ServiceKind
    amount: Decimal | None
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


@dataclass(frozen=True)
class ProrationRule:
    """Outside the refund window: how unused subscription time is refunded.

    `interval`: which plans it applies to (None = all). `phase`: `first_year` (before the
    first anniversary of signup), `after_first_year`, or `any`. `fixed_deduction` is taken
    off the prorated amount (sync-with-connex's activation fee).
    """

    interval: Interval | None
    phase: str
    mode: Proration
    fixed_deduction: Decimal
    fixed_deduction_label: str
    clause: Clause
    # Time-based payment kinds the proration applies to; other kinds are not refunded.
    kinds: tuple[PaymentKind, ...] = (PaymentKind.SUBSCRIPTION,)


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

    # --- (de)serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyRules:
        return _from_jsonable(cls, data)


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
