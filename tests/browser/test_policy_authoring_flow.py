"""A Billing lead drafts a shorter refund window for connex, reads what changes, replays
the draft on the demo data, reads the difference and publishes it: Debian's chromium
driven by Playwright against the live server. Screenshots go to `test-artifacts/`."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.demo import seed_demo
from billing.models import RefundPolicy
from billing.services.cancellations import cancellation_submit
from billing.services.replays import policy_replay
from tests.browser.test_cancellation_flow import ARTIFACTS, browser  # noqa: F401  (fixture)
from tests.factories import policy_version
from tests.factories.cancellations import paid_subscription
from tests.factories.refunds import lead

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_billing_lead_drafts_replays_and_publishes_a_shorter_window(live_server, browser):  # noqa: F811
    now = timezone.now()
    seed_demo(workspaces=200, seed=7, now=now - dt.timedelta(days=1))
    for days_ago in (3, 5, 8):
        # Recent connex customers who cancelled on day 9 after buying: refunded in full
        # inside the 30-day window, not inside a 7-day one.
        bought = now - dt.timedelta(days=days_ago + 9)
        subscription = paid_subscription("connex", started_at=bought, period_start=bought)
        cancellation_submit(
            workspace=subscription.workspace,
            actor=subscription.workspace.owner,
            reason="too_expensive",
            reason_text="",
            now=now - dt.timedelta(days=days_ago),
        )
    lead(email="policy-lead@example.com", password="password")
    connex = policy_version("connex")
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(
        f"{live_server.url}/admin/login/?next=/admin/billing/refundpolicy/{connex.pk}/change/"
    )
    page.fill("#id_username", "policy-lead@example.com")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.click("text=Draft a new version")

    # The structured editor: one section per rule, clause and reading with each.
    assert page.locator("legend", has_text="Refund window").count() == 1
    window = page.locator("[name='rules-refund_window.days']")
    assert window.input_value() == "30"
    window.fill("-5")
    page.fill("[name='details-changelog']", "Refund window shortened to 7 days.")
    page.click("text=Save draft")
    assert "must not be negative" in page.inner_text("#policy-editor")
    page.screenshot(path=str(ARTIFACTS / "policy-editor-error.png"), full_page=False)
    page.locator("[name='rules-refund_window.days']").fill("7")
    page.locator("legend", has_text="Refund window").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "policy-editor.png"), full_page=False)
    page.click("text=Save draft")
    draft = RefundPolicy.objects.get(slug="connex", version=connex.version + 1)
    assert draft.rules["refund_window"]["days"] == 7

    page.click("text=see what changes")
    assert page.inner_text(".policy-diff") == "refund window: 30 → 7 days from first payment"
    page.screenshot(path=str(ARTIFACTS / "policy-diff.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/billing/refundpolicy/{draft.pk}/replay/")
    page.click("text=Replay the last 90 days")
    page.wait_for_selector("#replay-summary")
    expected = policy_replay(candidate=draft, since=now - dt.timedelta(days=90), until=now)
    summary = page.inner_text("#replay-summary")
    assert re.search(rf"\b{expected['cases']}\b cases replayed", summary)
    totals = page.inner_text("#replay-totals")
    assert "Refunded (USD)" in totals and "Refusals" in totals
    difference = expected["totals"]["USD"]["difference"]["refunded"]
    assert Decimal(difference) < 0  # the three recent customers at least lose their refund
    assert difference in totals
    assert page.locator("#replay-cases tr").count() >= 4  # header and the three cases
    page.screenshot(path=str(ARTIFACTS / "policy-replay.png"), full_page=True)
    page.locator("#replay-cases a", has_text="Open both quotes").first.click()
    assert "Under connex@1" in page.inner_text("#content")
    page.screenshot(path=str(ARTIFACTS / "policy-replay-case.png"), full_page=True)
    page.go_back()

    page.click(f"text=Publish {draft.label}")
    page.check("input[value='new_only']")
    page.screenshot(path=str(ARTIFACTS / "policy-publish.png"), full_page=True)
    page.click(f"input[value='Publish {draft.label}']")
    assert f"Published {draft.label}" in page.inner_text(".messagelist")
    page.screenshot(path=str(ARTIFACTS / "policy-published.png"), full_page=True)
    draft.refresh_from_db()
    assert (draft.state, draft.moves, draft.published_by.email) == (
        "published",
        "new_only",
        "policy-lead@example.com",
    )
