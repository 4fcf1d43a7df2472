"""Payment providers behind one interface. `get_gateway()` returns the configured one."""

from django.conf import settings

from .base import GatewayError, GatewayResult, PaymentGateway


def get_gateway(name: str | None = None) -> PaymentGateway:
    name = name or settings.PAYMENT_GATEWAY
    if name == "local":
        from .local import LocalLedgerGateway

        return LocalLedgerGateway()
    if name == "stripe":
        from .stripe import StripeGateway

        return StripeGateway()
    raise ValueError(f"unknown PAYMENT_GATEWAY {name!r} (expected 'local' or 'stripe')")


__all__ = ["GatewayError", "GatewayResult", "PaymentGateway", "get_gateway"]
