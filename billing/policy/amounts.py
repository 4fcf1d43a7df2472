"""Fixed amounts in a policy (`Money`: an amount with its currency) and how a rule's
amounts are read for one currency: never converted, refused where the version defines
none in the subscription's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.errors import DomainError
from billing.money import MINOR_UNITS

from .clauses import Clause


@dataclass(frozen=True)
class Money:
    """A fixed amount in a policy, with its currency: never applied in another one."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not self.currency:
            raise ValueError("currency: a fixed amount needs a currency")
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"currency: unknown currency {self.currency!r}")
        if self.amount < 0:
            raise ValueError(f"a fixed amount cannot be negative ({self.amount})")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class NoAmountInCurrency(DomainError):
    """A rule's fixed amount is not defined in the subscription's currency: the quote is
    refused rather than applying it in another currency (no silent conversion)."""


def amount_in(amounts: tuple[Money, ...], currency: str) -> Decimal | None:
    """The amount a rule defines for `currency`: zero when it defines no amount at all,
    None when it defines amounts but none in `currency` (the quote then refuses)."""
    if not amounts:
        return Decimal("0")
    for money in amounts:
        if money.currency == currency:
            return money.amount
    return None


def amount_for(amounts: tuple[Money, ...], currency: str, *, rule: str, clause: Clause) -> Decimal:
    """`amount_in`, or `NoAmountInCurrency` naming the rule and its clause."""
    amount = amount_in(amounts, currency)
    if amount is None:
        defined = ", ".join(str(money) for money in amounts)
        raise NoAmountInCurrency(
            f"{clause.ref}: this policy version defines the amount only as {defined}, "
            f"not in {currency}; it is never converted",
            field=rule,
        )
    return amount
