"""A broker that does not answer when a change commits: the change stands, its answer is
the usual one, and the follow-up task is kept and queued again once the broker answers."""

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from accounts.admin.queued_tasks import TASKS_IN_WORDS
from accounts.models import UnqueuedTask
from accounts.services.queued_tasks import unqueued_tasks_requeue
from backoffice.celery import app
from backoffice.task_queue import enqueue
from billing.models import CancellationRequest
from tests.factories.cancellations import MID_PERIOD, refundable_connex
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db

EMAIL_TASK = "billing.send_customer_email"


@pytest.fixture
def broker_down(monkeypatch):
    app.loader.import_default_modules()

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in app.tasks.values():
        monkeypatch.setattr(task, "delay", refuse)
    return monkeypatch


def _submit(subscription, capture_on_commit):
    client = APIClient()
    client.force_authenticate(subscription.workspace.owner)
    url = reverse("api:cancellation-submit", args=[subscription.workspace.slug])
    with time_machine.travel(MID_PERIOD, tick=False), capture_on_commit(execute=True):
        return client.post(url, {"reason": "too_expensive"}, format="json")


def test_a_cancellation_submitted_while_the_broker_is_down_is_answered_and_its_email_kept(
    broker_down, django_capture_on_commit_callbacks
):
    subscription = refundable_connex()
    response = _submit(subscription, django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.content
    request = CancellationRequest.objects.get(workspace=subscription.workspace)
    kept = UnqueuedTask.objects.get()
    assert kept.task == EMAIL_TASK
    assert kept.args[1] == request.pk
    assert "Connection refused" in kept.error
    assert mail.outbox == []


def test_kept_tasks_are_queued_again_once_the_broker_answers_and_then_forgotten(
    broker_down, django_capture_on_commit_callbacks
):
    subscription = refundable_connex()
    _submit(subscription, django_capture_on_commit_callbacks)

    assert unqueued_tasks_requeue() == 0  # still down: kept, not lost, not doubled
    assert UnqueuedTask.objects.count() == 1

    broker_down.undo()  # the broker answers again (tests run tasks eagerly)
    assert unqueued_tasks_requeue() == 1

    assert not UnqueuedTask.objects.exists()
    assert len(mail.outbox) == 1
    assert subscription.workspace.owner.email in mail.outbox[0].to


def test_with_the_broker_up_the_email_is_sent_and_nothing_is_kept(
    django_capture_on_commit_callbacks,
):
    subscription = refundable_connex()
    assert _submit(subscription, django_capture_on_commit_callbacks).status_code == 201

    assert len(mail.outbox) == 1
    assert not UnqueuedTask.objects.exists()


def test_enqueue_says_whether_the_broker_took_the_task(broker_down):
    assert enqueue(EMAIL_TASK, "cancellation_submitted", 1, "{}") is False
    assert UnqueuedTask.objects.get().args == ["cancellation_submitted", 1, "{}"]


def test_the_admin_lists_the_waiting_tasks_in_words(broker_down, client):
    enqueue("billing.execute_refund", 42)
    client.force_login(agent())
    page = client.get(reverse("admin:accounts_unqueuedtask_changelist")).content.decode()

    assert "Refund execution at the payment provider" in page
    assert "Connection refused" in page
    assert set(TASKS_IN_WORDS) <= set(app.tasks)  # every name in words is a real task


def test_the_admin_filters_the_waiting_tasks_by_what_waits(broker_down, client):
    enqueue("billing.execute_refund", 42)
    enqueue(EMAIL_TASK, "cancellation_submitted", 1, "{}")
    client.force_login(agent())
    url = reverse("admin:accounts_unqueuedtask_changelist")

    listed = client.get(url, {"task": "billing.execute_refund"}).context["cl"].result_list
    assert [row.task for row in listed] == ["billing.execute_refund"]
    assert len(client.get(url).context["cl"].result_list) == 2
