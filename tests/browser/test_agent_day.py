"""An agent's day in the admin, in Debian's chromium at 1400 px: the dashboard, a count to
its queue, a request, approval with the record's button, the refund it proposes; then a
Billing lead approves that refund. Screenshots of each page go to `test-artifacts/`."""

import re

import pytest
from django.utils import timezone

from accounts.demo import seed_demo
from billing.models import CancellationRequest, Refund, RefundReviewRequest, Subscription

from .test_cancellation_flow import ARTIFACTS, browser  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
VIEWPORT = {"width": 1400, "height": 900}


def _sign_in(browser, live_server, email: str, password: str):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT, timezone_id="Europe/Paris")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    # The sign-in's redirect must have landed before reloading: reloading a page still
    # navigating detached it once in CI.
    page.wait_for_url(f"{live_server.url}/admin/")
    page.reload()  # the time zone cookie is set by the first admin page
    return page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"agent-day-{name}.png"), full_page=True)


def _no_horizontal_scroll(page) -> bool:
    # A click that navigates returns once the new URL is committed, before the new document
    # has its root element; measuring then read `null` once in CI.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_agent_works_a_request_and_a_lead_approves_its_refund(live_server, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    seed_demo(workspaces=0, seed=7, now=timezone.now().replace(microsecond=0))
    request = CancellationRequest.objects.get(workspace__slug="showcase-submitted")

    agent = _sign_in(browser, live_server, "agent@example.com", "agent")
    assert "Open cancellation requests" in agent.inner_text(".work-figures")
    agent.wait_for_function("document.querySelector('#chart-cancellations').width > 0")
    _shot(agent, "1-dashboard")

    agent.click(".work-figure:has-text('Open cancellation requests')")
    assert "/admin/billing/cancellationrequest/" in agent.url
    assert "Open (submitted or in review)" in agent.inner_text("#changelist-filter")
    assert _no_horizontal_scroll(agent)
    _shot(agent, "2-queue")

    agent.click(f"#result_list a[href*='/cancellationrequest/{request.pk}/change/']")
    assert "Northwind Photo Collective" in agent.inner_text("#content")
    assert "Data kept until" in agent.inner_text("table.quote-summary")
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d CE[S]?T", agent.inner_text("#content"))
    _shot(agent, "3-request")

    agent.click(".record-action button:has-text('Approve and propose')")
    assert "1 refund proposal(s) await approval" in agent.inner_text(".messagelist")
    _shot(agent, "4-request-approved")

    refund = Refund.objects.get(cancellation=request)
    assert (
        refund.status == Refund.Status.PROPOSED and refund.proposed_by.email == "agent@example.com"
    )
    agent.goto(f"{live_server.url}/admin/billing/refund/{refund.pk}/change/")
    blocked = agent.locator(".record-action.blocked:has-text('Approve')")
    assert "Four eyes" in blocked.inner_text()
    assert agent.locator("input[name=_save]").count() == 0
    _shot(agent, "5-refund-four-eyes")

    lead = _sign_in(browser, live_server, "lead@example.com", "lead")
    lead.click(".work-figure:has-text('Refunds awaiting my approval')")
    assert "approval=mine" in lead.url
    assert _no_horizontal_scroll(lead)
    _shot(lead, "6-lead-queue")

    lead.click(f"#result_list a[href*='/refund/{refund.pk}/change/']")
    assert "Original payment method" in lead.inner_text("table.quote-summary")
    _shot(lead, "7-lead-refund")
    lead.click(".record-action button:has-text('Approve')")
    assert f"Refund #{refund.pk} approved" in lead.inner_text(".messagelist")
    _shot(lead, "8-lead-approved")

    refund.refresh_from_db()
    assert refund.status != Refund.Status.PROPOSED
    assert refund.decided_by.email == "lead@example.com"

    lead.goto(f"{live_server.url}/admin/accounts/workspace/?retention=due_soon")
    assert "retention" in lead.inner_text("#result_list thead").lower()
    assert _no_horizontal_scroll(lead)
    _shot(lead, "9-workspaces-due-soon")

    review = RefundReviewRequest.objects.get(workspace__slug="showcase-review-unverified")
    lead.goto(f"{live_server.url}/admin/billing/refundreviewrequest/{review.pk}/change/")
    propose = lead.locator(".record-action.blocked:has-text('Propose a refund')")
    assert "Verify the requester first." in propose.inner_text()
    _shot(lead, "10-review-unverified")

    dunning = Subscription.objects.get(workspace__slug="showcase-dunning")
    lead.goto(f"{live_server.url}/admin/billing/subscription/{dunning.pk}/change/")
    assert lead.locator(
        ".record-action:not(.blocked) button:has-text('Retry the charge now')"
    ).count()
    assert "Data kept until" in lead.inner_text("table.quote-summary")
    _shot(lead, "11-subscription-dunning")
