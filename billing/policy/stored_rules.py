"""Rules stored in an earlier format, read as today's: a bare fixed amount (before amounts
carried a currency) is an amount in the policy's `currency`, a zero one no amount;
`counted_from: purchase` is `trial_end`. `PolicyRules.from_dict` applies it before the
strict reading (`codec.from_json`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

LEGACY_WINDOW_FROM = {"purchase": "trial_end"}


def upgrade_stored(data: Any) -> Any:
    """Rules stored before fixed amounts carried a currency: a bare amount was meant in
    the policy's `currency`; `counted_from: purchase` meant the trial end (or signup)."""
    if not isinstance(data, dict):
        return data
    currency = data.get("currency")

    def money(value: Any) -> Any:
        """A bare amount becomes one in the policy's currency; a zero one, no amount."""
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return [] if Decimal(str(value)) == 0 else [{"amount": value, "currency": currency}]
        return value

    data = dict(data)
    if isinstance(data.get("service_deductions"), list):
        data["service_deductions"] = [
            {**d, "amount": money(d.get("amount"))} if isinstance(d, dict) else d
            for d in data["service_deductions"]
        ]
    if isinstance(data.get("proration"), list):
        data["proration"] = [
            {**r, "fixed_deduction": money(r.get("fixed_deduction"))} if isinstance(r, dict) else r
            for r in data["proration"]
        ]
    window = data.get("refund_window")
    if isinstance(window, dict) and window.get("counted_from") in LEGACY_WINDOW_FROM:
        data["refund_window"] = {
            **window,
            "counted_from": LEGACY_WINDOW_FROM[window["counted_from"]],
        }
    return data
