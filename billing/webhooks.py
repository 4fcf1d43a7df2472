"""`POST /webhooks/stripe/`: verifies Stripe's signature, then hands the event to the
service. A bad signature or body is a 400 (Stripe shows it in the dashboard); anything we
processed, replayed or chose to ignore is a 200 so Stripe stops redelivering it."""

import json

import stripe
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services.webhooks import webhook_stripe_handle


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    if not settings.STRIPE_WEBHOOK_SECRET:
        return JsonResponse({"detail": "Stripe webhooks are not configured."}, status=503)
    try:
        stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        return JsonResponse({"detail": f"Invalid Stripe event: {error}"}, status=400)
    event = json.loads(request.body)
    outcome = webhook_stripe_handle(event=event, now=timezone.now())
    return JsonResponse({"received": True, "outcome": outcome})
