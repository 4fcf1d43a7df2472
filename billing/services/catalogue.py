"""The plan catalogue. A plan some subscription uses keeps its price, currency, interval,
policy family and limits: changing them would change what existing customers pay or get
without any proration or notice. Only its display name and whether it is still sold change.
"""

from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services.audit import audit_record, snapshot_fields
from billing.errors import DomainError
from billing.models import Plan, Subscription

PLAN_IN_USE_EDITABLE = ("name", "is_active")


def plan_in_use(plan: Plan) -> bool:
    return (
        Subscription.objects.filter(plan=plan).exists()
        or Subscription.objects.filter(pending_plan=plan).exists()
    )


def plan_editable_fields(plan: Plan) -> tuple[str, ...] | None:
    """The fields that may change, or None for "all of them" (a plan nobody uses)."""
    return PLAN_IN_USE_EDITABLE if plan_in_use(plan) else None


def plan_update(*, plan: Plan, changes: dict[str, Any], actor: User | None, now: datetime) -> Plan:
    """Apply `changes` to a plan, refusing fields frozen by use; audited."""
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        allowed = plan_editable_fields(locked)
        frozen = sorted(set(changes) - set(allowed)) if allowed is not None else []
        if frozen:
            raise DomainError(
                f"Subscriptions use this plan: {', '.join(frozen)} cannot change. "
                "Create a new plan and move subscriptions with Change plan.",
                field=frozen[0],
            )
        before = snapshot_fields(locked, *changes)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changes))
        audit_record(
            actor=actor,
            action="plan.update",
            target=locked,
            now=now,
            before=before,
            after=snapshot_fields(locked, *changes),
        )
    return locked
