from . import audit, users, workspaces  # noqa: F401  (registers the admins)
