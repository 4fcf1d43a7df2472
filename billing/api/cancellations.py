"""Cancellation API: one view per operation, serializers next to it. Views parse, call a
service, serialize; errors use the shape of `backoffice/api.py`."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.access import (
    billing_cancellable_subscription,
    billing_cancellation,
    billing_workspace,
)
from billing.api.idempotency import HEADER, idempotent
from billing.api.throttles import CustomerRateThrottle
from billing.models import CancellationRequest, RetentionSession
from billing.services.cancellations import (
    MAX_TEXT,
    cancellation_preview,
    cancellation_submit,
    cancellation_withdraw,
)
from billing.services.retention_offers import retention_session_cancelled


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class QuoteLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    clause = serializers.CharField()
    payment_ref = serializers.CharField(allow_null=True)


class PaymentRefundSerializer(serializers.Serializer):
    payment_ref = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax = serializers.DecimalField(max_digits=12, decimal_places=2)


class RetainedPartSerializer(serializers.Serializer):
    what = serializers.CharField()
    until = serializers.DateTimeField(allow_null=True, help_text="null: kept indefinitely")
    clause = serializers.CharField()


class QuoteSerializer(serializers.Serializer):
    policy = serializers.CharField()
    currency = serializers.CharField()
    refund = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_refund = serializers.DecimalField(max_digits=12, decimal_places=2)
    destination = serializers.CharField()
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2)
    effective = serializers.CharField()
    ends_at = serializers.DateTimeField()
    access_until = serializers.DateTimeField()
    data_retained_until = serializers.DateTimeField(allow_null=True)
    data_kept = RetainedPartSerializer(
        many=True,
        required=False,
        help_text="Parts of the data kept on their own horizon (backups, credentials).",
    )
    fallback = serializers.CharField()
    notice_applied = serializers.BooleanField()
    refusal = serializers.CharField(allow_null=True)
    lines = QuoteLineSerializer(many=True)
    payment_refunds = PaymentRefundSerializer(many=True)


class LimitBreachSerializer(serializers.Serializer):
    limit = serializers.CharField()
    used = serializers.IntegerField()
    allowed = serializers.IntegerField()
    message = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    workspace = serializers.CharField()
    plan = serializers.CharField()
    quote = QuoteSerializer()
    free_plan = serializers.CharField(allow_null=True)
    exceeded_limits = LimitBreachSerializer(many=True)
    notice = serializers.CharField(allow_blank=True)


# One instance per process renders every quote: `to_representation` keeps no state, and
# building a serializer's fields (a deep copy of the declared ones, nested included) cost
# ten times the rendering itself on the API's busiest GET.
PREVIEW_RENDERER = PreviewSerializer()


class SubmitSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CancellationRequest.Reason.choices)
    reason_text = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, default=""
    )
    retention_session = serializers.IntegerField(
        required=False, allow_null=True, help_text="The offers session this submit declines."
    )


class CancellationSerializer(serializers.ModelSerializer):
    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    quote = QuoteSerializer(read_only=True)

    class Meta:
        model = CancellationRequest
        fields = [
            "id",
            "workspace",
            "status",
            "reason",
            "reason_text",
            "quoted_refund",
            "currency",
            "effective_at",
            "rejection_reason",
            "created_at",
            "completed_at",
            "quote",
        ]
        read_only_fields = fields


# As PREVIEW_RENDERER: built once, so the POST's response does not rebuild its fields.
CANCELLATION_RENDERER = CancellationSerializer()


class CustomerAPIView(APIView):
    throttle_classes = [CustomerRateThrottle]


class CancellationQuoteView(CustomerAPIView):
    @extend_schema(
        operation_id="cancellation_quote",
        summary="What cancelling now would mean: refund, amount due, end, fallback",
        responses={200: PreviewSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        subscription = billing_cancellable_subscription(request.user, slug)
        preview = cancellation_preview(subscription=subscription, at=timezone.now())
        data = {
            "workspace": subscription.workspace.slug,
            "plan": preview.subscription.plan.name,
            "quote": preview.quote.to_dict(),
            "free_plan": preview.free_plan.name if preview.free_plan else None,
            "exceeded_limits": [
                {"limit": b.limit, "used": b.used, "allowed": b.allowed, "message": b.message}
                for b in preview.exceeded
            ],
            "notice": preview.notice,
        }
        return Response(PREVIEW_RENDERER.to_representation(data))


class CancellationSubmitView(CustomerAPIView):
    @extend_schema(
        operation_id="cancellation_submit",
        summary="Request the cancellation (returns the open request if there is one)",
        request=SubmitSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Replays the first response for the same key and body.",
            )
        ],
        responses={
            201: CancellationSerializer,
            200: OpenApiResponse(CancellationSerializer, description="The already open request"),
            400: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
        },
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        session_id = data.pop("retention_session", None)
        declined = (
            RetentionSession.objects.filter(pk=session_id, workspace=workspace).first()
            if session_id
            else None
        )
        now = timezone.now()
        cancellation, created = cancellation_submit(
            workspace=workspace, actor=request.user, now=now, **data
        )
        if declined is not None:
            retention_session_cancelled(session=declined, cancellation=cancellation, now=now)
        return Response(
            CANCELLATION_RENDERER.to_representation(cancellation),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CancellationStatusView(CustomerAPIView):
    @extend_schema(
        operation_id="cancellation_status",
        summary="A cancellation request and its status",
        responses={200: CancellationSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            CANCELLATION_RENDERER.to_representation(billing_cancellation(request.user, pk))
        )


class CancellationWithdrawView(CustomerAPIView):
    @extend_schema(
        operation_id="cancellation_withdraw",
        summary="Withdraw an open cancellation request",
        request=None,
        responses={200: CancellationSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        cancellation = cancellation_withdraw(
            request=billing_cancellation(request.user, pk), actor=request.user, now=timezone.now()
        )
        return Response(CANCELLATION_RENDERER.to_representation(cancellation))
