"""Refund policies: versions listed and viewable, drafts edited in a structured form and
published by a Billing lead (then frozen), and the policy pages: simulator, diff, side by
side simulator, replay, JSON export and import (`policy_pages`)."""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from backoffice.admin_mixins import LargeTableAdmin, indexed_distinct
from backoffice.identifiers import parse_id
from billing.account_history import snapshot_extras
from billing.errors import DomainError
from billing.models import RefundPolicy, Subscription
from billing.policy.quotes import PlanChangeQuote, Quote
from billing.policy.render import plan_change_text
from billing.policy.scenarios import (
    EXAMPLES,
    ScenarioError,
    parse_scenario,
    quote_scenario,
    scenario_from_snapshot,
)
from billing.selectors import policy_rules, subscription_for_quote, subscription_snapshot
from billing.services.policies import (
    PUBLISH_PERMISSION,
    policy_draft_create,
    policy_in_use,
    policy_update,
    validated_rules,
)

from . import policy_pages
from .policy_display import example_scenario_text, render_quote, rules_table

DRAFT_FIELDS = ["title", "effective_from", "source_text", "changelog"]
ALL_FIELDS = ["slug", "version", "state", *DRAFT_FIELDS]


class RefundPolicyForm(forms.ModelForm):
    """Adding a version from scratch (a draft), or the details of a draft."""

    class Meta:
        model = RefundPolicy
        fields = ["slug", "version", *DRAFT_FIELDS, "rules"]

    def clean_rules(self) -> dict[str, Any]:
        try:
            return validated_rules(self.cleaned_data["rules"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class SimulatorForm(forms.Form):
    policy = forms.ModelChoiceField(queryset=RefundPolicy.objects.all())
    scenario = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 26, "cols": 90, "style": "font-family: monospace"}),
        help_text="The scenario JSON (docs/policy.md). Its `policy` is replaced by the one "
        "picked above.",
    )


