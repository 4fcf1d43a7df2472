"""Seven public SaaS policies (paraphrased in `shared/policies/external.md`), encoded as
`PolicyRules` with no code written for any of them: examples of what a company adopting
the product can say, loaded as example versions by
`billing/migrations/0004_generality_example_policies.py` and never offered to customers.

Each clause names the row of external.md it encodes; `reading` records our choice where
the text is silent. What the rules still cannot say is listed in docs/policy.md
("Writing your own policy").
"""

from dataclasses import replace
from decimal import Decimal

from .rules import (
    ChangeRule,
    Channel,
    ChargeKind,
    ChargeRule,
    Clause,
    Condition,
    CreditRule,
    Destination,
    DunningRule,
    Effective,
    Fallback,
    Interval,
    PaymentKind,
    PaymentMethod,
    Phase,
    PolicyRules,
    Proration,
    ProrationRule,
    RefundWindow,
    Refusal,
    RefusalCode,
    RetainedData,
    RetentionFrom,
    RetentionRule,
    TrialRule,
    TrialState,
    Variant,
    WindowFrom,
)

K = PaymentKind


def _prorate(mode: Proration, ref: str, reading: str = "") -> tuple[ProrationRule, ...]:
    return (ProrationRule(None, Phase.ANY, mode, (), "", Clause(ref, reading)),)


def _free_trial(ref: str) -> TrialRule:
    return TrialRule(
        monthly_refund=False,
        annual_prorate_days=None,
        cancel_during_trial_charges_nothing=True,
        clause=Clause(ref),
    )


_HOUSE_DEFAULT = "Not stated in the text; house default."

# What the texts do not say, read as the house defaults; every example starts from here.
_BASE = PolicyRules(
    name="",
    currency="USD",
    refund_destination=Destination.ORIGINAL_PAYMENT_METHOD,
    destination_choice_allowed=False,
    cancellation_effective=Effective.PERIOD_END,
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    access_until=Effective.PERIOD_END,
    fallback=Fallback.EXPIRED,
    never_refunded_kinds=(K.UPGRADE_PRORATION, K.ONE_TIME_PURCHASE, K.INTERNAL_MEMBERSHIP),
    refund_window=None,
    service_deductions=(),
    trial=None,
    proration=_prorate(Proration.NONE, "No refund for the current period"),
    cancellation_notice=None,
    downgrade_notice=None,
    retention=RetentionRule(None, None, Clause("No retention period stated", _HOUSE_DEFAULT)),
    dunning=DunningRule(
        retry_after_days=(1, 3, 5, 7),
        restrict_paid_features=True,
        suspend_after_days=14,
        expire_after_days=30,
        refund_on_expiry=False,
        discount_void_on_expiry=True,
        can_reinstate=False,
        clause=Clause("No failed-payment schedule stated", _HOUSE_DEFAULT),
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_DAY,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause("No plan-change rule stated", _HOUSE_DEFAULT),
    ),
    refusals=(
        Refusal(
            RefusalCode.OPEN_CHARGEBACK,
            "A chargeback or payment dispute is open on this payment.",
            Clause("House rule", "A disputed payment is resolved by the dispute, not a refund."),
        ),
    ),
    case_by_case_review=False,
    order_packs_reset_at_renewal=False,
)

