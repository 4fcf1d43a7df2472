"""What seat rules and limits on changes read from the database, for the snapshot.

Read only where the policy (or one of its variants) has such rules, so other quotes cost
no query more: `snapshot_extras(subscription, rules)` gives the keyword arguments of
`subscription_snapshot`. Seats are the workspace's members, with their last activity, and
the members removed during the current period (from their removal's audit record). The
account's limited changes are its audit records: pauses, downgrades, and cancellations
that fell back to the Free plan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import AuditRecord, WorkspaceMember
from billing.models import Subscription
from billing.policy.rules import Fallback, LimitedChange, PolicyRules
from billing.policy.snapshot import ChangeEvent, SeatSnapshot

MEMBER_REMOVE = "workspace.member_remove"
CHANGE_ACTIONS = {
    "subscription.pause": LimitedChange.PAUSE,
    "subscription.downgrade": LimitedChange.DOWNGRADE,
    "subscription.cancel_apply": LimitedChange.DOWNGRADE_TO_FREE,
}


def _sets(rules: PolicyRules, name: str) -> bool:
    return bool(getattr(rules, name)) or any(name in v.rules for v in rules.variants)


def snapshot_extras(subscription: Subscription, rules: PolicyRules) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if _sets(rules, "seats"):
        extras["seats"] = seat_snapshots(subscription)
    if _sets(rules, "limits"):
        extras["changes"] = account_changes(subscription.workspace_id)
    return extras


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def seat_snapshots(subscription: Subscription) -> tuple[SeatSnapshot, ...]:
    """The seats of the subscription's workspace this period (two queries)."""
    seats = [
        SeatSnapshot(f"member-{pk}", joined_at, None, last_active_at)
        for pk, joined_at, last_active_at in WorkspaceMember.objects.filter(
            workspace_id=subscription.workspace_id
        ).values_list("pk", "joined_at", "last_active_at")
    ]
    removed = AuditRecord.objects.filter(
        workspace_id=subscription.workspace_id,
        action=MEMBER_REMOVE,
        created_at__gte=subscription.current_period_start,
    ).values_list("target_id", "created_at", "before")
    for target_id, removed_at, before in removed:
        # Removals recorded without the join time: the seat was there from the period start.
        added_at = _moment(before.get("joined_at")) or subscription.current_period_start
        last = _moment(before.get("last_active_at"))
        seats.append(SeatSnapshot(f"member-{target_id}", added_at, removed_at, last))
    return tuple(seats)


def account_changes(workspace_id: int) -> tuple[ChangeEvent, ...]:
    """The account's earlier limited changes, oldest first (one query)."""
    records = (
        AuditRecord.objects.filter(workspace_id=workspace_id, action__in=list(CHANGE_ACTIONS))
        .order_by("created_at", "pk")
        .values_list("action", "created_at", "after")
    )
    return tuple(
        ChangeEvent(CHANGE_ACTIONS[action], at)
        for action, at, after in records
        if action != "subscription.cancel_apply" or after.get("fallback") == Fallback.FREE_PLAN
    )
