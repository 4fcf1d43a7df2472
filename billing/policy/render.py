"""A quote as a plain-text table (the simulator's `--text` output)."""

from __future__ import annotations

from .quotes import Quote, QuoteLine


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
