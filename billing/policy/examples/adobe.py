"""external.md §2 Adobe Creative Cloud."""

from dataclasses import replace
from decimal import Decimal

from ..rules import (
    ChargeKind,
    ChargeRule,
    Clause,
    Proration,
    RefundWindow,
    WindowFrom,
)
from .base import BASE, K, free_trial, prorate

ADOBE = replace(
    BASE,
    name="Adobe Creative Cloud",
    never_refunded_kinds=(*BASE.never_refunded_kinds, K.ADD_ON),
    refund_window=RefundWindow(
        days=14,
        counted_from=WindowFrom.TRIAL_END,
        refundable_kinds=(K.SUBSCRIPTION,),
        clause=Clause("external.md §2 Adobe: full refund within 14 days of the initial order"),
    ),
    trial=free_trial("external.md §2 Adobe: a trial becomes paid unless cancelled first"),
    proration=prorate(
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
