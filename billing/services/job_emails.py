"""E-mails of a batch job: one task per batch, queued after the batch commits.

Queuing a task costs about a millisecond of the job's own time (building and publishing
the message), as much as the rest of its work on one subscription: a batch of 500 queues
its e-mails as one `billing.send_customer_emails` task instead, which sends them in turn
and hands any the mail server refuses to `billing.send_customer_email`, retried alone with
backoff. Services name the task (`backoffice.task_queue`), so there is no import circle.

A one-item service sharing a batch's code (`cancellation_apply`, `dunning_retry_now`)
collects with `one_task_each`: its e-mail is queued as `customer_email_on_commit` queues
one, on the task that retries it alone.
"""

from functools import partial
from typing import Any

from django.db import transaction

from backoffice.task_queue import enqueue
from billing.email_payload import payload_encode


class JobEmails:
    """Collects a batch's e-mails (`kind` names an entry of `billing.emails.EMAILS`,
    `object_id` its record) and queues them together on commit."""

    def __init__(self, *, one_task_each: bool = False) -> None:
        self.emails: list[list[Any]] = []
        self.one_task_each = one_task_each

    def add(self, kind: str, object_id: int, **extra: Any) -> None:
        self.emails.append([kind, object_id, payload_encode(extra)])

    def send_on_commit(self) -> None:
        if not self.emails:
            return
        emails, self.emails = self.emails, []
        if not self.one_task_each:
            transaction.on_commit(lambda: enqueue("billing.send_customer_emails", emails))
            return
        for kind, object_id, payload in emails:
            transaction.on_commit(
                partial(enqueue, "billing.send_customer_email", kind, object_id, payload)
            )
