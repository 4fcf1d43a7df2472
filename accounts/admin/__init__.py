from . import audit, queued_tasks, users, workspaces  # noqa: F401  (registers the admins)
