"""A quote as a plain-text table (the simulator's `--text` output)."""

from __future__ import annotations

from datetime import datetime

from .quotes import PlanChangeQuote, Quote


def window_text(until: datetime) -> str:
    """ "31 January 2022 23:59 UTC": a day and minute as the policy's time zone reads them."""
    return f"{until.day} {until:%B %Y %H:%M %Z}"


def quote_text(quote: Quote) -> str:
    rows = [(line.label, f"{line.amount:,}", line.clause) for line in quote.lines]
    rows.append(("Refund", f"{quote.refund:,}", ""))
    label_w = max(len(r[0]) for r in rows)
    amount_w = max(len(r[1]) for r in rows)
    out = [f"Policy {quote.policy}, amounts in {quote.currency}", ""]
    for label, amount, clause in rows:
        out.append(f"{label:<{label_w}}  {amount:>{amount_w}}  {clause}".rstrip())
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
    if quote.refusal:
        out.append(f"Refused:             {quote.refusal}")
    return "\n".join(out)


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
