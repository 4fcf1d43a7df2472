"""Refund-review requests for customers: submit (with `Idempotency-Key`), list and read
one's own, with the outcome (the refund's details only for a billing member of the
request's workspace)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.idempotency import idempotent
from billing.models import RefundReviewRequest
from billing.money import CURRENCY_CHOICES
from billing.services.review_verification import billing_workspace_ids
from billing.services.reviews import review_request_outcome, review_request_submit


class ReviewRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RefundReviewRequest.Kind.choices)
    workspace_name = serializers.CharField(max_length=200)
    billing_email = serializers.EmailField(max_length=254)
    approximate_payment_date = serializers.DateField()
    amount_charged = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    explanation = serializers.CharField(max_length=4000)


class ReviewRequestOutput(serializers.ModelSerializer):
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = RefundReviewRequest
        fields = [
            "id",
            "kind",
            "workspace_name",
            "billing_email",
            "approximate_payment_date",
            "amount_charged",
            "currency",
            "explanation",
            "created_at",
            "outcome",
        ]

    @extend_schema_field(serializers.DictField())
    def get_outcome(self, obj: RefundReviewRequest) -> dict:
        visible = obj.workspace_id in self.context["billing_workspace_ids"]
        return review_request_outcome(obj, payment_visible=visible)


def _output(request: Request, reviews, **kwargs) -> dict:
    context = {"billing_workspace_ids": billing_workspace_ids(request.user)}
    return ReviewRequestOutput(reviews, context=context, **kwargs).data


class ReviewRequestListCreateView(APIView):
    @extend_schema(responses=ReviewRequestOutput(many=True))
    def get(self, request: Request) -> Response:
        mine = (
            RefundReviewRequest.objects.filter(submitted_by=request.user)
            .prefetch_related("refunds")
            .order_by("-created_at")[:50]
        )
        return Response(_output(request, mine, many=True))

    @extend_schema(request=ReviewRequestInput, responses={201: ReviewRequestOutput})
    @idempotent
    def post(self, request: Request) -> Response:
        data = ReviewRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_request_submit(
            submitted_by=request.user, now=timezone.now(), **data.validated_data
        )
        return Response(_output(request, review), status=status.HTTP_201_CREATED)


class ReviewRequestDetailView(APIView):
    @extend_schema(responses=ReviewRequestOutput)
    def get(self, request: Request, pk: int) -> Response:
        review = get_object_or_404(RefundReviewRequest, pk=pk, submitted_by=request.user)
        return Response(_output(request, review))