SLACK = replace(
    _BASE,
    name="Slack (Fair Billing, changing plan)",
    refund_destination=Destination.CUSTOMER_CREDIT,
    fallback=Fallback.FREE_PLAN,
    proration=_prorate(
        Proration.BY_DAY,
        "external.md §1 Slack: downgrade to Free now, unused fees become credits",
        "The unused part of the period, by day, as customer credit.",
    ),
    timing_choice=True,
    charges=(
        ChargeRule(
            ChargeKind.UNBILLED_USAGE,
            Decimal("100"),
            "Members added this cycle, prorated by day",
            Clause(
                "external.md §1 Slack: new members mid-cycle are billed later",
                "Billed in arrears: what has accrued comes due when the plan ends.",
            ),
        ),
    ),
    credit=CreditRule(
        expires_after_days=180,
        expires_with_paid_plan=False,
        cash_value=False,
        paid_out_at_closure=False,
        clause=Clause(
            "external.md §1 Slack: credits usable for 180 days, no cash value",
            "Downgrade credits outlive the paid plan for 180 days; Fair Billing credits on "
            "a live plan (expiring with it) are not quoted at cancellation.",
        ),
    ),
    variants=(
        Variant(
            "Outside Fair Billing: not bought on the web",
            Condition(
                channels=(Channel.SALES, Channel.RESELLER, Channel.APP_STORE, Channel.RETAIL)
            ),
            {
                "proration": _prorate(
                    Proration.NONE, "external.md §1 Slack: Fair Billing covers web purchases"
                ),
                "case_by_case_review": True,
            },
            Clause(
                "external.md §1 Slack: Fair Billing applies only to web purchases",
                "Other purchases follow their contract: no credit here, reviewed case by case.",
            ),
        ),
        Variant(
            "Outside Fair Billing: not paid by card or self-serve invoice",
            Condition(payment_methods=(PaymentMethod.DIRECT_DEBIT,)),
            {
                "proration": _prorate(
                    Proration.NONE, "external.md §1 Slack: card or self-serve invoice only"
                ),
                "case_by_case_review": True,
            },
            Clause("external.md §1 Slack: paid by card or self-serve invoice"),
        ),
    ),
    clauses={
        "timing_choice": Clause(
            "external.md §1 Slack: or downgrade at the cycle end",
            "The customer picks: credit now, or keep the plan to the period end.",
        ),
        "review": Clause("external.md §1 Slack: purchases outside Fair Billing"),
    },
)

ADOBE = replace(
    _BASE,
    name="Adobe Creative Cloud",
    never_refunded_kinds=(*_BASE.never_refunded_kinds, K.ADD_ON),
    refund_window=RefundWindow(
        days=14,
        counted_from=WindowFrom.TRIAL_END,
        refundable_kinds=(K.SUBSCRIPTION,),
        clause=Clause("external.md §2 Adobe: full refund within 14 days of the initial order"),
    ),
    trial=_free_trial("external.md §2 Adobe: a trial becomes paid unless cancelled first"),
    proration=_prorate(
        Proration.NONE,
        "external.md §2 Adobe: after 14 days no refund; service to the end of the period",
    ),
    charges=(
        ChargeRule(
            ChargeKind.REMAINING_COMMITMENT,
            Decimal("50"),
            "Cancellation fee",
            Clause(
                "external.md §2 Adobe: annual paid monthly, 50% of the remaining obligation",
                "The remaining obligation is the monthly payments of the commitment after the "
                "current month, which runs to its end; plans without a commitment owe nothing.",
            ),
        ),
    ),
    clauses={
        "never_refunded": Clause(
            "external.md §2 Adobe: business services are not refundable",
            "Recorded as add-ons or one-time purchases.",
        ),
    },
)

ATLASSIAN = replace(
    _BASE,
    name="Atlassian Cloud",
    fallback=Fallback.DISABLED,
    access_grace_days=15,
    refund_window=RefundWindow(
        days=30,
        counted_from=WindowFrom.EACH_PAYMENT,
        refundable_kinds=(K.SUBSCRIPTION,),
        clause=Clause(
            "external.md §3 Atlassian: annual, a refund within 30 days of a payment",
            "Each payment opens its own 30 days, renewals too.",
        ),
    ),
    trial=_free_trial("external.md §3 Atlassian: cancelling in the trial costs nothing"),
    proration=_prorate(Proration.NONE, "external.md §3 Atlassian: no credit for stopping early"),
    retention=RetentionRule(
        after_end_days=60,
        inactivity_days=None,
        clause=Clause("external.md §3 Atlassian: data deleted 60 days after cancellation"),
        counted_from=RetentionFrom.REQUEST,
    ),
    variants=(
        Variant(
            "Monthly plan",
            Condition(intervals=(Interval.MONTH,)),
            {
                "refund_window": RefundWindow(
                    days=None,
                    counted_from=WindowFrom.TRIAL_END,
                    refundable_kinds=(K.SUBSCRIPTION,),
                    clause=Clause(
                        "external.md §3 Atlassian: monthly, only the first paid month after "
                        "the trial"
                    ),
                    until_first_renewal=True,
                )
            },
            Clause("external.md §3 Atlassian: monthly plans"),
        ),
        Variant(
            "Trial site",
            Condition(trial=(TrialState.IN_TRIAL,)),
            {
                "retention": RetentionRule(
                    after_end_days=14,
                    inactivity_days=None,
                    clause=Clause("external.md §3 Atlassian: trial data deleted after 14 days"),
                    counted_from=RetentionFrom.REQUEST,
                )
            },
            Clause("external.md §3 Atlassian: retention differs for trials"),
        ),
    ),
    clauses={
        "access_grace_days": Clause("external.md §3 Atlassian: site reachable 15 days after"),
    },
)

