"""Stripe, through the official SDK. Amounts go to Stripe in the currency's minor unit.

Every call carries our idempotency key, so a retried refund or charge returns the first
result instead of moving money again. The SDK's own network retries are off: retries are
the Celery task's job (with backoff), always with the same key. Errors become
`GatewayError` with Stripe's message; connection, rate-limit and 5xx errors are retryable,
card and invalid-request errors are not.
"""

from decimal import Decimal

import stripe
from django.conf import settings

from billing.money import MINOR_UNITS

from .base import GatewayError, GatewayResult

RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def minor_units(amount: Decimal, currency: str) -> int:
    return int((amount * (10 ** MINOR_UNITS[currency])).to_integral_exact())


def _gateway_error(error: stripe.StripeError) -> GatewayError:
    message = error.user_message or str(error) or error.__class__.__name__
    return GatewayError(message, retryable=isinstance(error, RETRYABLE), code=str(error.code or ""))


class StripeGateway:
    name = "stripe"

    def __init__(self, *, api_key: str | None = None, api_base: str | None = None):
        api_key = api_key or settings.STRIPE_API_KEY
        if not api_key:
            raise GatewayError("STRIPE_API_KEY is not configured.", code="configuration")
        api_base = api_base if api_base is not None else settings.STRIPE_API_BASE
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
        )

    def refund(
        self,
        *,
        payment_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> GatewayResult:
        target = "payment_intent" if payment_reference.startswith("pi_") else "charge"
        params = {target: payment_reference, "amount": minor_units(amount, currency)}
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        if refund.status in ("failed", "canceled"):
            raise GatewayError(
                f"Stripe reports the refund {refund.status}: {refund.get('failure_reason', '')}",
                code=str(refund.get("failure_reason") or refund.status),
            )
        return GatewayResult(reference=refund.id)

    def charge(
        self,
        *,
        customer_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        description: str,
    ) -> GatewayResult:
        """Charge the customer's default payment method off-session (a renewal)."""
        try:
            customer = self.client.v1.customers.retrieve(customer_reference)
            method = (customer.get("invoice_settings") or {}).get("default_payment_method")
            if not method:
                raise GatewayError(
                    "The customer has no default payment method.", code="no_payment_method"
                )
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": minor_units(amount, currency),
                    "currency": currency.lower(),
                    "customer": customer_reference,
                    "payment_method": method,
                    "off_session": True,
                    "confirm": True,
                    "description": description,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        if intent.status != "succeeded":
            raise GatewayError(
                f"The payment needs the customer ({intent.status.replace('_', ' ')}).",
                code=intent.status,
            )
        return GatewayResult(reference=intent.id)
