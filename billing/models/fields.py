from django.db import models

from backoffice.bounds import AMOUNT_VALIDATORS
from billing.money import CURRENCY_CHOICES


class MoneyField(models.DecimalField):
    """A Decimal amount; the currency lives in a sibling `currency` field. Bounded to
    ±MAX_AMOUNT (backoffice/bounds.py) so a form never passes an amount the sums overflow."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("validators", AMOUNT_VALIDATORS)
        super().__init__(*args, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", CURRENCY_CHOICES)
    return models.CharField(**kwargs)
