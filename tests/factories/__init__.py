"""factory-boy factories shared by the tests and `seed_demo`."""

from .accounts import UserFactory, WorkspaceFactory, WorkspaceMemberFactory
from .billing import (
    AddOnFactory,
    OnboardingServiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    policy_version,
)

__all__ = [
    "AddOnFactory",
    "OnboardingServiceFactory",
    "PaymentFactory",
    "PlanFactory",
    "SubscriptionFactory",
    "UserFactory",
    "WorkspaceFactory",
    "WorkspaceMemberFactory",
    "policy_version",
]
