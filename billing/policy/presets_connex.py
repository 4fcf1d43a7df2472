"""The connex and sync-with-connex texts (`shared/policies/`) as `PolicyRules`, and the
refusals the house presets share. Each rule names its clause; `reading` records how we
resolved an ambiguity.
"""

from decimal import Decimal

from .rules import (
    AccessEnd,
    ChangeRule,
    Clause,
    DayCount,
    Destination,
    DunningRule,
    Effective,
    Fallback,
    Interval,
    Money,
    NoticeRule,
    PaymentKind,
    PolicyRules,
    Proration,
    ProrationRule,
    RefundWindow,
    Refusal,
    RetentionRule,
    ServiceDeduction,
    ServiceKind,
    TrialRule,
    WindowFrom,
)

K = PaymentKind


def usd(amount: str) -> tuple[Money, ...]:
    return (Money(Decimal(amount), "USD"),)


MISUSE_GENERIC = Refusal(
    code="suspended_for_misuse",
    message="The account was suspended or terminated for misuse or breach of the terms.",
    clause=Clause(
        "Terms of service (suspend or terminate)",
        "The text reserves suspension at Connex's discretion; we read it as refusing refunds "
        "only for accounts suspended for misuse, as orgix clause 17 states explicitly.",
    ),
)
OPEN_CHARGEBACK = Refusal(
    code="open_chargeback",
    message="A chargeback or payment dispute is open on this payment.",
    clause=Clause(
        "orgix §11 / §17", "A disputed payment is resolved by the dispute, not a refund."
    ),
)

