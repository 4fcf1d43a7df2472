"""Admin actions that call a service per selected row and report each row's result; and
the intermediate page for actions that need a text (a rejection reason, an answer)."""

from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from billing.errors import DomainError
from billing.models import Refund


class ReasonForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))


def run_per_row(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    apply: Callable[[Model], object],
    *,
    done: str,
) -> None:
    """Call `apply` on each row; a domain error (refusal, permission, state) is reported
    for its row and the others still run."""
    succeeded = 0
    for obj in queryset:
        try:
            apply(obj)
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)


def with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    title: str,
    label: str,
    apply: Callable[[Model, str], object],
    done: str,
) -> TemplateResponse | None:
    """First call: a page asking for the text. Second call (the page's submit): run."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    form.fields["text"].label = label
    if form.is_bound and form.is_valid():
        text = form.cleaned_data["text"]
        run_per_row(modeladmin, request, queryset, lambda obj: apply(obj, text), done=done)
        return None
    return TemplateResponse(
        request,
        "admin/billing/action_with_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        },
    )


class ProposeRefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    tax_amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), initial=Decimal("0")
    )
    destination = forms.ChoiceField(
        choices=[("", "As the policy says"), *Refund.Destination.choices], required=False
    )
    is_goodwill = forms.BooleanField(
        required=False, label="Goodwill (not granted by the policy: needs a Billing lead)"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
