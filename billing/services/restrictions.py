"""What a workspace may still do under its plan's limits (orgix §5).

Over the Free plan's limits a workspace keeps reading its data but may not add users,
upload, enable modules or add paid add-ons. Shells (pages, API, admin) call
`workspace_ensure_allowed` before such an action; the limit arithmetic stays pure in
`billing.policy.limits`.
"""

from datetime import datetime

from accounts.models import Workspace
from billing.errors import DomainError
from billing.models import Subscription
from billing.policy.limits import Action, LimitBreach, check_action, exceeded_limits
from billing.usage import subscription_limits, workspace_usage


class LimitExceeded(DomainError):
    """The workspace is over a limit of its plan; the message says which and how to fix it."""


def live_subscription(workspace: Workspace) -> Subscription | None:
    return (
        Subscription.objects.select_related("plan", "policy")
        .filter(workspace=workspace, status__in=Subscription.LIVE_STATUSES)
        .first()
    )


def workspace_restrictions(workspace: Workspace, *, now: datetime) -> tuple[LimitBreach, ...]:
    """The limits of its current plan (with add-ons) that the workspace exceeds."""
    subscription = live_subscription(workspace)
    if subscription is None:
        return ()
    return exceeded_limits(
        workspace_usage(workspace, subscription), subscription_limits(subscription, now=now)
    )


def workspace_ensure_allowed(
    *, workspace: Workspace, action: Action, now: datetime, amount: int = 1
) -> None:
    """Raise `LimitExceeded` naming the action if the workspace may not do it now.

    Reading is never refused: only the write actions of `Action` are checked.
    """
    subscription = live_subscription(workspace)
    if subscription is None:
        raise LimitExceeded(
            "This workspace has no active plan: it can only read its data.", field=action.value
        )
    breach = check_action(
        action,
        workspace_usage(workspace, subscription),
        subscription_limits(subscription, now=now),
        amount=amount,
    )
    if breach is not None:
        raise LimitExceeded(breach.message, field=action.value)
