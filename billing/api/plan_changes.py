"""Plan change and add-on API: preview, then confirm. Views parse, call a service,
serialize; errors use the shape of `backoffice/api.py`.

Only the workspace's owner or billing admins may use it: 404 for a non-member (the
workspace's existence is not revealed), 403 for a plain member. POSTs that move money take
an `Idempotency-Key` header: a retried request replays the first response.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as Forbidden
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import WorkspaceMember
from billing.api.idempotency import idempotent
from billing.models import AddOn, Payment, Plan, Subscription
from billing.services.addons import addon_add, addon_preview, addon_remove, order_pack_buy
from billing.services.plan_changes import (
    plan_change_preview,
    subscription_downgrade,
    subscription_upgrade,
)


def billing_subscription(request: Request, slug: str) -> Subscription:
    """The workspace's live subscription, if the user manages its billing."""
    member = (
        WorkspaceMember.objects.select_related("workspace")
        .filter(workspace__slug=slug, user=request.user)
        .first()
    )
    if member is None:
        raise NotFound("No such workspace.")
    if not member.can_manage_billing:
        raise Forbidden("Only the owner or a billing admin can change the subscription.")
    subscription = (
        Subscription.objects.select_related("plan", "policy", "workspace__owner")
        .filter(workspace=member.workspace, status__in=Subscription.LIVE_STATUSES)
        .first()
    )
    if subscription is None:
        raise NotFound("This workspace has no live subscription.")
    return subscription


class LineSerializer(serializers.Serializer):
    label = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    clause = serializers.CharField()


class LimitWarningSerializer(serializers.Serializer):
    limit = serializers.CharField()
    message = serializers.CharField()


class PlanChangePreviewSerializer(serializers.Serializer):
    policy = serializers.CharField()
    currency = serializers.CharField()
    direction = serializers.CharField()
    charge_now = serializers.DecimalField(max_digits=12, decimal_places=2)
    refund = serializers.DecimalField(max_digits=12, decimal_places=2)
    effective_at = serializers.DateTimeField()
    notice_applied = serializers.BooleanField()
    lines = LineSerializer(many=True)
    plan = serializers.CharField()
    limit_warnings = LimitWarningSerializer(many=True)


class ChargePreviewSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    lines = LineSerializer(many=True)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "kind", "amount", "currency", "paid_at", "period_start", "period_end"]


class AddOnSerializer(serializers.ModelSerializer):
    class Meta:
        model = AddOn
        fields = ["id", "kind", "quantity", "price", "currency", "started_at", "ends_at"]


class SubscriptionStateSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code")
    pending_plan = serializers.CharField(source="pending_plan.code", allow_null=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "status",
            "plan",
            "current_period_start",
            "current_period_end",
            "pending_plan",
            "pending_plan_effective_at",
        ]


class PlanInputSerializer(serializers.Serializer):
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())


class AddOnInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            AddOn.Kind.EXTRA_SEATS,
            AddOn.Kind.EXTRA_STORAGE,
            AddOn.Kind.EXTRA_MODULES,
        ]
    )
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class OrderPackInputSerializer(serializers.Serializer):
    packs = serializers.IntegerField(min_value=1, max_value=1000)


class PlanChangeResultSerializer(serializers.Serializer):
    subscription = SubscriptionStateSerializer()
    payment = PaymentSerializer(allow_null=True)


class AddOnResultSerializer(serializers.Serializer):
    addon = AddOnSerializer()
    payment = PaymentSerializer(allow_null=True)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PlanChangePreviewView(APIView):
    @extend_schema(request=PlanInputSerializer, responses=PlanChangePreviewSerializer)
    def post(self, request: Request, slug: str) -> Response:
        subscription = billing_subscription(request, slug)
        data = _valid(PlanInputSerializer, request)
        preview = plan_change_preview(
            subscription=subscription, plan=data["plan"], now=timezone.now()
        )
        return Response(PlanChangePreviewSerializer(preview).data)


class UpgradeView(APIView):
    @extend_schema(request=PlanInputSerializer, responses=PlanChangeResultSerializer)
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        subscription = billing_subscription(request, slug)
        data = _valid(PlanInputSerializer, request)
        subscription, payment = subscription_upgrade(
            subscription=subscription, plan=data["plan"], actor=request.user, now=timezone.now()
        )
        result = {"subscription": subscription, "payment": payment}
        return Response(PlanChangeResultSerializer(result).data)


class DowngradeView(APIView):
    @extend_schema(request=PlanInputSerializer, responses=PlanChangeResultSerializer)
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        subscription = billing_subscription(request, slug)
        data = _valid(PlanInputSerializer, request)
        subscription, _ = subscription_downgrade(
            subscription=subscription, plan=data["plan"], actor=request.user, now=timezone.now()
        )
        result = {"subscription": subscription, "payment": None}
        return Response(PlanChangeResultSerializer(result).data)


class AddOnPreviewView(APIView):
    @extend_schema(request=AddOnInputSerializer, responses=ChargePreviewSerializer)
    def post(self, request: Request, slug: str) -> Response:
        subscription = billing_subscription(request, slug)
        data = _valid(AddOnInputSerializer, request)
        charge = addon_preview(subscription=subscription, now=timezone.now(), **data)
        return Response(ChargePreviewSerializer(charge.to_dict()).data)


class AddOnAddView(APIView):
    @extend_schema(request=AddOnInputSerializer, responses={201: AddOnResultSerializer})
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        subscription = billing_subscription(request, slug)
        data = _valid(AddOnInputSerializer, request)
        addon, payment = addon_add(
            subscription=subscription, actor=request.user, now=timezone.now(), **data
        )
        return Response(
            AddOnResultSerializer({"addon": addon, "payment": payment}).data, status=201
        )


class AddOnRemoveView(APIView):
    @extend_schema(request=None, responses=AddOnSerializer)
    @idempotent
    def post(self, request: Request, slug: str, pk: int) -> Response:
        subscription = billing_subscription(request, slug)
        addon = AddOn.objects.filter(pk=pk, subscription=subscription).first()
        if addon is None:
            raise NotFound("No such add-on on this subscription.")
        addon = addon_remove(addon=addon, actor=request.user, now=timezone.now())
        return Response(AddOnSerializer(addon).data)


class OrderPackBuyView(APIView):
    @extend_schema(request=OrderPackInputSerializer, responses={201: AddOnResultSerializer})
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        subscription = billing_subscription(request, slug)
        data = _valid(OrderPackInputSerializer, request)
        addon, payment = order_pack_buy(
            subscription=subscription, packs=data["packs"], actor=request.user, now=timezone.now()
        )
        return Response(
            AddOnResultSerializer({"addon": addon, "payment": payment}).data, status=201
        )
