"""Money helpers. Amounts are `Decimal`; they are rounded once, at the end, half-up,
to the currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal

MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0}
CURRENCY_CHOICES = [(code, code) for code in MINOR_UNITS]
ZERO = Decimal("0")


_QUANTA = {code: Decimal(1).scaleb(-places) for code, places in MINOR_UNITS.items()}


def quantum(currency: str) -> Decimal:
    try:
        return _QUANTA[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}") from None


def round_money(amount: Decimal, currency: str) -> Decimal:
    step = _QUANTA.get(currency)
    if step is None:
        raise ValueError(f"unknown currency {currency!r}")
    # Rounding passed by position: the same call, but keywords cost more than the
    # rounding itself in C decimal (money is rounded by the hundred thousand in quotes).
    return amount.quantize(step, ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):,} {currency}"
