"""Admin pages read as words, dates and money: no codes, no ISO strings, no raw JSON."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.retention import RetentionFacts, data_kept_until
from billing.admin.schedules import crontab_in_words
from billing.models import Refund
from billing.policy.rules import Clause, RetentionRule
from billing.services.cancellations import cancellation_approve, cancellation_submit
from tests.factories import PaymentFactory, SubscriptionFactory
from tests.factories.cancellations import MID_PERIOD, PERIOD_START, refundable_connex
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(MID_PERIOD, tick=False):
        yield


def _change_page(client, obj) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return client.get(url).content.decode()


def _submitted():
    subscription = refundable_connex()
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason="too_expensive",
        reason_text="",
        now=MID_PERIOD,
    )
    return request


def _kept_line(page: str) -> str:
    return re.search(r"<th>Data kept until</th><td>(.*?)</td>", page, re.S).group(1)


def test_the_request_page_and_the_subscription_page_agree_on_data_kept_until(client):
    request = _submitted()
    client.force_login(agent())

    on_request = _kept_line(_change_page(client, request))
    on_subscription = _kept_line(_change_page(client, request.subscription))

    assert on_request == on_subscription
    assert "8 Jun 2026" in on_request and "terms of service" not in on_request


def test_data_kept_until_counts_inactivity_from_the_customers_last_visit():
    rule = RetentionRule(after_end_days=90, inactivity_days=30, clause=Clause("§1", ""))
    facts = RetentionFacts(created_at=PERIOD_START, last_activity_at=None, ended_at=None)
    ends = MID_PERIOD + dt.timedelta(days=20)

    deadline = data_kept_until(rule, facts, ends_at=ends, active_at=MID_PERIOD)

    assert (deadline.at, deadline.reason) == (MID_PERIOD + dt.timedelta(days=30), "inactivity")
    no_rule = RetentionRule(after_end_days=None, inactivity_days=None, clause=Clause("§1", ""))
    assert data_kept_until(no_rule, facts, ends_at=ends, active_at=MID_PERIOD) is None


def test_a_refund_shows_its_quote_as_the_lines_and_clauses_table(client):
    request = _submitted()
    cancellation_approve(request=request, actor=agent(), now=MID_PERIOD)
    refund = Refund.objects.get(cancellation=request)
    client.force_login(agent())

    page = _change_page(client, refund)

    assert '<table class="quote-lines">' in page
    assert "connex §" in page and "Original payment method" in page
    assert "original_payment_method" not in page and '"lines"' not in page


def test_dates_read_in_the_agents_time_zone(client):
    request = _submitted()
    client.force_login(agent())

    client.cookies["tz"] = "Europe/Paris"
    paris = _change_page(client, request)
    client.cookies["tz"] = "Not/AZone"
    fallback = _change_page(client, request)

    assert "10 Mar 2026, 13:00 CET" in paris  # submitted at 12:00 UTC
    assert "10 Mar 2026, 12:00 UTC" in fallback
    assert "2026-03-10T12:00:00" not in paris


def test_accidental_renewals_show_money_with_two_decimals(client):
    subscription = SubscriptionFactory(
        plan__currency="EUR", started_at=PERIOD_START - dt.timedelta(days=60)
    )
    PaymentFactory(
        subscription=subscription,
        amount=Decimal("28.07"),
        currency="EUR",
        paid_at=PERIOD_START,
    )
    client.force_login(agent())

    page = client.get(reverse("admin:billing_refund_accidental_renewals")).content.decode()

    assert "28.07 EUR" in page
    assert "28.0700" not in page


def test_periodic_tasks_show_their_schedule_in_words_and_last_run(client):
    client.force_login(agent())

    page = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))

    text = page.content.decode()
    assert "daily at 03:30 UTC" in text and "hourly at :05" in text
    assert "never yet" in text


@pytest.mark.parametrize(
    ("minute", "hour", "day_of_week", "words"),
    [
        ("5", "*", "*", "hourly at :05"),
        ("30", "6", "*", "daily at 06:30 UTC"),
        ("0", "4", "1", "every Monday at 04:00 UTC"),
        ("*/15", "*", "*", "cron “*/15 * * * *” (UTC)"),
    ],
)
def test_crontabs_read_as_words(minute, hour, day_of_week, words):
    from django_celery_beat.models import CrontabSchedule

    crontab = CrontabSchedule(minute=minute, hour=hour, day_of_week=day_of_week, timezone="UTC")
    assert crontab_in_words(crontab) == words
