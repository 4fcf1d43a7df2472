"""How policies and quotes read in the admin: the quote table, the rules table (setting,
clause, reading), and the example scenario a simulator page starts from."""

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from billing.policy.quotes import Quote
from billing.policy.scenarios import EXAMPLES


def render_quote(quote: Quote) -> str:
    """The explained quote as an HTML table (simulator page, subscription page)."""
    return render_to_string("admin/billing/quote_table.html", {"quote": quote})


def example_scenario_text(slug: str) -> str:
    """The example scenario of a preset (the prorated-credit one for other slugs)."""
    name = EXAMPLES.get(slug, EXAMPLES["prorated-credit"])
    return (settings.BASE_DIR / "scenarios" / name).read_text(encoding="utf-8")


SECTION_TITLES = {
    "refund_window": "Refund window",
    "service_deductions": "Service deduction schedule",
    "trial": "Trials",
    "proration": "Proration",
    "cancellation_notice": "Cancellation notice",
    "downgrade_notice": "Downgrade notice",
    "retention": "Data retention",
    "dunning": "Failed payments",
    "changes": "Upgrades and downgrades",
    "refusals": "Refusals",
    "charges": "Charges at cancellation",
    "credit": "Customer credit",
    "variants": "Variants (first match wins per rule)",
    "clauses": "Other clauses",
}


FIELD_CLAUSES = {"never_refunded_kinds": "never_refunded"}


def rules_table(data: dict[str, Any]) -> str:
    """Rules as rows: setting, value, clause, reading (the interpretation of the text)."""
    rows: list[tuple[str, str, str, str]] = []
    general = data.get("clauses", {})
    for key, value in data.items():
        title = SECTION_TITLES.get(key, key.replace("_", " "))
        items = value if isinstance(value, list) and value and isinstance(value[0], dict) else None
        if key == "clauses":
            items = [{"key": k, "clause": v} for k, v in value.items() if k not in data]
        elif items is None and not isinstance(value, dict):
            # A plain setting is explained by the general clause of the same name.
            items = [{"value": value, "clause": general.get(FIELD_CLAUSES.get(key, key), {})}]
        for item in items if items is not None else [value]:
            if isinstance(item, dict):
                clause = item.get("clause") or {}
                settings_text = (
                    _plain(item["value"])
                    if "value" in item
                    else "; ".join(
                        f"{k.replace('_', ' ')}: {_plain(v)}"
                        for k, v in item.items()
                        if k != "clause"
                    )
                )
                rows.append(
                    (title, settings_text, clause.get("ref", ""), clause.get("reading", ""))
                )
            else:
                rows.append((title, _plain(item), "", ""))
    body = format_html_join(
        "", "<tr><th>{}</th><td>{}</td><td>{}</td><td><em>{}</em></td></tr>", rows
    )
    return format_html(
        '<table class="policy-rules"><thead><tr><th>Rule</th><th>Setting</th>'
        "<th>Clause</th><th>Reading</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        # A variant's condition or rules: only what it sets.
        shown = {k: v for k, v in value.items() if v not in (None, [], "any", "") and k != "clause"}
        return "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in shown.items()) or "any"
    return str(value)
