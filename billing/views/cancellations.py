"""Customer cancellation pages: preview and confirm, follow and withdraw. No JavaScript."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from billing.access import billing_cancellation, billing_workspace
from billing.errors import DomainError
from billing.forms import CancellationForm
from billing.models import CancellationRequest
from billing.services.cancellations import (
    DESTINATION_LABELS,
    FALLBACK_LABELS,
    cancellable_subscription,
    cancellation_preview,
    cancellation_submit,
    cancellation_withdraw,
)
from billing.services.retention_offers import retention_session_cancelled
from billing.views.offers import declined_session, offers_page
from billing.views.story import quoted_refund, refund_progress, request_steps
from billing.views.throttling import throttle_posts


def _field_error(form: CancellationForm, exc: DomainError) -> None:
    if exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    else:
        form.add_error(None, f"{exc.field.replace('_', ' ').capitalize()}: {exc.message}")


@login_required
@throttle_posts
def cancellation_page(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = billing_workspace(request.user, slug)
    now = timezone.now()
    form = CancellationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        declined = None
        if form.is_valid():
            declined = declined_session(workspace, form.cleaned_data["declined_session"])
            if declined is None:
                offers = offers_page(request, workspace=workspace, form=form, now=now)
                if offers is not None:
                    return offers
        if form.is_valid():
            try:
                cancellation, created = cancellation_submit(
                    workspace=workspace,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    reason_text=form.cleaned_data["reason_text"],
                    now=now,
                )
            except DomainError as exc:
                _field_error(form, exc)
            else:
                if declined is not None:
                    retention_session_cancelled(
                        session=declined, cancellation=cancellation, now=now
                    )
                if created:
                    messages.success(request, "Your cancellation request was sent.")
                else:
                    messages.info(request, "You already have an open cancellation request.")
                return redirect("billing:cancellation-status", slug=workspace.slug)
        status = 400
    elif CancellationRequest.objects.filter(
        workspace=workspace, status__in=CancellationRequest.OPEN_STATUSES
    ).exists():
        return redirect("billing:cancellation-status", slug=workspace.slug)
    preview, unavailable = None, ""
    try:
        preview = cancellation_preview(subscription=cancellable_subscription(workspace), at=now)
    except DomainError as exc:
        unavailable = exc.message
    context = {
        "workspace": workspace,
        "form": form,
        "preview": preview,
        "unavailable": unavailable,
        "destination_labels": DESTINATION_LABELS,
        "fallback_labels": FALLBACK_LABELS,
    }
    return render(request, "billing/cancellation_form.html", context, status=status)


@login_required
def cancellation_status(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = billing_workspace(request.user, slug)
    cancellation = (
        CancellationRequest.objects.filter(workspace=workspace).order_by("-created_at").first()
    )
    if cancellation is None:
        return redirect("billing:cancellation", slug=workspace.slug)
    return _status(request, cancellation)


def _status(
    request: HttpRequest, cancellation: CancellationRequest, *, error: str = "", status: int = 200
) -> HttpResponse:
    workspace = cancellation.workspace
    context = {
        "workspace": workspace,
        "cancellation": cancellation,
        "quote": cancellation.quote,
        "destination": DESTINATION_LABELS[cancellation.quote["destination"]],
        "fallback": FALLBACK_LABELS[cancellation.quote["fallback"]],
        "steps": request_steps(cancellation),
        "refunds": refund_progress(cancellation),
        "quoted_refund": quoted_refund(cancellation),
        "data_kept_until": _data_kept_until(cancellation),
        "kept_longer": [
            (part["what"], datetime.fromisoformat(part["until"]) if part["until"] else None)
            for part in cancellation.quote.get("data_kept", [])
        ],
        "error": error,
    }
    return render(request, "billing/cancellation_status.html", context, status=status)


def _data_kept_until(cancellation: CancellationRequest) -> datetime | None:
    """Once ended, the workspace's own deletion date (it moves with legal holds and
    retention rules); before that, what the quote promised."""
    due = cancellation.workspace.deletion_due_at
    if cancellation.status == CancellationRequest.Status.COMPLETED and due is not None:
        return due
    retained = cancellation.quote.get("data_retained_until")
    return datetime.fromisoformat(retained) if retained else None


@login_required
@require_http_methods(["GET", "POST"])
@throttle_posts
def cancellation_withdraw_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks for confirmation (a page, so it works without JavaScript); POST withdraws."""
    cancellation = billing_cancellation(request.user, pk)
    if cancellation.workspace.slug != slug:
        return redirect("billing:cancellation-status", slug=cancellation.workspace.slug)
    if request.method == "GET":
        if not cancellation.is_open:
            return redirect("billing:cancellation-status", slug=slug)
        return render(
            request,
            "billing/cancellation_withdraw.html",
            {"workspace": cancellation.workspace, "cancellation": cancellation},
        )
    try:
        cancellation_withdraw(request=cancellation, actor=request.user, now=timezone.now())
    except DomainError as exc:
        return _status(request, cancellation, error=exc.message, status=400)
    messages.success(request, "Your cancellation request was withdrawn.")
    return redirect("billing:cancellation-status", slug=slug)
