"""A customer cancels through the form and an agent approves it in the admin, in
Debian's chromium driven by Playwright against pytest-django's live server.

Screenshots are kept in `test-artifacts/` (gitignored)."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from billing.models import CancellationRequest
from tests.factories.cancellations import make_agent, paid_subscription

# Playwright's sync API runs an event loop in this thread; Django's ORM must still work here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` to install Debian's chromium.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()
        # Inside sync_playwright the test runs in another greenlet, whose context holds its
        # own database connection: close it here, or PostgreSQL can't drop the test database.
        connections.close_all()


def test_customer_submits_and_agent_approves(live_server, browser):
    now = timezone.now()
    subscription = paid_subscription("orgix", period_start=now - dt.timedelta(days=10))
    workspace = subscription.workspace
    make_agent()
    ARTIFACTS.mkdir(exist_ok=True)

    customer = browser.new_page()
    customer.goto(f"{live_server.url}/accounts/login/?next=/")
    customer.fill("#id_username", workspace.owner.email)
    customer.fill("#id_password", "password")
    customer.click("button[type=submit]")
    customer.click(f"a[href='/workspaces/{workspace.slug}/cancel/']")
    assert "moved to the Free plan" in customer.inner_text("#fallback")
    customer.select_option("#id_reason", "not_using")
    customer.fill("#id_reason_text", "We moved to spreadsheets.")
    customer.screenshot(path=str(ARTIFACTS / "cancellation-form.png"), full_page=True)
    customer.click("text=Confirm cancellation")
    assert customer.inner_text("#status") == "Submitted"
    customer.screenshot(path=str(ARTIFACTS / "cancellation-submitted.png"), full_page=True)

    agent = browser.new_page()
    agent.goto(f"{live_server.url}/admin/login/?next=/admin/billing/cancellationrequest/")
    agent.fill("#id_username", "agent@support.example")
    agent.fill("#id_password", "password")
    agent.click("input[type=submit]")
    agent.check("input[name=_selected_action]")
    agent.select_option("select[name=action]", "approve")
    agent.click("button[name=index]")
    assert "Approved: 1 request(s)" in agent.inner_text(".messagelist")
    agent.screenshot(path=str(ARTIFACTS / "cancellation-approved-admin.png"), full_page=True)

    request = CancellationRequest.objects.get(workspace=workspace)
    assert request.status == CancellationRequest.Status.APPROVED
    assert request.reason_text == "We moved to spreadsheets."
    customer.reload()
    assert customer.inner_text("#status").startswith("Approved")
