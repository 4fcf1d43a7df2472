from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.admin.workspaces import RELATED_SEARCH_HELP, WORKSPACE_SEARCH
from accounts.services.retention import workspace_place_legal_hold
from backoffice.admin_buttons import RecordButton, RecordButtonsAdmin
from backoffice.admin_guard import GuardedAdmin, ReadOnlyInline
from backoffice.admin_mixins import LargeTableAdmin, money
from backoffice.admin_queues import CsvExportAdmin
from backoffice.display import local_date, local_datetime
from billing.admin.display import render_stored_quote
from billing.errors import DomainError
from billing.models import AddOn, OnboardingService, Plan, Subscription
from billing.selectors import quote_for_subscription
from billing.services.addons import addon_remove
from billing.services.dunning import (
    MAX_GRACE_EXTENSION_DAYS,
    dunning_extend_grace,
    dunning_retry_now,
)
from billing.services.plan_changes import (
    CHANGEABLE,
    plan_change_preview,
    subscription_change_plan,
)

from .action_forms import run_per_row


class AddOnInline(ReadOnlyInline):
    model = AddOn
    fields = ["kind", "quantity", "price", "currency", "started_at", "ends_at"]


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


class ServiceInline(ReadOnlyInline):
    model = OnboardingService
    fields = ["kind", "price", "completed_at"]


@admin.register(Subscription)
class SubscriptionAdmin(CsvExportAdmin, RecordButtonsAdmin, GuardedAdmin, LargeTableAdmin):
    """Every field is read-only: plan, discount, workspace, dates and dunning state change
    through the actions (change plan with its preview, retry, extend grace), each a service
    that writes the audit record. Subscriptions are created by sign-up, never by hand."""

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
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "plan", "policy"]
    readonly_fields = ["quote_if_cancelled_now"]
    addable = False
    inlines = [AddOnInline, ServiceInline]
    actions = ["retry_charge_now", "extend_grace", "change_plan"]
    change_list_template = "admin/queue_change_list.html"
    csv_filename = "subscriptions"

    @admin.display(description="If cancelled now")
    def quote_if_cancelled_now(self, obj: Subscription) -> str:
        """The live quote under the subscription's policy version, explained line by line."""
        if obj.pk is None or not obj.is_live:
            return "—"
        now = timezone.now()
        try:
            quote = quote_for_subscription(obj, at=now)
        except DomainError as exc:  # a fixed amount the policy has not in this currency
            return f"No quote: {exc.message}"
        return render_stored_quote(
            quote.to_dict(), workspace=obj.workspace, policy_id=obj.policy_id, at=now
        )

    @admin.display(description="dunning")
    def dunning_state(self, obj: Subscription) -> str:
        """Where a past-due or suspended subscription is in dunning, from its own columns."""
        if obj.status not in (Subscription.Status.PAST_DUE, Subscription.Status.SUSPENDED):
            return "—"
        retry = (
            f"next retry {local_date(obj.next_retry_at)}" if obj.next_retry_at else "no retry left"
        )
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

    # --- buttons on the subscription page: the same services as the actions above

    def record_buttons(self, request, obj: Subscription) -> list[RecordButton]:
        S = Subscription.Status
        may = (
            ""
            if request.user.has_perm("billing.change_subscription")
            else ("You may not change subscriptions.")
        )
        state = obj.get_status_display().lower()
        dunning = (
            "" if obj.status in (S.PAST_DUE, S.SUSPENDED) else f"It is {state}, not in dunning."
        )
        if obj.status not in CHANGEABLE:
            change = f"It is {state}: settle it before changing plan."
        elif obj.plan.is_free:
            change = "A Free plan has nothing to change to."
        else:
            change = ""
        workspace = obj.workspace
        if not request.user.has_perm("accounts.change_workspace"):
            hold = "You may not place legal holds."
        elif workspace.legal_hold:
            hold = f"On legal hold already: {workspace.legal_hold_reason}"
        else:
            hold = ""
        return [
            RecordButton("retry_now", "Retry the charge now", blocked=may or dunning),
            RecordButton(
                "extend_grace", "Extend the grace period…", blocked=may or dunning, asks="days"
            ),
            RecordButton(
                "change_plan", "Change plan…", blocked=may or change, list_action="change_plan"
            ),
            RecordButton(
                "legal_hold",
                "Place the workspace on legal hold…",
                blocked=hold,
                asks="Reason for the legal hold (audited)",
            ),
        ]

    def record_form(self, request, obj, button, data=None):
        if button.name == "extend_grace":
            return ExtendGraceForm(data)
        return super().record_form(request, obj, button, data)

    def do_retry_now(self, request, obj: Subscription, data) -> str:
        paid = dunning_retry_now(subscription=obj, actor=request.user, now=timezone.now())
        return (
            "Paid: the subscription is active again."
            if paid
            else ("The charge failed again; dunning continues.")
        )

    def do_extend_grace(self, request, obj: Subscription, data) -> str:
        extended = dunning_extend_grace(
            subscription=obj, actor=request.user, now=timezone.now(), **data
        )
        return f"Grace period extended until {local_datetime(extended.grace_until)}."

    def do_legal_hold(self, request, obj: Subscription, data) -> str:
        workspace_place_legal_hold(
            workspace=obj.workspace, reason=data["text"], actor=request.user, now=timezone.now()
        )
        return f"{obj.workspace} is on legal hold: nothing of it is deleted until lifted."


@admin.register(AddOn)
class AddOnAdmin(GuardedAdmin, LargeTableAdmin):
    """Add-ons are bought through `addon_add` (charged, audited) and end through the action."""

    list_display = ["__str__", "subscription", "price_display", "started_at", "ends_at"]
    list_filter = ["kind"]
    search_fields = [f"subscription__workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["subscription__workspace", "subscription__plan"]
    addable = False
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
