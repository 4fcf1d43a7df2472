"""A quote as a plain-text table (the simulator's `--text` output)."""

from __future__ import annotations

from datetime import datetime

from .quotes import PlanChangeQuote, Quote, QuoteLine


def window_text(until: datetime) -> str:
    """ "31 January 2022 23:59 UTC": a day and minute as the policy's time zone reads them."""
    return f"{until.day} {until:%B %Y %H:%M %Z}"


def quote_text(quote: Quote) -> str:
    out = [f"Policy {quote.policy}, amounts in {quote.currency}", ""]
    out += _table([*quote.lines, QuoteLine("Refund", quote.refund, "")])
    if quote.due_lines:
        out += ["", *_table([*quote.due_lines, QuoteLine("Due", quote.amount_due, "")])]
    out += [
        "",
        f"Destination:         {quote.destination.value}",
        f"Tax refunded:        {quote.tax_refund:,}",
        f"Amount still due:    {quote.amount_due:,}",
        f"Ends at:             {quote.ends_at.isoformat()}"
        + (" (notice period: ends at the following renewal)" if quote.notice_applied else ""),
        f"Access until:        {quote.access_until.isoformat()}",
        "Data retained until: "
        + (quote.data_retained_until.isoformat() if quote.data_retained_until else "not stated"),
        f"Then:                {quote.fallback.value}",
    ]
    if quote.refund_window_until:
        out.append(f"Refund window:       until {window_text(quote.refund_window_until)}")
    out += [
        f"  {part.what} kept until: " + (part.until.isoformat() if part.until else "indefinitely")
        for part in quote.data_kept
    ]
    if quote.credit_expires_at:
        out.append(f"Credit expires:      {quote.credit_expires_at.isoformat()}")
    if quote.refusal:
        out.append(f"Refused:             {quote.refusal}")
    if quote.alternative is not None:
        out += ["", "Or, at the customer's choice, run to the period end:", ""]
        out.append(quote_text(quote.alternative))
    return "\n".join(out)


def _table(lines: list[QuoteLine]) -> list[str]:
    rows = [(line.label, f"{line.amount:,}", line.clause) for line in lines]
    label_w = max(len(r[0]) for r in rows)
    amount_w = max(len(r[1]) for r in rows)
    return [
        f"{label:<{label_w}}  {amount:>{amount_w}}  {clause}".rstrip()
        for label, amount, clause in rows
    ]


def scenario_text(quote: Quote | PlanChangeQuote) -> str:
    return quote_text(quote) if isinstance(quote, Quote) else plan_change_text(quote)


def plan_change_text(quote: PlanChangeQuote) -> str:
    rows = [(line.label, f"{line.amount:,}", line.clause) for line in quote.lines]
    rows.append(("Net (positive: charged now, negative: credited)", f"{quote.net:,}", ""))
    label_w = max(len(r[0]) for r in rows)
    amount_w = max(len(r[1]) for r in rows)
    out = [f"Policy {quote.policy}, plan change ({quote.direction}), amounts in {quote.currency}"]
    out.append("")
    for label, amount, clause in rows:
        out.append(f"{label:<{label_w}}  {amount:>{amount_w}}  {clause}".rstrip())
    out += [
        "",
        f"Charged now:         {quote.charge_now:,}",
        f"Credited:            {quote.refund:,}",
        f"Takes effect:        {quote.effective_at.isoformat()}"
        + (" (downgrade notice: a cycle later)" if quote.notice_applied else ""),
    ]
    return "\n".join(out)
