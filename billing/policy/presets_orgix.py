"""The orgix and prorated-credit texts (`shared/policies/`) as `PolicyRules`. Each rule
names its clause; `reading` records how we resolved an ambiguity.
"""

from .presets_connex import OPEN_CHARGEBACK, K
from .rules import (
    ChangeRule,
    Clause,
    Destination,
    DunningRule,
    Effective,
    Fallback,
    PolicyRules,
    Proration,
    ProrationRule,
    Refusal,
    RetentionRule,
    TrialRule,
)

ORGIX = PolicyRules(
    name="Orgix",
    currency="EUR",
    refund_destination=Destination.ORIGINAL_PAYMENT_METHOD,
    destination_choice_allowed=True,
    cancellation_effective=Effective.PERIOD_END,
    cancellation_effective_with_refund=Effective.PERIOD_END,
    access_until=Effective.PERIOD_END,
    fallback=Fallback.FREE_PLAN,
    never_refunded_kinds=(
        K.UPGRADE_PRORATION,
        K.ADD_ON,
        K.ONE_TIME_PURCHASE,
        K.INTERNAL_MEMBERSHIP,
    ),
    refund_window=None,
    service_deductions=(),
    trial=None,
    proration=(
        ProrationRule(
            interval=None,
            phase="any",
            mode=Proration.NONE,
            fixed_deduction=(),
            fixed_deduction_label="",
            clause=Clause(
                "orgix §8 Refunds / §4 Cancellation",
                "Generally non-refundable; refunds only by case-by-case review (goodwill).",
            ),
        ),
    ),
    cancellation_notice=None,
    downgrade_notice=None,
    retention=RetentionRule(
        after_end_days=90,
        inactivity_days=None,
        clause=Clause(
            "orgix §5: retained for a limited period after cancellation",
            "The text names no number; we keep 90 days, changeable per version.",
        ),
    ),
    dunning=DunningRule(
        retry_after_days=(1, 3, 5, 7),
        restrict_paid_features=True,
        suspend_after_days=30,
        expire_after_days=45,
        refund_on_expiry=False,
        discount_void_on_expiry=True,
        can_reinstate=False,
        clause=Clause(
            "orgix §10 Failed payments: normally not exceeding 30 days",
            "Restricted from the first failure, suspended at 30 days, to the Free plan at 45.",
        ),
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_MINUTE,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause("orgix §6 Upgrades and downgrades"),
    ),
    refusals=(
        OPEN_CHARGEBACK,
        Refusal(
            code="suspended_for_misuse",
            message="The workspace was suspended for misuse or breach of the terms.",
            clause=Clause("orgix §17 No refunds for misuse or breach"),
        ),
    ),
    case_by_case_review=True,
    order_packs_reset_at_renewal=False,
    clauses={
        "never_refunded": Clause("orgix §6 / §8: no refunds for upgrades or one-time purchases"),
        "refund_destination": Clause("orgix §2: payments are processed through Stripe"),
        "cancellation_effective": Clause(
            "orgix §4: remains active until the end of the already paid billing period"
        ),
        "access_until": Clause("orgix §4: remains active until the end of the paid period"),
        "fallback": Clause("orgix §4: may move to the Free plan at the end of the paid period"),
        "free_plan": Clause("orgix §3 Free plan: no right to refunds or credits"),
        "addons": Clause("orgix §7 Add-ons: generally non-refundable"),
        "internal": Clause("orgix §15 Internal payments through Orgix modules"),
        "vat": Clause("orgix §14 Taxes and VAT", "Tax is refunded in proportion to the refund."),
        "review": Clause("orgix §9 / §18 Accidental payments, refund review"),
    },
)

PRORATED_CREDIT = PolicyRules(
    name="Prorated credit",
    currency="USD",
    refund_destination=Destination.CUSTOMER_CREDIT,
    destination_choice_allowed=False,
    cancellation_effective=Effective.IMMEDIATELY,
    cancellation_effective_with_refund=Effective.IMMEDIATELY,
    access_until=Effective.IMMEDIATELY,
    fallback=Fallback.EXPIRED,
    never_refunded_kinds=(K.INTERNAL_MEMBERSHIP,),
    refund_window=None,
    service_deductions=(),
    trial=TrialRule(
        monthly_refund=False,
        annual_prorate_days=None,
        cancel_during_trial_charges_nothing=True,
        clause=Clause("prorated-credit §Introduction / §Troubleshooting: trials are free"),
    ),
    proration=(
        ProrationRule(
            interval=None,
            phase="any",
            mode=Proration.BY_MINUTE,
            fixed_deduction=(),
            fixed_deduction_label="",
            clause=Clause(
                "prorated-credit §Refund: remaining time, single minute precision",
                "Recurring add-ons are time-based too and prorated the same way; one-time "
                "purchases have no unused time and are not refunded.",
            ),
            kinds=(K.SUBSCRIPTION, K.ADD_ON),
        ),
    ),
    cancellation_notice=None,
    downgrade_notice=None,
    retention=RetentionRule(
        after_end_days=None,
        inactivity_days=None,
        clause=Clause(
            "prorated-credit (no retention clause)",
            "Nothing stated: kept until deleted on request.",
        ),
    ),
    dunning=DunningRule(
        retry_after_days=(1, 3, 5, 7),
        restrict_paid_features=True,
        suspend_after_days=7,
        expire_after_days=14,
        refund_on_expiry=False,
        discount_void_on_expiry=True,
        can_reinstate=False,
        clause=Clause(
            "prorated-credit §Expiration / §Troubleshooting",
            "Expires when charging fails through the grace period: no refund, discount void, "
            "cannot be reinstated.",
        ),
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_MINUTE,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause("prorated-credit (no change clause)", "House default."),
    ),
    refusals=(OPEN_CHARGEBACK,),
    case_by_case_review=False,
    order_packs_reset_at_renewal=False,
    clauses={
        "refund_destination": Clause("prorated-credit §Refund: as virtual customer credit"),
        "cancellation_effective": Clause(
            "prorated-credit §Introduction: cancelled at any time",
            "Takes effect immediately; the unused time is credited.",
        ),
        "access_until": Clause("prorated-credit §Introduction: cancelled at any time"),
        "fallback": Clause(
            "prorated-credit §Troubleshooting: you cannot reinstate an expired / cancelled "
            "subscription"
        ),
        "internal": Clause(
            "prorated-credit (house rule)",
            "Payments between a customer organisation and its members are not ours to refund.",
        ),
        "example": Clause(
            "prorated-credit §Example",
            "'On 10th of January' with '21 unused days' of 31: the cancellation is read as "
            "the end of 10 January (2022-01-11T00:00Z), the only moment giving 21 days.",
        ),
    },
)
