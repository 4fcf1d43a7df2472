"""`POST /webhooks/stripe/`: verifies Stripe's signature, then hands the event to the
service. A bad signature or body is a 400 (Stripe shows it in the dashboard); anything we
processed, replayed or chose to ignore is a 200 so Stripe stops redelivering it. A signed
event of a shape we cannot read is a 400, logged, with nothing applied."""

import json
import logging

import stripe
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services.webhooks import MalformedEvent, webhook_stripe_handle

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    if not settings.STRIPE_WEBHOOK_SECRET:
        return JsonResponse({"detail": "Stripe webhooks are not configured."}, status=503)
    try:
        # Only the signature: the SDK's `construct_event` also builds objects from the body
        # and fails with a traceback on a signed body of the wrong shape.
        stripe.WebhookSignature.verify_header(
            request.body.decode("utf-8", errors="replace"),
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            stripe.Webhook.DEFAULT_TOLERANCE,
        )
        event = json.loads(request.body)
    except (ValueError, stripe.SignatureVerificationError) as error:
        return JsonResponse({"detail": f"Invalid Stripe event: {error}"}, status=400)
    try:
        outcome = webhook_stripe_handle(event=event, now=timezone.now())
    except MalformedEvent as error:
        logger.warning("Rejected a signed but malformed Stripe event: %s", error.message)
        return JsonResponse(
            {"detail": f"Malformed Stripe event: {error.message}", "errors": {}}, status=400
        )
    return JsonResponse({"received": True, "outcome": outcome})
