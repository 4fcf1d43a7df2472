"""The enumerated values of policy rules. Each is a closed list: the readers refuse any
other value, naming the field (a misspelt value must not silently match everything).
Imported through `rules`, which re-exports them.
"""

from enum import StrEnum


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
    # Usage accrued in arrears (metered use) and not yet billed, as an amount.
    UNBILLED_USAGE = "unbilled_usage"
    # Seat-days billed in arrears (see `SeatRule.billing`), counted from the snapshot's seats.
    SEAT_DAYS = "seat_days"


class RetentionFrom(StrEnum):
    END = "end"  # the subscription's end
    REQUEST = "request"  # the cancellation request


class SeatBilling(StrEnum):
    """How seats are billed for a period."""

    # The seats at the period start are paid with it; seats added later are billed by
    # seat-time in arrears (Slack's members added mid-cycle).
    IN_ADVANCE = "in_advance"
    # Every seat is billed by seat-time in arrears (Google Workspace Flexible).
    IN_ARREARS = "in_arrears"


class LimitedChange(StrEnum):
    """A change a policy can limit (`ChangeLimit`)."""

    DOWNGRADE_TO_FREE = "downgrade_to_free"  # a cancellation falling back to the Free plan
    DOWNGRADE = "downgrade"  # a paid plan to a cheaper paid plan
    PAUSE = "pause"


class LimitPer(StrEnum):
    ACCOUNT = "account"  # over the account's whole life
    YEAR = "year"  # in the 12 months before the change


class ChargebackOnOpen(StrEnum):
    """What an open chargeback does to the workspace until it is resolved."""

    LOCK = "lock"  # suspended: no access until the dispute is resolved
    RESTRICT = "restrict"  # paid features off, reading kept, until resolved
    NOTHING = "nothing"  # only the refusal of refunds on that payment


class ChargebackOnLost(StrEnum):
    """What a lost chargeback does to the subscription."""

    DUNNING = "dunning"  # the payment counts as failed: the non-payment path
    END = "end"  # the subscription ends now and falls back (a downgrade where it is Free)
