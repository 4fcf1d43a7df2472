"""Customer pages: ask for a billing review (orgix §9/§18) and follow its outcome; see a
workspace's customer credit. Thin shells over `billing.services`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import Workspace, WorkspaceMember
from billing.api.credit import billing_workspace
from billing.errors import DomainError
from billing.models import RefundReviewRequest
from billing.money import CURRENCY_CHOICES, MINOR_UNITS
from billing.services.credit import credit_balances
from billing.services.review_verification import (
    billing_workspace_ids,
    review_request_confirm,
    review_request_from_token,
)
from billing.services.reviews import review_request_outcome, review_request_submit
from billing.views.throttling import throttle_anonymous_posts, throttle_posts


class ReviewRequestForm(forms.Form):
    """For a signed-in customer: their own workspaces to pick from (the billing email is
    the workspace's), or another workspace typed by name and billing email."""

    workspace = forms.ChoiceField(
        required=False,
        label="Which workspace",
        help_text="We use the workspace's billing email to confirm it is you.",
    )
    workspace_name = forms.CharField(
        max_length=200, required=False, label="Another workspace: its name"
    )
    billing_email = forms.EmailField(
        max_length=254, required=False, label="Another workspace: its billing email"
    )
    approximate_payment_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="Roughly when you were charged."
    )
    amount_charged = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES)
    kind = forms.ChoiceField(choices=RefundReviewRequest.Kind.choices, label="What happened")
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)

    def __init__(self, *args, workspaces: list[Workspace], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspaces = {workspace.slug: workspace for workspace in workspaces}
        if workspaces:
            self.fields["workspace"].choices = [
                *[(w.slug, f"{w.name} (billed to {w.billing_email})") for w in workspaces],
                ("", "Another workspace (type its name and billing email below)"),
            ]
        else:
            del self.fields["workspace"]
            self.fields["workspace_name"].label = "Workspace name"
            self.fields["billing_email"].label = "Billing email"

    def clean_workspace(self) -> Workspace | None:
        slug = self.cleaned_data.get("workspace") or ""
        return self.workspaces.get(slug)

    def clean(self) -> dict:
        data = super().clean()
        workspace = data.pop("workspace", None)
        if workspace is not None:
            data["workspace_name"] = workspace.name
            data["billing_email"] = workspace.billing_email
        else:
            for name in ("workspace_name", "billing_email"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Name the workspace and its billing email.")
        amount, currency = data.get("amount_charged"), data.get("currency")
        if amount is not None and currency in MINOR_UNITS:
            decimals = MINOR_UNITS[currency]
            if amount != round(amount, decimals):
                self.add_error(
                    "amount_charged",
                    f"{currency} amounts have no decimals: for example 1250."
                    if decimals == 0
                    else f"{currency} amounts have at most {decimals} decimals.",
                )
        return data


def _billing_workspaces(user) -> list[Workspace]:
    return list(
        Workspace.objects.filter(
            members__user=user,
            members__role__in=(WorkspaceMember.Role.OWNER, WorkspaceMember.Role.BILLING_ADMIN),
        )
        .exclude(status=Workspace.Status.DELETED)
        .order_by("name")
    )


def _initial(workspaces: list[Workspace], wanted: str) -> dict:
    """Pre-select the workspace the home page linked from, in its plan's currency."""
    chosen = next((w for w in workspaces if w.slug == wanted), None)
    if chosen is None:
        return {}
    subscription = chosen.subscriptions.select_related("plan").order_by("-started_at").first()
    return {
        "workspace": chosen.slug,
        **({"currency": subscription.plan.currency} if subscription else {}),
    }


@login_required
@throttle_posts
def review_request_page(request: HttpRequest) -> HttpResponse:
    workspaces = _billing_workspaces(request.user)
    form = ReviewRequestForm(
        request.POST or None,
        workspaces=workspaces,
        initial=_initial(workspaces, request.GET.get("workspace", "")),
    )
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
    return render(
        request,
        "billing/review_request.html",
        {"form": form, "requests": requests},
        status=400 if request.method == "POST" else 200,
    )


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
