"""The Stripe gateway against a local HTTP server playing Stripe's API (never the internet)."""

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from billing.gateways import GatewayError
from billing.gateways.stripe import StripeGateway


class FakeStripe(BaseHTTPRequestHandler):
    """Replies with the next queued (status, body) and records what the SDK sent."""

    replies: list[tuple[int, dict]]
    received: list[dict]

    def _reply(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.received.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "form": {k: v[0] for k, v in parse_qs(body).items()},
            }
        )
        status, payload = self.replies.pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply

    def log_message(self, *args):
        return


@pytest.fixture
def fake_stripe():
    handler = type("Handler", (FakeStripe,), {"replies": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address
    gateway = StripeGateway(api_key="sk_test_local", api_base=f"http://{host}:{port}")
    yield gateway, handler
    server.shutdown()
    server.server_close()


def refund_object(**overrides) -> dict:
    refund = {
        "id": "re_3Mtest",
        "object": "refund",
        "amount": 1250,
        "charge": "ch_3Mtest",
        "currency": "eur",
        "status": "succeeded",
    }
    return refund | overrides


def test_a_refund_sends_minor_units_and_the_idempotency_key(fake_stripe):
    gateway, server = fake_stripe
    server.replies.append((200, refund_object()))
    result = gateway.refund(
        payment_reference="ch_3Mtest",
        amount=Decimal("12.50"),
        currency="EUR",
        idempotency_key="refund-abc",
    )
    assert result.reference == "re_3Mtest"
    (request,) = server.received
    assert (request["method"], request["path"]) == ("POST", "/v1/refunds")
    assert request["headers"]["Idempotency-Key"] == "refund-abc"
    assert request["form"] == {"charge": "ch_3Mtest", "amount": "1250"}


def test_a_payment_intent_is_refunded_by_payment_intent(fake_stripe):
    gateway, server = fake_stripe
    server.replies.append((200, refund_object(payment_intent="pi_1")))
    gateway.refund(
        payment_reference="pi_1", amount=Decimal("500"), currency="JPY", idempotency_key="k"
    )
    assert server.received[0]["form"] == {"payment_intent": "pi_1", "amount": "500"}


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (
            400,
            {
                "type": "invalid_request_error",
                "message": "Charge ch_3Mtest has already been refunded.",
                "code": "charge_already_refunded",
            },
            False,
        ),
        (
            402,
            {"type": "card_error", "message": "Your card was declined.", "code": "card_declined"},
            False,
        ),
        (429, {"type": "invalid_request_error", "message": "Too many requests."}, True),
        (500, {"type": "api_error", "message": "Something went wrong on Stripe's end."}, True),
    ],
)
def test_stripe_errors_carry_the_providers_message(fake_stripe, status, error, retryable):
    gateway, server = fake_stripe
    server.replies.append((status, {"error": error}))
    with pytest.raises(GatewayError) as raised:
        gateway.refund(
            payment_reference="ch_3Mtest",
            amount=Decimal("1"),
            currency="EUR",
            idempotency_key="k",
        )
    assert raised.value.message == error["message"]
    assert raised.value.retryable is retryable
    assert raised.value.code == error.get("code", "")
    assert len(server.received) == 1


def test_a_refund_stripe_reports_failed_is_an_error(fake_stripe):
    gateway, server = fake_stripe
    server.replies.append(
        (200, refund_object(status="failed", failure_reason="expired_or_canceled_card"))
    )
    with pytest.raises(GatewayError, match="expired_or_canceled_card"):
        gateway.refund(
            payment_reference="ch_1", amount=Decimal("1"), currency="EUR", idempotency_key="k"
        )


def test_a_connection_failure_is_retryable():
    gateway = StripeGateway(api_key="sk_test_local", api_base="http://127.0.0.1:9")
    with pytest.raises(GatewayError) as raised:
        gateway.refund(
            payment_reference="ch_1", amount=Decimal("1"), currency="EUR", idempotency_key="k"
        )
    assert raised.value.retryable


def test_a_charge_confirms_a_payment_intent_with_the_default_method(fake_stripe):
    gateway, server = fake_stripe
    server.replies += [
        (
            200,
            {
                "id": "cus_1",
                "object": "customer",
                "invoice_settings": {"default_payment_method": "pm_1"},
            },
        ),
        (200, {"id": "pi_9", "object": "payment_intent", "status": "succeeded"}),
    ]
    result = gateway.charge(
        customer_reference="cus_1",
        amount=Decimal("99.99"),
        currency="EUR",
        idempotency_key="renewal-7",
        description="Renewal",
    )
    assert result.reference == "pi_9"
    _, create = server.received
    assert create["path"] == "/v1/payment_intents"
    assert create["headers"]["Idempotency-Key"] == "renewal-7"
    assert create["form"] == {
        "amount": "9999",
        "currency": "eur",
        "customer": "cus_1",
        "payment_method": "pm_1",
        "off_session": "true",
        "confirm": "true",
        "description": "Renewal",
    }
