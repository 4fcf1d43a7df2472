"""Who may act on a workspace's billing: its owner and billing admins.

Non-members get a 404 (the workspace's existence is not disclosed), members without a
billing role a 403. Pages and API views share these checks.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404

from accounts.models import User, Workspace, WorkspaceMember
from backoffice.compiled import CompiledQuery
from billing.models import CancellationRequest, Subscription
from billing.selectors import with_snapshot_flags, with_snapshot_payments
from billing.services.cancellations import cancellable_subscription


def workspace_membership(user: User, slug: str) -> WorkspaceMember:
    """The user's seat in the workspace; 404 for non-members and deleted workspaces."""
    found = _MEMBERSHIP.all(user_id=user.pk, slug=slug)
    membership = found[0] if found else None
    if membership is None:
        raise Http404("No such workspace.")
    return membership


_MEMBERSHIP = CompiledQuery(
    lambda user_id, slug: WorkspaceMember.objects.select_related("workspace")
    .filter(user_id=user_id, workspace__slug=slug)
    .exclude(workspace__status=Workspace.Status.DELETED)
    .order_by("pk")[:1],
    user_id=-7_777_777,
    slug="compiled-query-marker",
)


def billing_workspace(user: User, slug: str) -> Workspace:
    membership = workspace_membership(user, slug)
    if not membership.can_manage_billing:
        raise PermissionDenied("Only the owner or a billing admin may manage billing.")
    return membership.workspace


def billing_cancellable_subscription(user: User, slug: str) -> Subscription:
    """`cancellable_subscription(billing_workspace(user, slug))`, in one query when all is
    well: the user manages the workspace's billing and it has a live paid subscription not
    yet cancelled (the quote's hot path). Anything else asks again, one question at a time,
    and so answers with the same 404, 403 or error naming `subscription`."""
    found = _LIVE_SUBSCRIPTION.all(slug=slug, user_id=user.pk)
    live = found[0] if found else None
    if (
        live is None
        or not WorkspaceMember(role=live.member_role).can_manage_billing
        or live.plan.is_free
        or live.cancel_effective_at is not None
    ):
        return cancellable_subscription(billing_workspace(user, slug))
    return live


def _live_subscription(*, slug: str, user_id: int):
    return with_snapshot_payments(
        with_snapshot_flags(
            Subscription.objects.select_related("plan", "policy", "workspace")
            .filter(
                workspace__slug=slug,
                workspace__members__user_id=user_id,
                status__in=Subscription.LIVE_STATUSES,
            )
            .exclude(workspace__status=Workspace.Status.DELETED)
            .annotate(member_role=F("workspace__members__role"))
            .defer(*_UNUSED_ON_THE_QUOTE)
        )
    ).order_by(*Subscription._meta.ordering, "pk")[:1]


# Columns the quote never reads: the policy's texts (a policy's source text can run to pages)
# and the workspace's lifecycle notes. Leaving them out also keeps the statement short
# enough (under 4 kB) for psycopg to cache its conversion.
_UNUSED_ON_THE_QUOTE = (
    "policy__source_text",
    "policy__changelog",
    "policy__title",
    "policy__created_at",
    "policy__published_by",
    "policy__based_on",
    "workspace__vat_number",
    "workspace__legal_hold_reason",
    "workspace__deletion_warning_sent_at",
)


# The quote's hot path: building and compiling this query cost five times running it.
_LIVE_SUBSCRIPTION = CompiledQuery(
    _live_subscription, slug="compiled-query-marker", user_id=-7_777_777
)


def billing_cancellation(user: User, pk: int) -> CancellationRequest:
    request = (
        CancellationRequest.objects.select_related("workspace", "subscription__plan")
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise Http404("No such cancellation request.")
    billing_workspace(user, request.workspace.slug)
    return request
