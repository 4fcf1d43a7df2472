"""Words for rule fields: a small table for the fields we know, a generic fallback for the
rest (`refund_window.counted_from` → "refund window counted from"), so a rule field added
to `billing.policy.rules` reads sensibly in the editor and the diff without code here.

Paths use `*` for a position in a list of rules (`proration.*.mode`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

LABELS: dict[str, str] = {
    "name": "name",
    "currency": "currency",
    "refund_destination": "refunds go to",
    "destination_choice_allowed": "agent may choose customer credit instead",
    "cancellation_effective": "a cancellation without refund takes effect",
    "cancellation_effective_with_refund": "a cancellation with a refund takes effect",
    "access_until": "access lasts",
    "fallback": "after the end the workspace is",
    "never_refunded_kinds": "never refunded",
    "refund_window": "refund window",
    "refund_window.days": "refund window",
    "refund_window.counted_from": "refund window counted from",
    "refund_window.refundable_kinds": "refunded inside the window",
    "refund_window.applies_after_trial": "refund window applies after a trial",
    "service_deductions": "service deduction",
    "service_deductions.*.amount": "deduction",
    "trial": "trial rule",
    "trial.monthly_refund": "monthly plan refunded after a trial",
    "trial.annual_prorate_days": "annual plan prorated after a trial for",
    "trial.cancel_during_trial_charges_nothing": "cancelling during a trial charges nothing",
    "trial.governs_after_trial": "the trial rule decides refunds after a trial",
    "proration": "proration rule",
    "proration.*.fixed_deduction": "fixed deduction",
    "proration.*.fixed_deduction_label": "fixed deduction called",
    "proration.*.kinds": "prorated payment kinds",
    "cancellation_notice": "cancellation notice",
    "cancellation_notice.days": "cancellation notice",
    "downgrade_notice": "downgrade notice",
    "downgrade_notice.days": "downgrade notice",
    "retention": "data retention",
    "retention.after_end_days": "data kept after the end for",
    "retention.inactivity_days": "account deleted after inactivity of",
    "dunning": "failed payments",
    "dunning.retry_after_days": "failed payment retried on days",
    "dunning.restrict_paid_features": "paid features restricted while a payment fails",
    "dunning.suspend_after_days": "suspended after a failed payment on day",
    "dunning.expire_after_days": "expires after a failed payment on day",
    "dunning.refund_on_expiry": "refund on expiry",
    "dunning.discount_void_on_expiry": "discount void on expiry",
    "dunning.can_reinstate": "an expired subscription can be reinstated",
    "changes": "plan changes",
    "changes.upgrade_effective": "an upgrade takes effect",
    "changes.upgrade_proration": "an upgrade is charged",
    "changes.downgrade_effective": "a downgrade takes effect",
    "changes.downgrade_refunds_current_period": "a downgrade refunds the current period",
    "refusals": "refusal",
    "case_by_case_review": "further refunds reviewed case by case",
    "order_packs_reset_at_renewal": "order packs reset at renewal",
    "clauses": "general clause",
}

# What a number means, after it: "{counted_from}" reads a sibling field of the same rule.
UNITS: dict[str, str] = {
    "refund_window.days": "days from {counted_from}",
    "trial.annual_prorate_days": "days",
    "cancellation_notice.days": "days before the renewal",
    "downgrade_notice.days": "days before the renewal",
    "retention.after_end_days": "days",
    "retention.inactivity_days": "days",
}

HELP: dict[str, str] = {
    "refund_window.days": "How long after the start a cancellation is refunded in full.",
    "refund_window.counted_from": "Signup: the subscription start. Purchase: the first "
    "paid moment (the trial end if there was one).",
    "service_deductions": "Taken from the first subscription payment once the service is "
    "completed; the deepest completed service decides. Empty amount: nothing refunded.",
    "proration": "Outside the refund window; the first rule that matches applies.",
    "proration.*.phase": "first_year (before the first anniversary), after_first_year, or any.",
    "dunning.retry_after_days": "Comma-separated days after the first failed charge, "
    "in increasing order, none after the expiry day.",
    "cancellation_notice.days": "A request fewer days than this before the renewal ends at "
    "the following renewal.",
    "retention.after_end_days": "Empty: the text does not say.",
}

# Values of enumerations, in words; the fallback replaces underscores with spaces.
VALUES: dict[str, str] = {
    "signup": "signup",
    "purchase": "first payment",
    "immediately": "immediately",
    "period_end": "at the period end",
    "original_payment_method": "the original payment method",
    "customer_credit": "customer credit",
    "by_minute": "by the minute",
    "by_day": "by the day",
}


def generic_path(path: str) -> str:
    return ".".join("*" if part.isdigit() else part for part in path.split("."))


def label(path: str) -> str:
    """The words for a field path: from the table, else built from the names."""
    key = generic_path(path)
    if key in LABELS:
        return LABELS[key]
    if ".*." in key:
        return key.rsplit(".", 1)[-1].replace("_", " ")
    parts = [p for p in key.split(".") if p != "*"]
    if len(parts) > 1 and ".".join(parts[:-1]) in LABELS:
        return f"{LABELS['.'.join(parts[:-1])]} {parts[-1].replace('_', ' ')}"
    return " ".join(p.replace("_", " ") for p in parts)


def help_text(path: str) -> str:
    return HELP.get(generic_path(path), "")


def unit(path: str, siblings: Any = None) -> str:
    """The unit after a number, with sibling fields filled in ("days from first payment")."""
    template = UNITS.get(generic_path(path))
    if template is None:
        return "days" if path.endswith("_days") or path.endswith(".days") else ""
    if siblings is None:
        return template.split(" {")[0].replace("{", "").replace("}", "")
    return template.format_map(_Words(siblings))


class _Words(dict):
    def __init__(self, siblings: Any) -> None:
        super().__init__()
        self.siblings = siblings

    def __missing__(self, key: str) -> str:
        return words(getattr(self.siblings, key, None))


def words(value: Any) -> str:
    """A value as a billing lead reads it."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return VALUES.get(str(value.value), str(value.value).replace("_", " "))
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        return ", ".join(words(v) for v in value) or "none"
    return str(value)
