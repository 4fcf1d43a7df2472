"""Customer emails: scheduled on commit, rendered and sent in the Celery task, one template
per step, previewable by agents in the admin."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.test import Client

from billing.email_payload import payload_decode, payload_encode
from billing.emails import EMAILS
from billing.policy.limits import LimitBreach
from billing.services.cancellations import (
    cancellation_approve,
    cancellation_submit,
    cancellation_withdraw,
)
from billing.services.retention_offers import retention_session_open
from tests.factories import UserFactory
from tests.factories.cancellations import MID_PERIOD, make_agent, paid_subscription
from tests.factories.refunds import RefundFactory

pytestmark = pytest.mark.django_db


def submit(workspace):
    request, _ = cancellation_submit(
        workspace=workspace, actor=workspace.owner, reason="other", reason_text="", now=MID_PERIOD
    )
    return request


def test_emails_are_rendered_in_the_task_after_commit_not_in_the_request(
    django_capture_on_commit_callbacks, monkeypatch
):
    workspace = paid_subscription("orgix").workspace
    queued = []
    monkeypatch.setattr(
        "billing.tasks.send_customer_email.delay", lambda *args: queued.append(args)
    )

    with django_capture_on_commit_callbacks() as callbacks:
        request = submit(workspace)
    before_commit = (list(queued), len(mail.outbox))
    for callback in callbacks:
        callback()

    assert before_commit == ([], 0)
    assert queued == [("cancellation_submitted", request.pk, {})]
    assert mail.outbox == []  # the task (replaced here) is what renders and sends


def test_approving_a_period_end_cancellation_emails_the_end_date(
    django_capture_on_commit_callbacks,
):
    subscription = paid_subscription("orgix")
    workspace = subscription.workspace
    request = submit(workspace)

    with django_capture_on_commit_callbacks(execute=True):
        cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)

    end = subscription.current_period_end
    assert [m.subject for m in mail.outbox] == [
        f"Your cancellation is approved: {workspace.name} ends on {end:%-d %B %Y}"
    ]
    body = mail.outbox[0].body
    assert mail.outbox[0].to == [workspace.billing_email]
    assert "moved to the Free plan" in body
    assert f"/workspaces/{workspace.slug}/cancellation/" in body


def test_withdrawing_emails_that_nothing_changes(django_capture_on_commit_callbacks):
    workspace = paid_subscription("orgix").workspace
    request = submit(workspace)

    with django_capture_on_commit_callbacks(execute=True):
        cancellation_withdraw(request=request, actor=workspace.owner, now=MID_PERIOD)

    assert [m.subject for m in mail.outbox] == ["You withdrew your cancellation request"]
    assert "Nothing changes" in mail.outbox[0].body


def test_the_payload_survives_json_with_models_dates_and_dataclasses():
    subscription = paid_subscription("orgix")
    breach = LimitBreach(limit="seats", used=5, allowed=3, message="Too many seats")
    moment = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)

    sent = json.loads(json.dumps(payload_encode({"s": subscription, "at": moment, "b": [breach]})))
    decoded = payload_decode(sent)

    assert decoded["s"] == subscription and decoded["at"] == moment
    assert decoded["b"] == [
        {"limit": "seats", "used": 5, "allowed": 3, "message": "Too many seats"}
    ]


def test_agents_preview_every_email_for_the_latest_record():
    subscription = paid_subscription("orgix")
    request = submit(subscription.workspace)
    RefundFactory(payment=subscription.payments.get(), rejection_reason="Outside the window")
    retention_session_open(
        subscription=subscription, reason="other", offers=[], actor=None, now=MID_PERIOD
    )
    client = Client()
    client.force_login(make_agent())

    pages = {kind: client.get(f"/admin/emails/?kind={kind}") for kind in EMAILS}

    for kind, page in pages.items():
        html = page.content.decode()
        assert page.status_code == 200, kind
        assert 'id="email-subject"' in html and 'id="email-body"' in html, kind
    submitted = pages["cancellation_submitted"].content.decode()
    assert f"request #{request.pk}" in submitted
    assert subscription.workspace.billing_email in submitted
    assert mail.outbox == []


def test_the_preview_names_a_bad_record_id_and_refuses_customers():
    agent = Client()
    agent.force_login(make_agent())
    customer = Client()
    customer.force_login(UserFactory())

    bad = agent.get("/admin/emails/?kind=refund_paid&id=abc").content.decode()
    missing = agent.get("/admin/emails/?kind=refund_paid&id=999").content.decode()

    assert "Record id: &#x27;abc&#x27; is not a number." in bad
    assert "Record id: there is no refund #999." in missing
    assert customer.get("/admin/emails/").status_code == 302
