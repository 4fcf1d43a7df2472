"""E-mails to a workspace's owner about its subscription (dunning steps, restrictions).

Sent after commit, so a rolled-back change never e-mails anyone. The first line of each
`templates/emails/<name>.txt` is the subject.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from billing.models import Subscription


def email_owners(subscription: Subscription, template: str, **context) -> None:
    workspace = subscription.workspace
    recipients = sorted({workspace.billing_email, workspace.owner.email} - {""})
    context = {"subscription": subscription, "workspace": workspace, **context}
    subject, _, body = render_to_string(f"emails/{template}.txt", context).partition("\n")

    def send() -> None:
        send_mail(subject.strip(), body.strip() + "\n", settings.DEFAULT_FROM_EMAIL, recipients)

    transaction.on_commit(send)
