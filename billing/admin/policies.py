"""Refund policies: versions listed and viewable, read-only once in use, a "new version"
page and action, and the "Policy simulator" page (quote any scenario under any version)."""

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from backoffice.admin_mixins import LargeTableAdmin
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
from billing.selectors import (
    policy_rules,
    subscription_for_quote,
    subscription_snapshot,
)
from billing.services.policies import (
    policy_in_use,
    policy_new_version,
    policy_update,
    validated_rules,
)


class RefundPolicyForm(forms.ModelForm):
    class Meta:
        model = RefundPolicy
        fields = ["slug", "version", "title", "effective_from", "rules", "source_text", "changelog"]

    def clean(self) -> dict[str, Any]:
        if self.instance.pk and self.changed_data and policy_in_use(self.instance):
            raise forms.ValidationError(
                "This version is used by subscriptions: publish a new version instead."
            )
        return super().clean()

    def clean_rules(self) -> dict[str, Any]:
        try:
            return validated_rules(self.cleaned_data["rules"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class NewVersionForm(forms.Form):
    effective_from = forms.DateField(help_text="The day the new version takes effect.")
    changelog = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    rules = forms.JSONField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100}))


class SimulatorForm(forms.Form):
    policy = forms.ModelChoiceField(queryset=RefundPolicy.objects.all())
    scenario = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 26, "cols": 90, "style": "font-family: monospace"}),
        help_text="The scenario JSON (docs/policy.md). Its `policy` is replaced by the one "
        "picked above.",
    )


def render_quote(quote: Quote) -> str:
    """The explained quote as an HTML table (simulator page, subscription page)."""
    return render_to_string("admin/billing/quote_table.html", {"quote": quote})


