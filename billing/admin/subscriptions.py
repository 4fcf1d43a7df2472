from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.admin.workspaces import WORKSPACE_SEARCH
from backoffice.admin_mixins import LargeTableAdmin, money
from billing.errors import DomainError
from billing.models import AddOn, OnboardingService, Plan, Subscription
from billing.selectors import quote_for_subscription
from billing.services.dunning import (
    MAX_GRACE_EXTENSION_DAYS,
    dunning_extend_grace,
    dunning_retry_now,
)
from billing.services.plan_changes import (
    addon_remove,
    plan_change_preview,
    subscription_change_plan,
)

from .action_forms import run_per_row
from .policies import render_quote

SUBSCRIPTION_READONLY = [
    "status",
    "started_at",
    "trial_end",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "cancel_effective_at",
    "cancelled_at",
    "ended_at",
    "discount_void",
    "pending_plan",
    "pending_plan_effective_at",
    "past_due_since",
    "dunning_attempts",
    "next_retry_at",
    "grace_until",
    "policy",
]


class AddOnInline(admin.TabularInline):
    model = AddOn
    extra = 0
    readonly_fields = ["kind", "quantity", "price", "currency", "started_at", "ends_at"]
    can_delete = False


class ExtendGraceForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=MAX_GRACE_EXTENSION_DAYS)
    reason = forms.CharField(max_length=300, help_text="Audited and kept with the change.")


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none())

    def __init__(self, *args, subscription: Subscription, **kwargs):
        super().__init__(*args, **kwargs)
        current = subscription.plan
        self.fields["plan"].queryset = Plan.objects.filter(
            policy_slug=current.policy_slug,
            interval=current.interval,
            currency=current.currency,
            is_active=True,
        ).exclude(pk=current.pk)


class DunningFilter(admin.SimpleListFilter):
    title = "dunning"
    parameter_name = "dunning"

    def lookups(self, request, model_admin):
        return [("retry_due", "Retry due"), ("grace_over", "Grace period over")]

    def queryset(self, request, queryset):
        now = timezone.now()
        in_dunning = queryset.filter(
            status__in=[Subscription.Status.PAST_DUE, Subscription.Status.SUSPENDED]
        )
        if self.value() == "retry_due":
            return in_dunning.filter(next_retry_at__lte=now)
        if self.value() == "grace_over":
            return in_dunning.filter(grace_until__lte=now)
        return queryset


class ServiceInline(admin.TabularInline):
    model = OnboardingService
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(LargeTableAdmin):
    list_display = [
        "workspace",
        "plan",
        "status",
        "policy",
        "current_period_end",
        "cancel_at_period_end",
        "next_retry_at",
        "dunning_state",
        "grace_until",
    ]
    list_filter = [
        "status",
        "plan__interval",
        "plan__policy_slug",
        "cancel_at_period_end",
        DunningFilter,
    ]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "workspace"
    list_select_related = ["workspace", "plan", "policy"]
    autocomplete_fields = ["workspace", "plan"]
    readonly_fields = [*SUBSCRIPTION_READONLY, "quote_if_cancelled_now"]
    inlines = [AddOnInline, ServiceInline]
    actions = ["retry_charge_now", "extend_grace", "change_plan"]

    @admin.display(description="If cancelled now")
    def quote_if_cancelled_now(self, obj: Subscription) -> str:
        """The live quote under the subscription's policy version, explained line by line."""
        if obj.pk is None or not obj.is_live:
            return "—"
        try:
            return render_quote(quote_for_subscription(obj, at=timezone.now()))
        except DomainError as exc:  # a fixed amount the policy has not in this currency
            return f"No quote: {exc.message}"

    @admin.display(description="dunning")
    def dunning_state(self, obj: Subscription) -> str:
        """Where a past-due or suspended subscription is in dunning, from its own columns."""
        if obj.status not in (Subscription.Status.PAST_DUE, Subscription.Status.SUSPENDED):
            return "—"
        retry = f"next retry {obj.next_retry_at:%Y-%m-%d}" if obj.next_retry_at else "no retry left"
        return f"{obj.dunning_attempts} failed, {retry}"

    @admin.action(description="Retry the unpaid charge now", permissions=["change"])
    def retry_charge_now(self, request, queryset):
        now = timezone.now()
        for subscription in queryset.select_related("workspace", "plan"):
            try:
                paid = dunning_retry_now(subscription=subscription, actor=request.user, now=now)
            except DomainError as error:
                self.message_user(request, f"{subscription}: {error.message}", messages.ERROR)
                continue
            if paid:
                self.message_user(request, f"{subscription}: paid, active again.")
            else:
                self.message_user(
                    request, f"{subscription}: the charge failed again.", messages.WARNING
                )

    @admin.action(description="Extend the grace period…", permissions=["change"])
    def extend_grace(self, request, queryset):
        form = ExtendGraceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            now = timezone.now()
            for subscription in queryset:
                try:
                    extended = dunning_extend_grace(
                        subscription=subscription,
                        actor=request.user,
                        now=now,
                        **form.cleaned_data,
                    )
                except DomainError as error:
                    self.message_user(request, f"{subscription}: {error.message}", messages.ERROR)
                    continue
                self.message_user(
                    request, f"{subscription}: grace until {extended.grace_until:%Y-%m-%d}."
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Extend the grace period",
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/subscription/extend_grace.html", context)

    @admin.action(description="Change plan (preview, then confirm)…", permissions=["change"])
    def change_plan(self, request, queryset):
        """One subscription at a time: choose a plan, see the engine's quote and the limits
        it would exceed, then confirm; upgrades charge the customer's card."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one subscription.", messages.ERROR)
            return None
        subscription = queryset.select_related("plan", "policy", "workspace__owner").get()
        bound = "preview" in request.POST or "apply" in request.POST
        form = ChangePlanForm(request.POST if bound else None, subscription=subscription)
        preview = None
        if form.is_valid():
            plan, now = form.cleaned_data["plan"], timezone.now()
            try:
                preview = plan_change_preview(subscription=subscription, plan=plan, now=now)
                if "apply" in request.POST:
                    direction = subscription_change_plan(
                        subscription=subscription, plan=plan, actor=request.user, now=now
                    )
                    self.message_user(request, f"{subscription}: {direction} to {plan.name} done.")
                    return None
            except DomainError as error:
                form.add_error(None, error.message)
                preview = None
        context = {
            **self.admin_site.each_context(request),
            "title": "Change plan",
            "subscription": subscription,
            "form": form,
            "preview": preview,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/billing/subscription/change_plan.html", context)


@admin.register(AddOn)
class AddOnAdmin(LargeTableAdmin):
    list_display = ["__str__", "subscription", "price_display", "started_at", "ends_at"]
    list_filter = ["kind"]
    search_fields = [f"subscription__workspace__{field}" for field in WORKSPACE_SEARCH]
    search_workspace_path = "subscription__workspace"
    list_select_related = ["subscription__workspace", "subscription__plan"]
    autocomplete_fields = ["subscription"]
    price_display = money("price", description="price")
    actions = ["end_with_period"]

    @admin.action(
        description="End with the current period (limits drop then, no refund)",
        permissions=["change"],
    )
    def end_with_period(self, request, queryset):
        now = timezone.now()
        run_per_row(
            self,
            request,
            queryset.select_related("subscription"),
            lambda addon: addon_remove(addon=addon, actor=request.user, now=now),
            done="add-on(s) end with the current period",
        )
