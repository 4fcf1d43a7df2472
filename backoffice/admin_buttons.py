"""Buttons on a record page for the actions its state allows.

Each admin lists its buttons for one row (`record_buttons`), saying for each why the agent
may not use it right now (`blocked`: four eyes, Billing lead threshold, wrong state,
missing permission); a blocked button is shown disabled with that reason. A button posts
to `<pk>/do/<name>/`, which calls the admin's `do_<name>(request, obj, data)`: the same
service the list action calls. The service stays the authority: a button shown enabled
whose service refuses reports the refusal as a message, never a 500.

Buttons that need input (a reason, a number of days) first show a small form page;
buttons that reuse a list action's intermediate page (a plan change's preview) post the
row to the changelist as that action.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from billing.errors import DomainError


@dataclass(frozen=True)
class RecordButton:
    name: str
    label: str
    blocked: str = ""  # why it is disabled; empty when the agent may use it
    asks: str = ""  # the label of the text it asks for (a reason); empty: no form
    help_text: str = ""
    list_action: str = ""  # post the row to the changelist as this action instead
    primary: bool = False


class TextForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 70}), max_length=2000)


class RecordButtonsAdmin(admin.ModelAdmin):
    change_form_template = "admin/record_change_form.html"

    def record_buttons(self, request: HttpRequest, obj) -> list[RecordButton]:
        return []

    def record_form(self, request: HttpRequest, obj, button: RecordButton, data=None):
        """The form a button asks for; by default one text field labelled `button.asks`."""
        form = TextForm(data)
        form.fields["text"].label = button.asks
        form.fields["text"].help_text = button.help_text
        return form

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/do/<str:name>/",
                self.admin_site.admin_view(self.record_action_view),
                name=f"{opts.app_label}_{opts.model_name}_record_action",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["record_buttons"] = [
                (button, self._button_url(obj, button))
                for button in self.record_buttons(request, obj)
            ]
            extra_context["changelist_url"] = self._changelist_url()
            extra_context["action_checkbox_name"] = ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra_context)

    def record_action_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("No such record.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        button = next((b for b in self.record_buttons(request, obj) if b.name == name), None)
        if button is None or button.list_action:
            raise Http404("No such action on this record.")
        back = HttpResponseRedirect(self._change_url(obj))
        if button.blocked:
            self.message_user(request, f"{button.label}: {button.blocked}", messages.ERROR)
            return back
        data: dict = {}
        if button.asks:
            form = self.record_form(request, obj, button, request.POST or None)
            if request.method != "POST" or not form.is_valid():
                return self._form_page(request, obj, button, form)
            data = form.cleaned_data
        elif request.method != "POST":
            return back
        try:
            result = getattr(self, f"do_{name}")(request, obj, data)
        except DomainError as error:
            self.message_user(request, f"{button.label}: {error.message}", messages.ERROR)
            return back
        if isinstance(result, HttpResponse):
            return result
        self.message_user(request, result, messages.SUCCESS)
        return back

    def _form_page(self, request, obj, button, form) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/record_action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": button.label.rstrip("…"),
                "opts": self.model._meta,
                "original": obj,
                "button": button,
                "form": form,
                "change_url": self._change_url(obj),
            },
        )

    def _change_url(self, obj) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def _changelist_url(self) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    def _button_url(self, obj, button: RecordButton) -> str:
        if button.list_action:
            return self._changelist_url()
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_record_action", args=[obj.pk, button.name]
        )
