"""Factories for what a workspace holds, and a helper building a workspace due for purge."""

import datetime as dt
from decimal import Decimal

import factory

from accounts.models import InternalMembership, StoredFile, WorkspaceModule

from .accounts import UserFactory, WorkspaceFactory, WorkspaceMemberFactory
from .billing import PlanFactory, SubscriptionFactory


class StoredFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoredFile

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"report-{n}.pdf")
    size_mb = 3
    uploaded_at = factory.LazyAttribute(lambda o: o.workspace.created_at)


class WorkspaceModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkspaceModule

    workspace = factory.SubFactory(WorkspaceFactory)
    code = factory.Sequence(lambda n: f"module-{n}")
    enabled_at = factory.LazyAttribute(lambda o: o.workspace.created_at)


class InternalMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InternalMembership

    workspace = factory.SubFactory(WorkspaceFactory)
    member_name = factory.Faker("name")
    member_email = factory.Sequence(lambda n: f"club-member{n}@example.org")
    price = Decimal("20.00")
    currency = "EUR"
    provider = InternalMembership.Provider.STRIPE
    created_at = factory.LazyAttribute(lambda o: o.workspace.created_at)


def workspace_with_data(
    *,
    policy_slug: str = "connex",
    extra_members: int = 1,
    files: int = 2,
    last_activity_at: dt.datetime | None = None,
    **workspace,
):
    """A workspace on a cancelled subscription of `policy_slug`, holding members, files,
    a module and an internal membership."""
    ws = WorkspaceFactory(**workspace)
    if last_activity_at is not None:
        ws.last_activity_at = last_activity_at
        ws.save(update_fields=["last_activity_at"])
    SubscriptionFactory(workspace=ws, plan=PlanFactory(policy_slug=policy_slug), cancelled=True)
    for _ in range(extra_members):
        WorkspaceMemberFactory(workspace=ws, user=UserFactory())
    StoredFileFactory.create_batch(files, workspace=ws)
    WorkspaceModuleFactory(workspace=ws)
    InternalMembershipFactory(workspace=ws)
    return ws
