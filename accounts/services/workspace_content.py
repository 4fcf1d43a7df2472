"""What a workspace holds: members (seats), stored files and enabled modules (orgix §5).

Invariants:
- Adding (a member, a file, a module) first asks `workspace_ensure_allowed`, so a workspace
  over its plan's limits is refused with a message naming the limit and how to fix it, and
  nothing is written.
- Removing is always allowed: it is how a customer gets back under the limits. When a
  workspace restricted for being over its limits (status restricted, no suspension reason)
  is within them again, the restriction is lifted by the same function that plan changes
  use (`workspace_limits_enforce`). Restrictions for non-payment or suspensions stay.
- Every change locks the workspace row first, so two concurrent additions cannot both pass
  the limit check, and `storage_used_mb` moves by exactly the file's size.
"""

from datetime import datetime

from django.db import transaction

from accounts.models import StoredFile, User, Workspace, WorkspaceMember, WorkspaceModule
from billing.errors import DomainError
from billing.policy.limits import Action
from billing.services.plan_changes import workspace_limits_enforce
from billing.services.restrictions import live_subscription, workspace_ensure_allowed

from .audit import audit_record


def _lock(workspace: Workspace) -> Workspace:
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


def _lift_restriction_if_within_limits(
    workspace: Workspace, *, actor: User | None, now: datetime
) -> None:
    """Only a limits restriction is lifted here; an active workspace is never restricted by
    a removal (that is the plan-change and period-end jobs' decision)."""
    if workspace.status != Workspace.Status.RESTRICTED or workspace.suspension_reason:
        return
    subscription = live_subscription(workspace)
    if subscription is None:
        return
    subscription.workspace = workspace
    workspace_limits_enforce(subscription=subscription, now=now, actor=actor)


# --- members ----------------------------------------------------------------------------


def member_add(
    *, workspace: Workspace, email: str, role: str, actor: User | None, now: datetime
) -> WorkspaceMember:
    """Give `email` a seat, creating the user (without a password: they set one through
    the password reset) if they have no account yet."""
    if role == WorkspaceMember.Role.OWNER:
        raise DomainError("A workspace has one owner; add a billing admin instead.", field="role")
    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        locked = _lock(workspace)
        if locked.members.filter(user__email__iexact=email).exists():
            raise DomainError(f"{email} already has a seat in this workspace.", field="email")
        workspace_ensure_allowed(workspace=locked, action=Action.ADD_USER, now=now)
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email)
        member = WorkspaceMember.objects.create(
            workspace=locked, user=user, role=role, joined_at=now
        )
        audit_record(
            actor=actor,
            action="workspace.member_add",
            target=member,
            now=now,
            after={"email": email, "role": role},
        )
    return member


def member_remove(*, member: WorkspaceMember, actor: User | None, now: datetime) -> None:
    """Free a seat. The owner's seat cannot be freed (transfer ownership first)."""
    with transaction.atomic():
        locked = _lock(member.workspace)
        member = WorkspaceMember.objects.select_related("user").get(pk=member.pk)
        if member.role == WorkspaceMember.Role.OWNER:
            raise DomainError("The owner's seat cannot be removed.", field="member")
        audit_record(
            actor=actor,
            action="workspace.member_remove",
            target=member,
            now=now,
            # The seat's times, for seat rules crediting the period's removed seats.
            before={
                "email": member.user.email,
                "role": member.role,
                "joined_at": member.joined_at,
                "last_active_at": member.last_active_at,
            },
        )
        member.delete()
        _lift_restriction_if_within_limits(locked, actor=actor, now=now)


# --- files ------------------------------------------------------------------------------


def file_record_upload(
    *, workspace: Workspace, name: str, size_mb: int, actor: User | None, now: datetime
) -> StoredFile:
    """Record an uploaded file and add its size to the workspace's storage."""
    if size_mb < 0:
        raise DomainError("The size cannot be negative.", field="size_mb")
    with transaction.atomic():
        locked = _lock(workspace)
        workspace_ensure_allowed(workspace=locked, action=Action.UPLOAD, now=now, amount=size_mb)
        stored = StoredFile.objects.create(
            workspace=locked, name=name, size_mb=size_mb, uploaded_by=actor, uploaded_at=now
        )
        locked.storage_used_mb += size_mb
        locked.save(update_fields=["storage_used_mb"])
        audit_record(
            actor=actor,
            action="workspace.file_upload",
            target=stored,
            now=now,
            after={"name": name, "size_mb": size_mb, "storage_used_mb": locked.storage_used_mb},
        )
    workspace.storage_used_mb = locked.storage_used_mb
    return stored


def file_delete(*, stored_file: StoredFile, actor: User | None, now: datetime) -> None:
    """Delete a file's record and give its size back (never below zero: storage counted
    before files were recorded one by one may be smaller than the sum)."""
    with transaction.atomic():
        locked = _lock(stored_file.workspace)
        stored_file = StoredFile.objects.get(pk=stored_file.pk)
        before = locked.storage_used_mb
        locked.storage_used_mb = max(0, before - stored_file.size_mb)
        locked.save(update_fields=["storage_used_mb"])
        audit_record(
            actor=actor,
            action="workspace.file_delete",
            target=stored_file,
            now=now,
            before={"name": stored_file.name, "storage_used_mb": before},
            after={"storage_used_mb": locked.storage_used_mb},
        )
        stored_file.delete()
        _lift_restriction_if_within_limits(locked, actor=actor, now=now)
    stored_file.workspace.storage_used_mb = locked.storage_used_mb


# --- modules ----------------------------------------------------------------------------


def module_enable(
    *, workspace: Workspace, code: str, actor: User | None, now: datetime
) -> WorkspaceModule:
    with transaction.atomic():
        locked = _lock(workspace)
        if locked.modules.filter(code=code).exists():
            raise DomainError(f"The {code} module is already enabled.", field="code")
        workspace_ensure_allowed(workspace=locked, action=Action.ENABLE_MODULE, now=now)
        module = WorkspaceModule.objects.create(workspace=locked, code=code, enabled_at=now)
        audit_record(
            actor=actor,
            action="workspace.module_enable",
            target=module,
            now=now,
            after={"code": code},
        )
    return module


def module_disable(*, module: WorkspaceModule, actor: User | None, now: datetime) -> None:
    """Switch a module off; its data is kept (reading is never restricted)."""
    with transaction.atomic():
        locked = _lock(module.workspace)
        module = WorkspaceModule.objects.get(pk=module.pk)
        audit_record(
            actor=actor,
            action="workspace.module_disable",
            target=module,
            now=now,
            before={"code": module.code, "enabled_at": module.enabled_at},
        )
        module.delete()
        _lift_restriction_if_within_limits(locked, actor=actor, now=now)
