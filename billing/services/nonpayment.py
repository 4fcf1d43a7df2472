"""Entering the non-payment path, for the events this area learns about: a failed invoice
payment reported by Stripe, a lost dispute. The subscription becomes past due through the
state machine; dunning (retries, grace, suspension) takes it from there.
"""

from datetime import datetime

from django.db import transaction

from accounts.models import User
from accounts.services.audit import audit_record
from billing.models import Subscription
from billing.states import SUBSCRIPTION_TRANSITIONS, ensure_transition


def subscription_enter_non_payment(
    *, subscription: Subscription, actor: User | None, now: datetime, note: str
) -> bool:
    """Active or trialing → past due, starting the dunning clock at `now`. A subscription
    already past due, suspended or ended is left as it is. Returns whether it changed."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.status not in (Subscription.Status.ACTIVE, Subscription.Status.TRIALING):
            return False
        ensure_transition(
            SUBSCRIPTION_TRANSITIONS, locked.status, "past_due", what="This subscription"
        )
        before = locked.status
        locked.status = Subscription.Status.PAST_DUE
        locked.past_due_since = now
        locked.save(update_fields=["status", "past_due_since"])
        audit_record(
            actor=actor,
            action="subscription.past_due",
            target=locked,
            now=now,
            before={"status": before},
            after={"status": "past_due"},
            note=note,
        )
    subscription.status, subscription.past_due_since = locked.status, locked.past_due_since
    return True
