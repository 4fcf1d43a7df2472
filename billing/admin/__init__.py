from . import (  # noqa: F401  (registers the admins)
    payments,
    plans,
    policies,
    records,
    refunds,
    subscriptions,
)
