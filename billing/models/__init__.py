from .cancellations import CancellationRequest
from .credit import CreditEntry
from .disputes import Dispute
from .idempotency import IdempotencyKey, WebhookEvent
from .payments import OnboardingService, Payment
from .plans import Plan
from .policies import RefundPolicy
from .refunds import Refund, RefundReviewRequest
from .replays import PolicyReplay
from .retention_offers import RetentionOffer, RetentionSession
from .subscriptions import AddOn, Subscription

__all__ = [
    "AddOn",
    "CancellationRequest",
    "CreditEntry",
    "Dispute",
    "IdempotencyKey",
    "OnboardingService",
    "Payment",
    "Plan",
    "PolicyReplay",
    "Refund",
    "RefundPolicy",
    "RefundReviewRequest",
    "RetentionOffer",
    "RetentionSession",
    "Subscription",
    "WebhookEvent",
]
