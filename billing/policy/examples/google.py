"""external.md §7 Google Workspace."""

from dataclasses import replace
from decimal import Decimal

from ..rules import (
    ChargeKind,
    ChargeRule,
    Clause,
    CreditRule,
    Effective,
    Proration,
)
from .base import BASE, free_trial, prorate

GOOGLE_WORKSPACE = replace(
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
