from .audit import AuditRecord
from .memberships import InternalMembership
from .queued_tasks import UnqueuedTask
from .retention import DeletionTombstone, DeletionWarning
from .users import User
from .workspaces import StoredFile, Workspace, WorkspaceMember, WorkspaceModule

__all__ = [
    "AuditRecord",
    "DeletionTombstone",
    "DeletionWarning",
    "InternalMembership",
    "StoredFile",
    "UnqueuedTask",
    "User",
    "Workspace",
    "WorkspaceMember",
    "WorkspaceModule",
]
