"""Admin page: preview every customer email as it would be sent for a real record (the
latest one by default, or any id the agent types). Nothing is sent from here."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from billing.emails import EMAILS, email_render


def email_previews(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("billing.view_cancellationrequest"):
        raise PermissionDenied
    kind = request.GET.get("kind") or next(iter(EMAILS))
    if kind not in EMAILS:
        kind = next(iter(EMAILS))
    spec = EMAILS[kind]
    records = spec.model._default_manager.order_by("-pk")
    raw_id = request.GET.get("id", "").strip()
    error, rendered, record = "", None, None
    if raw_id and not raw_id.isdigit():
        error = f"Record id: {raw_id!r} is not a number."
    else:
        record = records.filter(pk=int(raw_id)).first() if raw_id else records.first()
        if record is None:
            error = (
                f"Record id: there is no {spec.model._meta.verbose_name} #{raw_id}."
                if raw_id
                else f"There is no {spec.model._meta.verbose_name} yet to preview this email with."
            )
        else:
            rendered = email_render(kind, record, spec.preview_extra)
    context = {
        **admin.site.each_context(request),
        "title": "Customer emails",
        "kinds": [(name, item.description) for name, item in EMAILS.items()],
        "kind": kind,
        "model_name": spec.model._meta.verbose_name,
        "record": record,
        "record_id": raw_id,
        "rendered": rendered,
        "error": error,
    }
    return TemplateResponse(request, "admin/billing/email_previews.html", context)
