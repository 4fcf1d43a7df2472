"""What a pause means, as pure calculations (no database, no clock).

A pause stops billing from `paused_at` until `resumes_at`. The current period's end (and
so the renewal) moves later by the pause length: the customer gets the rest of the period
they paid for after the pause. Resuming early moves it back by the pause left unused.

Quotes during a pause: the customer used nothing while paused, so the engine is asked as
of the moment of pausing, against the period as it was then; the dates it answers with
(end, last day of access, data kept until) are then moved by the time spent paused so far.
Reading, written down: the refund window's clock stands still during the pause, like the
period's; it is neither restarted by pausing nor by resuming.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from .quotes import Quote
from .rules import Effective, PolicyRules
from .snapshot import SubscriptionSnapshot


@dataclass(frozen=True)
class PauseWindow:
    paused_at: datetime
    resumes_at: datetime
    period_end: datetime  # the current period's end, moved by the pause length

    @property
    def length(self) -> timedelta:
        return self.resumes_at - self.paused_at


def pause_window(*, period_end: datetime, at: datetime, months: int) -> PauseWindow:
    """Pause at `at` for `months` calendar months (Jan 31 + 1 month is Feb 28)."""
    if months < 1:
        raise ValueError("a pause lasts at least one month")
    if at >= period_end:
        raise ValueError("the period has already ended: renew it before pausing")
    resumes_at = at + relativedelta(months=months)
    return PauseWindow(at, resumes_at, period_end + (resumes_at - at))


def period_end_on_resume(*, period_end: datetime, resumes_at: datetime, at: datetime) -> datetime:
    """The period end when resuming at `at` (early: the unused pause is given back)."""
    return period_end - max(resumes_at - at, timedelta(0))


def quote_while_paused(
    *,
    quote_cancellation,
    rules: PolicyRules,
    policy_label: str,
    snapshot: SubscriptionSnapshot,
    paused_at: datetime,
    resumes_at: datetime,
    at: datetime,
) -> Quote:
    """The cancellation quote of a subscription paused at `paused_at`, asked at `at`.

    `quote_cancellation` is the engine's public function (passed in so this module does
    not depend on how the engine is split)."""
    length = resumes_at - paused_at
    as_paused = dataclasses.replace(snapshot, period_end=snapshot.period_end - length)
    quote = quote_cancellation(
        rules=rules, policy_label=policy_label, snapshot=as_paused, at=paused_at
    )
    # Ending now ends now; ending at the period end ends at the end the pause moved.
    shift = at - paused_at if quote.effective == Effective.IMMEDIATELY else length
    return dataclasses.replace(
        quote,
        ends_at=quote.ends_at + shift,
        access_until=quote.access_until + shift,
        data_retained_until=quote.data_retained_until + shift
        if quote.data_retained_until
        else None,
    )
