"""external.md §7 Google Workspace.

Version 2 counts seats: Flexible bills every user-day in arrears; on annual plans licences
added mid-term are prorated and licences cannot be removed before renewal (no credit).
Version 1 took user-days as an amount computed upstream.
"""

from dataclasses import replace
from decimal import Decimal

from ..rules import (
    ChargeKind,
    ChargeRule,
    Clause,
    Condition,
    CreditRule,
    Effective,
    Interval,
    Proration,
    SeatBilling,
    SeatRule,
    Variant,
)
from .base import BASE, free_trial, prorate

GOOGLE_WORKSPACE_V1 = replace(
    BASE,
    name="Google Workspace",
    cancellation_effective=Effective.IMMEDIATELY,
    access_until=Effective.IMMEDIATELY,
    trial=free_trial("external.md §7 Google Workspace: cancelling in the trial costs nothing"),
    proration=prorate(
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
    changes=replace(
        BASE.changes,
        to_longer_interval=Effective.IMMEDIATELY,
        to_shorter_interval=Effective.PERIOD_END,
        clause=Clause(
            "external.md §7 Google Workspace: Flexible to Annual any time; Annual to Flexible "
            "only at renewal"
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

FLEXIBLE_SEATS = SeatRule(
    billing=SeatBilling.IN_ARREARS,
    inactive_after_days=None,
    minimum_billed=0,
    credit_inactive=False,
    proration=Proration.BY_DAY,
    clause=Clause(
        "external.md §7 Google Workspace: Flexible, billed monthly in arrears per user-day",
        "A user counts for every day, started days included, from being added to removed.",
    ),
)
USER_DAYS = ChargeRule(
    ChargeKind.SEAT_DAYS,
    Decimal("100"),
    "User-days not yet billed",
    Clause(
        "external.md §7 Google Workspace: Flexible cancel; charges not yet billed come on the "
        "next bill"
    ),
)

GOOGLE_WORKSPACE = replace(
    GOOGLE_WORKSPACE_V1,
    seats=SeatRule(
        billing=SeatBilling.IN_ADVANCE,
        inactive_after_days=None,
        minimum_billed=0,
        credit_inactive=False,
        proration=Proration.BY_DAY,
        clause=Clause(
            "external.md §7 Google Workspace: on annual plans added licences are prorated, "
            "licences can't be removed before renewal",
            "Licences added mid-term are billed by the day at cancellation; a removed licence "
            "earns no credit.",
        ),
    ),
    charges=(
        GOOGLE_WORKSPACE_V1.charges[1],
        ChargeRule(
            ChargeKind.SEAT_DAYS,
            Decimal("100"),
            "Licences added this term, prorated by day",
            Clause("external.md §7 Google Workspace: added licences are prorated"),
        ),
    ),
    variants=(
        Variant(
            "Flexible plan",
            Condition(intervals=(Interval.MONTH,), committed=False),
            {"seats": FLEXIBLE_SEATS, "charges": (USER_DAYS,)},
            Clause(
                "external.md §7 Google Workspace: Flexible plan (monthly, no commitment)",
                "A monthly plan without a commitment term is Flexible; annual paid monthly "
                "carries a commitment end.",
            ),
        ),
    ),
)
