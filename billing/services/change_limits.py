"""Limits on changes (`ChangeLimit` in the policy): checked by the services that make the
change (pauses, downgrades) before they change anything, and by the offers that would
propose one. The refusal names the limit and its clause (`billing/policy/change_limits.py`).
"""

from datetime import datetime

from billing.account_history import account_changes, snapshot_extras
from billing.errors import DomainError
from billing.models import Subscription
from billing.policy.change_limits import limit_message, limit_reached
from billing.policy.conditions import resolve
from billing.policy.rules import LimitedChange, PolicyRules
from billing.selectors import policy_rules, subscription_snapshot


def rules_in_force(subscription: Subscription, rules: PolicyRules, now: datetime) -> PolicyRules:
    """The rules after the variants that hold now (only built where a variant sets limits)."""
    if not any("limits" in variant.rules for variant in rules.variants):
        return rules
    extras = snapshot_extras(subscription, rules)
    resolved, _ = resolve(rules, subscription_snapshot(subscription, **extras), now)
    return resolved


def change_limit_refusal(
    *, subscription: Subscription, change: LimitedChange, now: datetime
) -> str | None:
    """Why the policy refuses one more `change` now (None: allowed)."""
    rules = policy_rules(subscription.policy)
    if not rules.limits and not rules.variants:
        return None
    rules = rules_in_force(subscription, rules, now)
    if not any(limit.change == change for limit in rules.limits):
        return None
    reached = limit_reached(rules, change, account_changes(subscription.workspace_id), now)
    return limit_message(*reached) if reached is not None else None


def ensure_change_allowed(*, subscription: Subscription, change: LimitedChange, now: datetime):
    """Refuse (DomainError on `limit`) a change the policy's limits forbid."""
    refusal = change_limit_refusal(subscription=subscription, change=change, now=now)
    if refusal is not None:
        raise DomainError(refusal, field="limit")
