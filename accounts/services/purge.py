"""The purge: warn, then erase the personal data of workspaces whose retention has run out.

Invariants:
- Never erased: a workspace on legal hold, with an open dispute, a live paid subscription
  or an unresolved refund (`purge_selection.blockers`), nor one whose warning was not
  delivered at least PURGE_WARNING_DAYS before (`deletion_warnings`; activity clears it).
- Each batch is one transaction. Rows are locked with `SELECT ... FOR UPDATE SKIP LOCKED`
  on PostgreSQL, so concurrent runs (or fanned-out Celery tasks) never take the same
  workspace; a crash rolls back only its own batch and the next run picks it up again.
- Each locked workspace is re-checked against its policy (`accounts.retention`) before it
  is erased: a stale `deletion_due_at` can delay a deletion but never cause one.
- Ids are read in keyset pages so memory stays flat; the erasure itself
  (`erasure.workspaces_erase`) costs a fixed number of statements per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from accounts.models import Workspace
from accounts.retention import deletion_deadline
from accounts.selectors import latest_policy_id, latest_subscription_value, rules_for_rows

from .batching import due_id_batches, id_list, lock_skipping_taken
from .deletion_warnings import purge_send_warnings
from .due_dates import due_dates, fact_rows, row_facts, write_due_dates
from .erasure import workspaces_erase
from .purge_selection import blocked_counts, due_for_deletion, due_for_warning, notice
from .retention import workspaces_recompute_retention


@dataclass
class BatchResult:
    deleted: list[int] = field(default_factory=list)
    rescheduled: int = 0  # the policy now gives a later date: due date corrected, kept
    skipped: int = 0  # taken by a concurrent run, or no longer due or deletable


def purge_batch(*, workspace_ids: list[int], now: datetime) -> BatchResult:
    """Erase those of these workspaces that are still due, in one transaction."""
    result = BatchResult()
    with transaction.atomic():
        rows = fact_rows(
            lock_skipping_taken(due_for_deletion(now=now).filter(pk__in=id_list(workspace_ids)))
        )
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
    summary = PurgeSummary(recomputed=workspaces_recompute_retention(batch_size=batch_size))
    summary.warned = purge_send_warnings(now=now, batch_size=batch_size, limit=limit)
    for ids in due_id_batches(due_for_deletion(now=now), batch_size=batch_size, limit=limit):
        result = purge_batch(workspace_ids=ids, now=now)
        summary.deleted += len(result.deleted)
        summary.rescheduled += result.rescheduled
        summary.skipped += result.skipped
        if on_batch is not None:
            on_batch(result)
    summary.blocked = blocked_counts(now=now)
    return summary


def _plan_rows(ids: list[int]) -> list[dict]:
    """`PLAN_FIELDS` and the latest policy of these workspaces, in the page's order."""
    found = {
        row["pk"]: row
        for row in Workspace.objects.filter(pk__in=id_list(ids))
        .annotate(
            policy_id=latest_policy_id(), cancelled_at=latest_subscription_value("cancelled_at")
        )
        .values("pk", *PLAN_FIELDS, "policy_id", "cancelled_at")
    }
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class PlannedAction:
    workspace_id: int
    slug: str
    action: str  # "warn", "delete" or "reschedule"
    due_at: datetime | None
    reason: str
    policy: str


PLAN_FIELDS = ("slug", "created_at", "last_activity_at", "ended_at")


def purge_plan(
    *, now: datetime, batch_size: int, limit: int | None = None
) -> Iterator[PlannedAction]:
    """What a run would do, recomputed from the policies, without changing anything.

    Each due page (`batching.due_id_batches`) is found by an index-only scan of
    `workspace_due_keyset` from the cursor, then its rows' fields and policy are read by
    id: the dry run reads each due row once, and finding a page reads only the index
    (selecting the fields with the page would send every step to the table)."""
    for action, queryset in (
        ("warn", due_for_warning(now=now)),
        ("delete", due_for_deletion(now=now)),
    ):
        for ids in due_id_batches(queryset, batch_size=batch_size, limit=limit):
            rows = _plan_rows(ids)
            rules = rules_for_rows(rows)
            horizon = now if action == "delete" else now + notice()
            for row in rows:
                rule, label = rules[row["pk"]]
                deadline = deletion_deadline(rule, row_facts(row))
                late = deadline is None or deadline.at > horizon
                yield PlannedAction(
                    workspace_id=row["pk"],
                    slug=row["slug"],
                    action="reschedule" if late else action,
                    due_at=deadline.at if deadline else None,
                    reason=deadline.reason.value if deadline else "no deadline",
                    policy=label or "house default",
                )
