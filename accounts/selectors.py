"""Read-only views of workspaces for retention: facts, rules, standing, the data export.

Everything here reads; nothing writes. The retention rule of a workspace is the one of the
policy of its latest subscription (`HOUSE_DEFAULT_RETENTION` when it never had one), or a
variant of it that holds for that subscription (`billing.policy.retention_terms`).
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
from billing.policy.retention_terms import RetentionSubject, RetentionTerms, retention_terms
from billing.policy.rules import RetentionRule
from billing.selectors import policy_rules


def latest_policy_id() -> Subquery:
    """Annotation: the policy id of the workspace's latest subscription (or NULL)."""
    return latest_subscription_value("policy_id")


def latest_subscription_value(field: str) -> Subquery:
    """Annotation: a field of the workspace's latest subscription (or NULL)."""
    return Subquery(
        Subscription.objects.filter(workspace=OuterRef("pk"))
        .order_by("-started_at", "-pk")
        .values(field)[:1]
    )


TermsByPolicy = dict[int | None, tuple[RetentionTerms, str]]
_HOUSE_TERMS = RetentionTerms(HOUSE_DEFAULT_RETENTION)


def retention_rules(policy_ids: Iterable[int | None]) -> TermsByPolicy:
    """Retention terms (the rule and the variants that replace it) and policy label per
    policy id, in one query; `None` → house default. The rules are read by the policy
    reader every quote uses (`billing.selectors.policy_rules`), so a retention field the
    rules gain is read here too."""
    wanted = {pk for pk in policy_ids if pk is not None}
    found: TermsByPolicy = {None: (_HOUSE_TERMS, "")}
    for policy in RefundPolicy.objects.filter(pk__in=wanted).only("slug", "version", "rules"):
        found[policy.pk] = (retention_terms(policy_rules(policy)), policy.label)
    return found


def retention_subjects(
    workspace_ids: Iterable[int], *, decided_at: datetime | None = None
) -> dict[int, RetentionSubject]:
    """What retention variants read, per workspace, from its latest subscription, in one
    query. `decided_at` stands for a cancellation asked now (a page showing what a
    cancellation would keep); otherwise the request (`cancelled_at`) or the end decides."""
    latest = Subscription.objects.filter(workspace=OuterRef("workspace_id")).order_by(
        "-started_at", "-pk"
    )
    rows = (
        Subscription.objects.filter(
            workspace_id__in=list(workspace_ids), pk=Subquery(latest.values("pk")[:1])
        )
        .values(
            "workspace_id",
            "purchase_channel",
            "payment_method",
            "workspace__country",
            "plan__interval",
            "plan__code",
            "started_at",
            "trial_end",
            "cancelled_at",
            "ended_at",
        )
        .order_by()
    )
    return {
        row["workspace_id"]: RetentionSubject(
            channel=row["purchase_channel"],
            payment_method=row["payment_method"],
            country=row["workspace__country"].upper(),
            interval=row["plan__interval"],
            plan_code=row["plan__code"],
            subscribed_at=row["started_at"],
            trial_end=row["trial_end"],
            decided_at=decided_at or row["cancelled_at"] or row["ended_at"],
        )
        for row in rows
    }


def rules_for_rows(rows: list[dict[str, Any]]) -> dict[int, tuple[RetentionRule, str]]:
    """The retention rule and policy label for each of `fact_rows`' rows: one policy query,
    and one subscription query only when a policy among them has retention variants."""
    terms = retention_rules(row["policy_id"] for row in rows)
    varied = [row["pk"] for row in rows if terms[row["policy_id"]][0].variants]
    subjects = retention_subjects(varied) if varied else {}
    return {
        row["pk"]: (
            terms[row["policy_id"]][0].rule_for(subjects.get(row["pk"])),
            terms[row["policy_id"]][1],
        )
        for row in rows
    }


def facts_of(workspace: Workspace, *, cancelled_at: datetime | None = None) -> RetentionFacts:
    """The workspace's retention facts; `cancelled_at`: its latest subscription's request
    (read with the rule by `workspace_retention_rule`)."""
    return RetentionFacts(
        created_at=workspace.created_at,
        last_activity_at=workspace.last_activity_at,
        ended_at=workspace.ended_at,
        legal_hold=workspace.legal_hold,
        warning_sent_at=workspace.deletion_warning_sent_at,
        deleted=workspace.status == Workspace.Status.DELETED,
        cancelled_at=cancelled_at,
    )


def policy_retention_rule(
    workspace: Workspace, policy_id: int | None, *, decided_at: datetime | None = None
) -> tuple[RetentionRule, str]:
    """The retention rule `policy_id` sets for this workspace (its variant for the latest
    subscription, `decided_at` as in `retention_subjects`) and the policy's label."""
    terms, label = retention_rules([policy_id])[policy_id]
    subject = None
    if terms.variants:
        subject = retention_subjects([workspace.pk], decided_at=decided_at).get(workspace.pk)
    return terms.rule_for(subject), label


def workspace_retention_rule(workspace: Workspace) -> tuple[RetentionRule, str, datetime | None]:
    """The rule the purge applies to this workspace (its latest subscription's policy's),
    the policy's label, and that subscription's cancellation request."""
    latest = (
        Subscription.objects.filter(workspace=workspace)
        .order_by("-started_at", "-pk")
        .values_list("policy_id", "cancelled_at")
        .first()
    )
    policy_id, cancelled_at = latest or (None, None)
    return (*policy_retention_rule(workspace, policy_id), cancelled_at)


def workspace_retention(
    workspace: Workspace, *, now: datetime
) -> tuple[RetentionStatus, tuple[TimelineEvent, ...], RetentionRule, str]:
    """Status computed from the policy (not the stored copy), the timeline, rule and label."""
    rule, label, cancelled_at = workspace_retention_rule(workspace)
    facts = facts_of(workspace, cancelled_at=cancelled_at)
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
