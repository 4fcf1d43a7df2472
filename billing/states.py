"""Explicit state machines. Services call `ensure_transition` before changing a status."""

from .errors import InvalidTransition

SUBSCRIPTION_TRANSITIONS: dict[str, set[str]] = {
    "trialing": {"active", "cancelled", "past_due", "expired"},
    "active": {"past_due", "cancelled", "suspended", "expired", "paused"},
    "paused": {"active", "cancelled", "expired"},
    "past_due": {"active", "suspended", "expired", "cancelled"},
    "suspended": {"active", "past_due", "expired", "cancelled"},  # past_due: grace extended
    "cancelled": set(),
    "expired": set(),
}

CANCELLATION_TRANSITIONS: dict[str, set[str]] = {
    "submitted": {"in_review", "approved", "rejected", "withdrawn"},
    "in_review": {"approved", "rejected", "withdrawn"},
    "approved": {"completed"},
    "rejected": set(),
    "withdrawn": set(),
    "completed": set(),
}

REFUND_TRANSITIONS: dict[str, set[str]] = {
    "proposed": {"approved", "rejected"},
    "approved": {"processing"},
    "processing": {"succeeded", "failed"},
    "failed": {"processing"},
    "rejected": set(),
    "succeeded": set(),
}


def ensure_transition(
    machine: dict[str, set[str]], current: str, target: str, *, what: str
) -> None:
    if target not in machine.get(current, set()):
        raise InvalidTransition(
            f"{what} is {current.replace('_', ' ')} and cannot become {target.replace('_', ' ')}.",
            field="status",
        )
