"""Three customers in the portal, in Debian's chromium: one accepts a downgrade offer with
its exact figures, one pauses and the renewal job resumes them, one declines, cancels and
follows the request to "refund paid". Screenshots go to `test-artifacts/portal-*.png`."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import CancellationRequest, RetentionOffer, Subscription
from billing.services.cancellations import cancellation_approve
from billing.services.refunds import refund_approve
from billing.services.renewals import subscriptions_renew_due
from tests.browser.test_cancellation_flow import ARTIFACTS, browser  # noqa: F401 (fixture)
from tests.factories import PaymentFactory
from tests.factories.cancellations import make_agent, paid_subscription
from tests.factories.lifecycle import ScriptedGateway, family_plans, subscription_on
from tests.factories.refunds import lead

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign_in(browser, live_server, user):  # noqa: F811
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/?next=/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def offer(subscription, kind, reason, **terms) -> RetentionOffer:
    return RetentionOffer.objects.create(
        kind=kind,
        reason=reason,
        policy=subscription.policy,
        headline={
            "downgrade": "Stay for less on Basic",
            "pause": "Take a break instead",
        }[kind],
        created_at=timezone.now(),
        **terms,
    )


def test_a_customer_accepts_a_downgrade_with_its_exact_figures(live_server, browser):  # noqa: F811
    now = timezone.now()
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=now - dt.timedelta(days=10))
    PaymentFactory(subscription=subscription, amount=Decimal("100.00"), paid_at=now)
    offer(subscription, "downgrade", "too_expensive", target_plan=plans["basic"])
    workspace = subscription.workspace
    renews = f"{subscription.current_period_end:%-d %B %Y}"

    page = sign_in(browser, live_server, workspace.owner)
    card = page.locator(f"#workspace-{workspace.slug}")
    assert card.locator("[data-field=plan]").inner_text() == "Pro"
    assert card.locator("[data-field=price]").inner_text() == "100.00 EUR monthly"
    assert card.locator("[data-field=next-date]").inner_text() == f"Renews on {renews}"
    shot(page, "1-home")
    page.click(f"a[href='/workspaces/{workspace.slug}/cancel/']")
    page.select_option("#id_reason", "too_expensive")
    shot(page, "2-cancellation-form")
    page.click("text=Confirm cancellation")
    downgrade = page.locator("[data-kind=downgrade]")
    assert downgrade.locator(".pay-next").inner_text() == f"50.00 EUR on {renews}"
    assert f"You keep Pro until {renews}; nothing is charged now." in downgrade.inner_text()
    assert "0.00 EUR" in page.inner_text("#cancel-instead #refund")
    shot(page, "3-offers")
    downgrade.locator("button.accept").click()
    assert "Thank you for staying" in page.inner_text(".messages")
    shot(page, "4-accepted")

    subscription.refresh_from_db()
    assert subscription.pending_plan == plans["basic"]
    assert not CancellationRequest.objects.filter(workspace=workspace).exists()


def test_a_customer_pauses_and_the_renewal_job_resumes_them(live_server, browser):  # noqa: F811
    now = timezone.now()
    plans = family_plans("orgix")
    subscription = subscription_on(plans["pro"], start=now - dt.timedelta(days=10))
    offer(subscription, "pause", "temporary_pause", max_pause_months=3)
    workspace = subscription.workspace

    page = sign_in(browser, live_server, workspace.owner)
    page.click(f"a[href='/workspaces/{workspace.slug}/cancel/']")
    page.select_option("#id_reason", "temporary_pause")
    page.click("text=Confirm cancellation")
    pause = page.locator("[data-kind=pause]")
    pause.locator("select[name=months]").select_option("2")
    shot(page, "5-pause-offer")
    pause.locator("button.accept").click()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAUSED
    standing = page.locator(f"#workspace-{workspace.slug} [data-field=standing]").inner_text()
    assert standing == f"Paused until {subscription.resumes_at:%-d %B %Y}"
    shot(page, "6-paused")

    subscriptions_renew_due(
        now=subscription.resumes_at + dt.timedelta(hours=1), gateway=ScriptedGateway()
    )
    page.reload()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    card = page.locator(f"#workspace-{workspace.slug}")
    assert card.locator("[data-field=standing]").inner_text() == "Active"
    assert card.locator("[data-field=next-date]").inner_text() == (
        f"Renews on {subscription.current_period_end:%-d %B %Y}"
    )
    shot(page, "7-resumed")


def test_a_customer_declines_cancels_and_follows_it_to_refund_paid(live_server, browser):  # noqa: F811
    now = timezone.now()
    subscription = paid_subscription(
        "connex", started_at=now - dt.timedelta(days=5), period_start=now - dt.timedelta(days=5)
    )
    offer(subscription, "pause", "not_using", max_pause_months=2)
    workspace = subscription.workspace

    page = sign_in(browser, live_server, workspace.owner)
    page.click(f"a[href='/workspaces/{workspace.slug}/cancel/']")
    page.select_option("#id_reason", "not_using")
    page.click("text=Confirm cancellation")
    page.click("#decline")
    assert page.inner_text("#status") == "Submitted"
    shot(page, "8-submitted")

    request = CancellationRequest.objects.get(workspace=workspace)
    cancellation_approve(request=request, actor=make_agent(), now=timezone.now())
    page.reload()
    assert "Waiting for approval by our billing team" in page.inner_text("#refunds")
    shot(page, "9-approved")
    refund_approve(refund=request.refunds.get(), actor=lead(), now=timezone.now())
    page.reload()
    refunds = page.inner_text("#refunds")
    assert "Paid to your card" in refunds and "to your original payment method" in refunds
    assert page.inner_text("#status").startswith("Completed")
    shot(page, "10-refund-paid")
