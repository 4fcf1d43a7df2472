"""The default gateway: our own ledger. Charges and refunds always succeed; the reference
is derived from the idempotency key, so a retried call returns the same reference."""

import hashlib
from decimal import Decimal

from .base import GatewayResult


def _reference(prefix: str, idempotency_key: str) -> str:
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class LocalLedgerGateway:
    name = "local"

    def charge(
        self,
        *,
        customer_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        description: str,
    ) -> GatewayResult:
        return GatewayResult(reference=_reference("local_ch", idempotency_key))

    def refund(
        self,
        *,
        payment_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> GatewayResult:
        return GatewayResult(reference=_reference("local_re", idempotency_key))
