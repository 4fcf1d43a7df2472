from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class GatewayResult:
    reference: str  # the provider's id for the charge or refund


class GatewayError(Exception):
    """The provider declined or failed. `message` is the provider's, safe to show agents."""

    def __init__(self, message: str, *, retryable: bool = False, code: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code


class PaymentGateway(Protocol):
    name: str

    def charge(
        self,
        *,
        customer_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        description: str,
    ) -> GatewayResult:
        """Charge the customer's saved payment method. Raises GatewayError."""

    def refund(
        self,
        *,
        payment_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> GatewayResult:
        """Refund part or all of a charge. The same idempotency key never refunds twice."""
