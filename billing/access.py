"""Who may act on a workspace's billing: its owner and billing admins.

Non-members get a 404 (the workspace's existence is not disclosed), members without a
billing role a 403. Pages and API views share these checks.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import User, Workspace, WorkspaceMember
from billing.models import CancellationRequest


def workspace_membership(user: User, slug: str) -> WorkspaceMember:
    """The user's seat in the workspace; 404 for non-members and deleted workspaces."""
    membership = (
        WorkspaceMember.objects.select_related("workspace")
        .filter(user=user, workspace__slug=slug)
        .exclude(workspace__status=Workspace.Status.DELETED)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def billing_workspace(user: User, slug: str) -> Workspace:
    membership = workspace_membership(user, slug)
    if not membership.can_manage_billing:
        raise PermissionDenied("Only the owner or a billing admin may manage billing.")
    return membership.workspace


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
