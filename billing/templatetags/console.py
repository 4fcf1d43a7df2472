"""Template filters for admin pages: `{{ amount|money:currency }}`, `{{ moment|when }}`."""

from django import template

from backoffice.display import local_date, local_datetime
from billing.admin.display import label, money_text

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return money_text(amount, currency)


@register.filter
def when(moment) -> str:
    return local_datetime(moment)


@register.filter
def day(moment) -> str:
    return local_date(moment)


@register.filter
def words(code: str) -> str:
    return label(code)