CONNEX = PolicyRules(
    name="Connex",
    currency="USD",
    refund_destination=Destination.ORIGINAL_PAYMENT_METHOD,
    destination_choice_allowed=True,
    cancellation_effective=Effective.PERIOD_END,
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    access_until=Effective.PERIOD_END,
    fallback=Fallback.DISABLED,
    never_refunded_kinds=(K.UPGRADE_PRORATION, K.ONE_TIME_PURCHASE, K.INTERNAL_MEMBERSHIP),
    refund_window=RefundWindow(
        days=30,
        counted_from=WindowFrom.TRIAL_END,
        refundable_kinds=(K.SUBSCRIPTION, K.IMPLEMENTATION_FEE),
        clause=Clause(
            "connex §30-Day Refund No Trial",
            "'Your first month and the implementation fee are non-refundable' contradicts the "
            "30-day clause and its schedule ('1st month minus $250'). We read the schedule as "
            "the rule inside the window without a trial, and the non-refundable sentence as "
            "the rule after it or after a trial. Implementation fees are refunded only for "
            "services not yet rendered. 'Within 30 days of initial purchase' is inclusive, "
            "by calendar days: open to the end of the 30th day after the purchase.",
        ),
        applies_after_trial=False,
        counted=DayCount.CALENDAR_DAYS,
    ),
    service_deductions=(
        ServiceDeduction(
            ServiceKind.PRELIMINARY_CALL,
            usd("250.00"),
            Clause("connex §30-Day Refund schedule 1: 30 minute preliminary call"),
        ),
        ServiceDeduction(
            ServiceKind.ONBOARDING,
            usd("750.00"),
            Clause("connex §30-Day Refund schedule 2: 60 minute onboarding"),
        ),
        ServiceDeduction(
            ServiceKind.FOLLOW_UP_CALL,
            None,
            Clause("connex §30-Day Refund schedule 3: 30 minute follow up call - No refunds"),
        ),
    ),
    trial=TrialRule(
        monthly_refund=False,
        annual_prorate_days=30,
        cancel_during_trial_charges_nothing=True,
        clause=Clause(
            "connex §Free Trials",
            "Monthly after a trial: the last month is due in full. Annual after a trial: "
            "prorated by day for the first 30 days of the paid period (inclusive, by calendar "
            "days from the trial end), then non-refundable.",
        ),
        governs_after_trial=True,
        annual_prorate_counted=DayCount.CALENDAR_DAYS,
    ),
    proration=(
        ProrationRule(
            interval=None,
            phase="any",
            mode=Proration.NONE,
            fixed_deduction=(),
            fixed_deduction_label="",
            clause=Clause(
                "connex §Cancellation After 30 Days No Trial / §Can I get a pro-rated refund",
                "No pro-rated refunds after 30 days, monthly or annual; the current month is due.",
            ),
        ),
    ),
    cancellation_notice=None,
    downgrade_notice=NoticeRule(
        10,
        Clause(
            "connex §Can I get a pro-rated refund: notified 10 days prior to next billing cycle"
        ),
    ),
    retention=RetentionRule(
        after_end_days=90,
        inactivity_days=90,
        clause=Clause(
            "connex §Can I use Connex until the end of my billing period / GDPR note",
            "Data is kept 90 days after the last day of access; independently, an account "
            "with 90 days without activity is deleted.",
        ),
    ),
    dunning=DunningRule(
        retry_after_days=(1, 3, 5, 7),
        restrict_paid_features=True,
        suspend_after_days=14,
        expire_after_days=30,
        refund_on_expiry=False,
        discount_void_on_expiry=True,
        can_reinstate=False,
        clause=Clause(
            "connex §Free Trials: 'payment is still due for the service'",
            "The text sets no retry schedule; we use the house default (1, 3, 5, 7 days).",
        ),
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_DAY,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause("connex §Can I get a pro-rated refund: downgrade per pricing policy"),
    ),
    refusals=(OPEN_CHARGEBACK, MISUSE_GENERIC),
    case_by_case_review=False,
    order_packs_reset_at_renewal=False,
    time_zone="UTC",
    access_ends=AccessEnd.END_OF_DAY,
    unpaid_period_due=Clause(
        "connex §Cancellation After 30 Days No Trial: responsible for the current month's "
        "payment / §Free Trials: liable for the full last month's payment",
        "A current period not paid (a missed or failed renewal) is still due on cancellation.",
    ),
    clauses={
        "never_refunded": Clause(
            "connex §30-Day Refund: completed services and paid customization are not refunded",
            "Upgrade charges and one-time purchases are not named by the text; like paid "
            "customization they buy something already delivered, so they are never refunded.",
        ),
        "refund_destination": Clause(
            "connex §30-Day Refund: 'we will refund'",
            "Back to the card paid with; an agent may choose customer credit instead.",
        ),
        "cancellation_effective": Clause(
            "connex §Can I use Connex until the end of my billing period",
            "Without a refund the cancellation takes effect at period end; a refunded "
            "first month ends now.",
        ),
        "access_until": Clause(
            "connex §Can I use Connex until the end of my billing period",
            "'The 15th is the last day Connex will work': access and the subscription end at "
            "the end of the day the period ends on, in the policy's time zone.",
        ),
        "fallback": Clause(
            "connex §Terms: termination results in deactivation of your account",
            "After the end the account is disabled.",
        ),
        "unused": Clause("connex §What if I have never used my subscription"),
        "access": Clause("connex §Can I use Connex until the end of my billing period"),
    },
)

