import datetime as dt

import factory

from accounts.models import User, Workspace, WorkspaceMember

EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password("password")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        skip_postgeneration_save = True

    name = factory.Faker("company")
    slug = factory.Sequence(lambda n: f"workspace-{n}")
    owner = factory.SubFactory(UserFactory)
    billing_email = factory.LazyAttribute(lambda o: o.owner.email)
    country = "LU"
    created_at = EPOCH
    last_activity_at = EPOCH

    @factory.post_generation
    def with_owner_seat(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            WorkspaceMember.objects.get_or_create(
                workspace=obj,
                user=obj.owner,
                defaults={"role": WorkspaceMember.Role.OWNER, "joined_at": obj.created_at},
            )


class WorkspaceMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkspaceMember

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = WorkspaceMember.Role.MEMBER
    joined_at = factory.LazyAttribute(lambda o: o.workspace.created_at)

    class Params:
        billing_admin = factory.Trait(role=WorkspaceMember.Role.BILLING_ADMIN)
