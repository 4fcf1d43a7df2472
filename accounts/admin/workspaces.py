from django.contrib import admin

from accounts.admin.retention import RETENTION_ACTIONS, RetentionAdminMixin, RetentionFilter
from accounts.models import (
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from backoffice.admin_mixins import (
    RELATED_SEARCH_LIMIT,
    AppendOnlyAdmin,
    IndexedValuesFieldListFilter,
    LargeTableAdmin,
    money,
)

# Each backed by an index on PostgreSQL, so a search never scans the table: the slug's
# start (pattern b-tree), any word or part of the name (trigram GIN on UPPER(name)), the
# exact billing email in any case (UPPER(billing_email)).
WORKSPACE_SEARCH = ["slug__startswith", "name__icontains", "billing_email__iexact"]
WORKSPACE_SEARCH_HELP = (
    "Finds workspaces by a word of the name (“photo”), the start of the slug or the exact "
    "billing email; a number finds the workspace with that id."
)
RELATED_SEARCH_HELP = (
    "Finds the rows of workspaces matched by a word of the name, the start of the slug or "
    f"the exact billing email (the first {RELATED_SEARCH_LIMIT} workspaces matched)."
)


class MemberInline(admin.TabularInline):
    model = WorkspaceMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at"]


class ModuleInline(admin.TabularInline):
    model = WorkspaceModule
    extra = 0


@admin.register(Workspace)
class WorkspaceAdmin(RetentionAdminMixin, LargeTableAdmin):
    list_display = [
        "name",
        "slug",
        "status",
        "owner_email",
        "billing_email",
        "country",
        "storage_used_mb",
        "created_at",
        "last_activity_at",
        "legal_hold",
        "retention_column",
    ]
    # Only choice fields: a filter on a free-text column would run SELECT DISTINCT over it.
    list_filter = ["status", RetentionFilter, "suspension_reason", "legal_hold"]
    search_fields = WORKSPACE_SEARCH
    search_help_text = WORKSPACE_SEARCH_HELP
    search_id_fields = ("id",)
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    readonly_fields = [
        "status",
        "suspension_reason",
        "created_at",
        "last_activity_at",
        "ended_at",
        "deletion_warning_sent_at",
        "legal_hold",
        "legal_hold_reason",
        "deletion_due_at",
        "retention_timeline",
        "standing",
    ]
    inlines = [MemberInline, ModuleInline]
    actions = [*RETENTION_ACTIONS]

    @admin.display(description="owner", ordering="owner__email")
    def owner_email(self, obj: Workspace) -> str:
        return obj.owner.email


@admin.register(WorkspaceMember)
class WorkspaceMemberAdmin(LargeTableAdmin):
    """Each row is a seat."""

    list_display = ["user", "workspace", "role", "joined_at"]
    list_filter = ["role"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH] + [
        "user__email__startswith"
    ]
    search_help_text = (
        "Finds the seats of workspaces matched by a word of the name, the start of the slug "
        "or the exact billing email, and the seats of users whose email starts so."
    )
    list_select_related = ["user", "workspace"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(WorkspaceModule)
class WorkspaceModuleAdmin(LargeTableAdmin):
    list_display = ["code", "workspace", "enabled_at"]
    list_filter = [("code", IndexedValuesFieldListFilter)]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace"]
    autocomplete_fields = ["workspace"]


@admin.register(StoredFile)
class StoredFileAdmin(LargeTableAdmin):
    list_display = ["name", "workspace", "size_mb", "uploaded_by", "uploaded_at"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "uploaded_by"]
    autocomplete_fields = ["workspace", "uploaded_by"]


@admin.register(InternalMembership)
class InternalMembershipAdmin(LargeTableAdmin):
    """Orgix §15: shown for support context only — never ours to refund."""

    list_display = [
        "member_name",
        "workspace",
        "status",
        "price_display",
        "provider",
        "provider_reference",
        "created_at",
    ]
    list_filter = ["status", "provider", ("currency", IndexedValuesFieldListFilter)]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace"]
    autocomplete_fields = ["workspace"]
    price_display = money("price", description="price")


@admin.register(DeletionTombstone)
class DeletionTombstoneAdmin(AppendOnlyAdmin):
    list_display = ["workspace_id", "rule", "policy", "deleted_at", "ended_at", "last_activity_at"]
    list_filter = ["rule"]
    search_fields = ["policy__startswith"]
    search_id_fields = ("workspace_id",)
    readonly_fields = [f.name for f in DeletionTombstone._meta.fields]