GITHUB = replace(
    _BASE,
    name="GitHub",
    cancellation_effective_with_refund=Effective.PERIOD_END,
    fallback=Fallback.FREE_PLAN,
    proration=_prorate(
        Proration.NONE, "external.md §4 GitHub: downgrades and cancellations at the cycle end"
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_DAY,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause(
            "external.md §4 GitHub: upgrades now and prorated, downgrades at the cycle end",
            "The text names no unit; by day is our reading.",
        ),
    ),
)

MICROSOFT_365 = replace(
    _BASE,
    name="Microsoft 365 (consumer)",
    refund_window=RefundWindow(
        days=30,
        counted_from=WindowFrom.TRIAL_END,
        refundable_kinds=(K.SUBSCRIPTION,),
        clause=Clause(
            "external.md §5 Microsoft 365: within 30 days or before the first recurring "
            "charge, whichever comes first"
        ),
        until_first_renewal=True,
    ),
    timing_choice=True,
    variants=(
        Variant(
            "Bought from a retailer or an app store",
            Condition(channels=(Channel.RETAIL, Channel.APP_STORE)),
            {
                "refund_window": None,
                "proration": _prorate(
                    Proration.NONE, "external.md §5 Microsoft 365: the seller's rules apply"
                ),
            },
            Clause(
                "external.md §5 Microsoft 365: retail codes and app stores follow the seller",
                "Nothing is refunded by us; the seller decides.",
            ),
        ),
        Variant(
            "Overdue: may cancel at once",
            Condition(past_due=True),
            {"cancellation_effective": Effective.IMMEDIATELY},
            Clause("external.md §5 Microsoft 365: an overdue customer may cancel at once"),
        ),
        Variant(
            "Country with prorated refunds (any plan length)",
            Condition(countries=("CA", "DK", "FR", "IL", "KR", "TR")),
            {
                "proration": _prorate(
                    Proration.BY_DAY,
                    "external.md §5 Microsoft 365: prorated refunds in CA, DK, FR, IL, KR, TR",
                    "Prorated by unused whole days.",
                )
            },
            Clause("external.md §5 Microsoft 365: countries with prorated refunds"),
        ),
        Variant(
            "Country with prorated refunds of renewal periods",
            Condition(
                countries=("FI", "DE", "NL", "PL", "PT"),
                intervals=(Interval.YEAR,),
                phase=Phase.RENEWAL,
            ),
            {
                "proration": _prorate(
                    Proration.BY_DAY,
                    "external.md §5 Microsoft 365: renewal periods of plans longer than a "
                    "month in FI, DE, NL, PL, PT",
                    "Germany's 'bought after 1 March 2022' is not checked: the rules have no "
                    "purchase-date condition.",
                )
            },
            Clause("external.md §5 Microsoft 365: countries with prorated renewal refunds"),
        ),
    ),
    clauses={
        "timing_choice": Clause(
            "external.md §5 Microsoft 365: take the refund and end now, or run to the end"
        ),
    },
)

_BASECAMP_RETENTION = RetentionRule(
    after_end_days=30,
    inactivity_days=None,
    clause=Clause("external.md §6 Basecamp classic: data leaves the servers within 30 days"),
    partial=(
        RetainedData(
            "Backups", 60, Clause("external.md §6 Basecamp classic: backups within 60 days")
        ),
    ),
)

BASECAMP_CLASSIC = replace(
    _BASE,
    name="Basecamp (classic)",
    cancellation_effective=Effective.IMMEDIATELY,
    access_until=Effective.IMMEDIATELY,
    fallback=Fallback.DISABLED,
    trial=_free_trial("external.md §6 Basecamp classic: nothing charged before the first charge"),
    proration=_prorate(
        Proration.NONE, "external.md §6 Basecamp classic: no refunds, no exceptions"
    ),
    retention=_BASECAMP_RETENTION,
)

