"""external.md §6 Basecamp: the classic text and the current one.

Versions: 1 classic, 2 current, 3 current with HEY's annual refund of the remaining whole
months and the downtime credits read as the case-by-case review the text says they are.
"""

from dataclasses import replace

from ..rules import (
    Clause,
    Condition,
    Effective,
    Fallback,
    Interval,
    Phase,
    Proration,
    RefundWindow,
    RetainedData,
    RetentionRule,
    Variant,
    WindowFrom,
)
from .base import BASE, K, free_trial, prorate

BASECAMP_RETENTION = RetentionRule(
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
    BASE,
    name="Basecamp (classic)",
    cancellation_effective=Effective.IMMEDIATELY,
    access_until=Effective.IMMEDIATELY,
    fallback=Fallback.DISABLED,
    trial=free_trial("external.md §6 Basecamp classic: nothing charged before the first charge"),
    proration=prorate(Proration.NONE, "external.md §6 Basecamp classic: no refunds, no exceptions"),
    retention=BASECAMP_RETENTION,
)

BASECAMP_CURRENT_V2 = replace(
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

BASECAMP_CURRENT = replace(
    BASECAMP_CURRENT_V2,
    variants=(
        *BASECAMP_CURRENT_V2.variants,
        Variant(
            "Annual plan no longer needed",
            Condition(intervals=(Interval.YEAR,)),
            {
                "proration": prorate(
                    Proration.WHOLE_MONTHS_EXCEPT_CURRENT,
                    "external.md §6 HEY annual: a refund for the remaining whole months once "
                    "the customer no longer needs the account",
                    "Cancelling says the account is no longer needed: the months not yet "
                    "started are refunded, the current one is kept.",
                ),
            },
            Clause("external.md §6 Basecamp current: remaining whole months (HEY annual)"),
        ),
    ),
    clauses={
        "review": Clause(
            "external.md §6 Basecamp current: refunds case by case",
            "Credits after long downtime are among the case-by-case examples: an agent "
            "grants them through review, not at cancellation.",
        )
    },
)
