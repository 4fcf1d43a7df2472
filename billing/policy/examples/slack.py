"""external.md §1 Slack: Fair Billing and changing plan.

Version 1 left the seats out (members added mid-cycle came as an amount in arrears);
version 2 bills active members only, credits those who go inactive and bills members
added mid-cycle by the day, from the workspace's seats.
"""

from dataclasses import replace
from decimal import Decimal

from ..rules import (
    Channel,
    ChargeKind,
    ChargeRule,
    Clause,
    Condition,
    CreditRule,
    Destination,
    Fallback,
    PaymentMethod,
    Proration,
    SeatBilling,
    SeatRule,
    Variant,
)
from .base import BASE, prorate

SLACK_V1 = replace(
    BASE,
    name="Slack (Fair Billing, changing plan)",
    refund_destination=Destination.CUSTOMER_CREDIT,
    fallback=Fallback.FREE_PLAN,
    proration=prorate(
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
                "proration": prorate(
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
                "proration": prorate(
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

SLACK = replace(
    SLACK_V1,
    seats=SeatRule(
        billing=SeatBilling.IN_ADVANCE,
        inactive_after_days=28,
        minimum_billed=1,
        credit_inactive=True,
        proration=Proration.BY_DAY,
        clause=Clause(
            "external.md §1 Slack: you pay only for active members, at least 1; a member "
            "inactive for 28 days or deactivated earns a prorated credit",
            "Inactive from 28 days after the member's last activity, or from the removal. "
            "Credited by whole unused days of the period, never below one billed member.",
        ),
    ),
    charges=(
        ChargeRule(
            ChargeKind.SEAT_DAYS,
            Decimal("100"),
            "Members added this cycle, prorated by day",
            Clause(
                "external.md §1 Slack: members added mid-cycle are prorated by day and billed "
                "later",
                "Billed in arrears (next month, or quarterly for invoice customers): when the "
                "plan ends, what has accrued comes due. Started days count.",
            ),
        ),
    ),
)
