"""What the example texts leave unsaid, read as the house defaults; every example
starts from `BASE`.
"""

from ..rules import (
    ChangeRule,
    Clause,
    Destination,
    DunningRule,
    Effective,
    Fallback,
    PaymentKind,
    Phase,
    PolicyRules,
    Proration,
    ProrationRule,
    Refusal,
    RefusalCode,
    RetentionRule,
    TrialRule,
)

K = PaymentKind


def prorate(mode: Proration, ref: str, reading: str = "") -> tuple[ProrationRule, ...]:
    return (ProrationRule(None, Phase.ANY, mode, (), "", Clause(ref, reading)),)


def free_trial(ref: str) -> TrialRule:
    return TrialRule(
        monthly_refund=False,
        annual_prorate_days=None,
        cancel_during_trial_charges_nothing=True,
        clause=Clause(ref),
    )


HOUSE_DEFAULT = "Not stated in the text; house default."

# What the texts do not say, read as the house defaults; every example starts from here.
BASE = PolicyRules(
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
    proration=prorate(Proration.NONE, "No refund for the current period"),
    cancellation_notice=None,
    downgrade_notice=None,
    retention=RetentionRule(None, None, Clause("No retention period stated", HOUSE_DEFAULT)),
    dunning=DunningRule(
        retry_after_days=(1, 3, 5, 7),
        restrict_paid_features=True,
        suspend_after_days=14,
        expire_after_days=30,
        refund_on_expiry=False,
        discount_void_on_expiry=True,
        can_reinstate=False,
        clause=Clause("No failed-payment schedule stated", HOUSE_DEFAULT),
    ),
    changes=ChangeRule(
        upgrade_effective=Effective.IMMEDIATELY,
        upgrade_proration=Proration.BY_DAY,
        downgrade_effective=Effective.PERIOD_END,
        downgrade_refunds_current_period=False,
        clause=Clause("No plan-change rule stated", HOUSE_DEFAULT),
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
