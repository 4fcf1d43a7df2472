"""A quote as a plain-text table (the simulator's `--text` output)."""

from __future__ import annotations

from .quotes import Quote


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
    if quote.refusal:
        out.append(f"Refused:             {quote.refusal}")
    return "\n".join(out)
