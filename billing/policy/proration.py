"""How much of a period is unused at a moment, per proration mode."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from billing.money import ZERO

from .calendars import add_months, whole_months
from .rules import Proration

# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_NONE, _BY_MINUTE, _BY_DAY = Proration.NONE, Proration.BY_MINUTE, Proration.BY_DAY
_WHOLE_MONTHS = Proration.WHOLE_MONTHS

MODE_LABELS = {
    Proration.BY_MINUTE: "unused time, to the minute",
    Proration.BY_DAY: "unused whole days",
    Proration.WHOLE_MONTHS: "unused months, the current one included",
    Proration.WHOLE_MONTHS_EXCEPT_CURRENT: "months not yet started",
}


def unused_fraction(mode: Proration, start: datetime, end: datetime, at: datetime) -> Decimal:
    """The share of [start, end) not yet used at `at`, per proration mode (1 before start)."""
    if at >= end:
        return ZERO
    if at <= start:
        return Decimal(1)
    if mode == _NONE:
        return ZERO
    if mode == _BY_MINUTE:
        total = (end - start) // timedelta(minutes=1)
        left = (end - at) // timedelta(minutes=1)
        return Decimal(left) / Decimal(total)
    if mode == _BY_DAY:
        # The day of the cancellation counts as used: only whole days left are refunded.
        total = round((end - start) / timedelta(days=1))
        left = (end - at) // timedelta(days=1)
        return Decimal(min(left, total)) / Decimal(total)
    total, current = _months(start, end, at)
    return _month_share(mode is _WHOLE_MONTHS, total, current)


@lru_cache(maxsize=1024)
def _month_share(current_included: bool, total: int, current: int) -> Decimal:
    """Months left of `total` with the `current`-th under way (a handful of values)."""
    left = total - current if current_included else total - current - 1
    return Decimal(max(left, 0)) / Decimal(total)


def _months(start: datetime, end: datetime, at: datetime) -> tuple[int, int]:
    """(months in [start, end), index of the month containing `at`)."""
    total = _months_in(start, end)
    return total, min(max(whole_months(start, at), 0), total - 1)


@lru_cache(maxsize=4096)
def _months_in(start: datetime, end: datetime) -> int:
    """Months in [start, end), a started one counted: the same for every quote of a period."""
    total = whole_months(start, end)
    if add_months(start, total) < end:
        total += 1
    return max(total, 1)
