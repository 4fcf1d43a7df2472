"""The customer portal around the cancellation page: home overview, status story,
billing review form, the product name, password reset and error pages."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import WorkspaceMember
from billing.models import CreditEntry, RefundReviewRequest, Subscription
from billing.services.cancellations import (
    cancellation_approve,
    cancellation_reject,
    cancellation_submit,
)
from billing.services.refunds import refund_approve
from tests.factories import (
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
    WorkspaceMemberFactory,
)
from tests.factories.cancellations import (
    MID_PERIOD,
    free_plan,
    make_agent,
    paid_subscription,
    refundable_connex,
)
from tests.factories.refunds import lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submit(workspace):
    request, _ = cancellation_submit(
        workspace=workspace, actor=workspace.owner, reason="other", reason_text="", now=MID_PERIOD
    )
    return request


def test_home_shows_plan_price_renewal_and_credit_with_every_link():
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace
    CreditEntry.objects.create(
        workspace=workspace,
        kind="adjustment",
        amount=Decimal("7.5"),
        currency="EUR",
        created_at=MID_PERIOD,
    )

    page = signed_in(workspace.owner).get("/").content.decode()

    plan = subscription.plan
    assert f"{plan.price} {plan.currency} monthly" in page
    assert f"Renews on {subscription.current_period_end:%-d %B %Y}" in page
    assert "7.50 EUR" in page
    for name in ("billing:cancellation", "billing:workspace-credit", "accounts:workspace-export"):
        assert reverse(name, args=[workspace.slug]) in page
    assert f"{reverse('billing:review')}?workspace={workspace.slug}" in page
    assert "Cancellation status: No cancellation was requested." in page


def test_home_says_why_pages_do_not_apply_to_free_ended_and_member_workspaces():
    user = UserFactory()
    free = SubscriptionFactory(plan=free_plan("orgix"), workspace=WorkspaceFactory(owner=user))
    ended = paid_subscription(
        "connex",
        workspace=WorkspaceFactory(owner=user),
        status=Subscription.Status.CANCELLED,
        ended_at=dt.datetime(2026, 2, 14, tzinfo=dt.UTC),
    )
    member_of = paid_subscription("orgix")
    WorkspaceMemberFactory(
        workspace=member_of.workspace, user=user, role=WorkspaceMember.Role.MEMBER
    )

    page = signed_in(user).get("/").content.decode()

    assert reverse("billing:cancellation", args=[free.workspace.slug]) not in page
    assert "Cancel subscription: The Free plan has nothing to cancel." in page
    assert (
        "Ended on 14 February 2026" in page
        and "Active" not in page.split(ended.workspace.name)[1][:200]
    )
    assert "Cancel subscription: The subscription has ended." in page
    assert "Only the owner or a billing admin can cancel." in page
    assert "Only the owner can download the workspace&#x27;s data." in page


def test_home_queries_do_not_grow_with_workspaces(django_assert_max_num_queries):
    user = UserFactory()
    for _ in range(4):
        paid_subscription("orgix", workspace=WorkspaceFactory(owner=user))
    client = signed_in(user)
    client.get("/")  # warm the session

    with django_assert_max_num_queries(8):
        page = client.get("/")

    assert page.content.decode().count('class="card workspace"') == 4


def test_the_product_is_named_by_the_site_name_setting(settings):
    settings.SITE_NAME = "Hivebill"
    workspace = paid_subscription("orgix").workspace

    page = signed_in(workspace.owner).get("/").content.decode()
    login = Client().get(reverse("login")).content.decode()

    assert "<title>Your workspaces · Hivebill</title>" in page
    assert "Log in to Hivebill" in login and "Back-office" not in page + login


def test_password_reset_pages_are_in_the_portal_style_and_send_the_link():
    UserFactory(email="ann@example.com")
    client = Client()

    form = client.get(reverse("password_reset")).content.decode()
    sent = client.post(reverse("password_reset"), {"email": "ann@example.com"}, follow=True)

    assert "Reset your password" in form and 'class="brand"' in form
    assert "Check your email" in sent.content.decode()
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_a_member_without_billing_role_gets_a_styled_403():
    subscription = paid_subscription("orgix")
    member = WorkspaceMemberFactory(workspace=subscription.workspace, role="member").user

    response = signed_in(member).get(
        reverse("billing:cancellation", args=[subscription.workspace.slug])
    )

    assert response.status_code == 403 and "billing admin role" in response.content.decode()


def test_status_page_follows_an_approval_through_to_refund_paid(
    django_capture_on_commit_callbacks,
):
    subscription = refundable_connex()
    workspace = subscription.workspace
    url = reverse("billing:cancellation-status", args=[workspace.slug])
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(workspace)
    client = signed_in(workspace.owner)
    submitted = client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)
    proposed = client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(refund=request.refunds.get(), actor=lead(), now=MID_PERIOD)
    paid = client.get(url).content.decode()

    assert "Waiting for a decision" in submitted and "Quoted: <strong>100.00 USD" in submitted
    assert "Completed" in proposed and "Waiting for approval by our billing team" in proposed
    assert "Paid to your card" in paid and "100.00 USD to your original payment method" in paid
    assert "Last day of access" in paid and "Your data is kept until" in paid
    assert [m.subject for m in mail.outbox] == [
        "We received your cancellation request",
        "Your subscription has ended",
        "Your refund of 100.00 USD is paid",
    ]


def test_a_rejected_request_shows_the_reason_and_no_end_date():
    workspace = paid_subscription("orgix").workspace
    request = submit(workspace)
    cancellation_reject(
        request=request, actor=make_agent(), reason="Contract to June", now=MID_PERIOD
    )

    page = (
        signed_in(workspace.owner)
        .get(reverse("billing:cancellation-status", args=[workspace.slug]))
        .content.decode()
    )

    assert "Contract to June" in page and "Continues unchanged" in page
    assert "Ends on" not in page and "Last day of access" not in page


def test_the_review_form_offers_the_customers_own_workspaces_and_billing_email():
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace
    client = signed_in(workspace.owner)

    page = client.get(f"{reverse('billing:review')}?workspace={workspace.slug}").content.decode()
    response = client.post(
        reverse("billing:review"),
        {
            "workspace": workspace.slug,
            "approximate_payment_date": "2026-03-01",
            "amount_charged": "49.00",
            "currency": "EUR",
            "kind": "accidental_renewal",
            "explanation": "Renewed although we stopped using it.",
        },
    )

    assert f'<option value="{workspace.slug}" selected>' in page
    assert f"billed to {workspace.billing_email}" in page
    assert response.status_code == 302
    review = RefundReviewRequest.objects.get()
    assert (review.workspace_name, review.billing_email) == (
        workspace.name,
        workspace.billing_email,
    )


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("12.50", "JPY", "JPY amounts have no decimals"),
        ("12.505", "EUR", "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_the_review_form_checks_the_amount_against_the_currency(amount, currency, message):
    workspace = paid_subscription("orgix").workspace

    response = signed_in(workspace.owner).post(
        reverse("billing:review"),
        {
            "workspace": workspace.slug,
            "approximate_payment_date": "2026-03-01",
            "amount_charged": amount,
            "currency": currency,
            "kind": "other",
            "explanation": "x",
        },
    )

    assert response.status_code == 400 and message in response.content.decode()
    assert RefundReviewRequest.objects.count() == 0


def test_the_review_form_without_a_workspace_asks_for_its_name_and_email():
    user = UserFactory()
    PlanFactory()

    response = signed_in(user).post(
        reverse("billing:review"),
        {
            "approximate_payment_date": "2026-03-01",
            "amount_charged": "10",
            "currency": "EUR",
            "kind": "other",
            "explanation": "x",
        },
    )

    html = response.content.decode()
    assert "Workspace name: Name the workspace and its billing email." in html
    assert RefundReviewRequest.objects.count() == 0


def test_the_customer_sees_the_parts_of_the_data_kept_longer_before_and_after_asking():
    """external.md §6 HEY: data kept 60 days, some account data indefinitely."""
    workspace = paid_subscription("example-basecamp").workspace
    client = signed_in(workspace.owner)
    form = client.get(reverse("billing:cancellation", args=[workspace.slug])).content.decode()
    submit(workspace)

    status = client.get(
        reverse("billing:cancellation-status", args=[workspace.slug])
    ).content.decode()

    for page in (form, status):
        assert '<th>Account credentials kept</th><td class="kept-longer">indefinitely' in page
