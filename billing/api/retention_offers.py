"""Retention offers API: list the offers for a workspace's cancellation (with their
figures and what cancelling gives), accept one. Same error shape and Idempotency-Key as
the cancellation API; a submit that declines offers names the session
(`POST .../cancellations/` with `retention_session`)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from billing.access import billing_workspace
from billing.api.cancellations import CustomerAPIView, ErrorSerializer, QuoteSerializer
from billing.api.idempotency import HEADER, idempotent
from billing.errors import DomainError
from billing.models import CancellationRequest, RetentionOffer, RetentionSession
from billing.services.cancellations import cancellable_subscription, cancellation_preview
from billing.services.retention_offers import (
    offers_with_terms,
    retention_offer_accept,
    retention_session_open,
)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CancellationRequest.Reason.choices)


class PauseChoiceSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    resumes_at = serializers.DateTimeField()
    next_charge_at = serializers.DateTimeField()


class OfferTermsSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="offer.pk")
    kind = serializers.CharField(source="offer.kind")
    headline = serializers.CharField(source="offer.headline")
    currency = serializers.CharField()
    pay_next = serializers.DecimalField(max_digits=12, decimal_places=2)
    pay_next_at = serializers.DateTimeField()
    monthly_after = serializers.DecimalField(max_digits=12, decimal_places=2)
    summary = serializers.ListField(child=serializers.CharField())
    lines = serializers.ListField(child=serializers.DictField())
    pause_choices = PauseChoiceSerializer(many=True)


class OffersSerializer(serializers.Serializer):
    session = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    offers = OfferTermsSerializer(many=True)
    cancellation = QuoteSerializer()


class AcceptSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    months = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RetentionSession
        fields = ["id", "reason", "outcome", "accepted_offer", "decided_at"]
        read_only_fields = fields


class RetentionOffersView(CustomerAPIView):
    @extend_schema(
        operation_id="cancellation_offers",
        summary="Offers for cancelling with this reason, with their figures and the quote",
        parameters=[ReasonSerializer],
        responses={200: OffersSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        workspace = billing_workspace(request.user, slug)
        query = ReasonSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reason = query.validated_data["reason"]
        now = timezone.now()
        subscription = cancellable_subscription(workspace)
        terms = offers_with_terms(subscription=subscription, reason=reason, now=now)
        session = (
            retention_session_open(
                subscription=subscription,
                reason=reason,
                offers=[term.offer for term in terms],
                actor=request.user,
                now=now,
            )
            if terms
            else None
        )
        quote = cancellation_preview(subscription=subscription, at=now).quote
        data = {
            "session": session.pk if session else None,
            "reason": reason,
            "offers": terms,
            "cancellation": quote.to_dict(),
        }
        return Response(OffersSerializer(data).data)


class RetentionOfferAcceptView(CustomerAPIView):
    @extend_schema(
        operation_id="cancellation_offer_accept",
        summary="Accept an offer instead of cancelling (one call, idempotent)",
        request=AcceptSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Replays the first response for the same key and body.",
            )
        ],
        responses={200: SessionSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    @idempotent
    def post(self, request: Request, slug: str, offer_id: int) -> Response:
        workspace = billing_workspace(request.user, slug)
        payload = AcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = RetentionSession.objects.filter(
            pk=payload.validated_data["session"], workspace=workspace
        ).first()
        if session is None:
            raise DomainError("No such session for this workspace.", field="session")
        offer = RetentionOffer.objects.filter(pk=offer_id).select_related("target_plan").first()
        if offer is None:
            raise DomainError("No such offer.", field="offer")
        session = retention_offer_accept(
            session=session,
            offer=offer,
            actor=request.user,
            now=timezone.now(),
            months=payload.validated_data.get("months"),
        )
        return Response(SessionSerializer(session).data)
