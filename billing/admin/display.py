"""What agents read on billing pages: codes as words, money with its currency and minor
unit, dates in the agent's zone, and stored quotes as the same lines-and-clauses table as
the live quote (never raw JSON).

`data_kept_line` is the one place the admin says until when data is kept: the
cancellation request page and the subscription page both call it, with the end date of
their quote, and it reads the deletion rule the purge applies (`accounts.retention`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from accounts.models import Workspace
from accounts.retention import deletion_deadline, facts_once_ended, retained_parts
from accounts.selectors import facts_of, policy_retention_rule
from backoffice.display import local_datetime
from billing.money import format_money
from billing.policy.rules import RetentionFrom

LABELS: dict[str, str] = {
    "original_payment_method": "Original payment method",
    "customer_credit": "Customer credit",
    "none": "No refund",
    "immediately": "Immediately",
    "period_end": "At the end of the period",
    "free_plan": "Moves to the Free plan",
    "disabled": "Workspace disabled",
    "expired": "Expires (no plan)",
}


def label(code: str | None) -> str:
    """A code as words; an unknown code still reads as words ("some_code" → "Some code")."""
    if not code:
        return "—"
    return LABELS.get(code) or code.replace("_", " ").capitalize()


def staff_name(user) -> str:
    """An agent as colleagues call them: the name, else the email (no "<email>" suffix)."""
    if user is None:
        return "—"
    return user.full_name or user.email


def money_text(amount: Decimal | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return "—"
    return format_money(Decimal(str(amount)), currency)


def data_kept_line(
    workspace: Workspace, policy_id: int | None, ends_at: datetime | str, *, active_at: datetime
) -> str:
    """Until when the workspace's data is kept once its subscription ends at `ends_at`
    (asked for at `active_at`), naming the clause, then the parts kept on their own
    horizon; the legal hold comes first."""
    if workspace.legal_hold:
        return f"Until the legal hold is lifted ({workspace.legal_hold_reason})"
    if isinstance(ends_at, str):
        ends_at = datetime.fromisoformat(ends_at)
    rule, policy = policy_retention_rule(workspace, policy_id, decided_at=active_at)
    ended = facts_once_ended(facts_of(workspace), ends_at=ends_at, active_at=active_at)
    deadline = deletion_deadline(rule, ended)
    clause = rule.clause.ref or policy or "house default"
    if deadline is None:
        line = f"Until the customer asks for deletion (no deletion date: {clause})"
    else:
        if deadline.reason != "retention_ended":
            why = f"{rule.inactivity_days} days without activity"
        elif rule.counted_from == RetentionFrom.REQUEST:
            why = f"{rule.after_end_days} days after the cancellation request"
        else:
            why = f"{rule.after_end_days} days after the subscription ends"
        line = f"{local_datetime(deadline.at)} ({why}; {clause})"
    parts = [
        f"{part.what} until {local_datetime(until)}" if until else f"{part.what} indefinitely"
        for part, until in retained_parts(rule, ended)
    ]
    return "; ".join([line, *parts]) if parts else line


def render_stored_quote(
    quote: dict[str, Any], *, workspace: Workspace, policy_id: int | None, at: datetime
) -> SafeString:
    """A quote (as `Quote.to_dict()` stores it) as the lines-and-clauses table; `at`: when
    it was made (the customer was active then)."""
    currency = quote.get("currency", "")
    context = {
        "lines": [
            {
                "label": line.get("label", ""),
                "amount": money_text(line.get("amount"), currency),
                "clause": line.get("clause", ""),
                "payment": line.get("payment_ref") or "",
            }
            for line in quote.get("lines", [])
        ],
        "refund": money_text(quote.get("refund"), currency),
        "tax_refund": money_text(quote.get("tax_refund"), currency),
        "summary": [
            ("Policy", quote.get("policy", "—")),
            ("Refund goes to", label(quote.get("destination"))),
            ("Still due", money_text(quote.get("amount_due"), currency)),
            (
                "Ends",
                f"{label(quote.get('effective'))}: {local_datetime(quote.get('ends_at'))}"
                + (" (inside the notice period)" if quote.get("notice_applied") else ""),
            ),
            ("Access until", local_datetime(quote.get("access_until"))),
            (
                "Data kept until",
                data_kept_line(workspace, policy_id, quote["ends_at"], active_at=at)
                if quote.get("ends_at")
                else "—",
            ),
            ("Then", label(quote.get("fallback"))),
        ]
        + ([("Refused", quote["refusal"])] if quote.get("refusal") else []),
    }
    return render_to_string("admin/billing/stored_quote.html", context)
