import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.demo import DEMO_LOGINS, seed_demo
from accounts.models import (
    AuditRecord,
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    User,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from billing.models import (
    AddOn,
    CancellationRequest,
    CreditEntry,
    Dispute,
    OnboardingService,
    Payment,
    Plan,
    Refund,
    RefundReviewRequest,
    Subscription,
)
from billing.policy.presets import PRESETS

from .conftest import DEMO_NOW


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for app in ("accounts", "billing")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.mark.django_db
def test_a_second_run_creates_nothing(demo_data):
    before = _row_counts()

    summary = seed_demo(workspaces=30, seed=7, now=DEMO_NOW)

    assert summary.created == {}
    assert summary.skipped_workspaces == 32
    assert _row_counts() == before


@pytest.mark.django_db
def test_demo_logins_sign_in(client, demo_data):
    for login in DEMO_LOGINS:
        assert client.login(email=login.email, password=login.password), login.email

    agent = next(login for login in DEMO_LOGINS if login.group == "Support agent")
    user = User.objects.get(email=agent.email)
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Support agent"]


@pytest.mark.django_db
def test_the_demo_customer_owns_acme_on_a_live_paid_orgix_plan_and_a_connex_workspace(demo_data):
    acme = Workspace.objects.get(slug="acme")
    subscription = acme.subscriptions.get(status=Subscription.Status.ACTIVE)

    assert acme.owner.email == "owner@example.com"
    assert (subscription.plan.policy_slug, subscription.plan.interval) == ("orgix", "month")
    assert acme.payments.filter(status=Payment.Status.SUCCEEDED, tax__gt=0).exists()
    connex = Workspace.objects.get(slug="acme-connex", owner=acme.owner)
    assert connex.subscriptions.get().plan.policy_slug == "connex"


@pytest.mark.django_db
def test_every_status_is_present_on_every_policy(demo_data):
    combinations = set(Subscription.objects.values_list("plan__policy_slug", "status"))

    assert combinations >= {(slug, status) for slug in PRESETS for status in Subscription.Status}
    for slug in PRESETS:
        intervals = set(Plan.objects.filter(policy_slug=slug).values_list("interval", flat=True))
        assert intervals == {"none", "month", "year"}
    assert set(Plan.objects.filter(policy_slug="orgix").values_list("currency", flat=True)) == {
        "EUR"
    }


@pytest.mark.django_db
def test_the_default_size_holds_every_kind_of_record():
    seed_demo(workspaces=300, seed=2026, now=DEMO_NOW)

    assert set(Payment.objects.values_list("kind", flat=True)) == set(Payment.Kind.values)
    assert set(AddOn.objects.values_list("kind", flat=True)) == set(AddOn.Kind.values)
    assert set(WorkspaceMember.objects.values_list("role", flat=True)) == set(
        WorkspaceMember.Role.values
    )
    assert Subscription.objects.filter(plan__interval="none", status="active").count() > 50
    assert Workspace.objects.filter(legal_hold=True).exists()
    long_ago = DEMO_NOW.replace(year=DEMO_NOW.year - 1)
    assert Workspace.objects.filter(last_activity_at__lt=long_ago).count() >= 5
    assert Payment.objects.filter(disputes__isnull=False).exists()
    assert OnboardingService.objects.filter(completed_at__isnull=False).exists()
    assert InternalMembership.objects.filter(provider="hivepay").exists()
    assert not Payment.objects.filter(currency="USD", tax__gt=0).exists()


@pytest.mark.django_db
def test_subscription_dates_agree_with_their_status(demo_data):
    live = Subscription.objects.filter(status__in=Subscription.LIVE_STATUSES)
    ended = Subscription.objects.exclude(status__in=Subscription.LIVE_STATUSES)

    assert not live.exclude(current_period_start__lte=DEMO_NOW, current_period_end__gt=DEMO_NOW)
    assert not live.filter(status="trialing").exclude(trial_end__gt=DEMO_NOW)
    assert not ended.exclude(ended_at__lte=DEMO_NOW)
    assert not Workspace.objects.exclude(created_at__lt=DEMO_NOW)


@pytest.mark.django_db
def test_scaling_up_uses_bulk_inserts_not_a_query_per_row(demo_data):
    with CaptureQueriesContext(connection) as small:
        seed_demo(workspaces=50, seed=7, now=DEMO_NOW)
    with CaptureQueriesContext(connection) as large:
        seed_demo(workspaces=250, seed=7, now=DEMO_NOW)

    # 20 then 200 new workspaces (about 20 rows each): ten times the rows, a few more
    # INSERT batches (SQLite caps the parameters of one statement), not ten times the queries.
    assert Workspace.objects.filter(slug__startswith="demo-").count() == 250
    assert len(large) < 2 * len(small)
    assert len(large) < 100


@pytest.mark.django_db
def test_the_command_prints_the_logins_and_rejects_a_bad_date(capsys):
    call_command("seed_demo", "--workspaces", "2", "--now", "2026-11-22")

    out = capsys.readouterr().out
    assert "agent@example.com" in out and "created" in out
    with pytest.raises(CommandError, match="--now") as error:
        call_command("seed_demo", "--now", "yesterday")
    assert error.value.returncode == 2


# Dates of things that happened, with the path to the workspace they belong to. The other
# date columns are scheduled (period ends, retries, grace, deletion due) or not demo data.
EVENT_DATES = {
    Workspace: ("", ["created_at", "last_activity_at", "ended_at"]),
    WorkspaceMember: ("workspace__", ["joined_at"]),
    WorkspaceModule: ("workspace__", ["enabled_at"]),
    StoredFile: ("workspace__", ["uploaded_at"]),
    InternalMembership: ("workspace__", ["created_at"]),
    Subscription: (
        "workspace__",
        ["started_at", "current_period_start", "cancelled_at", "ended_at", "past_due_since"],
    ),
    AddOn: ("subscription__workspace__", ["started_at"]),
    OnboardingService: ("subscription__workspace__", ["completed_at"]),
    Payment: ("workspace__", ["paid_at", "period_start"]),
    Dispute: ("payment__workspace__", ["opened_at", "closed_at"]),
    CancellationRequest: ("workspace__", ["created_at", "decided_at"]),
    Refund: ("workspace__", ["created_at", "decided_at", "completed_at"]),
    CreditEntry: ("workspace__", ["created_at"]),
    RefundReviewRequest: ("workspace__", ["created_at"]),
    AuditRecord: (None, ["created_at"]),
    DeletionTombstone: (None, ["workspace_created_at", "last_activity_at", "deleted_at"]),
}


@pytest.mark.django_db
def test_nothing_is_dated_in_the_future_or_before_its_workspace_was_created():
    seed_demo(workspaces=300, seed=11, now=DEMO_NOW)

    future, too_early = [], []
    for model, (workspace, fields) in EVENT_DATES.items():
        assert model.objects.exists(), model._meta.label
        for name in fields:
            if model.objects.filter(**{f"{name}__gt": DEMO_NOW}).exists():
                future.append(f"{model._meta.label}.{name}")
            if workspace is not None and model.objects.filter(
                **{f"{name}__lt": F(f"{workspace}created_at")}
            ):
                too_early.append(f"{model._meta.label}.{name}")
    assert future == []
    assert too_early == []
    assert not User.objects.filter(date_joined__gt=DEMO_NOW).exists()
    tombstones = DeletionTombstone.objects.filter(deleted_at__lt=F("workspace_created_at"))
    assert not tombstones.exists()
