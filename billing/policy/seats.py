"""Seat rules (`SeatRule`): credit for billed seats that go inactive, seat-time billed in
arrears, a minimum of billed seats. Pure.

A seat's billable time runs from when it was added (or the period start) until it is
removed or goes inactive (`inactive_after_days` after its last activity; a seat never used
counts from when it was added). Seat-time is swept over the period: at every moment the
number of seats counted is a function of how many are in that state, which is where the
minimum of billed seats comes in. Counted `by_minute`, or `by_day`: the seat-minutes in
whole days, rounded down for credits and up for charges. What does not depend on the
quoted moment is worked out once per snapshot and rule (`prepared`): quotes are built by
the ten thousand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from .rules import PolicyRules, Proration, SeatBilling, SeatRule
from .snapshot import SeatSnapshot, SubscriptionSnapshot

MINUTE = timedelta(minutes=1)
MINUTES_PER_DAY = 1440
# Enum members looked up once: a member lookup on the class is slow on the hot path (3.11).
_BY_DAY, _BY_MINUTE, _IN_ADVANCE = Proration.BY_DAY, Proration.BY_MINUTE, SeatBilling.IN_ADVANCE


def inactive_from(seat: SeatSnapshot, rule: SeatRule) -> datetime | None:
    """When the seat stops counting: removed, or `inactive_after_days` without activity."""
    ends = [seat.removed_at] if seat.removed_at is not None else []
    if rule.inactive_after_days is not None:
        last = seat.last_active_at or seat.added_at
        ends.append(last + timedelta(days=rule.inactive_after_days))
    return min(ends) if ends else None


def seat_time(
    intervals: Iterable[tuple[datetime, datetime | None]],
    start: datetime,
    end: datetime,
    weight: Callable[[int], int],
) -> timedelta:
    """The sum over [start, end) of weight(number of intervals holding) x time (an
    interval without an end holds to `end`)."""
    events: list[tuple[datetime, int]] = [(start, 0), (end, 0)]
    for a, b in intervals:
        a, b = max(a, start), end if b is None else min(b, end)
        if a < b:
            events += [(a, 1), (b, -1)]
    events.sort()
    total = timedelta(0)
    count = 0
    previous = start
    for moment, step in events:
        total += weight(count) * (moment - previous)
        count += step
        previous = moment
    return total


def period_units(rule: SeatRule, start: datetime, end: datetime) -> int:
    if rule.proration == _BY_DAY:
        return max(round((end - start) / timedelta(days=1)), 1)
    return max((end - start) // MINUTE, 1)


def _units(rule: SeatRule, minutes: int, *, round_up: bool) -> int:
    if rule.proration == _BY_MINUTE:
        return minutes
    return -(-minutes // MINUTES_PER_DAY) if round_up else minutes // MINUTES_PER_DAY


def unit_name(rule: SeatRule, units: int, total: int) -> str:
    """ "5 seat-days of a 31-day period"."""
    unit = "day" if rule.proration == _BY_DAY else "minute"
    return f"{units} seat-{unit}{'' if units == 1 else 's'} of a {total}-{unit} period"


_UNSET = object()  # a memo not yet filled (None is a result: no credit)


class PreparedSeats:
    """What does not depend on the quoted moment, worked out once per snapshot and rule;
    also the credit up to the period end, the same for every moment (a run to the period
    end asks for it on every quote), and, counted by day, the credit and the seat-time due
    per number of seat-days (their labels and amounts depend on nothing else; at most the
    seats times the days of the period)."""

    __slots__ = (
        "advance",
        "arrears",
        "by_day",
        "credit_to_period_end",
        "creditable",
        "credits",
        "dues",
        "inactive_starts",
        "rule",
        "total",
    )

    def __init__(self, rule: SeatRule, snapshot: SubscriptionSnapshot) -> None:
        start = snapshot.period_start
        in_advance = rule.billing == _IN_ADVANCE
        billed, starts, arrears = 0, [], []
        for seat in snapshot.seats:
            ends = inactive_from(seat, rule)
            if in_advance and seat.added_at <= start:
                if ends is None or ends > start:  # paid with the period
                    billed += 1
                    if ends is not None:
                        starts.append(ends)
            else:
                arrears.append((seat.added_at, ends))
        self.rule = rule
        self.advance = billed
        # The seats credited at a moment are the first `creditable` to go inactive.
        self.creditable = max(billed - rule.minimum_billed, 0)
        self.inactive_starts = sorted(starts)[: self.creditable]
        self.arrears = arrears
        self.total = period_units(rule, snapshot.period_start, snapshot.period_end)
        self.credit_to_period_end: tuple[str, Decimal, str] | None | object = _UNSET
        self.by_day = rule.proration == _BY_DAY
        self.credits: dict[int, tuple[str, Decimal, str]] = {}
        self.dues: dict[int, tuple[Decimal, str]] = {}


def prepared(rule: SeatRule, snapshot: SubscriptionSnapshot) -> PreparedSeats:
    memo = snapshot.index.by_rule
    entry = memo.get(("seats", id(rule)))
    if entry is None or entry.rule is not rule:
        entry = PreparedSeats(rule, snapshot)
        memo["seats", id(rule)] = entry
    return entry


def inactive_seat_credit(
    rules: PolicyRules, snapshot: SubscriptionSnapshot, end: datetime
) -> tuple[str, Decimal, str] | None:
    """(label, exact amount, clause): credit for the time before `end` that seats paid
    with the period were inactive, keeping `minimum_billed` seats billed: at every moment
    the first seats to have gone inactive, as many as the minimum leaves creditable."""
    rule = rules.seats
    if rule is None or not rule.credit_inactive or snapshot.seat_price <= 0:
        return None
    seats = prepared(rule, snapshot)
    if end < snapshot.period_end:
        return _credit_until(rule, snapshot, seats, end)
    if seats.credit_to_period_end is _UNSET:
        seats.credit_to_period_end = _credit_until(rule, snapshot, seats, snapshot.period_end)
    return seats.credit_to_period_end  # type: ignore[return-value]


def _credit_until(
    rule: SeatRule, snapshot: SubscriptionSnapshot, seats: PreparedSeats, stop: datetime
) -> tuple[str, Decimal, str] | None:
    time = sum((stop - begins for begins in seats.inactive_starts if begins < stop), timedelta(0))
    units = _units(rule, time // MINUTE, round_up=False)
    if units <= 0:
        return None
    credit = seats.credits.get(units)
    if credit is None:
        amount = snapshot.seat_price * units / seats.total
        label = f"Seats not used: {unit_name(rule, units, seats.total)}, credited"
        credit = (label, amount, rule.clause.ref)
        if seats.by_day:
            seats.credits[units] = credit
    return credit


def seat_time_due(
    rule: SeatRule, snapshot: SubscriptionSnapshot, end: datetime
) -> tuple[Decimal, str]:
    """What seat-time billed in arrears up to `end` costs (exact), and its description:
    seats added since the period start (`in_advance`), or every seat (`in_arrears`), at
    least `minimum_billed` at every moment."""
    seats = prepared(rule, snapshot)
    stop = min(end, snapshot.period_end)
    advance, floor = seats.advance, rule.minimum_billed
    start = snapshot.period_start
    in_advance = rule.billing == _IN_ADVANCE
    if (floor <= advance) if in_advance else floor == 0:
        # No minimum to fill: every seat counts once, a plain sum.
        time = timedelta(0)
        for added, ends in seats.arrears:
            a, b = max(added, start), stop if ends is None else min(ends, stop)
            if a < b:
                time += b - a
    else:
        paid = max(advance, floor) if in_advance else 0
        time = seat_time(
            seats.arrears, start, stop, lambda count: max(advance + count, floor) - paid
        )
    units = _units(rule, time // MINUTE, round_up=True)
    due = seats.dues.get(units)
    if due is None:
        due = (snapshot.seat_price * units / seats.total, unit_name(rule, units, seats.total))
        if seats.by_day:
            seats.dues[units] = due
    return due
