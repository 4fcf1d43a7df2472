"""Retention on the workspace admin: status column, filters, timeline, standing, actions.

The column and the filters read only workspace fields (`deletion_due_at` is stored), so
the changelist costs no query per row. Every action calls a service in
`accounts.services.retention`, which writes the audit record.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Workspace
from accounts.retention import retention_status
from accounts.selectors import facts_of, workspace_retention, workspace_standing
from accounts.services.purge_selection import purge_blockers
from accounts.services.retention import (
    workspace_delete_on_request,
    workspace_export_data,
    workspace_lift_legal_hold,
    workspace_place_legal_hold,
)
from accounts.views import export_response
from backoffice.display import local_date
from billing.errors import DomainError
from billing.money import format_money

DUE_SOON_DAYS = 7


class RetentionFilter(admin.SimpleListFilter):
    title = "retention"
    parameter_name = "retention"

    def lookups(self, request, model_admin):
        return [
            ("due_soon", f"Deletion due within {DUE_SOON_DAYS} days"),
            ("overdue", "Overdue"),
            ("legal_hold", "On legal hold"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = queryset.exclude(status=Workspace.Status.DELETED)
        match self.value():
            case "due_soon":
                return live.filter(
                    legal_hold=False,
                    deletion_due_at__gt=now,
                    deletion_due_at__lte=now + dt.timedelta(days=DUE_SOON_DAYS),
                )
            case "overdue":
                return live.filter(legal_hold=False, deletion_due_at__lte=now)
            case "legal_hold":
                return live.filter(legal_hold=True)
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class DeletionForm(forms.Form):
    note = forms.CharField(
        max_length=300, help_text="The customer's request: ticket or email reference."
    )
    confirm = forms.BooleanField(
        label="I confirm the customer asked for their data to be deleted entirely."
    )


RETENTION_ACTIONS = ["place_legal_hold", "lift_legal_hold", "export_data", "delete_on_request"]


class RetentionAdminMixin:
    def has_delete_permission(self, request, obj=None):
        # Django's delete would cascade past the purge's rules; deletion is an action.
        return False

    @admin.display(description="retention", ordering="deletion_due_at")
    def retention_column(self, obj: Workspace) -> str:
        return retention_status(
            facts_of(obj),
            deletion_due_at=obj.deletion_due_at,
            now=timezone.now(),
            warning_days=settings.PURGE_WARNING_DAYS,
        ).label

    @admin.display(description="retention timeline")
    def retention_timeline(self, obj: Workspace) -> str:
        if obj.pk is None:
            return "—"
        status, timeline, rule, label = workspace_retention(obj, now=timezone.now())
        rows = format_html_join(
            "",
            '<li style="{}">{} — {}</li>',
            (
                ("color: #888" if e.past else "font-weight: bold", local_date(e.at), e.label)
                for e in timeline
            ),
        )
        forever = ", ".join(part.what for part in rule.partial if part.days is None)
        return format_html(
            "<p>{} (rule: {}{})</p><ul>{}</ul>{}",
            status.label,
            rule.clause.ref,
            f", {label}" if label else "",
            rows,
            format_html("<p>Kept indefinitely: {}</p>", forever) if forever else "",
        )

    @admin.display(description="standing")
    def standing(self, obj: Workspace) -> str:
        if obj.pk is None:
            return "—"
        now = timezone.now()
        data = workspace_standing(obj)
        status, *_ = workspace_retention(obj, now=now)
        items = [
            ("Subscription", _subscription_line(data["subscription"])),
            ("Dunning", _dunning_line(data["subscription"])),
            ("Open disputes", _disputes_line(data["open_disputes"])),
            ("Restrictions", _restrictions_line(data)),
            ("Credit balance", _credit_line(data["credit"])),
            ("Deletion", _countdown_line(obj, status, now)),
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", items),
        )

    # --- actions ----------------------------------------------------------------------

    @admin.action(description="Place on legal hold", permissions=["change"])
    def place_legal_hold(self, request: HttpRequest, queryset: QuerySet):
        return self._with_reason(
            request, queryset, workspace_place_legal_hold, title="Place on legal hold"
        )

    @admin.action(description="Lift legal hold", permissions=["change"])
    def lift_legal_hold(self, request: HttpRequest, queryset: QuerySet):
        return self._with_reason(
            request, queryset, workspace_lift_legal_hold, title="Lift legal hold"
        )

    @admin.action(description="Export data as JSON", permissions=["change"])
    def export_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        now = timezone.now()
        exports = []
        for workspace in queryset.select_related("owner").order_by("pk"):
            try:
                exports.append(
                    workspace_export_data(workspace=workspace, actor=request.user, now=now)
                )
            except DomainError as error:
                self.message_user(request, f"{workspace}: {error.message}", messages.ERROR)
        if not exports:
            return None
        if len(exports) == 1:
            return export_response(exports[0], slug=exports[0]["workspace"]["slug"])
        return export_response({"workspaces": exports}, slug="workspaces")

    @admin.action(description="Delete at the customer's request…", permissions=["change"])
    def delete_on_request(self, request: HttpRequest, queryset: QuerySet):
        workspaces = list(queryset.exclude(status=Workspace.Status.DELETED).order_by("pk"))
        form = DeletionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            now = timezone.now()
            for workspace in workspaces:
                try:
                    workspace_delete_on_request(
                        workspace=workspace,
                        actor=request.user,
                        now=now,
                        note=form.cleaned_data["note"],
                    )
                except DomainError as error:
                    self.message_user(request, f"{workspace}: {error.message}", messages.ERROR)
                else:
                    self.message_user(request, f"Workspace #{workspace.pk} deleted.")
            return None
        rows = [(workspace, purge_blockers(workspace)) for workspace in workspaces]
        return self._intermediate(
            request,
            queryset,
            form,
            title="Delete at the customer's request",
            template="admin/accounts/workspace/delete_on_request.html",
            extra={"rows": rows},
        )

    def _with_reason(self, request, queryset, service, *, title: str):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            now = timezone.now()
            for workspace in queryset.order_by("pk"):
                try:
                    service(
                        workspace=workspace,
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                        now=now,
                    )
                except DomainError as error:
                    self.message_user(request, f"{workspace}: {error.message}", messages.ERROR)
                else:
                    self.message_user(request, f"{title}: {workspace}.")
            return None
        return self._intermediate(
            request,
            queryset,
            form,
            title=title,
            template="admin/accounts/workspace/reason.html",
            extra={"workspaces": queryset.order_by("pk")},
        )

    def _intermediate(self, request, queryset, form, *, title, template, extra):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "action": request.POST.get("action"),
            "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            **extra,
        }
        return TemplateResponse(request, template, context)


def _subscription_line(subscription) -> str:
    if subscription is None:
        return "None (house default retention)"
    return (
        f"{subscription.plan.name} — {subscription.get_status_display()} "
        f"(policy {subscription.policy.label}, period ends "
        f"{local_date(subscription.current_period_end)})"
    )


def _dunning_line(subscription) -> str:
    if subscription is None or subscription.past_due_since is None:
        return "Not in dunning"
    parts = [
        f"past due since {local_date(subscription.past_due_since)}",
        f"{subscription.dunning_attempts} attempt(s)",
    ]
    if subscription.next_retry_at:
        parts.append(f"next retry {local_date(subscription.next_retry_at)}")
    if subscription.grace_until:
        parts.append(f"grace until {local_date(subscription.grace_until)}")
    return ", ".join(parts)


def _disputes_line(disputes: list[dict]) -> str:
    if not disputes:
        return "None"
    return "; ".join(
        f"#{d['pk']} {format_money(d['amount'], d['currency'])} since {local_date(d['opened_at'])}"
        for d in disputes
    )


def _restrictions_line(data: dict) -> str:
    if data["suspension_reason"]:
        return f"{data['status']} — {data['suspension_reason']}"
    return data["status"]


def _credit_line(credit: dict) -> str:
    if not credit:
        return "No credit"
    return ", ".join(format_money(amount, currency) for currency, amount in credit.items())


def _countdown_line(obj: Workspace, status, now: dt.datetime) -> str:
    if obj.legal_hold:
        return f"On legal hold: {obj.legal_hold_reason}"
    if status.deletes_at is None:
        return "No deletion scheduled"
    days = (status.deletes_at - now).days
    when = f"in {days} day(s)" if days >= 0 else f"{-days} day(s) overdue"
    blockers = purge_blockers(obj)
    held = f" — held by {', '.join(blockers)}" if blockers else ""
    return f"{local_date(status.deletes_at)} ({when}){held}"
