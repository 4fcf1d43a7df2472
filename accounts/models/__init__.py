from .audit import AuditRecord
from .memberships import InternalMembership
from .retention import DeletionTombstone, DeletionWarning
from .users import User
from .workspaces import StoredFile, Workspace, WorkspaceMember, WorkspaceModule

__all__ = [
    "AuditRecord",
    "DeletionTombstone",
    "DeletionWarning",
    "InternalMembership",
    "StoredFile",
    "User",
    "Workspace",
    "WorkspaceMember",
    "WorkspaceModule",
]
