"""Where a workspace goes when its paid subscription ends, for whatever reason (an applied
cancellation, an expiry after dunning): the policy's fallback.

- Free plan (orgix §4-5): a Free subscription starts; over its limits the workspace is
  restricted (reading stays allowed), otherwise active. It lives on, so it has not
  "ended" for retention: only inactivity rules can schedule its deletion.
- Disabled (connex, sync-with-connex): the workspace is disabled; its data is kept for the
  policy's retention after the end.
- Expired (prorated-credit): the subscription is over and nothing replaces it.

One implementation for every ending, one subscription or a batch
(`subscriptions_fall_back_batch`). Call inside the transaction that ended the subscription.
"""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import User, Workspace
from accounts.services.audit import audit_entry, audit_records_write
from accounts.services.retention import workspaces_refresh_retention
from accounts.services.workspaces import StatusChange, workspaces_set_status
from billing.models import Plan, Subscription
from billing.policy.engine import add_months
from billing.policy.limits import exceeded_limits
from billing.policy.rules import Fallback
from billing.services.bulk_copy import rows_copy
from billing.usage import plan_limits, workspaces_usage


@dataclass(frozen=True)
class Ending:
    """One ended subscription of a batch and where its workspace goes."""

    subscription: Subscription
    fallback: Fallback
    reason: str = ""
    note: str = ""


def subscriptions_fall_back_batch(
    *, endings: list[Ending], free_plans: dict[str, Plan], actor: User | None, now: datetime
) -> dict[int, str]:
    """Move the ended subscriptions' workspaces to their fallbacks, with a constant number
    of queries: one INSERT of Free subscriptions, one usage query, the workspaces' statuses
    (`workspaces_set_status`), two UPDATEs of `ended_at`, one retention refresh and one
    INSERT of audit records. Returns the note for each subscription's owner.

    `free_plans` (`free_plans_for`) must hold the plan of every Free-plan ending: the caller
    checks first, so a family without a Free plan fails its item, not the batch."""
    free = [e for e in endings if e.fallback == Fallback.FREE_PLAN]
    created = [
        Subscription(
            workspace_id=e.subscription.workspace_id,
            plan=free_plans[e.subscription.plan.policy_slug],
            policy_id=e.subscription.policy_id,
            status=Subscription.Status.ACTIVE,
            started_at=now,
            current_period_start=now,
            current_period_end=add_months(now, 1),
        )
        for e in free
    ]
    rows_copy(Subscription, created)
    audit_records_write(
        [
            audit_entry(
                actor=actor,
                action="subscription.create_free",
                target=subscription,
                now=now,
                after={"plan": subscription.plan.code, "replaces": e.subscription.pk},
            )
            for e, subscription in zip(free, created, strict=True)
        ]
    )
    usage = workspaces_usage([e.subscription.workspace_id for e in free])
    notes, changes = {}, []
    for e in endings:
        workspace_id = e.subscription.workspace_id
        if e.fallback == Fallback.FREE_PLAN:
            plan = free_plans[e.subscription.plan.policy_slug]
            breaches = exceeded_limits(usage[workspace_id], plan_limits(plan))
            if breaches:
                note = "Moved to the Free plan. " + " ".join(b.message for b in breaches)
                status = Workspace.Status.RESTRICTED
            else:
                note, status = "Moved to the Free plan.", Workspace.Status.ACTIVE
            changes.append(StatusChange(workspace_id, status, note=note))
            notes[e.subscription.pk] = note
            continue
        if e.fallback == Fallback.DISABLED:
            default = "The policy disables the workspace when its subscription ends."
            changes.append(
                StatusChange(workspace_id, Workspace.Status.DISABLED, e.reason, e.note or default)
            )
        notes[e.subscription.pk] = e.note
    workspaces_set_status(changes=changes, actor=actor, now=now)
    kept = [e.subscription.workspace_id for e in free]
    ended = [e.subscription.workspace_id for e in endings if e.fallback != Fallback.FREE_PLAN]
    Workspace.objects.filter(pk__in=kept).exclude(ended_at=None).update(ended_at=None)
    Workspace.objects.filter(pk__in=ended).update(ended_at=now)
    workspaces_refresh_retention(workspace_ids=kept + ended)
    return notes
