"""Where a workspace goes when its paid subscription ends, for whatever reason (an applied
cancellation, an expiry after dunning): the policy's fallback.

- Free plan (orgix §4-5): a Free subscription starts; over its limits the workspace is
  restricted (reading stays allowed), otherwise active. It lives on, so it has not
  "ended" for retention: only inactivity rules can schedule its deletion.
- Disabled (connex, sync-with-connex): the workspace is disabled; its data is kept for the
  policy's retention after the end.
- Expired (prorated-credit): the subscription is over and nothing replaces it.

Call inside the transaction that ended the subscription.
"""

from datetime import datetime

from accounts.models import User, Workspace
from accounts.services.audit import audit_record
from accounts.services.retention import workspace_refresh_retention
from accounts.services.workspaces import workspace_set_status
from billing.errors import DomainError
from billing.models import Subscription
from billing.policy.engine import add_months
from billing.policy.limits import exceeded_limits
from billing.policy.rules import Fallback
from billing.usage import free_plan_for, plan_limits, workspace_usage


def subscription_fall_back(
    *,
    subscription: Subscription,
    fallback: Fallback,
    actor: User | None,
    now: datetime,
    reason: str = "",
    note: str = "",
) -> str:
    """Move the ended subscription's workspace to `fallback`; returns a note for the owner."""
    workspace = subscription.workspace
    if fallback == Fallback.FREE_PLAN:
        note = _start_free_plan(subscription, actor=actor, now=now)
        ended_at = None
    else:
        if fallback == Fallback.DISABLED:
            workspace_set_status(
                workspace=workspace,
                status=Workspace.Status.DISABLED,
                reason=reason,
                actor=actor,
                now=now,
                note=note or "The policy disables the workspace when its subscription ends.",
            )
        ended_at = now
    Workspace.objects.filter(pk=workspace.pk).update(ended_at=ended_at)
    workspace.ended_at = ended_at
    workspace_refresh_retention(workspace=workspace)
    return note


def _start_free_plan(subscription: Subscription, *, actor: User | None, now: datetime) -> str:
    workspace = subscription.workspace
    free_plan = free_plan_for(subscription.plan.policy_slug)
    if free_plan is None:
        raise DomainError(
            f"No active Free plan exists for {subscription.plan.policy_slug}.", field="plan"
        )
    free = Subscription.objects.create(
        workspace=workspace,
        plan=free_plan,
        policy=subscription.policy,
        status=Subscription.Status.ACTIVE,
        started_at=now,
        current_period_start=now,
        current_period_end=add_months(now, 1),
    )
    audit_record(
        actor=actor,
        action="subscription.create_free",
        target=free,
        now=now,
        after={"plan": free_plan.code, "replaces": subscription.pk},
    )
    breaches = exceeded_limits(workspace_usage(workspace, free), plan_limits(free_plan))
    if breaches:
        note = "Moved to the Free plan. " + " ".join(b.message for b in breaches)
        status = Workspace.Status.RESTRICTED
    else:
        note, status = "Moved to the Free plan.", Workspace.Status.ACTIVE
    workspace_set_status(workspace=workspace, status=status, actor=actor, now=now, note=note)
    return note
