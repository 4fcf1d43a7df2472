"""Customer pages: ask for a billing review (orgix §9/§18) and follow its outcome; see a
workspace's customer credit. Thin shells over `billing.services`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from billing.api.credit import billing_workspace
from billing.errors import DomainError
from billing.models import RefundReviewRequest
from billing.money import CURRENCY_CHOICES
from billing.services.credit import credit_balances
from billing.services.review_verification import (
    billing_workspace_ids,
    review_request_confirm,
    review_request_from_token,
)
from billing.services.reviews import review_request_outcome, review_request_submit
from billing.views.throttling import throttle_anonymous_posts, throttle_posts


class ReviewRequestForm(forms.Form):
    workspace_name = forms.CharField(max_length=200)
    billing_email = forms.EmailField(max_length=254)
    approximate_payment_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="Roughly when you were charged."
    )
    amount_charged = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    kind = forms.ChoiceField(choices=RefundReviewRequest.Kind.choices, label="What happened")
    explanation = forms.CharField(widget=forms.Textarea, max_length=4000)


@login_required
@throttle_posts
def review_request_page(request: HttpRequest) -> HttpResponse:
    form = ReviewRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_request_submit(
                submitted_by=request.user, now=timezone.now(), **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Thank you: we will review your request and answer here.")
            return redirect("billing:review")
    mine = (
        RefundReviewRequest.objects.filter(submitted_by=request.user)
        .prefetch_related("refunds")
        .order_by("-created_at")
    )
    visible = billing_workspace_ids(request.user)
    requests = [
        (review, review_request_outcome(review, payment_visible=review.workspace_id in visible))
        for review in mine[:20]
    ]
    return render(request, "billing/review_request.html", {"form": form, "requests": requests})


@login_required
def workspace_credit_page(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = billing_workspace(request.user, slug)
    return render(
        request,
        "billing/credit.html",
        {
            "workspace": workspace,
            "balances": credit_balances(workspace),
            "entries": workspace.credit_entries.all()[:50],
        },
    )


@throttle_anonymous_posts
def review_confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link sent to a workspace's billing email: GET shows what is confirmed,
    POST confirms. No sign-in: the mailbox is the proof."""
    context: dict = {"error": None, "review": None, "confirmed": False}
    status = 200
    try:
        context["review"] = review_request_from_token(token)
        if request.method == "POST":
            review_request_confirm(token=token, now=timezone.now())
            context["confirmed"] = True
    except DomainError as error:
        context["error"] = error.message
        status = 400
    return render(request, "billing/review_confirm.html", context, status=status)
