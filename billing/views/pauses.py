"""Resume a paused subscription early, from the home page (a form, no JavaScript)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.access import billing_workspace
from billing.errors import DomainError
from billing.models import Subscription
from billing.services.pauses import subscription_resume
from billing.views.throttling import throttle_posts


@login_required
@require_POST
@throttle_posts
def pause_resume_view(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = billing_workspace(request.user, slug)
    subscription = workspace.subscriptions.filter(status=Subscription.Status.PAUSED).first()
    try:
        if subscription is None:
            raise DomainError("The subscription is not paused.", field="status")
        subscription = subscription_resume(
            subscription=subscription, actor=request.user, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, f"Status: {exc.message}")
    else:
        messages.success(
            request,
            f"{workspace.name} is active again; it renews on "
            f"{subscription.current_period_end:%-d %B %Y}.",
        )
    return redirect("billing:home")
