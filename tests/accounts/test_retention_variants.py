"""Retention variants (external.md §3 Atlassian, §6 Basecamp / HEY) applied end to end:
counted from the cancellation request, different for trial and paid, parts of the data
kept on their own horizon; the purge, the activity write, the warning, the tombstone and
the agent's pages all read the same rule as the quote."""

import datetime as dt
from dataclasses import replace

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import DeletionTombstone, Workspace
from accounts.retention import (
    DeletionReason,
    RetentionFacts,
    data_kept_until,
    deletion_deadline,
    retained_parts,
    retention_timeline,
)
from accounts.services.purge import purge_run
from accounts.services.retention import workspaces_refresh_retention
from billing.admin.display import data_kept_line
from billing.policy.closure import retention_dates
from billing.policy.examples.atlassian import ATLASSIAN
from billing.policy.examples.basecamp import BASECAMP_CURRENT_V2, BASECAMP_RETENTION
from billing.policy.retention_terms import RetentionSubject, retention_terms
from billing.policy.rules import Condition, Phase, RetentionRule, Variant
from billing.policy.validation import rules_problems
from billing.services.cancellations import cancellation_approve, cancellation_submit
from billing.services.period_end import period_end_changes_apply
from tests.factories import PlanFactory, SubscriptionFactory, UserFactory
from tests.factories.billing import policy_version
from tests.factories.retention import workspace_with_data

D = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
TRIAL_END = D + dt.timedelta(days=14)


def day(n: int) -> dt.datetime:
    return D + dt.timedelta(days=n)


# --- the rule: counted from the request, never before the end ----------------------------


@pytest.mark.parametrize(
    ("asked", "ended", "due"),
    [
        (day(100), day(101), day(160)),  # asked the day before the end: 60 days from asking
        (day(41), day(101), day(101)),  # 60 days from asking fall on the end itself
        (day(40), day(101), day(101)),  # asked long before: never before the end
        (None, day(101), day(161)),  # no request recorded: from the end
    ],
)
def test_atlassian_deletes_60_days_after_the_request_but_never_before_the_end(asked, ended, due):
    facts = RetentionFacts(created_at=D, last_activity_at=ended, ended_at=ended, cancelled_at=asked)

    deadline = deletion_deadline(ATLASSIAN.retention, facts)

    assert (deadline.at, deadline.reason) == (due, DeletionReason.RETENTION_ENDED)


def test_the_quote_and_the_purge_give_the_same_date_for_a_request_long_before_the_end():
    asked, ends = day(40), day(365)
    quoted, _ = retention_dates(ATLASSIAN, asked, ends)
    facts = RetentionFacts(created_at=D, last_activity_at=None, ended_at=None)

    kept = data_kept_until(ATLASSIAN.retention, facts, ends_at=ends, active_at=asked)

    assert quoted == kept.at == ends


@pytest.mark.parametrize(
    ("decided_at", "trial_end", "days"),
    [
        (TRIAL_END - dt.timedelta(seconds=1), TRIAL_END, 14),  # cancelled inside the trial
        (TRIAL_END, TRIAL_END, 60),  # at the trial's end: paid
        (None, TRIAL_END, 60),  # still running: the policy's own rule
        (day(3), None, 60),  # no trial
    ],
)
def test_atlassian_trial_sites_keep_data_14_days_paid_ones_60(decided_at, trial_end, days):
    subject = RetentionSubject(
        channel="web",
        payment_method="card",
        country="DE",
        interval="month",
        plan_code="pro",
        subscribed_at=D,
        trial_end=trial_end,
        decided_at=decided_at,
    )

    rule = retention_terms(ATLASSIAN).rule_for(subject)

    assert rule.after_end_days == days


def test_a_variant_setting_retention_on_a_criterion_the_purge_cannot_decide_is_refused():
    clause = ATLASSIAN.retention.clause
    variant = Variant(
        "First year",
        Condition(phase=Phase.FIRST_YEAR, intervals=("year",)),
        {"retention": RetentionRule(5, None, clause)},
        clause,
    )
    rules = replace(ATLASSIAN, variants=(variant,))

    problems = [p for p in rules_problems(rules) if p.field.startswith("variants.")]

    assert [p.field for p in problems] == ["variants.0.when.phase"]
    assert "put the other rules in a variant of their own" in problems[0].message
    assert not [p for p in rules_problems(ATLASSIAN) if p.field.startswith("variants.")]


