"""A workspace's customer credit, for its owner and billing admins."""

from django.shortcuts import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Workspace, WorkspaceMember
from billing.services.credit import credit_balances

BILLING_ROLES = (WorkspaceMember.Role.OWNER, WorkspaceMember.Role.BILLING_ADMIN)


def billing_workspace(user, slug: str) -> Workspace:
    """The workspace if `user` manages its billing, else 404 (not revealing it exists)."""
    return get_object_or_404(
        Workspace, slug=slug, members__user=user, members__role__in=BILLING_ROLES
    )


class WorkspaceCreditView(APIView):
    def get(self, request: Request, slug: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        entries = workspace.credit_entries.all()[:50]
        return Response(
            {
                "workspace": workspace.slug,
                "balances": {
                    currency: str(amount) for currency, amount in credit_balances(workspace)
                },
                "entries": [
                    {
                        "created_at": entry.created_at,
                        "kind": entry.kind,
                        "amount": str(entry.amount),
                        "currency": entry.currency,
                        "memo": entry.memo,
                    }
                    for entry in entries
                ],
            }
        )
