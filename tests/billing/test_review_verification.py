"""Review verification binds the requester to one workspace (orgix §18): a billing member
of it, or its own billing mailbox through a signed link; payment details only for its
billing members."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import Workspace
from billing.errors import DomainError
from billing.models import RefundReviewRequest
from billing.services.review_verification import (
    review_request_confirm,
    review_request_send_confirmation,
    review_request_verify,
)
from billing.services.reviews import review_request_propose_refund, review_request_submit
from tests.factories import PaymentFactory, UserFactory, WorkspaceFactory, WorkspaceMemberFactory
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def file_review(*, by, workspace_name: str, billing_email: str) -> RefundReviewRequest:
    return review_request_submit(
        submitted_by=by,
        kind="accidental_payment",
        workspace_name=workspace_name,
        billing_email=billing_email,
        approximate_payment_date=dt.date(2025, 2, 3),
        amount_charged=Decimal("100.00"),
        currency="USD",
        explanation="Charged by mistake",
        now=NOW,
    )


@pytest.fixture
def victim_payment():
    return PaymentFactory(amount=Decimal("100.00"), paid_at=dt.datetime(2025, 2, 3, tzinfo=dt.UTC))


def test_naming_another_workspace_and_its_billing_email_does_not_verify(victim_payment):
    victim = victim_payment.workspace
    attacker = WorkspaceFactory().owner
    review = file_review(
        by=attacker, workspace_name=victim.name, billing_email=victim.billing_email
    )

    with pytest.raises(DomainError) as refused:
        review_request_verify(request=review, agent=agent(), method="member", now=NOW)
    with pytest.raises(DomainError) as by_email:
        review_request_verify(request=review, agent=agent(), method="billing_email", now=NOW)

    review.refresh_from_db()
    assert (refused.value.field, by_email.value.field) == ("method", "method")
    assert "not the owner or a billing admin" in refused.value.message
    assert (review.status, review.verified_at) == ("submitted", None)


def test_a_requester_never_sees_payment_details_of_a_workspace_they_do_not_belong_to(
    victim_payment,
):
    victim = victim_payment.workspace
    attacker = WorkspaceFactory().owner
    review = file_review(
        by=attacker, workspace_name=victim.name, billing_email=victim.billing_email
    )
    review_request_verify(
        request=review, agent=agent(), method="manual", note="phoned the owner", now=NOW
    )
    review_request_propose_refund(
        request=review, payment=victim_payment, amount=Decimal("100.00"), agent=agent(), now=NOW
    )
    api = APIClient()
    api.force_authenticate(attacker)

    detail = api.get(f"/api/reviews/{review.pk}/").json()
    listed = api.get("/api/reviews/").json()[0]
    api.force_login(attacker)
    page = api.get("/billing/review/").content.decode()

    assert detail["outcome"]["status"] == "refund_proposed"
    assert detail["outcome"]["refund"] is None and listed["outcome"]["refund"] is None
    assert "Refund of 100.00" not in page


def test_the_owner_who_filed_is_verified_as_a_member_and_follows_the_refund(victim_payment):
    victim = victim_payment.workspace
    admin_seat = WorkspaceMemberFactory(workspace=victim, billing_admin=True)
    review = file_review(
        by=admin_seat.user, workspace_name=victim.name, billing_email=victim.billing_email
    )
    review_request_verify(request=review, agent=agent(), method="member", now=NOW)
    review_request_propose_refund(
        request=review, payment=victim_payment, amount=Decimal("40.00"), agent=agent(), now=NOW
    )
    api = APIClient()
    api.force_authenticate(admin_seat.user)

    outcome = api.get(f"/api/reviews/{review.pk}/").json()["outcome"]

    assert outcome["refund"]["amount"] == "40.00"
    assert review.verification == "member"


def test_the_signed_link_goes_to_the_stored_billing_email_and_confirms(
    client, victim_payment, django_capture_on_commit_callbacks
):
    victim = victim_payment.workspace
    review = file_review(
        by=UserFactory(), workspace_name=victim.name, billing_email="typed@x.example"
    )

    with django_capture_on_commit_callbacks(execute=True):
        sent_to = review_request_send_confirmation(request=review, agent=agent(), now=NOW)
    link = re.search(r"http\S+/billing/review/confirm/(\S+)/", mail.outbox[0].body)
    page = client.get(f"/billing/review/confirm/{link.group(1)}/")
    confirmed = client.post(f"/billing/review/confirm/{link.group(1)}/")

    review.refresh_from_db()
    assert sent_to == victim.billing_email and mail.outbox[0].to == [victim.billing_email]
    assert page.status_code == 200 and victim.name in page.content.decode()
    assert confirmed.status_code == 200 and "confirmed" in confirmed.content.decode()
    assert (review.status, review.verification) == ("verified", "billing_email")


def test_a_tampered_or_stale_link_confirms_nothing(
    client, victim_payment, django_capture_on_commit_callbacks
):
    victim = victim_payment.workspace
    review = file_review(by=UserFactory(), workspace_name=victim.name, billing_email="x@x.example")
    with django_capture_on_commit_callbacks(execute=True):
        review_request_send_confirmation(request=review, agent=agent(), now=NOW)
    token = re.search(r"/billing/review/confirm/(\S+)/", mail.outbox[0].body).group(1)

    tampered = client.post(f"/billing/review/confirm/{token[:-2]}xx/")
    Workspace.objects.filter(pk=victim.pk).update(billing_email="new-owner@x.example")
    with pytest.raises(DomainError) as stale:
        review_request_confirm(token=token, now=NOW)

    review.refresh_from_db()
    assert tampered.status_code == 400 and stale.value.field == "token"
    assert review.status == "submitted"


def test_two_workspaces_sharing_a_billing_email_make_the_agent_choose(victim_payment):
    victim = victim_payment.workspace
    WorkspaceFactory(billing_email=victim.billing_email)
    review = file_review(
        by=victim.owner, workspace_name="Unknown name", billing_email=victim.billing_email
    )

    with pytest.raises(DomainError) as verify:
        review_request_verify(request=review, agent=agent(), method="member", now=NOW)
    with pytest.raises(DomainError) as link:
        review_request_send_confirmation(request=review, agent=agent(), now=NOW)

    assert review.workspace is None
    assert verify.value.field == link.value.field == "workspace"
    assert "2 workspaces match" in verify.value.message
    assert mail.outbox == []


def test_the_admin_sends_the_confirmation_link(
    client, victim_payment, django_capture_on_commit_callbacks
):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    victim = victim_payment.workspace
    review = file_review(by=UserFactory(), workspace_name=victim.name, billing_email="a@b.example")
    client.force_login(agent())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/billing/refundreviewrequest/",
            {"action": "send_confirmation", ACTION_CHECKBOX_NAME: [review.pk]},
            follow=True,
        )

    assert "1 confirmation link(s) sent." in [str(m) for m in response.context["messages"]]
    assert mail.outbox[0].to == [victim.billing_email]
