"""After a free trial whose rule governs (connex §Free Trials): monthly, the last month is
due; annual, unused whole days during the first N days of the paid period, then nothing."""

from __future__ import annotations

from datetime import datetime

from billing.money import ZERO

from .calendars import window_closes
from .payment_work import PaymentWork, covers, period_of
from .proration import unused_fraction
from .rules import Interval, PaymentKind, PolicyRules, Proration
from .snapshot import SubscriptionSnapshot


def after_trial(
    pq: PaymentWork,
    rules: PolicyRules,
    snapshot: SubscriptionSnapshot,
    at: datetime,
    label: str,
) -> None:
    trial = rules.trial
    assert trial is not None and snapshot.trial_end is not None
    pay = pq.payment
    ref = trial.clause.ref
    if pay.kind != PaymentKind.SUBSCRIPTION or not covers(pay, snapshot, at):
        pq.lines.append((f"{label}: not refundable after a trial", ZERO, ref))
        return
    if snapshot.interval == Interval.MONTH:
        pq.lines.append((f"{label}: the last month after a trial is due in full", ZERO, ref))
        return
    days = trial.annual_prorate_days
    if days is None or at >= window_closes(
        snapshot.trial_end, days, trial.annual_prorate_counted, rules.time_zone
    ):
        pq.lines.append((f"{label}: not refundable after the first {days} days", ZERO, ref))
        return
    start, end = period_of(pay, snapshot)
    fraction = unused_fraction(Proration.BY_DAY, start, end, at)
    pq.time_based = True
    pq.lines.append((f"{label}: unused days of the year", pay.amount * fraction, ref))