BASECAMP_CURRENT = replace(
    BASECAMP_CLASSIC,
    name="Basecamp / HEY (current)",
    case_by_case_review=True,
    retention=RetentionRule(
        after_end_days=60,
        inactivity_days=None,
        clause=Clause("external.md §6 HEY: data kept 60 days"),
        partial=(
            RetainedData(
                "Account credentials", None, Clause("external.md §6 HEY: some data indefinitely")
            ),
        ),
    ),
    variants=(
        Variant(
            "Renewal not used",
            Condition(phase=Phase.RENEWAL, used_since_payment=False),
            {
                "refund_window": RefundWindow(
                    days=30,
                    counted_from=WindowFrom.EACH_PAYMENT,
                    refundable_kinds=(K.SUBSCRIPTION,),
                    clause=Clause(
                        "external.md §6 Basecamp current: a forgotten renewal, not used, "
                        "is refunded",
                        "Within 30 days of the renewal, with no activity since it.",
                    ),
                )
            },
            Clause("external.md §6 Basecamp current: refund of a forgotten, unused renewal"),
        ),
    ),
    clauses={"review": Clause("external.md §6 Basecamp current: refunds case by case")},
)

GOOGLE_WORKSPACE = replace(
    _BASE,
    name="Google Workspace",
    cancellation_effective=Effective.IMMEDIATELY,
    access_until=Effective.IMMEDIATELY,
    trial=_free_trial("external.md §7 Google Workspace: cancelling in the trial costs nothing"),
    proration=_prorate(
        Proration.NONE, "external.md §7 Google Workspace: cancelling gives no refund"
    ),
    charges=(
        ChargeRule(
            ChargeKind.UNBILLED_USAGE,
            Decimal("100"),
            "User-days not yet billed",
            Clause(
                "external.md §7 Google Workspace: Flexible, billed monthly in arrears; "
                "charges not yet billed come on the next bill"
            ),
        ),
        ChargeRule(
            ChargeKind.REMAINING_COMMITMENT,
            Decimal("100"),
            "Rest of the commitment",
            Clause(
                "external.md §7 Google Workspace: annual paid monthly owes the rest of the "
                "commitment",
                "Multi-year terms are the same rule with a later commitment end.",
            ),
        ),
    ),
    credit=CreditRule(
        expires_after_days=None,
        expires_with_paid_plan=False,
        cash_value=True,
        paid_out_at_closure=True,
        clause=Clause(
            "external.md §7 Google Workspace (third party): a credit balance is refunded "
            "once every subscription is cancelled",
            "The workspace has one live subscription, so cancelling it closes the account.",
        ),
    ),
)

# Also the older GitHub text, as an example of policy versioning (version 2 is current).
GITHUB_OLDER = replace(
    GITHUB,
    cancellation_effective=Effective.IMMEDIATELY,
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    proration=_prorate(
        Proration.BY_DAY,
        "external.md §4 GitHub (older text): downgrade to Free at once, prorated refund",
    ),
)

# slug -> versions, oldest first: (title, rules).
EXAMPLE_POLICIES: dict[str, tuple[tuple[str, PolicyRules], ...]] = {
    "example-slack": (("Slack Fair Billing and plan changes (example)", SLACK),),
    "example-adobe": (("Adobe Creative Cloud subscription terms (example)", ADOBE),),
    "example-atlassian": (("Atlassian Cloud refunds (example)", ATLASSIAN),),
    "example-github": (
        ("GitHub billing, older text (example)", GITHUB_OLDER),
        ("GitHub billing, current text (example)", GITHUB),
    ),
    "example-microsoft-365": (("Microsoft 365 consumer refunds (example)", MICROSOFT_365),),
    "example-basecamp": (
        ("Basecamp classic refund policy (example)", BASECAMP_CLASSIC),
        ("Basecamp / HEY current refund policy (example)", BASECAMP_CURRENT),
    ),
    "example-google-workspace": (("Google Workspace cancellation (example)", GOOGLE_WORKSPACE),),
}
