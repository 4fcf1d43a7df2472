"""Admin shells: per-row results, refusals shown as messages, hidden candidates."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from accounts.models import AuditRecord
from billing.models import Dispute, Refund
from billing.services.refunds import refund_propose
from billing.services.review_verification import review_request_verify
from tests.factories import PaymentFactory
from tests.factories.refunds import agent, lead, review_for

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/billing/refund/"


def proposed(actor, payment=None, amount="30.00"):
    return refund_propose(
        payment=payment or PaymentFactory(),
        amount=Decimal(amount),
        destination="",
        actor=actor,
        now=timezone.now(),
    )


def act(client, url, action, objects, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(url, data, follow=True)


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_queue_lists_proposed_refunds_first_oldest_first(client):
    proposer = agent()
    older, newer = proposed(proposer), proposed(proposer)
    Refund.objects.filter(pk=older.pk).update(status="succeeded")
    client.force_login(lead())
    response = client.get(CHANGELIST + "?status=all")
    rows = list(response.context["cl"].result_list)
    assert [r.pk for r in rows] == [newer.pk, older.pk]
    assert b"/admin/billing/refund/accidental-renewals/" in response.content


def test_approve_reports_four_eyes_refusal_per_row_without_a_500(client):
    proposer = lead()
    own, other = proposed(proposer), proposed(agent())
    client.force_login(proposer)
    response = act(client, CHANGELIST, "approve", [own, other])
    assert response.status_code == 200
    assert any("Four eyes" in text for text in texts(response))
    assert "1 refund(s) approved and scheduled." in texts(response)
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.status, other.status) == ("proposed", "approved")


def test_reject_asks_for_a_reason_then_rejects(client):
    refund = proposed(agent())
    client.force_login(lead())
    page = act(client, CHANGELIST, "reject", [refund])
    assert "Reason (shown to the customer)" in page.content.decode()
    act(client, CHANGELIST, "reject", [refund], apply="1", text="Outside the policy")
    refund.refresh_from_db()
    assert (refund.status, refund.rejection_reason) == ("rejected", "Outside the policy")


def test_the_refund_page_shows_the_payment_history(client):
    payment = PaymentFactory()
    refund, other = proposed(agent(), payment), proposed(agent(), payment, "5.00")
    client.force_login(lead())
    page = client.get(f"{CHANGELIST}{refund.pk}/change/").content.decode()
    assert f"Refund #{other.pk}: 5.00 USD" in page and "committed to refunds" in page


def test_candidate_payments_are_hidden_until_the_requester_is_verified(client):
    payment = PaymentFactory(paid_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    review = review_for(
        payment, submitted_by=payment.workspace.owner, approximate_payment_date=dt.date(2025, 1, 2)
    )
    client.force_login(agent())
    url = f"/admin/billing/refundreviewrequest/{review.pk}/change/"
    assert f"#{payment.pk} " not in client.get(url).content.decode()
    review_request_verify(request=review, agent=agent(), method="member", now=timezone.now())
    assert f"#{payment.pk} " in client.get(url).content.decode()


def test_accidental_renewals_page_proposes_a_refund(client):
    payment = PaymentFactory(paid_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    client.force_login(agent())
    url = "/admin/billing/refund/accidental-renewals/"
    assert str(payment.workspace) in client.get(url).content.decode()
    client.post(url, {"subscription": payment.subscription_id})
    assert payment.refunds.get().status == "proposed"


def test_recording_a_dispute_suspends_and_closing_it_won_restores(client):
    payment = PaymentFactory()
    client.force_login(agent())
    client.post(
        "/admin/billing/dispute/add/",
        {"payment": payment.pk, "amount": "100.00", "reason": "fraud", "provider_reference": ""},
    )
    dispute = Dispute.objects.get()
    payment.workspace.refresh_from_db()
    assert payment.workspace.suspension_reason == "chargeback"
    act(client, "/admin/billing/dispute/", "close_won", [dispute])
    payment.workspace.refresh_from_db()
    assert payment.workspace.status == "active"


def test_review_actions_verify_then_answer_with_a_text(client):
    payment = PaymentFactory()
    review = review_for(
        payment,
        submitted_by=payment.workspace.owner,
        kind="other",
        amount_charged=Decimal("1.00"),
        currency="USD",
    )
    client.force_login(agent())
    url = "/admin/billing/refundreviewrequest/"
    assert "1 requester(s) verified." in texts(act(client, url, "verify_member", [review]))
    act(client, url, "answer", [review], apply="1", text="Nothing was charged twice.")
    review.refresh_from_db()
    assert (review.status, review.answer) == ("answered", "Nothing was charged twice.")


def test_an_agent_picks_the_workspace_of_an_ambiguous_request_before_verifying(client):
    payment = PaymentFactory()
    review = review_for(
        payment, kind="other", workspace_name="Nobody knows", billing_email="unknown@example.com"
    )
    client.force_login(agent())
    url = f"/admin/billing/refundreviewrequest/{review.pk}/change/"
    client.post(url, {"workspace": payment.workspace_id})
    review.refresh_from_db()
    assert review.workspace == payment.workspace
    assert AuditRecord.objects.filter(action="review.workspace").exists()


def test_an_agent_proposes_a_refund_from_the_payments_list(client):
    payment = PaymentFactory()
    client.force_login(agent())
    chosen = act(client, "/admin/billing/payment/", "propose_refund", [payment])
    assert chosen.redirect_chain[-1][0] == f"{CHANGELIST}propose/{payment.pk}/"
    url = f"{CHANGELIST}propose/{payment.pk}/"
    too_much = client.post(url, {"amount": "500.00", "tax_amount": "0", "reason": "x"})
    assert "can still be refunded" in too_much.content.decode()
    client.post(url, {"amount": "25.00", "tax_amount": "0", "destination": "", "reason": "Bug"})
    refund = payment.refunds.get()
    assert (refund.amount, refund.destination, refund.reason) == (
        Decimal("25.00"),
        "original_payment_method",
        "Bug",
    )


def test_the_refund_queue_costs_the_same_queries_for_more_rows(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(lead())
    proposer = agent()
    proposed(proposer)
    client.get(CHANGELIST)  # the first request of a session also records activity
    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    for _ in range(4):
        proposed(proposer)
    with CaptureQueriesContext(connection) as five:
        client.get(CHANGELIST)
    assert len(five) == len(one)


def test_propose_refund_from_a_verified_review_request(client):
    payment = PaymentFactory(paid_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    review = review_for(payment, submitted_by=payment.workspace.owner)
    client.force_login(agent())
    url = "/admin/billing/refundreviewrequest/"
    refused = act(client, url, "propose_refund", [review])
    assert any("Verify the requester" in text for text in texts(refused))
    act(client, url, "verify_member", [review])
    act(client, url, "propose_refund", [review])
    refund = payment.refunds.get()
    assert (refund.amount, refund.is_goodwill, refund.review_request) == (
        payment.amount,
        True,
        review,
    )
