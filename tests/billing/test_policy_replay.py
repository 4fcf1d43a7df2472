"""Stored snapshots and replay: every stored quote keeps its snapshot; a draft replayed on
past cases against the version in force, with totals computed by hand."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditRecord
from billing.errors import DomainError
from billing.models import CancellationRequest, PolicyReplay, Refund
from billing.policy.presets import CONNEX, PRORATED_CREDIT
from billing.policy.replay import ReplayCase, Version, replay_batch
from billing.policy.rules import Interval, PaymentKind
from billing.policy.snapshot import PaymentSnapshot, SubscriptionSnapshot
from billing.quote_snapshots import snapshot_from_json, snapshots_as_they_stood
from billing.selectors import subscription_snapshot
from billing.services.cancellations import cancellation_approve, cancellation_submit
from billing.services.plan_changes import subscription_downgrade
from billing.services.policies import policy_draft_create
from billing.services.replays import policy_replay, policy_replay_request
from billing.tasks import replay_policy
from tests.factories import PaymentFactory, PlanFactory, policy_version
from tests.factories.cancellations import (
    MID_PERIOD,
    make_agent,
    paid_subscription,
    refundable_connex,
)
from tests.factories.refunds import lead

pytestmark = pytest.mark.django_db
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


def submitted(subscription=None, now=MID_PERIOD):
    subscription = subscription or refundable_connex()
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=subscription.workspace.owner,
        reason="too_expensive",
        reason_text="",
        now=now,
    )
    return request


def seven_day_draft():
    """connex with a 7-day refund window: a cancellation on day 9 is no longer refunded."""
    draft = policy_draft_create(policy=policy_version("connex"), actor=None, now=MID_PERIOD)
    draft.rules = {**draft.rules, "refund_window": {**draft.rules["refund_window"], "days": 7}}
    draft.save()
    return draft


def test_a_cancellation_request_stores_the_snapshot_its_quote_came_from():
    request = submitted()

    stored = snapshot_from_json(request.snapshot)

    assert stored == subscription_snapshot(request.subscription)


def test_the_refund_of_a_cancellation_keeps_the_request_snapshot():
    request = submitted()

    cancellation_approve(request=request, actor=make_agent(), now=MID_PERIOD)

    assert Refund.objects.get().snapshot == request.snapshot


def test_a_plan_change_records_its_snapshot_and_new_price():
    subscription = refundable_connex()
    cheaper = PlanFactory(policy_slug="connex", name="Basic", tier_rank=1, price=Decimal("50.00"))

    subscription_downgrade(subscription=subscription, plan=cheaper, actor=None, now=MID_PERIOD)

    after = AuditRecord.objects.get(action="subscription.downgrade").after
    assert after["new_price"] == "50.00"
    assert snapshot_from_json(after["snapshot"]).payments == ()


def test_an_older_record_gets_its_snapshot_rebuilt_as_it_stood():
    request = submitted()
    later_payment_day = MID_PERIOD + dt.timedelta(days=30)
    PaymentFactory(subscription=request.subscription, paid_at=later_payment_day)

    rebuilt = snapshots_as_they_stood([(request.subscription_id, request.created_at)])

    assert rebuilt[(request.subscription_id, request.created_at)] == snapshot_from_json(
        request.snapshot
    )


def test_replay_totals_match_the_hand_computed_cases():
    # Two connex customers cancel on day 9 of their purchase: 100.00 each, refunded in
    # full under the 30-day window; under a 7-day window nothing is refunded.
    first, second = submitted(), submitted()
    draft = seven_day_draft()

    summary = policy_replay(candidate=draft, since=SINCE, until=UNTIL)

    assert (summary["cases"], summary["changed"], summary["errors"]) == (2, 2, 0)
    usd = summary["totals"]["USD"]
    assert usd["baseline"] == {"refunded": "200.00", "credit": "0.00", "due": "0.00"}
    assert usd["candidate"]["refunded"] == "0.00"
    assert usd["difference"]["refunded"] == "-200.00"
    assert {case["ref"] for case in summary["most_changed"]} == {
        f"cancellation:{first.pk}",
        f"cancellation:{second.pk}",
    }


def test_replaying_the_version_in_force_against_itself_changes_nothing():
    submitted()
    in_force = policy_version("connex")

    summary = policy_replay(candidate=in_force, since=SINCE, until=UNTIL)

    assert summary["cases"] == 1 and summary["changed"] == 0
    assert set(summary["totals"]["USD"]["difference"].values()) == {"0.00"}
    assert summary["refusals"]["difference"] == 0


def test_a_record_without_its_snapshot_replays_the_same():
    request = submitted()
    draft = seven_day_draft()
    with_snapshot = policy_replay(candidate=draft, since=SINCE, until=UNTIL)
    CancellationRequest.objects.filter(pk=request.pk).update(snapshot=None)

    rebuilt = policy_replay(candidate=draft, since=SINCE, until=UNTIL)

    assert rebuilt["totals"] == with_snapshot["totals"]


def test_cases_outside_the_period_or_of_another_policy_are_not_replayed():
    submitted(now=MID_PERIOD)
    submitted(paid_subscription("orgix"))

    summary = policy_replay(
        candidate=seven_day_draft(), since=MID_PERIOD + dt.timedelta(hours=1), until=UNTIL
    )

    assert summary["cases"] == 0


def test_the_replay_task_records_progress_and_the_summary(django_capture_on_commit_callbacks):
    submitted()
    draft = seven_day_draft()

    with django_capture_on_commit_callbacks() as callbacks:
        replay = policy_replay_request(candidate=draft, days=90, actor=lead(), now=UNTIL)
    assert (replay.status, replay.total, len(callbacks)) == ("queued", 1, 1)
    replay_policy.apply(args=[replay.pk])

    replay.refresh_from_db()
    assert (replay.status, replay.done) == ("done", 1)
    assert replay.summary["totals"]["USD"]["difference"]["refunded"] == "-100.00"


def test_only_listed_periods_can_be_replayed():
    with pytest.raises(DomainError) as raised:
        policy_replay_request(candidate=seven_day_draft(), days=7, actor=lead(), now=UNTIL)

    assert raised.value.field == "days"
    assert not PolicyReplay.objects.exists()


def test_replay_policy_command_prints_the_summary(capsys):
    submitted()
    seven_day_draft()

    call_command("replay_policy", "connex@2", "--since", "2026-01-01", "--until", "2026-04-01")

    out = capsys.readouterr().out
    assert "Replayed 1 cases: connex@2 against connex@1 (in force)" in out
    assert "USD in force (connex@1): refunded 100.00, credit 0.00, still due 0.00" in out
    assert "USD difference: refunded -100.00" in out


def test_the_replay_pages_show_totals_and_open_a_case_under_both_versions(client):
    request = submitted()
    draft = seven_day_draft()
    replay = PolicyReplay.objects.create(
        candidate=draft,
        baseline=policy_version("connex", 1),
        since=SINCE,
        until=UNTIL,
        status=PolicyReplay.Status.DONE,
        summary=policy_replay(candidate=draft, since=SINCE, until=UNTIL),
        created_at=UNTIL,
    )
    client.force_login(lead())

    page = client.get(reverse("admin:billing_policy_replay_result", args=[replay.pk]))
    case = client.get(
        reverse("admin:billing_policy_replay_case", args=[replay.pk, f"cancellation:{request.pk}"])
    )

    assert "-100.00" in page.content.decode()
    text = case.content.decode()
    assert "Under connex@1" in text and "Under connex@2 (draft)" in text


def test_pure_replay_counts_refusals_and_credit_per_currency():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    case = ReplayCase(
        ref="cancellation:1",
        kind="cancellation",
        snapshot=SubscriptionSnapshot(
            currency="EUR",
            interval=Interval.MONTH,
            price=Decimal("31.00"),
            subscribed_at=start,
            trial_end=None,
            period_start=start,
            period_end=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            payments=(PaymentSnapshot("1", PaymentKind.SUBSCRIPTION, Decimal("31.00"), start),),
        ),
        at=dt.datetime(2026, 1, 11, tzinfo=dt.UTC),
    )
    refusing = dataclasses.replace(PRORATED_CREDIT, refusals=CONNEX.refusals)

    tally = replay_batch(
        [
            case,
            dataclasses.replace(
                case,
                ref="cancellation:2",
                snapshot=dataclasses.replace(case.snapshot, suspended_for_misuse=True),
            ),
        ],
        Version("prorated-credit@1", PRORATED_CREDIT),
        Version("prorated-credit@2", refusing),
    )
    summary = tally.summary(baseline="a", candidate="b")

    # 21 unused days of 31 at 1.00 a day go to customer credit under both versions.
    assert summary["totals"]["EUR"]["baseline"]["credit"] == "42.00"
    assert summary["refusals"] == {"baseline": 0, "candidate": 1, "difference": 1}
    assert summary["totals"]["EUR"]["difference"]["credit"] == "-21.00"


def test_replay_queries_do_not_grow_with_the_cases():
    draft = seven_day_draft()

    def queries_for(count):
        CancellationRequest.objects.all().delete()
        for _ in range(count):
            request = submitted()
            CancellationRequest.objects.filter(pk=request.pk).update(snapshot=None)
        with CaptureQueriesContext(connection) as captured:
            summary = policy_replay(candidate=draft, since=SINCE, until=UNTIL)
        assert summary["cases"] == count
        return len(captured)

    assert queries_for(2) == queries_for(6)
