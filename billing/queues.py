"""Which refunds wait for whom: shared by the refund queue's filters and the dashboard."""

from django.conf import settings
from django.db.models import Q

from billing.models import Refund


def needs_lead_q() -> Q:
    """Proposed refunds only a Billing lead may approve (as `needs_billing_lead`)."""
    return Q(status=Refund.Status.PROPOSED) & (
        Q(is_goodwill=True) | Q(amount__gt=settings.REFUND_LEAD_APPROVAL_THRESHOLD)
    )


def awaiting_approval_q(user) -> Q:
    """Proposed refunds this user may approve: someone else's, within their threshold."""
    theirs = Q(status=Refund.Status.PROPOSED) & ~Q(proposed_by=user)
    if user.has_perm("billing.approve_large_refund"):
        return theirs
    return theirs & ~needs_lead_q()
