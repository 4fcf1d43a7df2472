"""The quote engine: what happens if a subscription is cancelled (or changes plan) at `at`.

Pure: no database, no clock; the same inputs always give the same quote. This module is
the entry point callers import; each question lives in its own module:

- `cancellation`: the cancellation quote (which rule decides, in order);
- `payment_refunds`: what each payment refunds, dispatching to `trial_refunds`,
  `window_refunds` and `prorated_refunds`; `payment_work` holds the per-payment lines;
- `timing`: when a cancellation ends, access, the notice period and what is still due;
- `plan_change`: upgrade and downgrade quotes;
- `proration` and `calendars`: unused fractions of a period, month arithmetic.

Invariants (tested with hypothesis in tests/billing/test_quotes.py):
- each line is computed exactly and rounded once, half-up, to the currency's minor unit;
  only prorated amounts and proportional tax involve a division;
- per payment the refund is never negative and never above `amount - refunded`;
- the lines add up to the refund, and the per-payment refunds add up to it too;
- for prorating policies the refund never increases as `at` moves later inside a period.
"""

from .calendars import add_months, interval_months
from .cancellation import quote_cancellation
from .plan_change import quote_plan_change
from .proration import unused_fraction

__all__ = [
    "add_months",
    "interval_months",
    "quote_cancellation",
    "quote_plan_change",
    "unused_fraction",
]
