"""Policy rules: what a refund & cancellation policy says, as data.

Every rule carries the clause of the policy text it comes from and, where the text is
ambiguous, the reading we chose (`reading`), so a policy author can see and change it.
`PolicyRules.from_dict(policy.rules)` / `to_dict()` convert to and from the JSON stored on
`billing.RefundPolicy` (strictly: see `parsing.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing.errors import DomainError
from billing.money import MINOR_UNITS

from .parsing import from_jsonable, to_jsonable


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
    EACH_PAYMENT = "each_payment"  # every payment opens its own window (renewals too)


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
        if not self.currency:
            raise ValueError("currency: a fixed amount needs a currency")
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"currency: unknown currency {self.currency!r}")
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


class Phase(StrEnum):
    """Where in the subscription's life `at` falls (first year: before the first
    anniversary of signup; first period: the first paid billing period)."""

    ANY = "any"
    FIRST_YEAR = "first_year"
    AFTER_FIRST_YEAR = "after_first_year"
    FIRST_PERIOD = "first_period"
    RENEWAL = "renewal"


class RefusalCode(StrEnum):
    OPEN_CHARGEBACK = "open_chargeback"
    SUSPENDED_FOR_MISUSE = "suspended_for_misuse"


class Channel(StrEnum):
    """Where the subscription was bought."""

    WEB = "web"
    SALES = "sales"
    RESELLER = "reseller"
    APP_STORE = "app_store"
    RETAIL = "retail"


class PaymentMethod(StrEnum):
    CARD = "card"
    INVOICE = "invoice"
    DIRECT_DEBIT = "direct_debit"


class Region(StrEnum):
    """Named country groups a condition can use instead of listing countries."""

    EU = "eu"
    EEA = "eea"
    UK = "uk"


class TrialState(StrEnum):
    IN_TRIAL = "in_trial"  # `at` is before the trial end
    AFTER_TRIAL = "after_trial"  # there was a trial and it is over
    NO_TRIAL = "no_trial"


class Initiator(StrEnum):
    """Who ends the subscription: the customer, or the provider without cause."""

    CUSTOMER = "customer"
    PROVIDER = "provider"


class ChargeKind(StrEnum):
    # A share of the price of the billing periods left in the commitment after the current one.
    REMAINING_COMMITMENT = "remaining_commitment"
    # Usage accrued in arrears (seat-days, metered use) and not yet billed.
    UNBILLED_USAGE = "unbilled_usage"


class RetentionFrom(StrEnum):
    END = "end"  # the subscription's end
    REQUEST = "request"  # the cancellation request


@dataclass(frozen=True)
class Clause:
    """Where a rule comes from: `ref` names the section, `reading` explains our interpretation."""

    ref: str
    reading: str = ""


@dataclass(frozen=True)
class Condition:
    """When a variant applies. Every criterion given must hold; a list matches any of its
    values; an empty list or null matches everything. `countries` (ISO 3166-1 alpha-2) and
    `regions` together name the places that match."""

    channels: tuple[Channel, ...] = ()
    payment_methods: tuple[PaymentMethod, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    intervals: tuple[Interval, ...] = ()
    plans: tuple[str, ...] = ()  # plan codes
    committed: bool | None = None  # has a commitment term beyond the current period
    trial: tuple[TrialState, ...] = ()
    phase: Phase = Phase.ANY
    used_since_payment: bool | None = None  # any activity since the latest payment
    past_due: bool | None = None
    initiated_by: tuple[Initiator, ...] = ()

    def __post_init__(self) -> None:
        for code in self.countries:
            if not (isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper()):
                raise ValueError(f"countries: {code!r} is not an ISO 3166-1 alpha-2 code (e.g. DE)")


@dataclass(frozen=True)
class RefundWindow:
    """Inside the window, these payment kinds are refunded (minus service deductions).

    The window closes `days` after its start or at the first renewal if
    `until_first_renewal`, whichever comes first (`days=null`: only the renewal limit, i.e.
    the first billing period). `counted_from=each_payment` gives every payment its own
    window, counted from when it was paid. `prorated_by` refunds the subscription's unused
    time inside the window instead of the whole payment.
    """

    days: int | None
    counted_from: WindowFrom
    refundable_kinds: tuple[PaymentKind, ...]
    clause: Clause
    applies_after_trial: bool = True  # connex: "30-Day Refund No Trial" sets this to False
    counted: DayCount = DayCount.CALENDAR_DAYS
    until_first_renewal: bool = False
    prorated_by: Proration | None = None  # null: refunded in full inside the window

    def __post_init__(self) -> None:
        if self.days is None and not self.until_first_renewal:
            raise ValueError("days: null (no day limit) needs until_first_renewal: true")
        if self.counted_from == WindowFrom.EACH_PAYMENT and self.until_first_renewal:
            raise ValueError("until_first_renewal: not with counted_from each_payment")
        if self.prorated_by == Proration.NONE:
            raise ValueError("prorated_by: none refunds nothing; leave the window out instead")


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
    phase: Phase
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
class RetainedData:
    """Part of the data kept on another horizon (backups, credentials); `days=null`: kept
    indefinitely."""

    what: str
    days: int | None
    clause: Clause


@dataclass(frozen=True)
class RetentionRule:
    after_end_days: int | None  # data kept this long after the subscription ends
    inactivity_days: int | None  # account deleted after this long without activity
    clause: Clause
    counted_from: RetentionFrom = RetentionFrom.END
    partial: tuple[RetainedData, ...] = ()


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
    # Switching the billing interval: null lets the upgrade / downgrade rules decide;
    # `period_end` waits for the renewal (or the commitment's end, if later).
    to_longer_interval: Effective | None = None
    to_shorter_interval: Effective | None = None


@dataclass(frozen=True)
class Refusal:
    """A situation in which the policy refuses any refund."""

    code: RefusalCode
    message: str
    clause: Clause


@dataclass(frozen=True)
class ChargeRule:
    """Charged at cancellation (added to `amount_due`): `percent` of what `kind` measures."""

    kind: ChargeKind
    percent: Decimal
    label: str
    clause: Clause

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.percent <= Decimal(100):
            raise ValueError("percent: must be between 0 and 100")


@dataclass(frozen=True)
class CreditRule:
    """The life of customer credit the policy gives: when it expires (`expires_after_days`
    from the cancellation, or when the paid plan ends), whether it has cash value, and
    whether a balance left when the subscription closes is paid out."""

    expires_after_days: int | None
    expires_with_paid_plan: bool
    cash_value: bool
    paid_out_at_closure: bool
    clause: Clause

    def __post_init__(self) -> None:
        if self.paid_out_at_closure and not self.cash_value:
            raise ValueError("paid_out_at_closure: credit without cash value cannot be paid out")


@dataclass(frozen=True)
class Variant:
    """Rules that replace the policy's own where `when` holds. Variants are tried in order;
    per rule field, the first matching variant that sets it wins, so an EU window and a
    commitment fee from two variants compose. `rules` holds `PolicyRules` fields only."""

    name: str
    when: Condition
    rules: dict[str, Any] = field(metadata={"overrides": True})
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
    charges: tuple[ChargeRule, ...] = ()
    credit: CreditRule | None = None
    access_grace_days: int = 0  # read access kept this long after the end
    timing_choice: bool = False  # the customer may end now (refund) or at the period end
    variants: tuple[Variant, ...] = ()
    # Days named by the text (windows, "the 15th is the last day") are days here.
    time_zone: str = "UTC"
    access_ends: AccessEnd = AccessEnd.INSTANT
    # The unpaid current period is still due on cancellation ("responsible for the current
    # month's payment"); None: the text says nothing, nothing more is due.
    unpaid_period_due: Clause | None = None

    # --- (de)serialisation -------------------------------------------------
    # Fields a variant may not replace: they identify the policy or hold the variants.
    FIXED_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "currency", "clauses", "variants"})

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone: unknown time zone {self.time_zone!r}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyRules:
        """Strict: raises `parsing.RulesError` (a ValueError) naming the bad field."""
        return from_jsonable(cls, _upgrade_stored(data))


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
