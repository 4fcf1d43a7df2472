"""Staff API for refunds: propose, approve, reject, retry, read. Every POST honours an
`Idempotency-Key`; the services enforce roles, four eyes and the policy (403/400 with the
field named)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.idempotency import idempotent
from billing.models import Payment, Refund
from billing.services.refunds import refund_approve, refund_propose, refund_reject, refund_retry


class IsStaff(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class RefundProposeInput(serializers.Serializer):
    payment = serializers.PrimaryKeyRelatedField(queryset=Payment.objects.all())
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_amount = serializers.DecimalField(max_digits=14, decimal_places=2, default=0)
    destination = serializers.ChoiceField(
        choices=["", *Refund.Destination.values], default="", allow_blank=True
    )
    is_goodwill = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=2000)


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RefundOutput(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "workspace",
            "status",
            "amount",
            "tax_amount",
            "currency",
            "destination",
            "is_goodwill",
            "reason",
            "rejection_reason",
            "failure_message",
            "provider_reference",
            "created_at",
            "decided_at",
            "completed_at",
        ]


class RefundProposeView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=RefundProposeInput, responses={201: RefundOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = RefundProposeInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not request.user.has_perm("billing.propose_refund"):
            return Response(
                {"detail": "You may not propose refunds.", "errors": {}},
                status=status.HTTP_403_FORBIDDEN,
            )
        refund = refund_propose(actor=request.user, now=timezone.now(), **data.validated_data)
        return Response(RefundOutput(refund).data, status=status.HTTP_201_CREATED)


class RefundDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=RefundOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(RefundOutput(get_object_or_404(Refund, pk=pk)).data)


class RefundApproveView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses=RefundOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        refund = get_object_or_404(Refund, pk=pk)
        refund = refund_approve(refund=refund, actor=request.user, now=timezone.now())
        return Response(RefundOutput(refund).data)


class RefundRejectView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=RejectInput, responses=RefundOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        refund = refund_reject(
            refund=get_object_or_404(Refund, pk=pk),
            actor=request.user,
            reason=data.validated_data["reason"],
            now=timezone.now(),
        )
        return Response(RefundOutput(refund).data)


class RefundRetryView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses=RefundOutput)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        refund = get_object_or_404(Refund, pk=pk)
        refund = refund_retry(refund=refund, actor=request.user, now=timezone.now())
        return Response(RefundOutput(refund).data)
