"""E-mails to a workspace's owner about its subscription (dunning steps, restrictions).

Rendered and sent by a task after commit (`customer_emails`); the first line of each
`templates/emails/<name>.txt` is the subject.
"""

from billing.models import Subscription
from billing.services.customer_emails import customer_email_on_commit


def email_owners(subscription: Subscription, template: str, **context) -> None:
    customer_email_on_commit(template, object_id=subscription.pk, **context)
