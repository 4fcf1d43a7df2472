from . import (  # noqa: F401  (registers the admins)
    cancellations,
    payments,
    plans,
    policies,
    records,
    refunds,
    retention,
    reviews,
    schedules,
    subscriptions,
)
