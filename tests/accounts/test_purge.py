import datetime as dt
import threading
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.models import (
    DeletionTombstone,
    DeletionWarning,
    InternalMembership,
    StoredFile,
    User,
    Workspace,
    WorkspaceMember,
)
from accounts.services import purge
from accounts.services.batching import due_id_batches
from accounts.services.deletion_warnings import purge_send_warnings
from accounts.services.erasure import erased_owner_id
from accounts.services.purge import purge_batch, purge_run
from accounts.services.purge_selection import due_for_deletion
from accounts.services.retention import workspaces_refresh_retention
from accounts.tasks import purge_inactive_workspaces_daily
from billing.models import Dispute, Payment, Refund, Subscription
from tests.factories import (
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.factories.retention import workspace_with_data

from .mail_backends import DyingBackend, WorkerKilled

pytestmark = pytest.mark.django_db

# connex: last activity on 2025-01-01 + 90 days of inactivity → due 2025-04-01.
DUE = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
WARNED = DUE - dt.timedelta(days=7)
LATER = DUE + dt.timedelta(days=1)


def _due(n=1, **kwargs) -> list[Workspace]:
    workspaces = [workspace_with_data(**kwargs) for _ in range(n)]
    workspaces_refresh_retention(workspace_ids=[ws.pk for ws in workspaces])
    return workspaces


def _warned(n=1, **kwargs) -> list[Workspace]:
    workspaces = _due(n, **kwargs)
    Workspace.objects.filter(pk__in=[ws.pk for ws in workspaces]).update(
        deletion_warning_sent_at=WARNED
    )
    return workspaces


def _deleted(ws: Workspace) -> bool:
    return Workspace.objects.get(pk=ws.pk).status == Workspace.Status.DELETED


def test_owner_is_warned_once_then_the_workspace_is_erased_after_the_notice(
    django_capture_on_commit_callbacks,
):
    (ws,) = _due()
    owner_email = ws.owner.email

    with time_machine.travel(WARNED, tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("purge_inactive_workspaces", stdout=StringIO())
        call_command("purge_inactive_workspaces", stdout=StringIO())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner_email]
    assert "2025-04-01" in mail.outbox[0].subject
    assert f"/workspaces/{ws.slug}/export/" in mail.outbox[0].body
    assert not _deleted(ws)

    with time_machine.travel(DUE - dt.timedelta(hours=1), tick=False):
        call_command("purge_inactive_workspaces", stdout=StringIO())
    assert not _deleted(ws)

    out = StringIO()
    with time_machine.travel(DUE, tick=False):
        call_command("purge_inactive_workspaces", stdout=out)
    assert _deleted(ws)
    assert "1 deleted" in out.getvalue()
    tombstone = DeletionTombstone.objects.get(workspace_id=ws.pk)
    assert tombstone.rule == DeletionTombstone.Rule.INACTIVITY
    assert tombstone.policy == "connex@1"
    assert tombstone.counts == {
        "members": 2,
        "files": 2,
        "modules": 1,
        "internal_memberships": 1,
        "profiles_anonymised": 2,
    }
    assert len(mail.outbox) == 1


def test_an_undelivered_warning_is_sent_again_by_the_next_run(settings):
    (ws,) = _due()
    settings.EMAIL_BACKEND = "tests.accounts.mail_backends.RefusingBackend"

    assert purge_send_warnings(now=WARNED, batch_size=10) == 0
    assert Workspace.objects.get(pk=ws.pk).deletion_warning_sent_at is None
    assert DeletionWarning.objects.get(workspace=ws).sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert purge_send_warnings(now=WARNED, batch_size=10) == 1
    assert len(mail.outbox) == 1
    assert Workspace.objects.get(pk=ws.pk).deletion_warning_sent_at == WARNED
    assert DeletionWarning.objects.get(workspace=ws).sent_at == WARNED


def _emailed_workspaces() -> list[int]:
    slugs = {message.body.split("/workspaces/")[1].split("/")[0] for message in mail.outbox}
    return sorted(Workspace.objects.filter(slug__in=slugs).values_list("pk", flat=True))


@pytest.mark.parametrize("accepted_before_the_crash", [0, 3, 7])
def test_a_warning_pass_killed_mid_delivery_marks_only_emailed_workspaces(
    settings, accepted_before_the_crash
):
    workspaces = _due(9)
    settings.EMAIL_BACKEND = "tests.accounts.mail_backends.DyingBackend"
    DyingBackend.accept, DyingBackend.accepted = accepted_before_the_crash, 0

    with pytest.raises(WorkerKilled):
        purge_send_warnings(now=WARNED, batch_size=2)

    warned = sorted(
        Workspace.objects.filter(deletion_warning_sent_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    assert set(warned) <= set(_emailed_workspaces())
    assert len(warned) == accepted_before_the_crash // 2 * 2  # whole chunks committed

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    purge_send_warnings(now=WARNED, batch_size=2)
    assert _emailed_workspaces() == sorted(ws.pk for ws in workspaces)
    assert not Workspace.objects.filter(deletion_warning_sent_at__isnull=True).exists()
    assert not DeletionWarning.objects.filter(sent_at__isnull=True).exists()


def test_a_queued_warning_never_delivered_never_lets_the_workspace_be_erased(settings):
    (ws,) = _due()
    settings.EMAIL_BACKEND = "tests.accounts.mail_backends.RefusingBackend"
    purge_run(now=WARNED, batch_size=10)
    assert DeletionWarning.objects.filter(workspace=ws, sent_at__isnull=True).exists()

    purge_run(now=LATER + dt.timedelta(days=30), batch_size=10)

    assert not _deleted(ws)


def test_erasure_waits_the_notice_period_from_the_delivery_not_the_queueing(settings):
    (ws,) = _due()
    settings.EMAIL_BACKEND = "tests.accounts.mail_backends.RefusingBackend"
    purge_run(now=WARNED, batch_size=10)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    delivered = DUE + dt.timedelta(days=2)
    purge_run(now=delivered, batch_size=10)
    assert Workspace.objects.get(pk=ws.pk).deletion_warning_sent_at == delivered

    purge_run(now=delivered + dt.timedelta(days=6), batch_size=10)
    assert not _deleted(ws)
    purge_run(now=delivered + dt.timedelta(days=7), batch_size=10)
    assert _deleted(ws)


def test_a_warning_queued_before_new_activity_is_dropped_not_sent(settings):
    from accounts.services.activity import workspaces_touch_activity

    (ws,) = _due()
    settings.EMAIL_BACKEND = "tests.accounts.mail_backends.RefusingBackend"
    purge_send_warnings(now=WARNED, batch_size=10)
    workspaces_touch_activity(workspace_ids=[ws.pk], now=WARNED)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert purge_send_warnings(now=WARNED, batch_size=10) == 0
    assert mail.outbox == []
    assert not DeletionWarning.objects.filter(workspace=ws).exists()


def test_an_overdue_workspace_never_warned_is_warned_first_and_erased_a_notice_later():
    (ws,) = _due()

    purge_run(now=LATER, batch_size=10)
    assert not _deleted(ws)
    purge_run(now=LATER + dt.timedelta(days=7), batch_size=10)
    assert _deleted(ws)


def test_activity_after_the_warning_cancels_the_deletion():
    from accounts.services.activity import workspaces_touch_activity

    (ws,) = _warned()
    workspaces_touch_activity(workspace_ids=[ws.pk], now=DUE - dt.timedelta(days=1))

    purge_run(now=LATER, batch_size=10)

    ws.refresh_from_db()
    assert ws.status != Workspace.Status.DELETED
    assert ws.deletion_warning_sent_at is None
    assert ws.deletion_due_at == DUE + dt.timedelta(days=89)


def _open_dispute(ws):
    payment = PaymentFactory(subscription=ws.subscriptions.get())
    Dispute.objects.create(
        payment=payment, amount=payment.amount, currency=payment.currency, opened_at=DUE
    )


def _live_paid_subscription(ws):
    ws.subscriptions.update(status=Subscription.Status.EXPIRED)
    SubscriptionFactory(
        workspace=ws, plan=PlanFactory(policy_slug="connex"), status=Subscription.Status.PAST_DUE
    )


def _unresolved_refund(ws):
    payment = PaymentFactory(subscription=ws.subscriptions.get())
    Refund.objects.create(
        payment=payment,
        workspace=ws,
        amount=Decimal("10.00"),
        currency=payment.currency,
        destination=Refund.Destination.ORIGINAL_PAYMENT_METHOD,
        status=Refund.Status.FAILED,
        idempotency_key=f"refund-{ws.pk}",
        created_at=DUE,
    )


def _legal_hold(ws):
    Workspace.objects.filter(pk=ws.pk).update(legal_hold=True, legal_hold_reason="Court order")


@pytest.mark.parametrize(
    ("blocker", "name"),
    [
        (_legal_hold, "legal hold"),
        (_open_dispute, "open dispute"),
        (_live_paid_subscription, "live paid subscription"),
        (_unresolved_refund, "unresolved refund"),
    ],
)
def test_never_delete_rules_hold_a_due_workspace(blocker, name):
    (ws,) = _warned()
    blocker(ws)

    summary = purge_run(now=LATER, batch_size=10)
    tombstone = purge_batch(workspace_ids=[ws.pk], now=LATER)

    assert not _deleted(ws)
    assert tombstone.deleted == []
    assert summary.blocked[name] == 1
    assert not DeletionTombstone.objects.exists()


def test_a_free_plan_subscription_does_not_hold_the_workspace():
    (ws,) = _warned()
    ws.subscriptions.update(status=Subscription.Status.EXPIRED)
    SubscriptionFactory(workspace=ws, plan=PlanFactory(policy_slug="connex", free=True))

    purge_run(now=LATER, batch_size=10)

    assert _deleted(ws)


def test_financial_records_stay_on_an_anonymised_shell():
    (ws,) = _warned()
    payment = PaymentFactory(subscription=ws.subscriptions.get())
    shared = UserFactory()
    other = WorkspaceFactory()
    WorkspaceMember.objects.create(workspace=ws, user=shared, joined_at=DUE)
    WorkspaceMember.objects.create(workspace=other, user=shared, joined_at=DUE)
    staff = UserFactory(is_staff=True)
    WorkspaceMember.objects.create(workspace=ws, user=staff, joined_at=DUE)
    owner_pk = ws.owner_id

    purge_run(now=LATER, batch_size=10)

    shell = Workspace.objects.get(pk=ws.pk)
    assert shell.status == Workspace.Status.DELETED
    assert shell.name == f"Deleted workspace #{ws.pk}"
    assert shell.slug == f"deleted-{ws.pk}"
    assert (shell.billing_email, shell.vat_number) == ("", "")
    assert shell.owner_id == erased_owner_id()
    assert Payment.objects.get(pk=payment.pk).workspace_id == ws.pk
    assert Subscription.objects.filter(workspace=ws).exists()
    assert not WorkspaceMember.objects.filter(workspace=ws).exists()
    assert not StoredFile.objects.filter(workspace=ws).exists()
    assert not InternalMembership.objects.filter(workspace=ws).exists()
    owner = User.objects.get(pk=owner_pk)
    assert owner.email == f"erased-{owner_pk}@erased.invalid"
    assert (owner.full_name, owner.is_active, owner.has_usable_password()) == ("", False, False)
    assert User.objects.get(pk=shared.pk).email == shared.email
    assert User.objects.get(pk=staff.pk).email == staff.email


def test_people_owning_another_live_workspace_are_kept_and_shells_keep_no_one():
    first, second = _warned(2)
    owner_elsewhere = UserFactory()
    WorkspaceFactory(owner=owner_elsewhere)
    WorkspaceMember.objects.create(workspace=first, user=owner_elsewhere, joined_at=DUE)
    shell_owner = second.owner
    shell = WorkspaceFactory(
        owner=shell_owner, status=Workspace.Status.DELETED, with_owner_seat=False
    )
    in_both = UserFactory()
    for ws in (first, second):
        WorkspaceMember.objects.create(workspace=ws, user=in_both, joined_at=DUE)
    seats = WorkspaceMember.objects.filter(workspace=first).count()

    purge_run(now=LATER, batch_size=10)

    assert User.objects.get(pk=owner_elsewhere.pk).email == owner_elsewhere.email
    for erased in (shell_owner, in_both):
        assert User.objects.get(pk=erased.pk).email == f"erased-{erased.pk}@erased.invalid"
    assert Workspace.objects.get(pk=shell.pk).owner_id == shell_owner.pk
    counts = DeletionTombstone.objects.get(workspace_id=first.pk).counts
    assert counts["members"] == seats
    assert counts["profiles_anonymised"] == seats - 1  # all but the owner elsewhere


def test_tombstones_hold_no_personal_data():
    (ws,) = _warned(name="Acme Secret Club", vat_number="LU12345678")
    personal = [ws.name, ws.slug, ws.billing_email, ws.owner.email, ws.vat_number]
    personal += list(ws.members.values_list("user__email", flat=True))
    personal += list(ws.files.values_list("name", flat=True))
    personal += list(ws.internal_memberships.values_list("member_email", flat=True))

    purge_run(now=LATER, batch_size=10)

    tombstone = DeletionTombstone.objects.get(workspace_id=ws.pk)
    text = " ".join(str(getattr(tombstone, f.attname)) for f in tombstone._meta.fields)
    assert all(value not in text for value in personal)
    assert set(tombstone.counts) == {
        "members",
        "files",
        "modules",
        "internal_memberships",
        "profiles_anonymised",
    }


def test_dry_run_changes_nothing_and_says_why():
    due = _warned(2)
    (to_warn,) = _due()
    held = _warned()[0]
    _legal_hold(held)
    before = list(Workspace.objects.order_by("pk").values())

    out = StringIO()
    call_command("purge_inactive_workspaces", "--dry-run", "--now", "2025-04-02", stdout=out)

    assert list(Workspace.objects.order_by("pk").values()) == before
    assert not DeletionTombstone.objects.exists()
    assert mail.outbox == []
    text = out.getvalue()
    for ws in due:
        assert f"delete     #{ws.pk} {ws.slug}: due 2025-04-01 (inactivity, connex@1)" in text
    assert f"warn       #{to_warn.pk}" in text
    assert "would delete 2, warn 1" in text
    assert "1 by legal hold" in text


def test_a_crash_in_the_middle_of_a_batch_loses_nothing_and_a_rerun_finishes(monkeypatch):
    workspaces = _warned(4)
    real_erase = purge.workspaces_erase
    calls = {"n": 0}

    def crash_in_second_batch(**kwargs):
        erased = real_erase(**kwargs)
        calls["n"] += 1
        if calls["n"] == 2:  # the second batch has already erased its workspaces
            raise RuntimeError("worker killed")
        return erased

    monkeypatch.setattr(purge, "workspaces_erase", crash_in_second_batch)
    with pytest.raises(RuntimeError):
        purge_run(now=LATER, batch_size=2)
    assert [_deleted(ws) for ws in workspaces] == [True, True, False, False]
    assert StoredFile.objects.filter(workspace__in=workspaces[2:]).count() == 4
    assert WorkspaceMember.objects.filter(workspace__in=workspaces[2:]).count() == 4

    monkeypatch.undo()
    summary = purge_run(now=LATER, batch_size=2)
    assert summary.deleted == 2
    assert all(_deleted(ws) for ws in workspaces)
    assert DeletionTombstone.objects.count() == 4


def _batch_queries(extra_members: int, files: int) -> int:
    workspaces = _warned(3, extra_members=extra_members, files=files)
    with CaptureQueriesContext(connection) as ctx:
        result = purge_batch(workspace_ids=[ws.pk for ws in workspaces], now=LATER)
    assert len(result.deleted) == 3
    return len(ctx.captured_queries)


def test_statements_per_batch_do_not_depend_on_what_each_workspace_owns():
    erased_owner_id()
    small = _batch_queries(extra_members=1, files=1)
    large = _batch_queries(extra_members=8, files=12)
    assert small == large


def test_the_daily_task_fans_batches_out(settings):
    settings.PURGE_BATCH_SIZE = 2
    workspaces = _warned(3)

    with time_machine.travel(LATER, tick=False):
        queued = purge_inactive_workspaces_daily()

    assert queued == 2
    assert all(_deleted(ws) for ws in workspaces)


def test_command_rejects_bad_input_naming_the_option():
    with pytest.raises(CommandError, match="--now") as error:
        call_command("purge_inactive_workspaces", "--now", "yesterday")
    assert error.value.returncode == 2
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("purge_inactive_workspaces", "--batch-size", "0")


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_and_a_summary():
    _warned(3)
    out = _Terminal()
    with time_machine.travel(LATER, tick=False):
        call_command("purge_inactive_workspaces", "--batch-size", "2", stdout=out)
    assert "\r[####################----------] 2/3" in out.getvalue()
    assert "\r[##############################] 3/3" in out.getvalue()
    assert "3 deleted, 0 warned" in out.getvalue()


def test_limit_caps_the_deletions():
    _warned(3)
    summary = purge_run(now=LATER, batch_size=10, limit=2)
    assert summary.deleted == 2
    assert Workspace.objects.filter(status=Workspace.Status.DELETED).count() == 2


@pytest.mark.postgres("SKIP LOCKED")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_process_the_same_workspace():
    workspaces = _warned(12)
    erased_owner_id()
    barrier = threading.Barrier(2)
    taken: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def run(slot: int) -> None:
        try:
            barrier.wait()
            for ids in due_id_batches(due_for_deletion(now=LATER), batch_size=3):
                taken[slot].extend(purge_batch(workspace_ids=ids, now=LATER).deleted)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert set(taken[0]).isdisjoint(taken[1])
    assert sorted(taken[0] + taken[1]) == sorted(ws.pk for ws in workspaces)
    assert DeletionTombstone.objects.count() == 12


WARNING_PASS = """
import datetime as dt
import django
django.setup()
from accounts.services.deletion_warnings import purge_send_warnings
purge_send_warnings(now=dt.datetime.fromisoformat("{now}"), batch_size=2)
"""


@pytest.mark.postgres("a second process on the same committed data")
@pytest.mark.django_db(transaction=True)
def test_a_warning_process_killed_with_sigkill_leaves_no_workspace_warned_without_its_email(
    tmp_path,
):
    import email
    import os
    import signal
    import subprocess
    import sys
    import time

    workspaces = _due(8)
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "EMAIL_BACKEND": "tests.accounts.mail_backends.SlowFileBackend",
        "MAIL_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "memory://",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", WARNING_PASS.format(now=WARNED.isoformat())], env=env
    )
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("*.eml"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    def emailed_slugs() -> set[str]:
        slugs = set()
        for path in tmp_path.glob("*.eml"):
            body = email.message_from_bytes(path.read_bytes()).get_payload(decode=True).decode()
            slugs.add(body.split("/workspaces/")[1].split("/")[0])
        return slugs

    emailed = emailed_slugs()
    warned = set(
        Workspace.objects.filter(deletion_warning_sent_at__isnull=False).values_list(
            "slug", flat=True
        )
    )
    assert 3 <= len(emailed) < 8
    assert warned <= emailed

    purge_send_warnings(now=WARNED, batch_size=2)
    assert not Workspace.objects.filter(
        pk__in=[ws.pk for ws in workspaces], deletion_warning_sent_at__isnull=True
    ).exists()
    resent = {message.body.split("/workspaces/")[1].split("/")[0] for message in mail.outbox}
    assert {ws.slug for ws in workspaces} <= emailed | resent
