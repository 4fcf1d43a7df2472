"""external.md §6 Basecamp: the classic text and the current one (two versions)."""

from dataclasses import replace

from ..rules import (
    Clause,
    Condition,
    Effective,
    Fallback,
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
