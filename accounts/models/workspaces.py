"""Workspaces and what they hold: members (each one a seat), modules and stored files.

Status changes go through `accounts.services.workspaces`; nothing else writes `status`.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

# The rows the workspace's secondary indexes hold: every workspace but the erased shells.
# The purge turns each erased workspace into a shell with new values in indexed columns,
# so each index not limited to live rows would take one more entry per shell (most of the
# cost of the shell's UPDATE). A query served by one of these indexes carries this
# condition: the workspace changelist lists live workspaces unless asked for the deleted,
# and searches of workspaces (here and through relations) look among live ones.
LIVE = ~models.Q(status="deleted")


class Workspace(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RESTRICTED = "restricted", "Restricted (over Free plan limits or unpaid)"
        SUSPENDED = "suspended", "Suspended"
        DISABLED = "disabled", "Disabled"
        DELETED = "deleted", "Deleted"

    class SuspensionReason(models.TextChoices):
        NONE = "", "—"
        NON_PAYMENT = "non_payment", "Non-payment"
        CHARGEBACK = "chargeback", "Open chargeback or dispute"
        MISUSE = "misuse", "Misuse or breach of terms"

    name = models.CharField(max_length=200)
    # Unique over every row (shells too); its prefix index holds live rows only.
    slug = models.SlugField(max_length=80, unique=True, db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_workspaces"
    )
    # Searched case-insensitively only (`workspace_live_billing_email`): a plain index
    # (and its LIKE twin) would be two more index entries for every erased shell.
    billing_email = models.EmailField()
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    vat_number = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspension_reason = models.CharField(
        max_length=16, choices=SuspensionReason.choices, default="", blank=True
    )
    storage_used_mb = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Retention: see accounts/retention.py for how these dates combine.
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When its last paid subscription ended."
    )
    deletion_warning_sent_at = models.DateTimeField(null=True, blank=True)
    # Denormalised from the dates above and the policy's retention rule, kept current by
    # accounts.services.retention so the changelist and the purge filter on one index.
    # Served by `workspace_due_keyset` (live rows, due date first).
    deletion_due_at = models.DateTimeField(null=True, blank=True)

    # Workspaces that are not erased shells (see `LIVE`): the condition of the indexes.
    LIVE = LIVE

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status"], condition=LIVE, name="workspace_live_status"),
            models.Index(
                fields=["last_activity_at"], condition=LIVE, name="workspace_live_activity"
            ),
            # Only the few on hold: an erased shell (never on hold) adds no entry.
            models.Index(
                fields=["legal_hold"], condition=models.Q(legal_hold=True), name="workspace_on_hold"
            ),
            models.Index(Upper("name"), condition=LIVE, name="workspace_live_name_upper"),
            # The changelist's order (the admin adds -pk to make it total).
            models.Index(fields=["name", "-id"], condition=LIVE, name="workspace_live_name_order"),
            # The admin's search by the start of a slug (`slug__startswith`).
            models.Index(
                fields=["slug"],
                opclasses=["varchar_pattern_ops"],
                condition=LIVE,
                name="workspace_live_slug_prefix",
            ),
            models.Index(
                fields=["suspension_reason"],
                condition=~models.Q(suspension_reason=""),
                name="workspace_suspended_reason",
            ),
            # The admin's case-insensitive billing email search (iexact).
            models.Index(
                Upper("billing_email"), condition=LIVE, name="workspace_live_billing_email"
            ),
            # The purge's pages (accounts.services.batching.due_pages): a range scan on
            # (due, id) from the cursor, the warning and hold flags read from the index.
            models.Index(
                fields=["deletion_due_at", "id"],
                include=["deletion_warning_sent_at", "legal_hold"],
                condition=LIVE,
                name="workspace_due_keyset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class WorkspaceMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        BILLING_ADMIN = "billing_admin", "Billing admin"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField()
    # The member's latest signed-in request (per seat: policies with seat rules credit
    # seats left unused); written at most once per ACTIVITY_WRITE_INTERVAL_SECONDS.
    last_active_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_seat_per_user"),
        ]
        # By ids, not by the workspace's name and the user's email: one index serves it.
        ordering = ["workspace_id", "role", "user_id"]
        indexes = [models.Index(fields=["workspace", "role", "user"], name="member_order")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.workspace.slug}"

    @property
    def can_manage_billing(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.BILLING_ADMIN)


class WorkspaceModule(models.Model):
    """A module (Membership, Events, CRM, ...) switched on for a workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="modules")
    code = models.SlugField(max_length=40)
    enabled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="module_enabled_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} on {self.workspace.slug}"


class StoredFile(models.Model):
    """Metadata of a file a workspace uploaded (the bytes live in object storage)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    size_mb = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.size_mb} MB)"
