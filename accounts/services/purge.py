"""The purge: warn, then erase the personal data of workspaces whose retention has run out.

Invariants:
- Never erased: a workspace on legal hold, with an open dispute, a live paid subscription
  or an unresolved refund (`BLOCKERS`), nor one whose owner was not warned at least
  PURGE_WARNING_DAYS before (the warning is sent once; activity clears it).
- Each batch is one transaction. Rows are locked with `SELECT ... FOR UPDATE SKIP LOCKED`
  on PostgreSQL, so concurrent runs (or fanned-out Celery tasks) never take the same
  workspace; a crash rolls back only its own batch and the next run picks it up again.
- Each locked workspace is re-checked against its policy (`accounts.retention`) before it
  is erased: a stale `deletion_due_at` can delay a deletion but never cause one.
- Statements per batch do not depend on how much each workspace owns: personal data is
  deleted bottom-up with one DELETE per table (`workspace_id IN batch`), never through
  Django's collector, and ids are read in keyset pages so memory stays flat.
- Financial records (subscriptions, payments, refunds, credit, disputes, cancellation and
  review requests) stay, pointing at the workspace row, which is kept as an anonymised
  shell (status `deleted`) because their foreign keys PROTECT it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import (
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from accounts.retention import DeletionReason, RetentionFacts, deletion_deadline
from accounts.selectors import latest_policy_id, retention_rules
from billing.models import Dispute, IdempotencyKey, Plan, Refund, Subscription

from .retention import due_dates, fact_rows, id_list, pg_int_array, write_due_dates

logger = logging.getLogger(__name__)

ERASED_OWNER_EMAIL = "erased-owner@erased.invalid"
UNRESOLVED_REFUND_STATUSES = (
    Refund.Status.PROPOSED,
    Refund.Status.APPROVED,
    Refund.Status.PROCESSING,
    Refund.Status.FAILED,
)
PERSONAL_DATA = (
    ("members", WorkspaceMember),
    ("files", StoredFile),
    ("modules", WorkspaceModule),
    ("internal_memberships", InternalMembership),
)


def blockers() -> dict[str, Q]:
    """Never-delete rules, each as a condition on Workspace."""
    return {
        "legal hold": Q(legal_hold=True),
        "open dispute": Q(
            Exists(
                Dispute.objects.filter(
                    payment__workspace=OuterRef("pk"), status=Dispute.Status.OPEN
                )
            )
        ),
        "live paid subscription": Q(
            Exists(
                Subscription.objects.filter(
                    workspace=OuterRef("pk"), status__in=Subscription.LIVE_STATUSES
                ).exclude(plan__interval=Plan.Interval.NONE)
            )
        ),
        "unresolved refund": Q(
            Exists(
                Refund.objects.filter(
                    workspace=OuterRef("pk"), status__in=UNRESOLVED_REFUND_STATUSES
                )
            )
        ),
    }


def _notice() -> timedelta:
    return timedelta(days=settings.PURGE_WARNING_DAYS)


def _unblocked(queryset: QuerySet) -> QuerySet:
    for condition in blockers().values():
        queryset = queryset.exclude(condition)
    return queryset


def due_for_warning(*, now: datetime) -> QuerySet:
    """Due within the notice period (or overdue) and not warned yet."""
    return _unblocked(
        Workspace.objects.exclude(status=Workspace.Status.DELETED).filter(
            deletion_due_at__lte=now + _notice(), deletion_warning_sent_at__isnull=True
        )
    )


def due_for_deletion(*, now: datetime) -> QuerySet:
    """Due, and warned at least the notice period ago."""
    return _unblocked(
        Workspace.objects.exclude(status=Workspace.Status.DELETED).filter(
            deletion_due_at__lte=now, deletion_warning_sent_at__lte=now - _notice()
        )
    )


def purge_blockers(workspace: Workspace) -> list[str]:
    """The never-delete rules that hold for this workspace (one query)."""
    conditions = blockers()
    flags = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(**{f"b{i}": c for i, c in enumerate(conditions.values())})
        .values(*[f"b{i}" for i in range(len(conditions))])
        .get()
    )
    return [name for i, name in enumerate(conditions) if flags[f"b{i}"]]


def blocked_counts(*, now: datetime) -> dict[str, int]:
    """How many due workspaces each never-delete rule is holding back."""
    due = Workspace.objects.exclude(status=Workspace.Status.DELETED).filter(
        deletion_due_at__lte=now
    )
    return {name: due.filter(condition).count() for name, condition in blockers().items()}


def id_batches(queryset: QuerySet, *, batch_size: int, limit: int | None = None) -> Iterator[list]:
    """Primary keys in ascending pages (keyset, not OFFSET): flat memory, no rereads."""
    last_pk, remaining = 0, limit
    ordered = queryset.order_by("pk")
    while remaining is None or remaining > 0:
        size = batch_size if remaining is None else min(batch_size, remaining)
        ids = list(ordered.filter(pk__gt=last_pk).values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last_pk = ids[-1]
        if remaining is not None:
            remaining -= len(ids)


def _lock(queryset: QuerySet) -> QuerySet:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",)).order_by("pk")
    return queryset.select_for_update().order_by("pk")


# --- warnings -------------------------------------------------------------------------


def purge_warn_batch(*, workspace_ids: list[int], now: datetime) -> int:
    """Send the deletion warning to the owners of these workspaces, once each."""
    with transaction.atomic():
        rows = list(
            _lock(due_for_warning(now=now).filter(pk__in=id_list(workspace_ids))).values(
                "pk", "name", "slug", "billing_email", "owner__email", "deletion_due_at"
            )
        )
        if not rows:
            return 0
        Workspace.objects.filter(pk__in=id_list(row["pk"] for row in rows)).update(
            deletion_warning_sent_at=now
        )
        messages = [_warning_message(row, now=now) for row in rows]
        ids = [row["pk"] for row in rows]
        transaction.on_commit(lambda: _deliver_warnings(messages, workspace_ids=ids, now=now))
    return len(rows)


def _deliver_warnings(messages: list, *, workspace_ids: list[int], now: datetime) -> None:
    """Send after commit; if the mail server refuses, un-mark the warnings so the next run
    sends them again: nobody may be deleted on the strength of an email that never left."""
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        Workspace.objects.filter(
            pk__in=id_list(workspace_ids), deletion_warning_sent_at=now
        ).update(deletion_warning_sent_at=None)
        logger.exception("purge: %d deletion warnings not delivered", len(workspace_ids))


def _warning_message(row: dict[str, Any], *, now: datetime) -> tuple[str, str, str, list[str]]:
    deletes_at = max(row["deletion_due_at"], now + _notice())
    export_url = settings.SITE_URL.rstrip("/") + reverse(
        "accounts:workspace-export", args=[row["slug"]]
    )
    body = render_to_string(
        "accounts/email/deletion_warning.txt",
        {"name": row["name"], "deletes_at": deletes_at, "export_url": export_url},
    )
    recipients = sorted({row["owner__email"], row["billing_email"]} - {""})
    subject = f"Your workspace {row['name']} will be deleted on {deletes_at:%Y-%m-%d}"
    return subject, body, settings.DEFAULT_FROM_EMAIL, recipients


def purge_send_warnings(*, now: datetime, batch_size: int, limit: int | None = None) -> int:
    sent = 0
    for ids in id_batches(due_for_warning(now=now), batch_size=batch_size, limit=limit):
        sent += purge_warn_batch(workspace_ids=ids, now=now)
    return sent


# --- erasure --------------------------------------------------------------------------


@dataclass
class BatchResult:
    deleted: list[int] = field(default_factory=list)
    rescheduled: int = 0  # the policy now gives a later date: due date corrected, kept
    skipped: int = 0  # taken by a concurrent run, or no longer due or deletable


def purge_batch(*, workspace_ids: list[int], now: datetime) -> BatchResult:
    """Erase those of these workspaces that are still due, in one transaction."""
    result = BatchResult()
    with transaction.atomic():
        rows = fact_rows(_lock(due_for_deletion(now=now).filter(pk__in=id_list(workspace_ids))))
        result.skipped = len(workspace_ids) - len(rows)
        reasons, moved = {}, {}
        for pk, deadline in due_dates(rows).items():
            if deadline is not None and deadline.at <= now:
                reasons[pk] = deadline.reason
            else:
                moved[pk] = deadline.at if deadline else None
        write_due_dates(moved)
        result.rescheduled = len(moved)
        if reasons:
            workspaces_erase(
                workspace_ids=list(reasons),
                now=now,
                reasons=reasons,
                rows=[row for row in rows if row["pk"] in reasons],
            )
        result.deleted = sorted(reasons)
    return result


def _delete_returning(model, workspace_ids: list[int], returning: tuple[str, ...]) -> list:
    """`DELETE FROM <leaf table> WHERE workspace_id IN batch RETURNING ...`: one statement
    that never goes through Django's collector (the tables are leaves: nothing references
    them) and tells what it removed."""
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        where, params = "workspace_id = ANY(%s::bigint[])", [pg_int_array(workspace_ids)]
    else:
        where = f"workspace_id IN ({', '.join(['%s'] * len(workspace_ids))})"
        params = list(workspace_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} WHERE {where} "
            f"RETURNING {', '.join(quote(column) for column in returning)}",
            params,
        )
        return cursor.fetchall()


def erased_owner_id() -> int:
    """The inactive placeholder user that owns every deleted shell."""
    user, _ = User.objects.get_or_create(
        email=ERASED_OWNER_EMAIL,
        defaults={"is_active": False, "password": make_password(None)},
    )
    return user.pk


def orphan_users(workspace_ids: list[int]) -> list[int]:
    """Customers of these workspaces who have no seat in, and own no live, other workspace.

    Staff are never touched: they are our agents, not the customer's data. Two queries,
    both driven from the batch's few people through the user and owner indexes: written as
    NOT EXISTS, PostgreSQL would hash-join every seat and workspace for every batch.
    """
    batch = id_list(workspace_ids)
    people = set(
        WorkspaceMember.objects.filter(workspace_id__in=batch)
        .order_by()
        .values_list("user_id", flat=True)
        .union(Workspace.objects.filter(pk__in=batch).order_by().values_list("owner_id"))
    )
    if not people:
        return []
    candidates = id_list(people)
    kept = set(
        WorkspaceMember.objects.filter(user_id__in=candidates)
        .exclude(workspace_id__in=batch)
        .order_by()
        .values_list("user_id", flat=True)
        .union(
            Workspace.objects.filter(owner_id__in=candidates)
            .exclude(pk__in=batch)
            .exclude(status=Workspace.Status.DELETED)
            .order_by()
            .values_list("owner_id"),
            User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), pk__in=candidates)
            .order_by()
            .values_list("pk"),
        )
    )
    return sorted(people - kept)


def workspaces_erase(
    *,
    workspace_ids: list[int],
    now: datetime,
    reasons: dict[int, DeletionReason],
    rows: list[dict[str, Any]] | None = None,
) -> int:
    """Erase the personal data of these (locked) workspaces and leave a tombstone each.

    Must run inside the caller's transaction. A fixed number of statements whatever the
    workspaces hold: one DELETE per table (its RETURNING gives the counts), one UPDATE for
    users, one for the shells, one INSERT for the tombstones. `rows` are the workspaces'
    `fact_rows` when the caller already has them.
    """
    batch = id_list(workspace_ids)
    if rows is None:
        rows = fact_rows(Workspace.objects.filter(pk__in=batch))
    labels = retention_rules(row["policy_id"] for row in rows)
    orphan_ids = orphan_users(workspace_ids)
    orphans = id_list(orphan_ids)
    anonymised = set(orphan_ids)
    counts: dict[int, Counter] = defaultdict(Counter)
    for name, model in PERSONAL_DATA:
        returning = ("workspace_id", "user_id") if model is WorkspaceMember else ("workspace_id",)
        for workspace_id, *user in _delete_returning(model, workspace_ids, returning):
            counts[workspace_id][name] += 1
            if user and user[0] in anonymised:
                counts[workspace_id]["profiles_anonymised"] += 1
    if orphan_ids:
        Token.objects.filter(user_id__in=orphans).delete()
        IdempotencyKey.objects.filter(user_id__in=orphans).delete()
        User.objects.filter(pk__in=orphans).update(
            email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@erased.invalid")),
            full_name="",
            first_name="",
            last_name="",
            password=make_password(None),
            is_active=False,
            last_login=None,
        )
    Workspace.objects.filter(pk__in=batch).update(
        status=Workspace.Status.DELETED,
        name=Concat(Value("Deleted workspace #"), Cast("pk", CharField())),
        slug=Concat(Value("deleted-"), Cast("pk", CharField())),
        owner_id=erased_owner_id(),
        billing_email="",
        vat_number="",
        suspension_reason="",
        storage_used_mb=0,
        legal_hold_reason="",
        deletion_due_at=None,
    )
    tombstones = [
        (
            row,
            str(reasons[row["pk"]]),
            labels[row["policy_id"]][1],
            {kind: counts[row["pk"]].get(kind, 0) for kind in _COUNT_KINDS},
        )
        for row in rows
    ]
    _insert_tombstones(tombstones, now=now)
    logger.info("purge: erased %d workspaces", len(tombstones))
    return len(tombstones)


def _insert_tombstones(tombstones: list[tuple[dict, str, str, dict]], *, now: datetime) -> None:
    """One INSERT of (fact row, rule, policy label, counts). On PostgreSQL the dates are
    read from the workspace rows themselves and the rest travels as four array parameters:
    binding thousands of placeholders (or datetimes) costs more than the insert itself."""
    if not tombstones:
        return
    if connection.vendor != "postgresql":
        DeletionTombstone.objects.bulk_create(
            DeletionTombstone(
                workspace_id=row["pk"],
                workspace_created_at=row["created_at"],
                last_activity_at=row["last_activity_at"],
                ended_at=row["ended_at"],
                deleted_at=now,
                rule=rule,
                policy=policy,
                counts=counts,
            )
            for row, rule, policy, counts in tombstones
        )
        return
    kinds = _COUNT_KINDS
    pairs = ", ".join(f"'{kind}', b.{kind}" for kind in kinds)
    arrays = ", ".join(
        ["%s::bigint[]", "%s::text[]", "%s::text[]"] + ["%s::int[]"] * len(_COUNT_KINDS)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DeletionTombstone._meta.db_table} (workspace_id, "
            "workspace_created_at, last_activity_at, ended_at, deleted_at, rule, policy, "
            "counts) SELECT w.id, w.created_at, w.last_activity_at, w.ended_at, %s, b.rule, "
            f"b.policy, jsonb_build_object({pairs}) FROM unnest({arrays}) "
            f"AS b(id, rule, policy, {', '.join(_COUNT_KINDS)}) "
            f"JOIN {Workspace._meta.db_table} w ON w.id = b.id",
            [
                now,
                pg_int_array(row["pk"] for row, *_ in tombstones),
                [rule for _, rule, _, _ in tombstones],
                [policy for _, _, policy, _ in tombstones],
                *[pg_int_array(c[kind] for *_, c in tombstones) for kind in _COUNT_KINDS],
            ],
        )


_COUNT_KINDS = [name for name, _model in PERSONAL_DATA] + ["profiles_anonymised"]


# --- runs -----------------------------------------------------------------------------


@dataclass
class PurgeSummary:
    recomputed: int = 0
    warned: int = 0
    deleted: int = 0
    rescheduled: int = 0
    skipped: int = 0
    blocked: dict[str, int] = field(default_factory=dict)


def purge_run(
    *,
    now: datetime,
    batch_size: int,
    limit: int | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> PurgeSummary:
    """The daily job: refresh due dates, send warnings, erase what is due, batch by batch."""
    from .retention import workspaces_recompute_retention

    summary = PurgeSummary(recomputed=workspaces_recompute_retention(batch_size=batch_size))
    summary.warned = purge_send_warnings(now=now, batch_size=batch_size, limit=limit)
    for ids in id_batches(due_for_deletion(now=now), batch_size=batch_size, limit=limit):
        result = purge_batch(workspace_ids=ids, now=now)
        summary.deleted += len(result.deleted)
        summary.rescheduled += result.rescheduled
        summary.skipped += result.skipped
        if on_batch is not None:
            on_batch(result)
    summary.blocked = blocked_counts(now=now)
    return summary


@dataclass(frozen=True)
class PlannedAction:
    workspace_id: int
    slug: str
    action: str  # "warn", "delete" or "reschedule"
    due_at: datetime | None
    reason: str
    policy: str


def purge_plan(
    *, now: datetime, batch_size: int, limit: int | None = None
) -> Iterator[PlannedAction]:
    """What a run would do, recomputed from the policies, without changing anything."""
    for action, queryset in (
        ("warn", due_for_warning(now=now)),
        ("delete", due_for_deletion(now=now)),
    ):
        for ids in id_batches(queryset, batch_size=batch_size, limit=limit):
            rows = list(
                Workspace.objects.filter(pk__in=ids)
                .order_by("pk")
                .annotate(policy_id=latest_policy_id())
                .values("pk", "slug", "created_at", "last_activity_at", "ended_at", "policy_id")
            )
            rules = retention_rules(row["policy_id"] for row in rows)
            for row in rows:
                rule, label = rules[row["policy_id"]]
                facts = RetentionFacts(
                    created_at=row["created_at"],
                    last_activity_at=row["last_activity_at"],
                    ended_at=row["ended_at"],
                )
                deadline = deletion_deadline(rule, facts)
                horizon = now if action == "delete" else now + _notice()
                late = deadline is None or deadline.at > horizon
                yield PlannedAction(
                    workspace_id=row["pk"],
                    slug=row["slug"],
                    action="reschedule" if late else action,
                    due_at=deadline.at if deadline else None,
                    reason=deadline.reason.value if deadline else "no deadline",
                    policy=label or "house default",
                )
