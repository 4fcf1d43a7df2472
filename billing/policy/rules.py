"""Policy rules: what a refund & cancellation policy says, as data.

Every rule carries the clause of the policy text it comes from and, where the text is
ambiguous, the reading we chose (`reading`), so a policy author can see and change it.
`PolicyRules.from_dict(policy.rules)` / `to_dict()` convert to and from the JSON stored on
`billing.RefundPolicy` (strictly: see `codec.py`; earlier formats: `stored_rules.py`).
The enumerated values live in `enums.py` and are re-exported here, so rules and their
values import from one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .amounts import Money, NoAmountInCurrency, amount_for, amount_in
from .clauses import Clause
from .codec import from_json, to_json
from .enums import (
    AccessEnd,
    Channel,
    ChargebackOnLost,
    ChargebackOnOpen,
    ChargeKind,
    DayCount,
    Destination,
    Effective,
    Fallback,
    Initiator,
    Interval,
    LimitedChange,
    LimitPer,
    PaymentKind,
    PaymentMethod,
    Phase,
    Proration,
    RefusalCode,
    Region,
    RetentionFrom,
    SeatBilling,
    ServiceKind,
    TrialState,
    WindowFrom,
)
from .stored_rules import upgrade_stored


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
    # The purchase (the subscription's start) on this day or later / before this day, in
    # the policy's time zone: terms that changed for subscriptions bought from a date.
    purchased_from: date | None = None
    purchased_before: date | None = None

    def __post_init__(self) -> None:
        for code in self.countries:
            if not (isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper()):
                raise ValueError(f"countries: {code!r} is not an ISO 3166-1 alpha-2 code (e.g. DE)")
        if (
            self.purchased_from is not None
            and self.purchased_before is not None
            and self.purchased_before <= self.purchased_from
        ):
            raise ValueError("purchased_before: must be after purchased_from")


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
class SeatRule:
    """Seats of a plan priced per seat (the plan's `seat_price` per seat and period).

    A seat is inactive from `inactive_after_days` after its last activity (or after it was
    added, if never used) and from its removal; null: seats never go inactive, only
    removed. `credit_inactive`: a seat billed for the period that goes inactive earns
    credit for the rest of the period it is not used, as long as `minimum_billed` seats stay
    billed. Seat-time is counted per `proration` (`by_day`: whole days, credits rounded
    down and charges up; `by_minute`).
    """

    billing: SeatBilling
    inactive_after_days: int | None
    minimum_billed: int
    credit_inactive: bool
    proration: Proration
    clause: Clause

    def __post_init__(self) -> None:
        if self.proration not in (Proration.BY_DAY, Proration.BY_MINUTE):
            raise ValueError("proration: seat-time is counted by_day or by_minute")


@dataclass(frozen=True)
class ChangeLimit:
    """At most `times` changes of one kind per account or per year; the services refuse
    one more, naming this limit, and offers do not propose it. A cancellation past a
    `downgrade_to_free` limit does not fall back to the Free plan but to `otherwise`."""

    change: LimitedChange
    times: int
    per: LimitPer
    clause: Clause
    otherwise: Fallback = Fallback.DISABLED

    def __post_init__(self) -> None:
        if self.otherwise == Fallback.FREE_PLAN:
            raise ValueError("otherwise: the Free plan is what the limit withholds")


@dataclass(frozen=True)
class ChargebackRule:
    """What a chargeback does beyond refusing refunds of the disputed payment: to the
    workspace while it is open, and to the subscription if it is lost. Without one, the
    house rule (orgix §11): locked until resolved, a lost dispute is a failed payment."""

    on_open: ChargebackOnOpen
    on_lost: ChargebackOnLost
    clause: Clause


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
    seats: SeatRule | None = None
    limits: tuple[ChangeLimit, ...] = ()
    chargeback: ChargebackRule | None = None

    # --- (de)serialisation -------------------------------------------------
    # Fields a variant may not replace: they identify the policy or hold the variants.
    FIXED_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "currency", "clauses", "variants"})

    def to_dict(self) -> dict[str, Any]:
        return to_json(self)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone: unknown time zone {self.time_zone!r}") from None
        if self.seats is None and any(c.kind == ChargeKind.SEAT_DAYS for c in self.charges):
            raise ValueError("charges: a seat_days charge needs the seats rule")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyRules:
        """Strict: raises `codec.CodecError` (a ValueError) whose `field` is the dotted
        path of the bad field (`variants.0.when.channels.1`)."""
        return from_json(cls, upgrade_stored(data))


__all__ = [
    "AccessEnd",
    "ChangeLimit",
    "ChangeRule",
    "Channel",
    "ChargeKind",
    "ChargeRule",
    "ChargebackOnLost",
    "ChargebackOnOpen",
    "ChargebackRule",
    "Clause",
    "Condition",
    "CreditRule",
    "DayCount",
    "Destination",
    "DunningRule",
    "Effective",
    "Fallback",
    "Initiator",
    "Interval",
    "LimitPer",
    "LimitedChange",
    "Money",
    "NoAmountInCurrency",
    "NoticeRule",
    "PaymentKind",
    "PaymentMethod",
    "Phase",
    "PolicyRules",
    "Proration",
    "ProrationRule",
    "RefundWindow",
    "Refusal",
    "RefusalCode",
    "Region",
    "RetainedData",
    "RetentionFrom",
    "RetentionRule",
    "SeatBilling",
    "SeatRule",
    "ServiceDeduction",
    "ServiceKind",
    "TrialRule",
    "TrialState",
    "Variant",
    "WindowFrom",
    "amount_for",
    "amount_in",
]
