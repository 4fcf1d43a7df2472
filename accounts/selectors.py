"""Read-only views of workspaces for retention: facts, rules, standing, the data export.

Everything here reads; nothing writes. The retention rule of a workspace is the one of the
policy of its latest subscription (`HOUSE_DEFAULT_RETENTION` when it never had one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery, Sum

from accounts.models import Workspace
from accounts.retention import (
    HOUSE_DEFAULT_RETENTION,
    RetentionFacts,
    RetentionStatus,
    TimelineEvent,
    deletion_deadline,
    retention_status,
    retention_timeline,
)
from billing.models import CreditEntry, Dispute, RefundPolicy, Subscription
from billing.policy.rules import Clause, RetentionRule


def latest_policy_id() -> Subquery:
    """Annotation: the policy id of the workspace's latest subscription (or NULL)."""
    return Subquery(
        Subscription.objects.filter(workspace=OuterRef("pk"))
        .order_by("-started_at", "-pk")
        .values("policy_id")[:1]
    )


RulesByPolicy = dict[int | None, tuple[RetentionRule, str]]


def retention_rules(policy_ids: Iterable[int | None]) -> RulesByPolicy:
    """Retention rule and policy label per policy id, in one query; `None` → house default."""
    wanted = {pk for pk in policy_ids if pk is not None}
    found: RulesByPolicy = {None: (HOUSE_DEFAULT_RETENTION, "")}
    for policy in RefundPolicy.objects.filter(pk__in=wanted).only("slug", "version", "rules"):
        found[policy.pk] = (_retention_of(policy.rules), policy.label)
    return found


def _retention_of(rules: dict[str, Any]) -> RetentionRule:
    data = rules.get("retention")
    if not data:
        return HOUSE_DEFAULT_RETENTION
    return RetentionRule(
        after_end_days=data.get("after_end_days"),
        inactivity_days=data.get("inactivity_days"),
        clause=Clause(**data.get("clause", {"ref": ""})),
    )


def facts_of(workspace: Workspace) -> RetentionFacts:
    return RetentionFacts(
        created_at=workspace.created_at,
        last_activity_at=workspace.last_activity_at,
        ended_at=workspace.ended_at,
        legal_hold=workspace.legal_hold,
        warning_sent_at=workspace.deletion_warning_sent_at,
        deleted=workspace.status == Workspace.Status.DELETED,
    )


def workspace_retention_rule(workspace: Workspace) -> tuple[RetentionRule, str]:
    policy_id = (
        Subscription.objects.filter(workspace=workspace)
        .order_by("-started_at", "-pk")
        .values_list("policy_id", flat=True)
        .first()
    )
    return retention_rules([policy_id])[policy_id]


def workspace_retention(
    workspace: Workspace, *, now: datetime
) -> tuple[RetentionStatus, tuple[TimelineEvent, ...], RetentionRule, str]:
    """Status computed from the policy (not the stored copy), the timeline, rule and label."""
    rule, label = workspace_retention_rule(workspace)
    facts = facts_of(workspace)
    deadline = deletion_deadline(rule, facts)
    warning_days = settings.PURGE_WARNING_DAYS
    status = retention_status(
        facts,
        deletion_due_at=deadline.at if deadline else None,
        reason=deadline.reason if deadline else None,
        now=now,
        warning_days=warning_days,
    )
    timeline = retention_timeline(rule, facts, now=now, warning_days=warning_days)
    return status, timeline, rule, label


def workspace_standing(workspace: Workspace) -> dict[str, Any]:
    """Subscription, dunning, disputes, restrictions and credit, for the agent's panel."""
    subscription = (
        Subscription.objects.filter(workspace=workspace)
        .select_related("plan", "policy")
        .order_by("-started_at", "-pk")
        .first()
    )
    disputes = list(
        Dispute.objects.filter(payment__workspace=workspace, status=Dispute.Status.OPEN)
        .order_by("opened_at")
        .values("pk", "amount", "currency", "opened_at", "reason")
    )
    credit = {
        row["currency"]: row["balance"] or Decimal("0")
        for row in CreditEntry.objects.filter(workspace=workspace)
        .values("currency")
        .annotate(balance=Sum("amount"))
        .order_by("currency")
    }
    return {
        "subscription": subscription,
        "open_disputes": disputes,
        "credit": credit,
        "status": workspace.get_status_display(),
        "suspension_reason": workspace.get_suspension_reason_display()
        if workspace.suspension_reason
        else "",
    }


def workspace_export(workspace: Workspace) -> dict[str, Any]:
    """Everything we hold about a workspace, as JSON-ready data (connex: data kept on file,
    orgix §5 'export data'). Financial records are included for the customer's books."""
    members = workspace.members.select_related("user").order_by("pk")
    return {
        "workspace": {
            "id": workspace.pk,
            "name": workspace.name,
            "slug": workspace.slug,
            "billing_email": workspace.billing_email,
            "country": workspace.country,
            "vat_number": workspace.vat_number,
            "status": workspace.status,
            "created_at": _iso(workspace.created_at),
            "last_activity_at": _iso(workspace.last_activity_at),
            "ended_at": _iso(workspace.ended_at),
            "storage_used_mb": workspace.storage_used_mb,
        },
        "owner": {"email": workspace.owner.email, "full_name": workspace.owner.full_name},
        "members": [
            {
                "email": m.user.email,
                "full_name": m.user.full_name,
                "role": m.role,
                "joined_at": _iso(m.joined_at),
            }
            for m in members
        ],
        "modules": list(workspace.modules.order_by("code").values("code", "enabled_at")),
        "files": list(workspace.files.order_by("pk").values("name", "size_mb", "uploaded_at")),
        "internal_memberships": list(
            workspace.internal_memberships.order_by("pk").values(
                "member_name",
                "member_email",
                "status",
                "price",
                "currency",
                "provider",
                "created_at",
            )
        ),
        "subscriptions": list(
            workspace.subscriptions.order_by("started_at").values(
                "plan__code", "status", "started_at", "current_period_end", "ended_at"
            )
        ),
        "payments": list(
            workspace.payments.order_by("paid_at").values(
                "kind", "status", "amount", "tax", "currency", "paid_at", "amount_refunded"
            )
        ),
        "refunds": list(
            workspace.refunds.order_by("created_at").values(
                "amount", "currency", "status", "destination", "created_at"
            )
        ),
        "credit_entries": list(
            workspace.credit_entries.order_by("created_at").values(
                "kind", "amount", "currency", "memo", "created_at"
            )
        ),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