@admin.register(RefundPolicy)
class RefundPolicyAdmin(LargeTableAdmin):
    form = RefundPolicyForm
    list_display = ["slug", "version", "title", "effective_from", "in_use", "example", "created_at"]
    # Few rows (one per version): a boolean filter costs nothing here.
    list_filter = ["slug", "example"]
    search_fields = ["slug__startswith", "title__icontains"]
    actions = ["publish_new_version"]
    change_list_template = "admin/billing/refundpolicy/change_list.html"
    change_form_template = "admin/billing/refundpolicy/change_form.html"

    def get_queryset(self, request):
        in_use = Subscription.objects.filter(policy=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_in_use=Exists(in_use))

    @admin.display(boolean=True, description="in use", ordering="is_in_use")
    def in_use(self, obj: RefundPolicy) -> bool:
        return obj.is_in_use

    def has_delete_permission(self, request, obj=None):
        """A version some subscription uses is history: never deleted."""
        if obj is not None and policy_in_use(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and policy_in_use(obj):
            return [*self.form.Meta.fields, "rules_readable"]
        return ["rules_readable"]

    def get_fields(self, request, obj=None):
        fields = list(self.form.Meta.fields)
        return [*fields, "rules_readable"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        if not form.changed_data:
            return
        policy_update(
            policy=obj, actor=request.user, now=timezone.now(), fields=list(form.changed_data)
        )

    @admin.display(description="rules, with the clauses they come from")
    def rules_readable(self, obj: RefundPolicy) -> str:
        try:
            rules = policy_rules(obj)
        except (ValueError, TypeError, KeyError):
            return "These rules cannot be read; fix the JSON."
        return rules_table(rules.to_dict())

    @admin.action(description="Publish a new version (copy of the selected version)")
    def publish_new_version(self, request: HttpRequest, queryset) -> None:
        now = timezone.now()
        for policy in queryset.order_by("slug", "version"):
            try:
                created = policy_new_version(
                    policy=policy,
                    rules=None,
                    effective_from=max(now.date(), policy.effective_from),
                    actor=request.user,
                    now=now,
                    changelog=f"Copy of {policy.label}, published from the admin.",
                )
            except DomainError as exc:
                self.message_user(request, f"{policy.label}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Published {created.label}.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("simulator/", view(self.simulator_view), name="billing_policy_simulator"),
            path(
                "<int:pk>/new-version/",
                view(self.new_version_view),
                name="billing_policy_new_version",
            ),
            *super().get_urls(),
        ]

    def new_version_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        policy = get_object_or_404(RefundPolicy, pk=pk)
        form = NewVersionForm(
            request.POST or None,
            initial={"effective_from": timezone.now().date(), "rules": policy.rules},
        )
        if request.method == "POST" and form.is_valid():
            try:
                created = policy_new_version(
                    policy=policy,
                    rules=form.cleaned_data["rules"],
                    effective_from=form.cleaned_data["effective_from"],
                    actor=request.user,
                    now=timezone.now(),
                    changelog=form.cleaned_data["changelog"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Published {created.label}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:billing_refundpolicy_change", args=[created.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"New version of {policy.label}",
            "opts": self.model._meta,
            "policy": policy,
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/refundpolicy/new_version.html", context)

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
            subscription_for_quote(int(subscription_id)) if subscription_id.isdigit() else None
        )
        if subscription is None:
            self.message_user(request, f"No subscription #{subscription_id}.", messages.ERROR)
            return None
        now = max(timezone.now(), subscription.started_at)
        scenario = scenario_from_snapshot(
            subscription.policy.label, subscription_snapshot(subscription), now
        )
        return {"policy": subscription.policy_id, "scenario": json.dumps(scenario, indent=2)}


def _example_initial(slug: str) -> dict[str, Any]:
    name = EXAMPLES.get(slug, EXAMPLES["prorated-credit"])
    text = (settings.BASE_DIR / "scenarios" / name).read_text(encoding="utf-8")
    policy = RefundPolicy.objects.filter(slug=slug).order_by("-version").first()
    return {"scenario": text, **({"policy": policy.pk} if policy else {})}


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


SECTION_TITLES = {
    "refund_window": "Refund window",
    "service_deductions": "Service deduction schedule",
    "trial": "Trials",
    "proration": "Proration",
    "cancellation_notice": "Cancellation notice",
    "downgrade_notice": "Downgrade notice",
    "retention": "Data retention",
    "dunning": "Failed payments",
    "changes": "Upgrades and downgrades",
    "refusals": "Refusals",
    "charges": "Charges at cancellation",
    "credit": "Customer credit",
    "variants": "Variants (first match wins per rule)",
    "clauses": "Other clauses",
}


FIELD_CLAUSES = {"never_refunded_kinds": "never_refunded"}


def rules_table(data: dict[str, Any]) -> str:
    """Rules as rows: setting, value, clause, reading (the interpretation of the text)."""
    rows: list[tuple[str, str, str, str]] = []
    general = data.get("clauses", {})
    for key, value in data.items():
        title = SECTION_TITLES.get(key, key.replace("_", " "))
        items = value if isinstance(value, list) and value and isinstance(value[0], dict) else None
        if key == "clauses":
            items = [{"key": k, "clause": v} for k, v in value.items() if k not in data]
        elif items is None and not isinstance(value, dict):
            # A plain setting is explained by the general clause of the same name.
            items = [{"value": value, "clause": general.get(FIELD_CLAUSES.get(key, key), {})}]
        for item in items if items is not None else [value]:
            if isinstance(item, dict):
                clause = item.get("clause") or {}
                settings_text = (
                    _plain(item["value"])
                    if "value" in item
                    else "; ".join(
                        f"{k.replace('_', ' ')}: {_plain(v)}"
                        for k, v in item.items()
                        if k != "clause"
                    )
                )
                rows.append(
                    (title, settings_text, clause.get("ref", ""), clause.get("reading", ""))
                )
            else:
                rows.append((title, _plain(item), "", ""))
    body = format_html_join(
        "", "<tr><th>{}</th><td>{}</td><td>{}</td><td><em>{}</em></td></tr>", rows
    )
    return format_html(
        '<table class="policy-rules"><thead><tr><th>Rule</th><th>Setting</th>'
        "<th>Clause</th><th>Reading</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        # A variant's condition or rules: only what it sets.
        shown = {k: v for k, v in value.items() if v not in (None, [], "any", "") and k != "clause"}
        return "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in shown.items()) or "any"
    return str(value)
