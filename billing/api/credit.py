"""A workspace's customer credit, for its owner and billing admins."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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


class CreditEntryOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    memo = serializers.CharField()


class CreditOutput(serializers.Serializer):
    workspace = serializers.CharField()
    balances = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2)
    )
    entries = CreditEntryOutput(many=True)


class WorkspaceCreditView(APIView):
    @extend_schema(responses=CreditOutput)
    def get(self, request: Request, slug: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        return Response(
            CreditOutput(
                {
                    "workspace": workspace.slug,
                    "balances": dict(credit_balances(workspace)),
                    "entries": workspace.credit_entries.all()[:50],
                }
            ).data
        )
