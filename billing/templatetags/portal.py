"""Template helpers for the customer portal and its emails.

`site_name` also works where no context processor runs (the 500 page, emails rendered
in a Celery task)."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.conf import settings

from billing.money import format_money

register = template.Library()


@register.simple_tag
def site_name() -> str:
    return settings.SITE_NAME


@register.filter
def money(amount: Decimal | str | None, currency: str) -> str:
    """`12.50` + `EUR` -> `12.50 EUR`, rounded to the currency's minor unit."""
    if amount in (None, ""):
        return ""
    return format_money(Decimal(str(amount)), currency)


@register.filter
def as_datetime(value: str | datetime | None) -> datetime | None:
    """Quotes stored as JSON hold ISO strings; the `date` filter needs datetimes."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
