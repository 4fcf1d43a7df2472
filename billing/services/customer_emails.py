"""Schedule a customer email: after the change commits, a Celery task renders and sends
it (`billing.emails`), so a rolled-back change never e-mails anyone and no request waits
for the mail server. The task is imported late: services sit below tasks."""

from typing import Any

from django.db import transaction

from billing.email_payload import payload_encode


def customer_email_on_commit(kind: str, *, object_id: int, **extra: Any) -> None:
    """`kind` names an entry of `billing.emails.EMAILS`; `object_id` its record."""
    payload = payload_encode(extra)

    def enqueue() -> None:
        from billing.tasks import send_customer_email

        send_customer_email.delay(kind, object_id, payload)

    transaction.on_commit(enqueue)
