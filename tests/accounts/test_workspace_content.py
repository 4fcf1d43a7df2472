"""Free-plan restrictions made real: members, files and modules through the customer API.

The Free plan (tests.factories.cancellations.free_plan) allows 3 seats, 500 MB and 1 module.
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditRecord, StoredFile, User, Workspace, WorkspaceMember
from tests.factories import UserFactory, WorkspaceFactory, WorkspaceMemberFactory
from tests.factories.billing import AddOnFactory, SubscriptionFactory
from tests.factories.cancellations import crowd, free_plan, paid_subscription

pytestmark = pytest.mark.django_db


def restricted_free_workspace(**fields) -> Workspace:
    """A workspace that fell back to the Free plan and was restricted for its limits."""
    workspace = WorkspaceFactory(status=Workspace.Status.RESTRICTED, **fields)
    SubscriptionFactory(workspace=workspace, plan=free_plan())
    return workspace


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(workspace: Workspace, path: str) -> str:
    return f"/api/workspaces/{workspace.slug}/{path}"


def status_of(workspace: Workspace) -> str:
    workspace.refresh_from_db()
    return workspace.status


def test_over_the_seat_limit_adding_a_member_is_refused_but_lists_still_read():
    workspace = restricted_free_workspace()
    crowd(workspace, 4)
    owner = client_for(workspace.owner)

    refused = owner.post(url(workspace, "members/"), {"email": "new@example.com"})
    members = owner.get(url(workspace, "members/"))

    assert refused.status_code == 400
    message = refused.json()["errors"]["add_user"][0]
    assert "Free plan allows 3 seats" in message and "remove members" in message
    assert not User.objects.filter(email="new@example.com").exists()
    assert workspace.members.count() == 4
    assert members.status_code == 200 and len(members.json()) == 4
    assert owner.get(url(workspace, "files/")).status_code == 200
    assert owner.get(url(workspace, "modules/")).status_code == 200


def test_removing_members_back_within_the_limits_lifts_the_restriction():
    workspace = restricted_free_workspace()
    crowd(workspace, 4)
    owner = client_for(workspace.owner)
    extra = workspace.members.exclude(role=WorkspaceMember.Role.OWNER)

    first = owner.delete(url(workspace, f"members/{extra[0].pk}/"))

    assert first.status_code == 204
    assert status_of(workspace) == Workspace.Status.ACTIVE
    assert AuditRecord.objects.filter(
        action="workspace.status", workspace_id=workspace.pk, after__status="active"
    ).exists()
    owner.delete(url(workspace, f"members/{extra[0].pk}/"))
    added = owner.post(url(workspace, "members/"), {"email": "New@Example.com", "role": "member"})
    assert added.status_code == 201 and added.json()["email"] == "new@example.com"
    assert not User.objects.get(email="new@example.com").has_usable_password()


def test_uploads_over_the_storage_limit_are_refused_until_files_are_deleted():
    workspace = restricted_free_workspace(storage_used_mb=600)
    big = StoredFile.objects.create(
        workspace=workspace, name="video.mp4", size_mb=200, uploaded_at=workspace.created_at
    )
    member = WorkspaceMemberFactory(workspace=workspace).user
    client = client_for(member)

    refused = client.post(url(workspace, "files/"), {"name": "a.pdf", "size_mb": 10})
    deleted = client.delete(url(workspace, f"files/{big.pk}/"))
    uploaded = client.post(url(workspace, "files/"), {"name": "a.pdf", "size_mb": 50})
    too_big = client.post(url(workspace, "files/"), {"name": "b.pdf", "size_mb": 100})

    assert refused.status_code == 400
    assert "allows 500 MB of storage" in refused.json()["errors"]["upload"][0]
    assert deleted.status_code == 204 and uploaded.status_code == 201
    assert too_big.status_code == 400 and "550" in too_big.json()["errors"]["upload"][0]
    workspace.refresh_from_db()
    assert workspace.status == Workspace.Status.ACTIVE and workspace.storage_used_mb == 450
    listed = client.get(url(workspace, "files/")).json()
    assert listed["count"] == 1 and listed["results"][0]["uploaded_by"] == member.email


def test_modules_over_the_limit_are_refused_until_disabled():
    workspace = restricted_free_workspace()
    for code in ("crm", "events"):
        workspace.modules.create(code=code, enabled_at=workspace.created_at)
    owner = client_for(workspace.owner)

    refused = owner.post(url(workspace, "modules/"), {"code": "shop"})
    owner.delete(url(workspace, "modules/crm/"))
    lifted = status_of(workspace)
    owner.delete(url(workspace, "modules/events/"))
    enabled = owner.post(url(workspace, "modules/"), {"code": "shop"})

    assert refused.status_code == 400
    assert "allows 1 modules" in refused.json()["errors"]["enable_module"][0]
    assert lifted == Workspace.Status.ACTIVE
    assert enabled.status_code == 201
    assert list(workspace.modules.values_list("code", flat=True)) == ["shop"]


def test_a_non_payment_restriction_is_not_lifted_by_removals():
    workspace = restricted_free_workspace(suspension_reason="non_payment")
    module = workspace.modules.create(code="crm", enabled_at=workspace.created_at)

    client_for(workspace.owner).delete(url(workspace, f"modules/{module.code}/"))

    assert status_of(workspace) == Workspace.Status.RESTRICTED


def test_an_extra_seats_addon_allows_more_seats_on_a_paid_plan():
    subscription = paid_subscription()
    workspace = subscription.workspace
    crowd(workspace, 10)
    owner = client_for(workspace.owner)

    refused = owner.post(url(workspace, "members/"), {"email": "eleven@example.com"})
    AddOnFactory(subscription=subscription, kind="extra_seats", quantity=5)
    added = owner.post(url(workspace, "members/"), {"email": "eleven@example.com"})

    assert refused.status_code == 400 and "allows 10 seats" in refused.json()["detail"]
    assert added.status_code == 201 and workspace.members.count() == 11


def test_only_the_owner_or_a_billing_admin_manages_members_and_modules():
    workspace = paid_subscription().workspace
    member = WorkspaceMemberFactory(workspace=workspace)
    admin = WorkspaceMemberFactory(workspace=workspace, billing_admin=True)
    as_member = client_for(member.user)

    assert as_member.get(url(workspace, "members/")).status_code == 200
    assert as_member.post(url(workspace, "members/"), {"email": "x@example.com"}).status_code == 403
    assert as_member.delete(url(workspace, f"members/{admin.pk}/")).status_code == 403
    assert as_member.post(url(workspace, "modules/"), {"code": "crm"}).status_code == 403
    assert as_member.post(url(workspace, "files/"), {"name": "a", "size_mb": 1}).status_code == 201
    as_admin = client_for(admin.user)
    assert as_admin.post(url(workspace, "modules/"), {"code": "crm"}).status_code == 201
    assert as_admin.delete(url(workspace, f"members/{member.pk}/")).status_code == 204


def test_non_members_get_404_everywhere():
    workspace = paid_subscription().workspace
    stranger = client_for(UserFactory())

    for path in ("members/", "files/", "modules/"):
        assert stranger.get(url(workspace, path)).status_code == 404
    assert stranger.post(url(workspace, "files/"), {"name": "a", "size_mb": 1}).status_code == 404


def test_an_existing_seat_and_the_owner_seat_are_refused_by_field():
    workspace = paid_subscription().workspace
    owner = client_for(workspace.owner)
    owner_seat = workspace.members.get(role=WorkspaceMember.Role.OWNER)

    twice = owner.post(url(workspace, "members/"), {"email": workspace.owner.email.upper()})
    remove_owner = owner.delete(url(workspace, f"members/{owner_seat.pk}/"))

    assert twice.status_code == 400 and "email" in twice.json()["errors"]
    assert remove_owner.status_code == 400 and "member" in remove_owner.json()["errors"]


def test_adding_a_member_replays_with_the_same_idempotency_key():
    workspace = paid_subscription().workspace
    owner = client_for(workspace.owner)
    body = {"email": "once@example.com", "role": "billing_admin"}

    first = owner.post(url(workspace, "members/"), body, HTTP_IDEMPOTENCY_KEY="add-1")
    replay = owner.post(url(workspace, "members/"), body, HTTP_IDEMPOTENCY_KEY="add-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert workspace.members.filter(user__email="once@example.com").count() == 1


def test_the_content_endpoints_share_the_customer_rate_limit(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer": "2/min", "anon": "2/min"},
    }
    workspace = paid_subscription().workspace
    owner = client_for(workspace.owner)

    codes = [owner.get(url(workspace, path)).status_code for path in ("members/", "files/")]
    limited = owner.get(url(workspace, "modules/"))

    assert codes == [200, 200] and limited.status_code == 429
