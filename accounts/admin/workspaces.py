from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR, SEARCH_VAR
from django.utils import timezone

from accounts.admin.retention import RETENTION_ACTIONS, RetentionAdminMixin, RetentionFilter
from accounts.models import (
    DeletionTombstone,
    InternalMembership,
    StoredFile,
    Workspace,
    WorkspaceMember,
    WorkspaceModule,
)
from accounts.services.retention import (
    workspace_export_data,
    workspace_lift_legal_hold,
    workspace_place_legal_hold,
)
from accounts.services.workspaces import WORKSPACE_DETAIL_FIELDS, workspace_update_details
from accounts.views import export_response
from backoffice.admin_buttons import RecordButton, RecordButtonsAdmin
from backoffice.admin_guard import GuardedAdmin, ReadOnlyInline
from backoffice.admin_mixins import (
    RELATED_SEARCH_LIMIT,
    AppendOnlyAdmin,
    IndexedValuesFieldListFilter,
    LargeTableAdmin,
    money,
)
from backoffice.admin_queues import CsvExportAdmin
from backoffice.display import local_date
from backoffice.identifiers import parse_id
from billing.errors import DomainError

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


class WorkspaceStatusFilter(admin.SimpleListFilter):
    """Live workspaces unless the deleted are asked for: the secondary indexes (the name
    order, the searches, the filters) hold live workspaces only (`Workspace.LIVE`), so the
    erased shells, which the purge adds by the hundred thousand, are listed on their own.
    A numeric search finds the workspace with that id whatever its status."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Workspace.Status.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        if parse_id(request.GET.get(SEARCH_VAR, "").strip()) is not None:
            return queryset
        return queryset.filter(Workspace.LIVE)

    def choices(self, changelist):
        every, *statuses = super().choices(changelist)
        yield {**every, "display": "All but deleted"}
        yield from statuses


class MemberInline(ReadOnlyInline):
    model = WorkspaceMember
    fields = ["user", "role", "joined_at"]


class ModuleInline(ReadOnlyInline):
    model = WorkspaceModule
    fields = ["code", "enabled_at"]


@admin.register(Workspace)
class WorkspaceAdmin(
    RetentionAdminMixin, CsvExportAdmin, RecordButtonsAdmin, GuardedAdmin, LargeTableAdmin
):
    """Name and billing email are corrected by hand (audited); status, owner, retention and
    hold fields change only through the actions. Workspaces are created by sign-up."""

    list_display = [
        "name",
        "slug",
        "status",
        "owner_email",
        "billing_email",
        "last_activity_at",
        "legal_hold",
        "retention_column",
    ]
    # Only choice fields: a filter on a free-text column would run SELECT DISTINCT over it.
    list_filter = [WorkspaceStatusFilter, RetentionFilter, "suspension_reason", "legal_hold"]
    search_fields = WORKSPACE_SEARCH
    search_help_text = WORKSPACE_SEARCH_HELP
    search_id_fields = ("id",)
    search_ordering = ("-pk",)
    list_select_related = ["owner"]
    readonly_fields = ["retention_timeline", "standing"]
    editable_on_change = WORKSPACE_DETAIL_FIELDS
    addable = False
    inlines = [MemberInline, ModuleInline]
    actions = [*RETENTION_ACTIONS]
    change_list_template = "admin/queue_change_list.html"
    csv_filename = "workspaces"

    def get_ordering(self, request):
        """Erased shells newest first: the name index holds live workspaces only, and the
        primary key returns a page of shells in order."""
        status = request.GET.get(WorkspaceStatusFilter.parameter_name)
        if status == Workspace.Status.DELETED and ORDER_VAR not in request.GET:
            return ["-pk"]
        return super().get_ordering(request)

    def save_editable(self, request, obj, changes):
        try:
            workspace_update_details(
                workspace=obj, changes=changes, actor=request.user, now=timezone.now()
            )
        except DomainError as error:
            self.message_user(request, f"{error.field}: {error.message}", messages.ERROR)

    def record_buttons(self, request, obj: Workspace) -> list[RecordButton]:
        may = (
            ""
            if request.user.has_perm("accounts.change_workspace")
            else ("You may not change workspaces.")
        )
        deleted = "The workspace is deleted." if obj.status == Workspace.Status.DELETED else ""
        held = obj.legal_hold
        return [
            RecordButton(
                "place_hold",
                "Place on legal hold…",
                blocked=may or deleted or ("On legal hold already." if held else ""),
                asks="Reason for the legal hold (audited)",
            ),
            RecordButton(
                "lift_hold",
                "Lift legal hold…",
                blocked=may or deleted or ("" if held else "Not on legal hold."),
                asks="Reason for lifting the hold (audited)",
            ),
            RecordButton("export", "Export data as JSON", blocked=may or deleted),
            RecordButton(
                "delete",
                "Delete at the customer's request…",
                blocked=may or deleted or ("On legal hold." if held else ""),
                list_action="delete_on_request",
            ),
        ]

    def do_place_hold(self, request, obj: Workspace, data) -> str:
        workspace_place_legal_hold(
            workspace=obj, reason=data["text"], actor=request.user, now=timezone.now()
        )
        return f"{obj} is on legal hold."

    def do_lift_hold(self, request, obj: Workspace, data) -> str:
        workspace_lift_legal_hold(
            workspace=obj, reason=data["text"], actor=request.user, now=timezone.now()
        )
        return f"Legal hold lifted on {obj}."

    def do_export(self, request, obj: Workspace, data):
        exported = workspace_export_data(workspace=obj, actor=request.user, now=timezone.now())
        return export_response(exported, slug=obj.slug)

    @admin.display(description="owner", ordering="owner__email")
    def owner_email(self, obj: Workspace) -> str:
        return obj.owner.email


@admin.register(WorkspaceMember)
class WorkspaceMemberAdmin(GuardedAdmin, LargeTableAdmin):
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
    addable = False  # seats are added and removed through the member services (limits)


@admin.register(WorkspaceModule)
class WorkspaceModuleAdmin(GuardedAdmin, LargeTableAdmin):
    list_display = ["code", "workspace", "enabled_at"]
    list_filter = [("code", IndexedValuesFieldListFilter)]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace"]
    addable = False


@admin.register(StoredFile)
class StoredFileAdmin(GuardedAdmin, LargeTableAdmin):
    list_display = ["name", "workspace", "size_mb", "uploaded_by", "uploaded_at"]
    search_fields = [f"workspace__{field}" for field in WORKSPACE_SEARCH]
    search_help_text = RELATED_SEARCH_HELP
    list_select_related = ["workspace", "uploaded_by"]
    addable = False


@admin.register(InternalMembership)
class InternalMembershipAdmin(GuardedAdmin, LargeTableAdmin):
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
    addable = False
    price_display = money("price", description="price")


@admin.register(DeletionTombstone)
class DeletionTombstoneAdmin(AppendOnlyAdmin):
    list_display = ["workspace_id", "rule", "policy", "deleted_at", "ended_at", "last_activity_at"]
    list_filter = ["rule"]
    search_fields = ["policy__startswith"]
    search_id_fields = ("workspace_id",)
    readonly_fields = [
        *(f.name for f in DeletionTombstone._meta.fields if f.name not in ("counts", "retained")),
        "removed",
        "kept_longer",
    ]

    @admin.display(description="what was removed")
    def removed(self, obj: DeletionTombstone) -> str:
        return (
            ", ".join(
                f"{count} {kind.replace('_', ' ')}" for kind, count in obj.counts.items() if count
            )
            or "Nothing but the workspace's own fields"
        )

    @admin.display(description="kept longer")
    def kept_longer(self, obj: DeletionTombstone) -> str:
        """What the policy keeps beyond the erasure, as words and dates."""
        return (
            "; ".join(
                f"{part['what']} until {local_date(part['until'])} ({part['clause']})"
                if part["until"]
                else f"{part['what']} indefinitely ({part['clause']})"
                for part in obj.retained
            )
            or "Nothing"
        )
