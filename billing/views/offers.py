"""Retention offers on the cancellation page: shown once the customer picks a reason,
each with its figures next to what cancelling gives; accept in one click, or decline and
the cancellation goes on. No JavaScript: each choice is a form."""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Workspace
from billing.access import billing_workspace
from billing.errors import DomainError
from billing.forms import CancellationForm
from billing.models import RetentionOffer, RetentionSession
from billing.services.cancellations import (
    DESTINATION_LABELS,
    FALLBACK_LABELS,
    cancellable_subscription,
    cancellation_preview,
)
from billing.services.retention_offers import (
    offers_with_terms,
    retention_offer_accept,
    retention_session_open,
)
from billing.views.throttling import throttle_posts


class AcceptForm(forms.Form):
    session = forms.IntegerField(widget=forms.HiddenInput)
    months = forms.IntegerField(required=False, min_value=1)


def offers_page(
    request: HttpRequest, *, workspace: Workspace, form: CancellationForm, now: datetime
) -> HttpResponse | None:
    """The offers for the reason chosen, or None when there are none (cancel goes on)."""
    try:
        subscription = cancellable_subscription(workspace)
    except DomainError:
        return None
    reason = form.cleaned_data["reason"]
    terms = offers_with_terms(subscription=subscription, reason=reason, now=now)
    if not terms:
        return None
    session = retention_session_open(
        subscription=subscription,
        reason=reason,
        offers=[term.offer for term in terms],
        actor=request.user,
        now=now,
    )
    preview = cancellation_preview(subscription=subscription, at=now)
    return render(
        request,
        "billing/cancellation_offers.html",
        {
            "workspace": workspace,
            "form": form,
            "session": session,
            "terms": terms,
            "preview": preview,
            "quote": preview.quote,
            "destination": DESTINATION_LABELS[preview.quote.destination],
            "fallback": FALLBACK_LABELS[preview.quote.fallback],
        },
    )


def declined_session(workspace: Workspace, pk: int | None) -> RetentionSession | None:
    if not pk:
        return None
    return RetentionSession.objects.filter(pk=pk, workspace=workspace).first()


@login_required
@require_POST
@throttle_posts
def offer_accept_view(request: HttpRequest, slug: str, offer_id: int) -> HttpResponse:
    workspace = billing_workspace(request.user, slug)
    form = AcceptForm(request.POST)
    offer = RetentionOffer.objects.filter(pk=offer_id).select_related("target_plan").first()
    if not form.is_valid() or offer is None:
        raise Http404("No such offer.")
    session = RetentionSession.objects.filter(
        pk=form.cleaned_data["session"], workspace=workspace
    ).first()
    if session is None:
        raise Http404("No such offer.")
    try:
        retention_offer_accept(
            session=session,
            offer=offer,
            actor=request.user,
            now=timezone.now(),
            months=form.cleaned_data["months"],
        )
    except DomainError as exc:
        messages.error(request, f"{exc.field.replace('_', ' ').capitalize()}: {exc.message}")
        return redirect("billing:cancellation", slug=workspace.slug)
    messages.success(request, f"Done: {offer.headline}. Thank you for staying.")
    return redirect("billing:home")
