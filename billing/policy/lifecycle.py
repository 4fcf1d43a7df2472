"""Pure calculations of the subscription lifecycle: add-on prices and charges, the renewal
amount, order packs carried over, and the dunning schedule. No database, no clock.

Invariants:
- amounts are computed exactly and rounded once, half-up, to the currency's minor unit;
- an add-on bought mid-period is prorated with the policy's *upgrade* proration mode
  (buying an add-on is an upgrade of limits), then renews at its full price;
- the renewal amount is the plan price less the discount (unless void) plus the full
  price of every recurring add-on still active at the start of the new period;
- the dunning schedule counts from the first failed charge; extending the grace period
  moves suspension and expiry by the same number of days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from billing.money import ZERO, round_money

from .proration import unused_fraction
from .quotes import QuoteLine
from .rules import ChangeRule, DunningRule, Interval, Proration

ORDER_PACK_SIZE = 100


@dataclass(frozen=True)
class AddOnPrice:
    """`unit` of the add-on (seats, MB, modules, orders) costs `monthly` per month;
    a yearly plan pays ten months (two months free), an order pack is paid once."""

    unit: int
    monthly: Decimal
    one_time: bool = False


ADDON_PRICES: dict[str, AddOnPrice] = {
    "extra_seats": AddOnPrice(unit=1, monthly=Decimal("5.00")),
    "extra_storage": AddOnPrice(unit=1000, monthly=Decimal("10.00")),
    "extra_modules": AddOnPrice(unit=1, monthly=Decimal("15.00")),
    "order_pack": AddOnPrice(unit=ORDER_PACK_SIZE, monthly=Decimal("20.00"), one_time=True),
}
YEARLY_MONTHS_PAID = 10


def addon_period_price(kind: str, quantity: int, interval: Interval, currency: str) -> Decimal:
    """The full price of `quantity` of an add-on for one billing period (or once)."""
    price = ADDON_PRICES[kind]
    if quantity <= 0 or quantity % price.unit:
        raise ValueError(f"quantity must be a positive multiple of {price.unit}")
    units = quantity // price.unit
    months = 1 if price.one_time or interval == Interval.MONTH else YEARLY_MONTHS_PAID
    return round_money(price.monthly * units * months, currency)


@dataclass(frozen=True)
class Charge:
    """An amount charged now, with the lines that explain it."""

    currency: str
    amount: Decimal
    lines: tuple[QuoteLine, ...]

    def to_dict(self) -> dict:
        return {
            "currency": self.currency,
            "amount": str(self.amount),
            "lines": [
                {"label": line.label, "amount": str(line.amount), "clause": line.clause}
                for line in self.lines
            ],
        }


def quote_addon(
    *,
    changes: ChangeRule,
    period_price: Decimal,
    one_time: bool,
    period_start: datetime,
    period_end: datetime,
    currency: str,
    at: datetime,
) -> Charge:
    """What buying an add-on costs now: an order pack in full, a recurring add-on for the
    rest of the current period, prorated like an upgrade."""
    ref = changes.clause.ref
    if one_time:
        return Charge(currency, period_price, (QuoteLine("One-time purchase", period_price, ref),))
    mode = changes.upgrade_proration
    fraction = (
        Decimal(1)
        if mode == Proration.NONE
        else unused_fraction(mode, period_start, period_end, at)
    )
    amount = round_money(period_price * fraction, currency)
    lines = (
        QuoteLine("Add-on for the rest of the current period", amount, ref),
        QuoteLine(f"Then {period_price} {currency} each period with the plan", ZERO, ref),
    )
    return Charge(currency, amount, lines)


def renewal_charge(
    *,
    plan_name: str,
    plan_price: Decimal,
    discount_percent: Decimal,
    discount_void: bool,
    addons: tuple[tuple[str, Decimal], ...],
    currency: str,
) -> Charge:
    """The amount of a renewal: (plan price - discount) + recurring add-ons (label, price)."""
    lines = [QuoteLine(f"{plan_name} plan", plan_price, "")]
    total = plan_price
    if discount_percent and not discount_void:
        discount = -round_money(plan_price * discount_percent / 100, currency)
        lines.append(QuoteLine(f"Discount {discount_percent.normalize()}%", discount, ""))
        total += discount
    for label, price in addons:
        lines.append(QuoteLine(label, price, ""))
        total += price
    return Charge(currency, round_money(total, currency), tuple(lines))


def order_packs_carried_over(*, pack_orders: int, orders_used: int, plan_limit: int | None) -> int:
    """Orders left in packs at renewal when packs are not reset: the orders placed beyond
    the plan's own limit were taken from the packs."""
    if plan_limit is None:
        return pack_orders
    return max(pack_orders - max(orders_used - plan_limit, 0), 0)


class DunningStep(StrEnum):
    NONE = "none"
    RETRY = "retry"
    SUSPEND = "suspend"
    EXPIRE = "expire"


def next_retry_at(rule: DunningRule, *, past_due_since: datetime, attempts: int) -> datetime | None:
    """After `attempts` failed charges (the first included), when the next retry is due."""
    if attempts - 1 < len(rule.retry_after_days):
        return past_due_since + timedelta(days=rule.retry_after_days[attempts - 1])
    return None


def grace_end(rule: DunningRule, *, past_due_since: datetime) -> datetime:
    return past_due_since + timedelta(days=rule.suspend_after_days)


def expires_at(rule: DunningRule, *, grace_until: datetime) -> datetime:
    return grace_until + timedelta(days=rule.expire_after_days - rule.suspend_after_days)


def dunning_steps_due(
    rule: DunningRule,
    *,
    status: str,
    grace_until: datetime,
    next_retry: datetime | None,
    now: datetime,
) -> tuple[DunningStep, ...]:
    """What is due for a past-due or suspended subscription, in order: a retry first (it
    may recover the subscription), then suspension; expiry replaces both."""
    if now >= expires_at(rule, grace_until=grace_until):
        return (DunningStep.EXPIRE,)
    steps = []
    if next_retry is not None and now >= next_retry:
        steps.append(DunningStep.RETRY)
    if status == "past_due" and now >= grace_until:
        steps.append(DunningStep.SUSPEND)
    return tuple(steps)
