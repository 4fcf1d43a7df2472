"""Retention offers: configuration validation, figures from the engine, one-click accept,
the page and API flows, and outcome counting."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditRecord
from billing.errors import DomainError
from billing.models import CancellationRequest, RetentionOffer, RetentionSession
from billing.retention_report import outcomes_by_offer, outcomes_by_reason
from billing.services.cancellations import cancellation_submit, cancellation_withdraw
from billing.services.renewals import subscriptions_renew_due
from billing.services.retention_offers import (
    offers_with_terms,
    retention_offer_accept,
    retention_session_cancelled,
    retention_session_open,
)
from tests.factories import PaymentFactory
from tests.factories.lifecycle import ScriptedGateway, family_plans, subscription_on

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def plans():
    return family_plans("orgix")


@pytest.fixture
def pro(plans):
    subscription = subscription_on(plans["pro"], start=START)
    PaymentFactory(subscription=subscription, amount=Decimal("100.00"), paid_at=START)
    return subscription


def offer(subscription, kind="downgrade", reason="too_expensive", **terms):
    defaults = {
        "downgrade": {"target_plan": None},
        "pause": {"max_pause_months": 3},
        "discount": {"discount_percent": Decimal("25"), "discount_periods": 2},
    }[kind]
    return RetentionOffer.objects.create(
        kind=kind,
        reason=reason,
        policy=subscription.policy,
        headline=f"{kind} offer",
        created_at=NOW,
        **{**defaults, **terms},
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "downgrade", "both": True}, "plan"),
        ({"kind": "downgrade"}, "target_plan"),
        ({"kind": "downgrade", "target": "max"}, "target_plan"),  # not cheaper
        ({"kind": "downgrade", "target": "free"}, "target_plan"),
        ({"kind": "pause", "max_pause_months": 13}, "max_pause_months"),
        ({"kind": "pause", "max_pause_months": 2, "discount_percent": 5}, "discount_percent"),
        ({"kind": "discount", "discount_percent": 100, "discount_periods": 1}, "discount_percent"),
        ({"kind": "discount", "discount_percent": 10, "discount_periods": 0}, "discount_periods"),
    ],
)
def test_bad_offer_configurations_are_refused_naming_the_field(plans, pro, fields, field):
    fields = dict(fields)
    candidate = RetentionOffer(
        kind=fields.pop("kind"),
        reason="too_expensive",
        plan=pro.plan,
        policy=pro.policy if fields.pop("both", False) else None,
        target_plan=plans[fields.pop("target")] if "target" in fields else None,
        headline="x",
        created_at=NOW,
        **fields,
    )

    with pytest.raises(ValidationError) as caught:
        candidate.full_clean()

    assert field in caught.value.message_dict


def test_a_valid_downgrade_offer_passes_validation(plans, pro):
    candidate = RetentionOffer(
        kind="downgrade",
        reason="too_expensive",
        plan=pro.plan,
        target_plan=plans["basic"],
        headline="Stay for less",
        created_at=NOW,
    )
    candidate.full_clean()


def test_orgix_downgrade_offer_takes_effect_at_the_period_end_with_exact_figures(plans, pro):
    downgrade = offer(pro, target_plan=plans["basic"])
    offer(pro, reason="missing_features", target_plan=plans["basic"])  # another reason

    (terms,) = offers_with_terms(subscription=pro, reason="too_expensive", now=NOW)

    assert terms.offer == downgrade
    assert (terms.pay_next, terms.pay_next_at) == (Decimal("50.00"), pro.current_period_end)
    assert terms.summary[0] == "You keep Pro until 1 April 2026; nothing is charged now."
    assert terms.summary[1] == "From 1 April 2026 you pay 50.00 EUR monthly instead of 100.00 EUR."


def test_accepting_is_one_audited_idempotent_call(plans, pro, django_capture_on_commit_callbacks):
    downgrade = offer(pro, target_plan=plans["basic"])
    session = retention_session_open(
        subscription=pro, reason="too_expensive", offers=[downgrade], actor=None, now=NOW
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = retention_offer_accept(session=session, offer=downgrade, actor=None, now=NOW)
    again = retention_offer_accept(session=session, offer=downgrade, actor=None, now=NOW)

    pro.refresh_from_db()
    assert (first.outcome, again.pk) == ("accepted", first.pk)
    assert first.retained_monthly_revenue == Decimal("50.00")
    assert pro.pending_plan == plans["basic"]
    assert pro.pending_plan_effective_at == pro.current_period_end
    assert AuditRecord.objects.filter(action="retention.accept").count() == 1
    assert AuditRecord.objects.filter(action="subscription.downgrade").count() == 1


def test_an_offer_not_shown_in_the_session_cannot_be_accepted(plans, pro):
    shown = offer(pro, target_plan=plans["basic"])
    other = offer(pro, kind="discount")
    session = retention_session_open(
        subscription=pro, reason="too_expensive", offers=[shown], actor=None, now=NOW
    )

    with pytest.raises(DomainError) as caught:
        retention_offer_accept(session=session, offer=other, actor=None, now=NOW)

    assert caught.value.field == "offer"
    assert RetentionSession.objects.get().outcome == ""


def test_a_discount_lasts_its_periods_then_the_full_price_returns(pro):
    discount = offer(pro, kind="discount")
    session = retention_session_open(
        subscription=pro, reason="too_expensive", offers=[discount], actor=None, now=NOW
    )
    retention_offer_accept(session=session, offer=discount, actor=None, now=NOW)
    gateway = ScriptedGateway()

    for month in (4, 5, 6, 7):
        at = dt.datetime(2026, month, 1, 1, tzinfo=dt.UTC)
        with time_machine.travel(at, tick=False):
            subscriptions_renew_due(now=timezone.now(), gateway=gateway)

    assert [amount for _, amount in gateway.charges] == [
        Decimal("75.00"),
        Decimal("75.00"),
        Decimal("100.00"),
        Decimal("100.00"),
    ]


def test_the_page_shows_offers_for_the_reason_and_accepts_in_one_click(plans, pro):
    downgrade = offer(pro, target_plan=plans["basic"])
    client = Client()
    client.force_login(pro.workspace.owner)
    url = reverse("billing:cancellation", args=[pro.workspace.slug])

    shown = client.post(url, {"reason": "too_expensive"})
    other_reason = client.post(url, {"reason": "switched"})
    session = RetentionSession.objects.get()
    accepted = client.post(
        reverse("billing:offer-accept", args=[pro.workspace.slug, downgrade.pk]),
        {"session": session.pk},
    )

    html = shown.content.decode()
    assert shown.status_code == 200 and "50.00 EUR on 1 April 2026" in html
    assert "Cancel anyway" in html and "No thanks, cancel my subscription" in html
    assert other_reason.status_code == 302  # no offer for that reason: submitted
    assert CancellationRequest.objects.get().reason == "switched"
    assert accepted.status_code == 302
    assert RetentionSession.objects.get().outcome == "accepted"


def test_declining_continues_the_cancellation_and_records_the_outcome(plans, pro):
    offer(pro, target_plan=plans["basic"])
    client = Client()
    client.force_login(pro.workspace.owner)
    url = reverse("billing:cancellation", args=[pro.workspace.slug])
    client.post(url, {"reason": "too_expensive"})
    session = RetentionSession.objects.get()

    declined = client.post(
        url, {"reason": "too_expensive", "reason_text": "", "declined_session": session.pk}
    )

    session.refresh_from_db()
    assert declined.status_code == 302
    request = CancellationRequest.objects.get()
    assert (session.outcome, session.cancellation) == ("cancelled", request)
    assert session.retained_monthly_revenue == 0


def test_the_api_lists_offers_and_accepts_with_an_idempotency_key(plans, pro):
    downgrade = offer(pro, target_plan=plans["basic"])
    client = APIClient()
    client.force_authenticate(pro.workspace.owner)
    slug = pro.workspace.slug

    listed = client.get(f"/api/workspaces/{slug}/cancellation/offers/?reason=too_expensive")
    bad = client.get(f"/api/workspaces/{slug}/cancellation/offers/?reason=nope")
    session = listed.json()["session"]
    accept = f"/api/workspaces/{slug}/cancellation/offers/{downgrade.pk}/accept/"
    headers = {"HTTP_IDEMPOTENCY_KEY": "accept-1"}
    first = client.post(accept, {"session": session}, format="json", **headers)
    replay = client.post(accept, {"session": session}, format="json", **headers)
    unknown = client.post(accept, {"session": 999}, format="json")

    body = listed.json()
    assert body["offers"][0]["pay_next"] == "50.00"
    assert body["offers"][0]["pay_next_at"].startswith("2026-04-01")
    assert body["cancellation"]["refund"] == "0.00"
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    assert first.status_code == 200 and first.json()["outcome"] == "accepted"
    assert replay["Idempotent-Replayed"] == "true"
    assert unknown.status_code == 400 and "session" in unknown.json()["errors"]


def test_outcomes_count_saved_only_after_30_days_without_cancelling(plans, pro):
    downgrade = offer(pro, target_plan=plans["basic"])
    early = NOW - dt.timedelta(days=45)

    def session(reason, at):
        return retention_session_open(
            subscription=pro, reason=reason, offers=[downgrade], actor=None, now=at
        )

    accepted = session("too_expensive", early)
    RetentionSession.objects.filter(pk=accepted.pk).update(
        outcome="accepted", accepted_offer=downgrade, retained_monthly_revenue=Decimal("50.00")
    )
    session("not_using", early)  # left, and never cancelled: saved
    recent = session("switched", NOW - dt.timedelta(days=3))  # left recently: pending
    cancelled = session("other", NOW - dt.timedelta(days=40))
    request, _ = cancellation_submit(
        workspace=pro.workspace,
        actor=None,
        reason="other",
        reason_text="",
        now=NOW - dt.timedelta(days=39),
    )
    retention_session_cancelled(session=cancelled, cancellation=request, now=request.created_at)
    cancellation_withdraw(request=request, actor=None, now=NOW - dt.timedelta(days=38))

    rows = {row.label: row for row in outcomes_by_reason(now=NOW)}
    by_offer = outcomes_by_offer(now=NOW)

    assert rows["Too expensive"].saved == 1 and rows["Too expensive"].accepted == 1
    assert rows["Too expensive"].retained_revenue == Decimal("50.00")
    assert (rows["Not using it"].left, rows["Not using it"].saved) == (1, 1)
    assert rows["Not using it"].save_rate == 100
    assert (rows["Switched to another product"].pending, recent.outcome) == (1, "")
    # A withdrawn request is not a cancellation: the customer stayed.
    assert rows["Other"].saved == 1 and rows["Other"].cancelled == 0
    assert [(row.label, row.accepted, row.saved) for row in by_offer] == [("downgrade offer", 1, 1)]
