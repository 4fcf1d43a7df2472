"""Retention: when a workspace's data is due for deletion, and what to call its state.

Pure calculations: no database, no clock. The caller passes the workspace's dates
(`RetentionFacts`), the retention rule of its policy and `now`.

Invariants:
- The deletion is due at the earliest of `ended_at + after_end_days` (data kept after the
  end of the subscription) and `last activity + inactivity_days` (GDPR inactivity), for the
  parts of the rule that are defined. A rule counted from the request counts its days from
  the cancellation request instead (`cancelled_at`), but never deletes before the end:
  data is not deleted while the subscription still runs. A workspace that never had
  activity counts from its creation. No defined part means no scheduled deletion (only on
  request). Parts of the data a rule keeps longer (`partial`) count the same way.
- Nothing is deleted before a warning has been out for `warning_days`: the effective
  deletion date is the later of the due date and `warning sent + warning_days`.
- A workspace without any subscription follows `HOUSE_DEFAULT_RETENTION`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from billing.policy.rules import Clause, RetainedData, RetentionFrom, RetentionRule

HOUSE_DEFAULT_RETENTION = RetentionRule(
    after_end_days=None,
    inactivity_days=90,
    clause=Clause(
        "House default (no subscription)",
        "A workspace that never had a subscription has no policy of its own; like connex's "
        "GDPR note it is deleted after 90 days without activity.",
    ),
)

# After this long without activity an agent sees "inactive since", before any deadline.
INACTIVE_AFTER = timedelta(days=30)


class RetentionState(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive_since"
    ENDED_KEPT = "ended_kept_until"
    SCHEDULED = "scheduled_for_deletion"
    WARNING_SENT = "warning_sent"
    LEGAL_HOLD = "legal_hold"
    DELETED = "deleted"


class DeletionReason(StrEnum):
    """Matches `DeletionTombstone.Rule` values."""

    INACTIVITY = "inactivity"
    RETENTION_ENDED = "retention_ended"
    CUSTOMER_REQUEST = "customer_request"


@dataclass(frozen=True)
class RetentionFacts:
    created_at: datetime
    last_activity_at: datetime | None
    ended_at: datetime | None
    legal_hold: bool = False
    warning_sent_at: datetime | None = None
    deleted: bool = False
    # When the customer asked to end the latest subscription (its `cancelled_at`).
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class Deadline:
    at: datetime
    reason: DeletionReason


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    label: str
    past: bool


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


@dataclass(frozen=True)
class RetentionStatus:
    state: RetentionState
    deletion_due_at: datetime | None
    deletes_at: datetime | None  # due date pushed back until the warning has run its notice
    reason: DeletionReason | None
    inactive_since: datetime
    kept_until: datetime | None
    warning_due_at: datetime | None

    @property
    def label(self) -> str:
        """Dates as words ("6 Apr 2025"): agents read this in the workspaces list."""
        match self.state:
            case RetentionState.ACTIVE:
                return "Active"
            case RetentionState.INACTIVE:
                return f"Inactive since {_day(self.inactive_since)}"
            case RetentionState.ENDED_KEPT:
                if self.kept_until is None:
                    return "Ended, kept until deleted on request"
                return f"Ended, kept until {_day(self.kept_until)}"
            case RetentionState.SCHEDULED:
                return f"Scheduled for deletion on {_day(self.deletes_at)}"
            case RetentionState.WARNING_SENT:
                return f"Warning sent, deletion on {_day(self.deletes_at)}"
            case RetentionState.LEGAL_HOLD:
                return "On legal hold"
            case _:
                return "Deleted"


def inactivity_start(facts: RetentionFacts) -> datetime:
    return facts.last_activity_at or facts.created_at


def kept_after_end_until(
    rule: RetentionRule, facts: RetentionFacts, days: int | None = None
) -> datetime | None:
    """When the data kept after the end goes: `after_end_days` (or `days`, a part's) from
    the end, or from the cancellation request (never before the end) for a rule counted
    from the request. None: not ended, or no such limit."""
    days = rule.after_end_days if days is None else days
    if days is None or facts.ended_at is None:
        return None
    if rule.counted_from == RetentionFrom.REQUEST and facts.cancelled_at is not None:
        return max(facts.cancelled_at + timedelta(days=days), facts.ended_at)
    return facts.ended_at + timedelta(days=days)


def retained_parts(
    rule: RetentionRule, facts: RetentionFacts
) -> tuple[tuple[RetainedData, datetime | None], ...]:
    """The parts of the data kept on their own horizon, with the date each goes (None:
    kept indefinitely, or not ended yet)."""
    return tuple(
        (part, None if part.days is None else kept_after_end_until(rule, facts, part.days))
        for part in rule.partial
    )


def deletion_deadline(rule: RetentionRule, facts: RetentionFacts) -> Deadline | None:
    """The earliest deadline the rule sets, with the clause that sets it."""
    candidates = []
    kept = kept_after_end_until(rule, facts)
    if kept is not None:
        candidates.append(Deadline(kept, DeletionReason.RETENTION_ENDED))
    if rule.inactivity_days is not None:
        candidates.append(
            Deadline(
                inactivity_start(facts) + timedelta(days=rule.inactivity_days),
                DeletionReason.INACTIVITY,
            )
        )
    return min(candidates, key=lambda d: d.at, default=None)


def facts_once_ended(
    facts: RetentionFacts, *, ends_at: datetime, active_at: datetime
) -> RetentionFacts:
    """The facts as they will be if the subscription ends at `ends_at` and nobody uses the
    workspace after `active_at` (the moment the customer asked, or now): the end and the
    request already recorded win."""
    last = max(filter(None, (facts.last_activity_at, active_at)))
    return replace(
        facts,
        ended_at=facts.ended_at or ends_at,
        last_activity_at=last,
        cancelled_at=facts.cancelled_at or active_at,
    )


def data_kept_until(
    rule: RetentionRule, facts: RetentionFacts, *, ends_at: datetime, active_at: datetime
) -> Deadline | None:
    """Until when the workspace's data is kept once it ends (`facts_once_ended`): the
    purge's own `deletion_deadline`. The cancellation request page and the subscription
    page both call it. None: kept until the customer asks (the rule sets no deadline)."""
    return deletion_deadline(rule, facts_once_ended(facts, ends_at=ends_at, active_at=active_at))


def deletion_reason(rule: RetentionRule, facts: RetentionFacts) -> DeletionReason | None:
    deadline = deletion_deadline(rule, facts)
    return deadline.reason if deadline else None


def retention_status(
    facts: RetentionFacts,
    *,
    deletion_due_at: datetime | None,
    now: datetime,
    warning_days: int,
    reason: DeletionReason | None = None,
) -> RetentionStatus:
    """The state an agent sees. Takes the due date (computed by `deletion_deadline` or the
    stored copy) so the changelist can call it without loading the policy."""
    notice = timedelta(days=warning_days)
    deletes_at = deletion_due_at
    if deletion_due_at is not None and facts.warning_sent_at is not None:
        deletes_at = max(deletion_due_at, facts.warning_sent_at + notice)
    warning_due_at = deletion_due_at - notice if deletion_due_at is not None else None
    kept_until = deletion_due_at if facts.ended_at is not None else None
    if facts.deleted:
        state = RetentionState.DELETED
    elif facts.legal_hold:
        state = RetentionState.LEGAL_HOLD
    elif deletion_due_at is not None and facts.warning_sent_at is not None:
        state = RetentionState.WARNING_SENT
    elif warning_due_at is not None and now >= warning_due_at:
        state = RetentionState.SCHEDULED
        deletes_at = max(deletion_due_at, now + notice)
    elif facts.ended_at is not None and facts.ended_at <= now:
        state = RetentionState.ENDED_KEPT
    elif now - inactivity_start(facts) >= INACTIVE_AFTER:
        state = RetentionState.INACTIVE
    else:
        state = RetentionState.ACTIVE
    return RetentionStatus(
        state=state,
        deletion_due_at=deletion_due_at,
        deletes_at=deletes_at,
        reason=reason,
        inactive_since=inactivity_start(facts),
        kept_until=kept_until,
        warning_due_at=warning_due_at,
    )


def retention_timeline(
    rule: RetentionRule, facts: RetentionFacts, *, now: datetime, warning_days: int
) -> tuple[TimelineEvent, ...]:
    """The dates that matter, in order: what happened and what will happen."""
    events: list[tuple[datetime, str]] = [(facts.created_at, "Workspace created")]
    if facts.last_activity_at:
        events.append((facts.last_activity_at, "Last activity"))
    if facts.cancelled_at and facts.cancelled_at != facts.ended_at:
        events.append((facts.cancelled_at, "Cancellation requested"))
    if facts.ended_at:
        events.append((facts.ended_at, "Subscription ended"))
        since = "request" if rule.counted_from == RetentionFrom.REQUEST else "end"
        kept = kept_after_end_until(rule, facts)
        if kept is not None:
            events.append((kept, f"End of retention ({rule.after_end_days} days after {since})"))
        for part, until in retained_parts(rule, facts):
            if until is not None:
                events.append((until, f"{part.what} deleted ({part.days} days after {since})"))
    if rule.inactivity_days is not None:
        limit = inactivity_start(facts) + timedelta(days=rule.inactivity_days)
        events.append((limit, f"{rule.inactivity_days} days without activity"))
    if facts.warning_sent_at:
        events.append((facts.warning_sent_at, "Deletion warning sent"))
    deadline = deletion_deadline(rule, facts)
    if deadline and not facts.deleted and not facts.legal_hold:
        status = retention_status(
            facts, deletion_due_at=deadline.at, now=now, warning_days=warning_days
        )
        if facts.warning_sent_at is None and status.warning_due_at > now:
            events.append((status.warning_due_at, "Deletion warning due"))
        events.append((status.deletes_at, "Scheduled deletion"))
    events.sort(key=lambda event: event[0])
    return tuple(TimelineEvent(at=at, label=label, past=at <= now) for at, label in events)
