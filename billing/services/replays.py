"""Replaying a policy version on past cases, against the version in force.

The cases of a period are the cancellation requests, the refunds not made by a
cancellation (reviews, manual proposals) and the plan changes of subscriptions under the
policy's slug, each with the snapshot stored with its quote (or, for records from before
snapshots were stored, one rebuilt as things stood then). They are read per batch, by
primary key, with a constant number of queries per batch; the engine work is a pure CPU
loop (`billing.policy.replay`).

`policy_replay_request` stores a `PolicyReplay` row and queues the Celery task on commit;
`policy_replay_run` (the task's body) updates `done` after every batch; `policy_replay`
does the same synchronously (the `replay_policy` command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from accounts.models import AuditRecord, User
from accounts.services.audit import audit_record
from billing.errors import DomainError, PermissionDenied
from billing.models import CancellationRequest, PolicyReplay, Refund, RefundPolicy
from billing.policy.codec import CodecError
from billing.policy.replay import ReplayCase, ReplayTally, Version, replay_batch
from billing.quote_snapshots import snapshot_from_json, snapshots_as_they_stood
from billing.selectors import policy_rules

BATCH = 2000
PERIODS = (30, 90, 365)
PLAN_CHANGE_ACTIONS = ("subscription.upgrade", "subscription.downgrade")
REPLAY_PERMISSION = "billing.add_policyreplay"


def policy_in_force(slug: str, *, on: datetime) -> RefundPolicy:
    """The published version of `slug` in force on `on` (what a replay compares with)."""
    policy = (
        RefundPolicy.objects.filter(
            slug=slug, state=RefundPolicy.State.PUBLISHED, effective_from__lte=on.date()
        )
        .order_by("-version")
        .first()
    )
    if policy is None:
        raise DomainError(f"no published version of {slug} is in force", field="policy")
    return policy


CASE_KINDS = ("cancellation", "refund", "plan_change")


def replay_case_count(slug: str, *, since: datetime, until: datetime) -> int:
    return sum(qs.count() for qs, _ in _sources(slug, since, until))


def replay_cases(
    slug: str, *, since: datetime, until: datetime, batch_size: int = BATCH
) -> Iterator[list[ReplayCase]]:
    """Every case of the period, in batches."""
    for queryset, fields in _sources(slug, since, until):
        yield from _batches(queryset, batch_size, fields)


def _case_querysets() -> list[tuple[Any, Callable]]:
    """Per kind of case: its rows and how a row reads as (kind, subscription id, stored
    snapshot, moment, payment ref, new price)."""
    return [
        (
            CancellationRequest.objects.only("pk", "subscription_id", "snapshot", "created_at"),
            lambda r: ("cancellation", r.subscription_id, r.snapshot, r.created_at, None, None),
        ),
        (
            Refund.objects.select_related("payment").only(
                "pk", "payment_id", "snapshot", "created_at", "payment__subscription"
            ),
            lambda r: (
                "refund",
                r.payment.subscription_id,
                r.snapshot,
                r.created_at,
                str(r.payment_id),
                None,
            ),
        ),
        (
            AuditRecord.objects.filter(action__in=PLAN_CHANGE_ACTIONS).only(
                "pk", "target_id", "after", "created_at"
            ),
            lambda r: (
                "plan_change",
                int(r.target_id),
                r.after.get("snapshot"),
                r.created_at,
                None,
                r.after.get("new_price"),
            ),
        ),
    ]


def _sources(slug: str, since: datetime, until: datetime) -> list[tuple[Any, Callable]]:
    period = {"created_at__gte": since, "created_at__lt": until}
    (cancellations, as_cancellation), (refunds, as_refund), (changes, as_change) = _case_querysets()
    return [
        (cancellations.filter(subscription__policy__slug=slug, **period), as_cancellation),
        (
            refunds.filter(
                cancellation__isnull=True, payment__subscription__policy__slug=slug, **period
            ),
            as_refund,
        ),
        (changes.filter(after__quote__policy__startswith=f"{slug}@", **period), as_change),
    ]


def _batches(queryset, batch_size: int, fields: Callable) -> Iterator[list[ReplayCase]]:
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:batch_size])
        if not rows:
            return
        last = rows[-1].pk
        described = [(row.pk, *fields(row)) for row in rows]
        missing = [(sub, at) for _, _, sub, snap, at, _, _ in described if not snap and sub]
        rebuilt = snapshots_as_they_stood(missing) if missing else {}
        cases = []
        for pk, kind, sub, snap, at, payment_ref, new_price in described:
            try:
                snapshot = snapshot_from_json(snap) if snap else rebuilt.get((sub, at))
            except CodecError:
                snapshot = rebuilt.get((sub, at))
            if snapshot is None:
                continue
            cases.append(
                ReplayCase(
                    ref=f"{kind}:{pk}",
                    kind=kind,
                    snapshot=snapshot,
                    at=at,
                    payment_ref=payment_ref,
                    new_price=Decimal(new_price) if new_price is not None else None,
                )
            )
        yield cases


def policy_replay(
    *,
    candidate: RefundPolicy,
    since: datetime,
    until: datetime,
    baseline: RefundPolicy | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Replay the period under `candidate` and the version in force; the summary."""
    baseline = baseline or policy_in_force(candidate.slug, on=until)
    base = Version(baseline.label, policy_rules(baseline))
    cand = Version(candidate.label, policy_rules(candidate))
    tally = ReplayTally()
    for cases in replay_cases(candidate.slug, since=since, until=until):
        tally.merge(replay_batch(cases, base, cand))
        if progress is not None:
            progress(tally.cases)
    return tally.summary(baseline=baseline.label, candidate=candidate.label)


