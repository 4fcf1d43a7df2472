"""Locking and batching of subscriptions for the daily jobs, kept in one place.

A job walks the matching ids in primary-key order, `batch_size` at a time (keyset
pagination: no OFFSET, no count), and claims each row with `SELECT ... FOR UPDATE SKIP
LOCKED` on PostgreSQL: a concurrent run skips the rows this one holds, and the lock
re-checks the due condition on the row, so a second run does nothing more.

The due condition must be a condition on the subscription row itself (a `Q`), never
`pk__in=<subquery>`: when a concurrent run commits a change to the row just before the lock
is taken, PostgreSQL re-evaluates the row's own conditions on the new version, but a
subquery keeps the statement's old snapshot and would still call the row due. SQLite
has no row locks; its single writer serialises runs and the re-check keeps them idempotent.
"""

from collections.abc import Iterator

from django.db.models import Prefetch, Q, QuerySet

from billing.models import AddOn, Subscription

# The add-ons come with the lock as a plain list: Django's default prefetch builds a
# related manager and a filtered queryset per subscription, a tenth of a renewal batch.
ADDONS = Prefetch("addons", queryset=AddOn.objects.order_by("pk"), to_attr="addon_rows")


def subscription_addons(subscription: Subscription) -> list[AddOn]:
    """The subscription's add-ons: those loaded with its lock, or read now."""
    rows = getattr(subscription, "addon_rows", None)
    return rows if rows is not None else list(subscription.addons.all())


def subscription_id_batches(queryset: QuerySet, *, batch_size: int) -> Iterator[list[int]]:
    """Ids of `queryset`, ascending, in lists of at most `batch_size` (one query each)."""
    last = 0
    while True:
        ids = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _lockable():
    return Subscription.objects.select_related(
        "workspace", "workspace__owner", "plan", "pending_plan", "policy"
    ).prefetch_related(ADDONS)


def subscriptions_lock(
    ids: list[int], *conditions: Q, with_workspace: bool = False, with_rules: bool = False
) -> list[Subscription]:
    """Those of these subscriptions that still match `conditions` and that no one else
    holds, locked, in primary-key order, with their plans, policy and add-ons (two queries
    for the whole batch), and their workspace or their policy's rules if asked. Call
    inside `transaction.atomic()`."""
    # By default the workspace, its owner and the policy's rules are loaded (and the rules
    # parsed) only for the few renewals whose charge or failure needs them.
    queryset = Subscription.objects.select_related("plan", "pending_plan", "policy")
    if with_workspace:
        queryset = queryset.select_related("workspace")
    if not with_rules:
        queryset = queryset.defer("policy__rules")
    queryset = queryset.prefetch_related(ADDONS).filter(*conditions, pk__in=ids).order_by("pk")
    return list(queryset.select_for_update(skip_locked=True, of=("self",)))


def subscription_lock(
    pk: int, *conditions: Q, skip_locked: bool = True, **lookups
) -> Subscription | None:
    """The subscription, locked, if it still matches `conditions` and `lookups` (and, with
    `skip_locked`, no one else holds it; otherwise wait for it). Call inside
    `transaction.atomic()`."""
    queryset = _lockable().filter(*conditions, pk=pk, **lookups)
    return queryset.select_for_update(skip_locked=skip_locked, of=("self",)).first()
