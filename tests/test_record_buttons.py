"""Buttons on record pages: enabled for what the row's state and the agent allow, disabled
with the reason otherwise, and each calling the same service as the list action."""

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditRecord
from billing.models import CancellationRequest, Dispute, Refund, RefundReviewRequest
from billing.services.cancellations import cancellation_submit
from billing.services.refunds import refund_propose
from billing.services.review_verification import review_request_verify
from tests.factories import PaymentFactory, SubscriptionFactory
from tests.factories.cancellations import MID_PERIOD, paid_subscription, refundable_connex
from tests.factories.refunds import DisputeFactory, RefundFactory, agent, lead, review_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def _page(client, obj) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _buttons(client, obj) -> dict[str, str]:
    """Each button's label -> "" when enabled, else the reason shown beside it."""
    html = _page(client, obj)
    buttons = {}
    for block in re.findall(r'<div class="record-action[^"]*">(.*?)</div>', html, re.S):
        label = re.search(r"<(?:button|a)[^>]*>(.*?)</(?:button|a)>", block, re.S).group(1)
        why = re.search(r'class="record-action-why"[^>]*>(.*?)</span>', block, re.S)
        buttons[unescape(label.strip())] = unescape(why.group(1).strip()) if why else ""
    return buttons


def _do(client, obj, name: str, **data):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_record_action", args=[obj.pk, name])
    return client.post(url, data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _proposed(proposer, amount="30.00", **kwargs) -> Refund:
    return refund_propose(
        payment=PaymentFactory(amount=Decimal("900.00")),
        amount=Decimal(amount),
        destination="",
        actor=proposer,
        now=timezone.now(),
        **kwargs,
    )


# --- refunds


def test_the_proposer_sees_approve_disabled_for_four_eyes(client):
    proposer = lead()
    refund = _proposed(proposer)
    client.force_login(proposer)

    buttons = _buttons(client, refund)

    assert buttons["Approve"].startswith("Four eyes")
    assert buttons["Reject…"] == ""
    assert buttons["Retry"] == "Only a failed refund is retried."


def test_an_agent_sees_approve_disabled_above_the_lead_threshold(client, settings):
    settings.REFUND_LEAD_APPROVAL_THRESHOLD = Decimal("100.00")
    refund = _proposed(agent(), amount="250.00")
    client.force_login(agent())

    assert _buttons(client, refund)["Approve"] == (
        "Only a Billing lead may approve above the approval threshold."
    )
    response = _do(client, refund, "approve")
    assert any("Billing lead" in text for text in _messages(response))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PROPOSED


def test_a_billing_lead_approves_with_the_button(
    client, settings, django_capture_on_commit_callbacks
):
    settings.REFUND_LEAD_APPROVAL_THRESHOLD = Decimal("100.00")
    refund = _proposed(agent(), amount="250.00")
    client.force_login(lead())
    assert _buttons(client, refund)["Approve"] == ""

    with django_capture_on_commit_callbacks():
        response = _do(client, refund, "approve")

    refund.refresh_from_db()
    assert refund.status != Refund.Status.PROPOSED
    assert f"Refund #{refund.pk} approved; it is being paid out." in _messages(response)
    assert AuditRecord.objects.filter(action="refund.approve", target_id=str(refund.pk)).exists()


def test_reject_asks_for_the_reason_first_then_rejects(client):
    refund = _proposed(agent())
    client.force_login(lead())
    opts = refund._meta
    url = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_record_action", args=[refund.pk, "reject"]
    )

    form_page = client.get(url)
    assert b"Reason (shown to the customer)" in form_page.content
    empty = client.post(url, {"text": ""})
    assert empty.status_code == 200 and empty.context["form"].errors
    client.post(url, {"text": "Already refunded by bank transfer."})

    refund.refresh_from_db()
    assert refund.status == Refund.Status.REJECTED
    assert refund.rejection_reason == "Already refunded by bank transfer."


def test_a_failed_refund_offers_retry_and_not_approve(client, django_capture_on_commit_callbacks):
    refund = RefundFactory(status=Refund.Status.FAILED, failure_message="card expired")
    client.force_login(lead())

    buttons = _buttons(client, refund)
    assert buttons["Retry"] == ""
    assert buttons["Approve"] == "The refund is failed, not proposed."
    with django_capture_on_commit_callbacks():
        _do(client, refund, "retry")
    assert AuditRecord.objects.filter(action="refund.retry", target_id=str(refund.pk)).exists()


def test_a_refund_page_has_no_save_button(client):
    refund = _proposed(agent())
    client.force_login(lead())
    assert 'name="_save"' not in _page(client, refund)


# --- cancellation requests


def _request(slug="connex") -> CancellationRequest:
    subscription = refundable_connex() if slug == "connex" else paid_subscription(slug)
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason="too_expensive",
        reason_text="",
        now=MID_PERIOD,
    )
    return request


def test_an_open_request_offers_assign_approve_and_reject(client):
    request = _request()
    client.force_login(agent())

    buttons = _buttons(client, request)

    approve = next(label for label in buttons if label.startswith("Approve"))
    assert "refund" in approve  # the label says it proposes the quoted refund
    assert buttons == {"Assign to me": "", approve: "", "Reject…": ""}


def test_assign_then_the_button_says_it_is_yours(client):
    request = _request()
    me = agent()
    client.force_login(me)

    _do(client, request, "assign")

    request.refresh_from_db()
    assert (request.status, request.assigned_to) == (CancellationRequest.Status.IN_REVIEW, me)
    assert _buttons(client, request)["Assign to me"] == "Assigned to you."


