"""Seat rules (`SeatRule`): credit for billed seats that go inactive, seat-time billed in
arrears, a minimum of billed seats. Pure.

A seat's billable time runs from when it was added (or the period start) until it is
removed or goes inactive (`inactive_after_days` after its last activity; a seat never used
counts from when it was added). Seat-time is swept over the period: at every moment the
number of seats counted is a function of how many are in that state, which is where the
minimum of billed seats comes in. Counted `by_minute`, or `by_day`: the seat-minutes in
whole days, rounded down for credits and up for charges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from .rules import PolicyRules, Proration, SeatBilling, SeatRule
from .snapshot import SeatSnapshot, SubscriptionSnapshot

MINUTE = timedelta(minutes=1)
MINUTES_PER_DAY = 1440


def inactive_from(seat: SeatSnapshot, rule: SeatRule) -> datetime | None:
    """When the seat stops counting: removed, or `inactive_after_days` without activity."""
    ends = [seat.removed_at] if seat.removed_at is not None else []
    if rule.inactive_after_days is not None:
        last = seat.last_active_at or seat.added_at
        ends.append(last + timedelta(days=rule.inactive_after_days))
    return min(ends) if ends else None


def seat_minutes(
    intervals: Iterable[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
    weight: Callable[[int], int],
) -> int:
    """The sum over [start, end) of weight(number of intervals holding) x minutes."""
    events: list[tuple[datetime, int]] = [(start, 0), (end, 0)]
    for a, b in intervals:
        a, b = max(a, start), min(b, end)
        if a < b:
            events += [(a, 1), (b, -1)]
    events.sort()
    total = count = 0
    previous = start
    for moment, step in events:
        total += weight(count) * ((moment - previous) // MINUTE)
        count += step
        previous = moment
    return total


def period_units(rule: SeatRule, start: datetime, end: datetime) -> int:
    if rule.proration == Proration.BY_DAY:
        return max(round((end - start) / timedelta(days=1)), 1)
    return max((end - start) // MINUTE, 1)


def _units(rule: SeatRule, minutes: int, *, round_up: bool) -> int:
    if rule.proration == Proration.BY_MINUTE:
        return minutes
    return -(-minutes // MINUTES_PER_DAY) if round_up else minutes // MINUTES_PER_DAY


def unit_name(rule: SeatRule, units: int, total: int) -> str:
    """ "5 seat-days of a 31-day period"."""
    unit = "day" if rule.proration == Proration.BY_DAY else "minute"
    return f"{units} seat-{unit}{'' if units == 1 else 's'} of a {total}-{unit} period"


def billed_in_advance(rule: SeatRule, snapshot: SubscriptionSnapshot) -> list[SeatSnapshot]:
    """Seats paid with the period: there at its start and not yet inactive then."""
    if rule.billing != SeatBilling.IN_ADVANCE:
        return []
    start = snapshot.period_start
    return [
        seat
        for seat in snapshot.seats
        if seat.added_at <= start and ((ends := inactive_from(seat, rule)) is None or ends > start)
    ]


def inactive_seat_credit(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, end: datetime
) -> tuple[str, Decimal, str] | None:
    """(label, exact amount, clause): credit for the time before `end` that seats paid
    with the period were inactive, keeping `minimum_billed` seats billed."""
    rule = rules.seats
    if rule is None or not rule.credit_inactive or snapshot.seat_price <= 0:
        return None
    start, stop = snapshot.period_start, min(end, snapshot.period_end)
    billed = billed_in_advance(rule, snapshot)
    creditable = max(max(len(billed), rule.minimum_billed) - rule.minimum_billed, 0)
    inactive = [(ends, stop) for seat in billed if (ends := inactive_from(seat, rule)) is not None]
    minutes = seat_minutes(inactive, start, stop, lambda count: min(count, creditable))
    units = _units(rule, minutes, round_up=False)
    if units <= 0:
        return None
    total = period_units(rule, snapshot.period_start, snapshot.period_end)
    amount = snapshot.seat_price * units / total
    label = f"Seats not used: {unit_name(rule, units, total)}, credited"
    return label, amount, rule.clause.ref


def seat_time_due(
    rule: SeatRule, snapshot: SubscriptionSnapshot, end: datetime
) -> tuple[Decimal, str]:
    """What seat-time billed in arrears up to `end` costs (exact), and its description:
    seats added since the period start (`in_advance`), or every seat (`in_arrears`), at
    least `minimum_billed` at every moment."""
    start, stop = snapshot.period_start, min(end, snapshot.period_end)
    advance = len(billed_in_advance(rule, snapshot))
    floor = rule.minimum_billed
    intervals = []
    for seat in snapshot.seats:
        if rule.billing == SeatBilling.IN_ADVANCE and seat.added_at <= start:
            continue
        ends = inactive_from(seat, rule)
        intervals.append((seat.added_at, stop if ends is None else ends))
    paid = max(advance, floor) if rule.billing == SeatBilling.IN_ADVANCE else 0
    minutes = seat_minutes(intervals, start, stop, lambda count: max(advance + count, floor) - paid)
    units = _units(rule, minutes, round_up=True)
    total = period_units(rule, snapshot.period_start, snapshot.period_end)
    return snapshot.seat_price * units / total, unit_name(rule, units, total)