def test_parts_kept_longer_have_their_own_dates_and_appear_on_the_timeline():
    facts = RetentionFacts(created_at=D, last_activity_at=day(30), ended_at=day(30))

    parts = retained_parts(BASECAMP_CURRENT_V2.retention, facts)
    timeline = retention_timeline(BASECAMP_RETENTION, facts, now=day(31), warning_days=7)

    assert [(part.what, until) for part, until in parts] == [("Account credentials", None)]
    assert [(p.what, until) for p, until in retained_parts(BASECAMP_RETENTION, facts)] == [
        ("Backups", day(90))
    ]
    events = [(e.label, e.at) for e in timeline]
    assert ("End of retention (30 days after end)", day(60)) in events
    assert ("Backups deleted (60 days after end)", day(90)) in events


# --- end to end: request, approval, end, purge --------------------------------------------


def _atlassian_workspace(*, trial: bool):
    owner = UserFactory()
    plan = PlanFactory(policy_slug="example-atlassian", interval="month")
    subscription = SubscriptionFactory(
        workspace__owner=owner,
        plan=plan,
        started_at=D,
        current_period_start=TRIAL_END if not trial else D,
        current_period_end=day(44) if not trial else TRIAL_END,
        trial_end=TRIAL_END,
        status="trialing" if trial else "active",
    )
    return subscription, owner


@pytest.mark.django_db
@pytest.mark.parametrize(("trial", "kept_days"), [(True, 14), (False, 60)])
def test_an_atlassian_workspace_is_purged_on_the_date_its_quote_promised(trial, kept_days):
    subscription, owner = _atlassian_workspace(trial=trial)
    asked = D + dt.timedelta(days=10) if trial else day(30)
    request, _ = cancellation_submit(
        workspace=subscription.workspace,
        actor=owner,
        reason="too_expensive",
        reason_text="",
        now=asked,
    )
    promised = dt.datetime.fromisoformat(request.quote["data_retained_until"])
    cancellation_approve(request=request, actor=UserFactory(is_staff=True), now=asked)
    subscription.refresh_from_db()
    assert subscription.cancelled_at == request.created_at

    ends = dt.datetime.fromisoformat(request.quote["ends_at"])
    period_end_changes_apply(now=ends)
    workspace = Workspace.objects.get(pk=subscription.workspace_id)
    workspaces_refresh_retention(workspace_ids=[workspace.pk])
    workspace.refresh_from_db()

    assert workspace.deletion_due_at == promised == max(asked + dt.timedelta(days=kept_days), ends)
    purge_run(now=promised - dt.timedelta(days=7), batch_size=10)  # the warning
    purge_run(now=promised - dt.timedelta(seconds=1), batch_size=10)
    assert Workspace.objects.get(pk=workspace.pk).status != Workspace.Status.DELETED
    purge_run(now=promised, batch_size=10)
    assert Workspace.objects.get(pk=workspace.pk).status == Workspace.Status.DELETED


@pytest.mark.django_db
def test_hey_warns_and_records_what_it_keeps_indefinitely():
    ended = timezone.now().replace(microsecond=0) - dt.timedelta(days=61)
    workspace = workspace_with_data(policy_slug="example-basecamp", ended_at=ended)
    workspaces_refresh_retention(workspace_ids=[workspace.pk])
    workspace.refresh_from_db()
    due = workspace.deletion_due_at
    assert due == ended + dt.timedelta(days=60)

    purge_run(now=due, batch_size=10)
    assert "Account credentials: kept indefinitely" in mail.outbox[-1].body
    purge_run(now=due + dt.timedelta(days=7), batch_size=10)

    tombstone = DeletionTombstone.objects.get(workspace_id=workspace.pk)
    assert tombstone.retained == [
        {
            "what": "Account credentials",
            "until": None,
            "clause": "external.md §6 HEY: some data indefinitely",
        }
    ]


@pytest.mark.django_db
def test_the_agent_reads_the_request_counting_and_the_parts_kept_longer():
    subscription, _ = _atlassian_workspace(trial=False)
    asked = day(30)

    line = data_kept_line(subscription.workspace, subscription.policy_id, day(44), active_at=asked)

    assert "60 days after the cancellation request" in line
    basecamp = workspace_with_data(policy_slug="example-basecamp")
    classic = policy_version("example-basecamp", 1)
    line = data_kept_line(basecamp, classic.pk, day(44), active_at=asked)
    assert "30 days after the subscription ends" in line
    assert "Backups until" in line


@pytest.mark.django_db
def test_the_workspace_page_shows_the_request_the_end_and_what_is_kept_forever(admin_client):
    ended = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    workspace = workspace_with_data(policy_slug="example-basecamp", ended_at=ended)

    page = admin_client.get(f"/admin/accounts/workspace/{workspace.pk}/change/").content.decode()

    assert "Kept indefinitely: Account credentials" in page
    assert "Cancellation requested" in page
    assert "End of retention (60 days after end)" in page
