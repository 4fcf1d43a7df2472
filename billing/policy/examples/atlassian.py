"""external.md §3 Atlassian Cloud."""

from dataclasses import replace

from ..rules import (
    Clause,
    Condition,
    Fallback,
    Interval,
    Proration,
    RefundWindow,
    RetentionFrom,
    RetentionRule,
    TrialState,
    Variant,
    WindowFrom,
)
from .base import BASE, K, free_trial, prorate

ATLASSIAN = replace(
    BASE,
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
    trial=free_trial("external.md §3 Atlassian: cancelling in the trial costs nothing"),
    proration=prorate(Proration.NONE, "external.md §3 Atlassian: no credit for stopping early"),
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
