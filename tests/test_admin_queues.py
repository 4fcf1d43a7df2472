"""Queues open on the work to do; filters for "mine"; bulk reject; CSV as filtered."""

import csv
import io
from decimal import Decimal

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from billing.models import CancellationRequest, Refund
from billing.services.cancellations import cancellation_assign, cancellation_submit
from billing.services.refunds import refund_propose
from tests.factories import PaymentFactory
from tests.factories.cancellations import MID_PERIOD, paid_subscription
from tests.factories.refunds import RefundFactory, agent, lead

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:billing_cancellationrequest_changelist")
REFUNDS = reverse("admin:billing_refund_changelist")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def _request(status: str = "submitted") -> CancellationRequest:
    subscription = paid_subscription("orgix")
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason="too_expensive",
        reason_text="",
        now=MID_PERIOD,
    )
    if status != "submitted":
        CancellationRequest.objects.filter(pk=request.pk).update(status=status)
    return request


def _rows(response) -> set[int]:
    return {row.pk for row in response.context["cl"].result_list}


def _proposed(proposer, amount: str = "30.00", **kwargs) -> Refund:
    return refund_propose(
        payment=PaymentFactory(amount=Decimal("900.00")),
        amount=Decimal(amount),
        destination="",
        actor=proposer,
        now=timezone.now(),
        **kwargs,
    )


def test_the_cancellation_queue_opens_on_open_requests(client):
    submitted, in_review = _request(), _request("in_review")
    approved, rejected = _request("approved"), _request("rejected")
    client.force_login(agent())

    default = client.get(QUEUE)
    everything = client.get(f"{QUEUE}?status=all")

    assert _rows(default) == {submitted.pk, in_review.pk}
    assert _rows(everything) == {submitted.pk, in_review.pk, approved.pk, rejected.pk}
    assert _rows(client.get(f"{QUEUE}?status=approved")) == {approved.pk}


def test_assigned_to_me_lists_only_my_requests(client):
    me, colleague = agent(), agent()
    mine, theirs, _nobodys = _request(), _request(), _request()
    cancellation_assign(request=mine, agent=me, now=MID_PERIOD)
    cancellation_assign(request=theirs, agent=colleague, now=MID_PERIOD)
    client.force_login(me)

    assert _rows(client.get(f"{QUEUE}?assigned=me")) == {mine.pk}


def test_the_refund_queue_opens_on_proposed_and_failed_refunds(client):
    proposed = _proposed(agent())
    failed = RefundFactory(status=Refund.Status.FAILED)
    RefundFactory(status=Refund.Status.SUCCEEDED)
    RefundFactory(status=Refund.Status.REJECTED)
    client.force_login(lead())

    assert _rows(client.get(REFUNDS)) == {proposed.pk, failed.pk}
    assert len(_rows(client.get(f"{REFUNDS}?status=all"))) == 4


def test_awaiting_my_approval_leaves_out_my_own_and_what_needs_a_lead(client, settings):
    settings.REFUND_LEAD_APPROVAL_THRESHOLD = Decimal("100.00")
    me, colleague = agent(), agent()
    small = _proposed(colleague)
    _large = _proposed(colleague, amount="250.00")
    _own = _proposed(me)
    client.force_login(me)

    assert _rows(client.get(f"{REFUNDS}?approval=mine")) == {small.pk}


def test_a_lead_awaits_large_refunds_too_and_the_lead_filter_lists_them(client, settings):
    settings.REFUND_LEAD_APPROVAL_THRESHOLD = Decimal("100.00")
    colleague = agent()
    small = _proposed(colleague)
    large = _proposed(colleague, amount="250.00")
    goodwill = _proposed(colleague, is_goodwill=True)
    client.force_login(lead())

    assert _rows(client.get(f"{REFUNDS}?approval=mine")) == {small.pk, large.pk, goodwill.pk}
    assert _rows(client.get(f"{REFUNDS}?approval=lead")) == {large.pk, goodwill.pk}


def test_bulk_reject_rejects_several_requests_with_one_reason(client):
    requests = [_request(), _request(), _request("in_review")]
    client.force_login(agent())
    data = {"action": "reject", ACTION_CHECKBOX_NAME: [r.pk for r in requests]}

    form = client.post(QUEUE, data)
    client.post(QUEUE, {**data, "apply": "Reject", "reason": "Annual contract: ends in June."})

    assert "Bulk reject with one reason" in client.get(QUEUE).content.decode()
    assert "The customer sees this reason" in form.content.decode()
    for request in requests:
        request.refresh_from_db()
        assert request.status == CancellationRequest.Status.REJECTED
        assert request.rejection_reason == "Annual contract: ends in June."


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_export_streams_the_queue_as_filtered(client):
    submitted = _request()
    _approved = _request("approved")
    client.force_login(agent())
    page = client.get(QUEUE).content.decode()
    assert 'href="export.csv"' in page

    response = client.get(f"{QUEUE}export.csv")

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = _csv(response)
    assert header[:3] == ["ID", "Status", "Workspace"]
    assert [row[0] for row in rows] == [str(submitted.pk)]
    assert rows[0][1] == "Submitted"  # labels, not codes


def test_csv_export_keeps_the_filters_and_shows_money_with_its_currency(client):
    refund = RefundFactory(status=Refund.Status.FAILED, amount=Decimal("12.5"))
    RefundFactory(status=Refund.Status.SUCCEEDED)
    client.force_login(lead())

    header, *rows = _csv(client.get(f"{REFUNDS}export.csv?status=failed"))

    assert len(rows) == 1 and rows[0][0] == str(refund.pk)
    amount = rows[0][header.index("Amount")]
    assert amount == f"12.50 {refund.currency}"


def test_csv_export_needs_a_staff_login(client):
    response = client.get(f"{REFUNDS}export.csv")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