SYNC_WITH_CONNEX = PolicyRules(
    name="Sync with Connex",
    currency="USD",
    refund_destination=Destination.ORIGINAL_PAYMENT_METHOD,
    destination_choice_allowed=False,
    cancellation_effective=Effective.PERIOD_END,
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    access_until=Effective.PERIOD_END,
    fallback=Fallback.DISABLED,
    never_refunded_kinds=(
        K.UPGRADE_PRORATION,
        K.ONE_TIME_PURCHASE,
        K.ACTIVATION_FEE,
        K.INTERNAL_MEMBERSHIP,
    ),
    refund_window=RefundWindow(
        days=30,
        counted_from=WindowFrom.FIRST_PAYMENT,
        refundable_kinds=(K.SUBSCRIPTION, K.IMPLEMENTATION_FEE),
        clause=Clause(
            "sync-with-connex §30-Day Refund",
            "'Any paid annual fees' refunds the subscription payment in full inside the "
            "window; implementation fees only for services not yet rendered. 'Initial signup' "
            "is the first paid signup ('charged immediately'; the billing period 'will "
            "commence immediately after you activate your free trial account with a paid "
            "subscription'): the window runs from the first payment, inclusive, by calendar "
            "days.",
        ),
        counted=DayCount.CALENDAR_DAYS,
    ),
    service_deductions=(),
    trial=None,
    proration=(
        ProrationRule(
            interval=Interval.YEAR,
            phase="first_year",
            mode=Proration.BY_DAY,
            fixed_deduction=usd("399.00"),
            fixed_deduction_label="One-time activation fee",
            clause=Clause(
                "sync-with-connex §Cancellation After 30 Days (annual, first year)",
                "'Pro-rated refund' in the first year is read as by day of the unused "
                "period, less the $399.00 USD activation fee. The fee is taken once: where it "
                "was charged as its own payment at signup, that payment is kept (never "
                "refunded) and nothing more is deducted. Defined in USD only.",
            ),
            fixed_deduction_kind=K.ACTIVATION_FEE,
        ),
        ProrationRule(
            interval=Interval.YEAR,
            phase="after_first_year",
            mode=Proration.WHOLE_MONTHS_EXCEPT_CURRENT,
            fixed_deduction=(),
            fixed_deduction_label="",
            clause=Clause(
                "sync-with-connex §Cancellation After 30 Days (annual, after first year)",
                "Months of service not yet rendered, minus the current month.",
            ),
        ),
        ProrationRule(
            interval=Interval.MONTH,
            phase="any",
            mode=Proration.NONE,
            fixed_deduction=(),
            fixed_deduction_label="",
            clause=Clause(
                "sync-with-connex §no refunds for month-to-month subscribers after 30 days"
            ),
        ),
    ),
    cancellation_notice=NoticeRule(
        7, Clause("sync-with-connex §Cancellation After 30 Days: 7-days prior to renewal date")
    ),
    downgrade_notice=None,
    retention=RetentionRule(
        after_end_days=None,
        inactivity_days=60,
        clause=Clause(
            "sync-with-connex GDPR note: deleted after 60 days of inactivity",
            "No retention after cancellation is stated; the account is disabled and the "
            "60-day inactivity deletion applies from the last activity.",
        ),
    ),
    dunning=DunningRule(
        retry_after_days=(1, 3, 5, 7),
        restrict_paid_features=True,
        suspend_after_days=14,
        expire_after_days=30,
        refund_on_expiry=False,
        discount_void_on_expiry=True,
        can_reinstate=False,
        clause=Clause(
            "sync-with-connex §Payment: card charged on a recurring basis until cancelled",
            "No schedule stated; house default.",
        ),
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_DAY,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause("sync-with-connex §Payment, Upgrading: charged the pro-rated difference"),
    ),
    refusals=(OPEN_CHARGEBACK, MISUSE_GENERIC),
    case_by_case_review=False,
    order_packs_reset_at_renewal=True,
    unpaid_period_due=Clause(
        "sync-with-connex §Cancellation After 30 Days: minus the current month (if not "
        "already paid)",
        "A current period not paid (a missed or failed renewal) is still due on cancellation.",
    ),
    clauses={
        "never_refunded": Clause(
            "sync-with-connex §no refunds for plan upgrades, and no refunds for one-time "
            "purchases of additional orders"
        ),
        "activation_fee": Clause(
            "sync-with-connex §annual first year: minus our one-time activation fee",
            "The activation fee itself is never refunded, inside the 30 days too.",
        ),
        "order_packs": Clause(
            "sync-with-connex §Buying more orders: reset when the account renews"
        ),
        "refund_destination": Clause(
            "sync-with-connex §Payment: a valid credit card is required",
            "Refunds go back to the card; no customer credit.",
        ),
        "cancellation_effective": Clause(
            "sync-with-connex §Cancellation After 30 Days: 7-days prior to renewal date",
            "Without a refund the subscription runs to the renewal date.",
        ),
        "access_until": Clause(
            "sync-with-connex §How do I cancel: account will be disabled",
            "Disabled when the cancellation takes effect (the period end, or now when "
            "refunded), not at the moment of the request.",
        ),
        "fallback": Clause("sync-with-connex §How do I cancel: account will be disabled"),
    },
)