def policy_replay_request(
    *, candidate: RefundPolicy, days: int, actor: User, now: datetime
) -> PolicyReplay:
    """Queue a replay of the last `days` days (30, 90 or 365)."""
    if not actor.has_perm(REPLAY_PERMISSION):
        raise PermissionDenied("Only a Billing lead may replay a policy version.", field="days")
    if days not in PERIODS:
        raise DomainError(f"choose {', '.join(map(str, PERIODS))} days", field="days")
    since = now - timedelta(days=days)
    with transaction.atomic():
        replay = PolicyReplay.objects.create(
            candidate=candidate,
            baseline=policy_in_force(candidate.slug, on=now),
            since=since,
            until=now,
            total=replay_case_count(candidate.slug, since=since, until=now),
            requested_by=actor,
            created_at=now,
        )
        audit_record(
            actor=actor,
            action="policy.replay",
            target=candidate,
            now=now,
            after={"replay": replay.pk, "days": days, "against": replay.baseline.label},
        )
        transaction.on_commit(lambda: _queue(replay.pk))
    return replay


def _queue(replay_id: int) -> None:
    from billing.tasks import replay_policy

    replay_policy.delay(replay_id)


def policy_replay_run(*, replay_id: int, now: datetime) -> PolicyReplay:
    """Run a queued replay, saving progress after every batch."""
    replay = PolicyReplay.objects.select_related("candidate", "baseline").get(pk=replay_id)
    if replay.status == PolicyReplay.Status.DONE:
        return replay
    PolicyReplay.objects.filter(pk=replay.pk).update(status=PolicyReplay.Status.RUNNING)

    def progress(done: int) -> None:
        PolicyReplay.objects.filter(pk=replay.pk).update(done=done)

    try:
        summary = policy_replay(
            candidate=replay.candidate,
            baseline=replay.baseline,
            since=replay.since,
            until=replay.until,
            progress=progress,
        )
    except (DomainError, ValueError) as error:
        PolicyReplay.objects.filter(pk=replay.pk).update(
            status=PolicyReplay.Status.FAILED, error=str(error), finished_at=now
        )
    else:
        PolicyReplay.objects.filter(pk=replay.pk).update(
            status=PolicyReplay.Status.DONE,
            summary=summary,
            done=summary["cases"],
            total=summary["cases"],
            finished_at=now,
        )
    replay.refresh_from_db()
    return replay


def replay_cases_by_ref(refs: list[str]) -> dict[str, ReplayCase]:
    """The cases named by their refs ("cancellation:12"), to open one side by side."""
    wanted: dict[str, list[int]] = {}
    for ref in refs:
        kind, _, pk = ref.partition(":")
        if pk.isdigit():
            wanted.setdefault(kind, []).append(int(pk))
    found: dict[str, ReplayCase] = {}
    sources = dict(zip(CASE_KINDS, _case_querysets(), strict=True))
    for kind, pks in wanted.items():
        if kind not in sources:
            continue
        queryset, fields = sources[kind]
        for cases in _batches(queryset.filter(pk__in=pks), BATCH, fields):
            found.update((case.ref, case) for case in cases)
    return found
