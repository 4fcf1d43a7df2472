"""Limits on changes as the services apply them: pauses and downgrades refused naming the
limit, offers not proposing what a limit forbids, a cancellation past the Free plan limit
falling back otherwise; the account's history read from the audit trail."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from accounts.models import AuditRecord
from billing.account_history import account_changes
from billing.errors import DomainError
from billing.models import RefundPolicy, RetentionOffer
from billing.policy.presets import ORGIX
from billing.policy.rules import ChangeLimit, Clause, Fallback, LimitedChange, LimitPer
from billing.selectors import quote_for_subscription
from billing.services.pauses import subscription_pause, subscription_resume
from billing.services.plan_changes import plan_change_preview, subscription_downgrade
from billing.services.retention_offers import offers_with_terms
from tests.factories import PaymentFactory
from tests.factories.lifecycle import family_plans, subscription_on

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
PAUSES = ChangeLimit(LimitedChange.PAUSE, 1, LimitPer.YEAR, Clause("§7 one pause a year"))
DOWNGRADES = ChangeLimit(LimitedChange.DOWNGRADE, 1, LimitPer.ACCOUNT, Clause("§8 one downgrade"))
FREE_ONCE = ChangeLimit(
    LimitedChange.DOWNGRADE_TO_FREE, 1, LimitPer.ACCOUNT, Clause("§9 Free once per account")
)


def limited(subscription, *limits: ChangeLimit):
    """Put the subscription under orgix with these limits, as its own policy version."""
    policy = RefundPolicy.objects.create(
        slug="orgix-limited",
        version=RefundPolicy.objects.filter(slug="orgix-limited").count() + 1,
        title="Orgix with limits",
        effective_from=dt.date(2026, 1, 1),
        rules=replace(ORGIX, limits=limits).to_dict(),
    )
    subscription.policy = policy
    subscription.save(update_fields=["policy"])
    return subscription


@pytest.fixture
def plans():
    return family_plans("orgix")


@pytest.fixture
def pro(plans):
    subscription = subscription_on(plans["pro"], start=START)
    PaymentFactory(subscription=subscription, amount=Decimal("100.00"), paid_at=START)
    return subscription


def pause_offer(subscription):
    return RetentionOffer.objects.create(
        kind="pause",
        reason="too_expensive",
        policy=subscription.policy,
        headline="Pause instead",
        max_pause_months=2,
        created_at=NOW,
    )


def test_one_pause_a_year_refuses_the_second_naming_the_limit_and_changes_nothing(pro):
    limited(pro, PAUSES)
    subscription_pause(subscription=pro, months=1, actor=None, now=NOW)
    subscription_resume(subscription=pro, actor=None, now=NOW + dt.timedelta(days=1))

    with pytest.raises(DomainError) as refused:
        subscription_pause(subscription=pro, months=1, actor=None, now=NOW + dt.timedelta(days=2))

    assert refused.value.field == "limit"
    assert refused.value.message == (
        "This policy allows one pause per year (§7 one pause a year): already used on "
        "10 March 2026. The next is possible after 10 March 2027."
    )
    pro.refresh_from_db()
    assert pro.status == "active"
    assert AuditRecord.objects.filter(action="subscription.pause").count() == 1


@pytest.mark.parametrize(
    ("paused_at", "allowed"),
    [
        pytest.param(NOW - dt.timedelta(days=365), True, id="a-year-and-a-day-ago-allowed"),
        pytest.param(NOW - dt.timedelta(days=364), False, id="within-the-year-refused"),
    ],
)
def test_the_pause_offer_is_shown_only_while_the_limit_allows_a_pause(pro, paused_at, allowed):
    limited(pro, PAUSES)
    offer = pause_offer(pro)
    AuditRecord.objects.create(
        action="subscription.pause",
        target_type="billing.subscription",
        target_id=str(pro.pk),
        workspace_id=pro.workspace_id,
        created_at=paused_at,
        actor_label="system",
    )

    shown = [t.offer for t in offers_with_terms(subscription=pro, reason="too_expensive", now=NOW)]

    assert shown == ([offer] if allowed else [])


def test_one_downgrade_per_account_refuses_the_second_in_preview_and_service(plans, pro):
    limited(pro, DOWNGRADES)
    subscription_downgrade(subscription=pro, plan=plans["basic"], actor=None, now=NOW)
    pro.refresh_from_db()

    with pytest.raises(DomainError, match=r"one downgrade per account \(§8 one downgrade\)"):
        plan_change_preview(subscription=pro, plan=plans["basic"], now=NOW)
    with pytest.raises(DomainError) as refused:
        subscription_downgrade(subscription=pro, plan=plans["basic"], actor=None, now=NOW)
    assert refused.value.field == "limit"


def test_the_downgrade_offer_is_not_shown_once_the_downgrade_limit_is_used(plans, pro):
    limited(pro, DOWNGRADES)
    offer = RetentionOffer.objects.create(
        kind="downgrade",
        reason="too_expensive",
        policy=pro.policy,
        headline="Basic instead",
        target_plan=plans["basic"],
        created_at=NOW,
    )
    before = [t.offer for t in offers_with_terms(subscription=pro, reason="too_expensive", now=NOW)]
    subscription_downgrade(subscription=pro, plan=plans["basic"], actor=None, now=NOW)
    pro.refresh_from_db()

    after = [t.offer for t in offers_with_terms(subscription=pro, reason="too_expensive", now=NOW)]

    assert (before, after) == ([offer], [])


def test_a_policy_without_limits_pauses_as_often_as_it_likes(pro):
    for day in (0, 2):
        subscription_pause(subscription=pro, months=1, actor=None, now=NOW + dt.timedelta(days=day))
        subscription_resume(subscription=pro, actor=None, now=NOW + dt.timedelta(days=day + 1))

    assert AuditRecord.objects.filter(action="subscription.pause").count() == 2


def test_account_changes_read_pauses_downgrades_and_cancellations_to_free(pro):
    def record(action, at, after=None):
        AuditRecord.objects.create(
            action=action,
            target_type="billing.subscription",
            target_id=str(pro.pk),
            workspace_id=pro.workspace_id,
            created_at=at,
            actor_label="system",
            after=after or {},
        )

    record("subscription.pause", START)
    record("subscription.cancel_apply", START + dt.timedelta(days=1), {"fallback": "disabled"})
    record("subscription.cancel_apply", START + dt.timedelta(days=2), {"fallback": "free_plan"})
    record("subscription.downgrade", START + dt.timedelta(days=3))

    assert [(e.change, e.at) for e in account_changes(pro.workspace_id)] == [
        (LimitedChange.PAUSE, START),
        (LimitedChange.DOWNGRADE_TO_FREE, START + dt.timedelta(days=2)),
        (LimitedChange.DOWNGRADE, START + dt.timedelta(days=3)),
    ]


def test_the_live_quote_falls_back_otherwise_once_the_free_plan_was_used(pro):
    limited(pro, FREE_ONCE)
    assert quote_for_subscription(pro, at=NOW).fallback == Fallback.FREE_PLAN

    AuditRecord.objects.create(
        action="subscription.cancel_apply",
        target_type="billing.subscription",
        target_id="0",
        workspace_id=pro.workspace_id,
        created_at=START - dt.timedelta(days=400),
        actor_label="system",
        after={"fallback": "free_plan"},
    )

    assert quote_for_subscription(pro, at=NOW).fallback == Fallback.DISABLED