@admin.register(RefundPolicy)
class RefundPolicyAdmin(LargeTableAdmin):
    form = RefundPolicyForm
    list_display = [
        "slug",
        "version",
        "title",
        "state",
        "effective_from",
        "moves_in_words",
        "in_use",
        "example",
        "created_at",
    ]
    # Few rows (one per version): boolean and state filters cost nothing here.
    list_filter = ["slug", "state", "example"]
    search_fields = ["slug__startswith", "title__icontains"]
    actions = ["draft_new_version"]
    change_list_template = "admin/billing/refundpolicy/change_list.html"
    change_form_template = "admin/billing/refundpolicy/change_form.html"

    def get_queryset(self, request):
        """`is_in_use` from the policies that subscriptions hold (a skip scan of the
        subscriptions' policy index): a correlated EXISTS scanned the subscriptions for
        each version nobody uses."""
        in_use = indexed_distinct(Subscription, "policy")
        return (
            super()
            .get_queryset(request)
            .annotate(is_in_use=ExpressionWrapper(Q(pk__in=in_use), output_field=BooleanField()))
        )

    @admin.display(boolean=True, description="in use", ordering="is_in_use")
    def in_use(self, obj: RefundPolicy) -> bool:
        return obj.is_in_use

    @admin.display(description="subscriptions that move to it")
    def moves_in_words(self, obj: RefundPolicy) -> str:
        if obj.is_draft:
            return "none (draft)"
        start = _day(obj.effective_from)
        if obj.moves == RefundPolicy.Moves.NEW_ONLY:
            return f"new ones from {start}"
        return (
            f"new ones from {start}, renewals from {_day(obj.renewals_from or obj.effective_from)}"
        )

    def has_delete_permission(self, request, obj=None):
        """Only a draft nobody uses may be deleted: a published version is history."""
        if obj is not None and (not obj.is_draft or policy_in_use(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        """A published version is frozen: its page reads only."""
        if obj is not None and not obj.is_draft:
            return False
        return super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["slug", "version", *DRAFT_FIELDS, "rules"]
        return [*ALL_FIELDS, "moves_in_words", "rules_readable"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["slug", "version", "state", "moves_in_words", "rules_readable"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.state = RefundPolicy.State.DRAFT
            super().save_model(request, obj, form, change)
            return
        if form.changed_data:
            policy_update(
                policy=obj, actor=request.user, now=timezone.now(), fields=list(form.changed_data)
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_publish": request.user.has_perm(PUBLISH_PERMISSION),
            "may_draft": self.has_add_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="rules, with the clauses they come from")
    def rules_readable(self, obj: RefundPolicy) -> str:
        try:
            rules = policy_rules(obj)
        except (ValueError, TypeError, KeyError):
            return "These rules cannot be read; fix them in the editor."
        return rules_table(rules.to_dict())

    @admin.action(description="Draft a new version (copy of the selected version)")
    def draft_new_version(self, request: HttpRequest, queryset) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied
        now = timezone.now()
        for policy in queryset.order_by("slug", "version"):
            draft = policy_draft_create(policy=policy, actor=request.user, now=now)
            self.message_user(
                request, f"Drafted {draft.label} from {policy.label}.", messages.SUCCESS
            )

    def get_urls(self):
        def page(view):
            return self.admin_site.admin_view(lambda request, **kw: view(self, request, **kw))

        p = policy_pages
        return [
            path(
                "simulator/",
                self.admin_site.admin_view(self.simulator_view),
                name="billing_policy_simulator",
            ),
            path("import/", page(p.import_view), name="billing_policy_import"),
            path("<int:pk>/draft/", page(p.new_draft_view), name="billing_policy_new_draft"),
            path("<int:pk>/edit/", page(p.edit_view), name="billing_policy_edit"),
            path("<int:pk>/diff/", page(p.diff_view), name="billing_policy_diff"),
            path("<int:pk>/compare/", page(p.compare_view), name="billing_policy_compare"),
            path("<int:pk>/replay/", page(p.replay_view), name="billing_policy_replay"),
            path("<int:pk>/publish/", page(p.publish_view), name="billing_policy_publish"),
            path("<int:pk>/export/", page(p.export_view), name="billing_policy_export"),
            path(
                "replays/<int:replay_id>/",
                page(p.replay_result_view),
                name="billing_policy_replay_result",
            ),
            path(
                "replays/<int:replay_id>/<str:ref>/",
                page(p.replay_case_view),
                name="billing_policy_replay_case",
            ),
            *super().get_urls(),
        ]

    def simulator_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        quote = None
        initial = _example_initial(request.GET.get("example", "prorated-credit"))
        subscription_id = request.GET.get("subscription", "").strip()
        if subscription_id:
            initial = self._from_subscription(request, subscription_id) or initial
        form = SimulatorForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            quote = _simulate(form)
        elif subscription_id and "policy" in initial:
            form = SimulatorForm(initial)
            if form.is_valid():
                quote = _simulate(form)
        context = {
            **self.admin_site.each_context(request),
            "title": "Policy simulator",
            "opts": self.model._meta,
            "form": form,
            "quote": quote,
            "quote_html": _quote_html(quote),
            "examples": list(EXAMPLES),
            "subscription_id": subscription_id,
        }
        return TemplateResponse(request, "admin/billing/refundpolicy/simulator.html", context)

    def _from_subscription(self, request: HttpRequest, subscription_id: str) -> dict | None:
        subscription = (
            subscription_for_quote(number)
            if (number := parse_id(subscription_id)) is not None
            else None
        )
        if subscription is None:
            self.message_user(request, f"No subscription #{subscription_id}.", messages.ERROR)
            return None
        now = max(timezone.now(), subscription.started_at)
        extras = snapshot_extras(subscription, policy_rules(subscription.policy))
        scenario = scenario_from_snapshot(
            subscription.policy.label, subscription_snapshot(subscription, **extras), now
        )
        return {"policy": subscription.policy_id, "scenario": json.dumps(scenario, indent=2)}


def _day(day) -> str:
    return f"{day.day} {day:%B %Y}"


def _example_initial(slug: str) -> dict[str, Any]:
    policy = (
        RefundPolicy.objects.filter(slug=slug, state=RefundPolicy.State.PUBLISHED)
        .order_by("-version")
        .first()
    )
    return {"scenario": example_scenario_text(slug), **({"policy": policy.pk} if policy else {})}


def _quote_html(quote: Quote | PlanChangeQuote | None) -> str:
    if quote is None:
        return ""
    if isinstance(quote, PlanChangeQuote):
        return format_html("<pre>{}</pre>", plan_change_text(quote))
    return render_quote(quote)


def _simulate(form: SimulatorForm) -> Quote | PlanChangeQuote | None:
    """Quote the form's scenario (a cancellation, or a plan change with `change_to`), or
    put a field-naming error on the form (a bad scenario, or a rule the policy cannot
    apply in the scenario's currency)."""
    policy: RefundPolicy = form.cleaned_data["policy"]
    try:
        data = json.loads(form.cleaned_data["scenario"])
    except json.JSONDecodeError as exc:
        form.add_error("scenario", f"not valid JSON: {exc}")
        return None
    if isinstance(data, dict):
        data["policy"] = policy.label
    try:
        scenario = parse_scenario(data)
    except ScenarioError as exc:
        form.add_error("scenario", f"{exc.field}: {exc.message}")
        return None
    try:
        return quote_scenario(policy_rules(policy), policy.label, scenario)
    except DomainError as exc:
        form.add_error("scenario", f"{exc.field}: {exc.message}")
        return None
