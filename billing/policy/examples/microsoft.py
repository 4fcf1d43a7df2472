"""external.md §5 Microsoft 365 (consumer).

Version 2 checks Germany's purchase date (prorated renewal refunds only for plans bought
from 1 March 2022), which version 1 could not say.
"""

from dataclasses import replace
from datetime import date

from ..rules import (
    Channel,
    Clause,
    Condition,
    Effective,
    Interval,
    Phase,
    Proration,
    RefundWindow,
    Variant,
    WindowFrom,
)
from .base import BASE, K, prorate

MICROSOFT_365_V1 = replace(
    BASE,
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
    unpaid_period_due=Clause(
        "external.md §5 Microsoft 365: the overdue amount",
        "An unpaid period is owed, except where the overdue variant waives it.",
    ),
    variants=(
        Variant(
            "Bought from a retailer or an app store",
            Condition(channels=(Channel.RETAIL, Channel.APP_STORE)),
            {
                "refund_window": None,
                "proration": prorate(
                    Proration.NONE, "external.md §5 Microsoft 365: the seller's rules apply"
                ),
            },
            Clause(
                "external.md §5 Microsoft 365: retail codes and app stores follow the seller",
                "Nothing is refunded by us; the seller decides.",
            ),
        ),
        Variant(
            "Overdue: may cancel at once, owing nothing more",
            Condition(past_due=True),
            {"cancellation_effective": Effective.IMMEDIATELY, "unpaid_period_due": None},
            Clause(
                "external.md §5 Microsoft 365: an overdue customer may cancel at once and the "
                "overdue amount isn't charged"
            ),
        ),
        Variant(
            "Country with prorated refunds (any plan length)",
            Condition(countries=("CA", "DK", "FR", "IL", "KR", "TR")),
            {
                "proration": prorate(
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
                "proration": prorate(
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


def renewal_refunds(countries: tuple[str, ...], reading: str, **when) -> Variant:
    return Variant(
        "Country with prorated refunds of renewal periods",
        Condition(countries=countries, intervals=(Interval.YEAR,), phase=Phase.RENEWAL, **when),
        {
            "proration": prorate(
                Proration.BY_DAY,
                "external.md §5 Microsoft 365: renewal periods of plans longer than a month "
                "in FI, DE (bought after 1 Mar 2022), NL, PL, PT",
                reading,
            )
        },
        Clause("external.md §5 Microsoft 365: countries with prorated renewal refunds"),
    )


MICROSOFT_365 = replace(
    MICROSOFT_365_V1,
    variants=(
        *MICROSOFT_365_V1.variants[:3],
        renewal_refunds(
            ("DE",),
            "Bought on 1 March 2022 or later (that day in the policy's time zone, UTC): "
            "the renewal is prorated by day.",
            purchased_from=date(2022, 3, 1),
        ),
        renewal_refunds(("FI", "NL", "PL", "PT"), "Prorated by unused whole days."),
    ),
)
