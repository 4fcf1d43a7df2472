"""Domain errors. Each names the field (or `non_field_errors`) it is about, so every shell
(form, API, admin action, command) can show a message that names the field."""


class DomainError(Exception):
    field = "non_field_errors"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action."""


class PermissionDenied(DomainError):
    """The actor may not do this (four eyes, role)."""


class RefundRefused(DomainError):
    """The policy refuses this refund; the message says why and which clause."""