def test_approve_with_the_button_proposes_the_quoted_refund(client):
    request = _request()
    client.force_login(agent())

    response = _do(client, request, "approve")

    request.refresh_from_db()
    assert request.status in (
        CancellationRequest.Status.APPROVED,
        CancellationRequest.Status.COMPLETED,
    )
    assert request.refunds.filter(status=Refund.Status.PROPOSED).count() == 1
    assert any("refund proposal(s) await approval" in text for text in _messages(response))


def test_a_decided_request_shows_every_button_disabled_with_why(client):
    request = _request()
    client.force_login(agent())
    _do(client, request, "reject", text="Contract runs until March.")

    buttons = _buttons(client, request)

    assert set(buttons.values()) == {"The request is rejected: nothing left to decide."}


def test_an_agent_without_the_process_permission_sees_why(client):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_cancellationrequest"))
    request = _request()
    client.force_login(viewer)

    assert _buttons(client, request)["Assign to me"] == "You may not process requests."
    _do(client, request, "assign")
    request.refresh_from_db()
    assert request.status == CancellationRequest.Status.SUBMITTED


# --- review requests


def test_an_unverified_review_says_verify_the_requester_first(client):
    review = review_for(PaymentFactory())
    client.force_login(agent())

    buttons = _buttons(client, review)

    assert buttons["Propose a refund…"] == "Verify the requester first."
    assert buttons["Send a confirmation link to the billing email"] == ""


def test_verify_then_propose_from_a_candidate_payment(client):
    payment = PaymentFactory(amount=Decimal("49.00"))
    review = review_for(payment)
    client.force_login(agent())

    _do(client, review, "verify_manually", text="Called the billing contact.")
    review.refresh_from_db()
    assert review.status == RefundReviewRequest.Status.VERIFIED
    assert _buttons(client, review)["Propose a refund…"] == ""
    _do(client, review, "propose", payment=payment.pk, amount="49.00", reason="")

    review.refresh_from_db()
    assert review.status == RefundReviewRequest.Status.REFUND_PROPOSED
    assert review.refunds.get().amount == Decimal("49.00")


def test_a_wrong_amount_in_the_request_still_leaves_a_payment_to_propose(client):
    """Candidates are recomputed for the verified workspace: a request naming the wrong
    amount lists the workspace's refundable payments instead of dead-ending."""
    payment = PaymentFactory(amount=Decimal("49.00"))
    review = review_for(payment, amount_charged=Decimal("12.00"))
    assert review.candidate_payments.count() == 0
    staff = agent()

    review_request_verify(
        request=review, agent=staff, method="manual", note="Called them.", now=timezone.now()
    )

    assert list(review.candidate_payments.all()) == [payment]
    client.force_login(staff)
    assert _buttons(client, review)["Propose a refund…"] == ""


# --- disputes, subscriptions, workspaces


def test_an_open_dispute_closes_with_the_button_and_a_closed_one_says_why(client):
    dispute = DisputeFactory(opened_at=MID_PERIOD - dt.timedelta(days=1))
    client.force_login(agent())
    assert _buttons(client, dispute)["Close as won (restore the workspace)"] == ""

    _do(client, dispute, "close_won")

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.WON
    assert set(_buttons(client, dispute).values()) == {
        "The dispute is closed (won (payment kept))."
    }


def test_an_active_subscription_offers_change_plan_but_not_dunning_actions(client):
    subscription = paid_subscription("orgix")
    client.force_login(agent())

    buttons = _buttons(client, subscription)

    assert buttons["Retry the charge now"] == "It is active, not in dunning."
    assert buttons["Extend the grace period…"] == "It is active, not in dunning."
    assert buttons["Change plan…"] == ""
    assert buttons["Place the workspace on legal hold…"] == ""


def test_a_past_due_subscription_extends_grace_with_days_and_reason(client):
    subscription = SubscriptionFactory(
        status="past_due",
        past_due_since=MID_PERIOD - dt.timedelta(days=2),
        grace_until=MID_PERIOD + dt.timedelta(days=5),
        dunning_attempts=1,
    )
    client.force_login(agent())
    assert _buttons(client, subscription)["Extend the grace period…"] == ""

    _do(client, subscription, "extend_grace", days="3", reason="Customer is changing banks.")

    assert AuditRecord.objects.filter(
        action="subscription.extend_grace", target_id=str(subscription.pk)
    ).exists()


def test_a_workspace_is_placed_on_legal_hold_and_then_offers_to_lift_it(client):
    workspace = paid_subscription("orgix").workspace
    client.force_login(agent())

    _do(client, workspace, "place_hold", text="Litigation hold, case 2026-17.")

    workspace.refresh_from_db()
    assert workspace.legal_hold
    buttons = _buttons(client, workspace)
    assert buttons["Place on legal hold…"] == "On legal hold already."
    assert buttons["Lift legal hold…"] == ""
    assert buttons["Delete at the customer's request…"] == "On legal hold."


def test_the_change_plan_button_opens_the_list_actions_preview(client):
    subscription = paid_subscription("orgix")
    client.force_login(agent())

    response = client.post(
        reverse("admin:billing_subscription_changelist"),
        {"action": "change_plan", "_selected_action": subscription.pk, "index": "0"},
    )

    assert response.status_code == 200
    assert b'name="preview"' in response.content
