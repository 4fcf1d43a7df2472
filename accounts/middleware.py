"""Records activity: the last time a member made a signed-in request, per seat (seat rules
credit seats left unused) and per workspace (retention).

Two cache guards keep this off the hot path: a per-user key lets a user's requests write
their seats and look up their workspaces at most once per ACTIVITY_WRITE_INTERVAL_SECONDS,
and a per-workspace key lets each workspace be written at most once per interval however
many members are busy; the other requests cost no query. On PostgreSQL these writes commit
without waiting for their WAL flush (`synchronous_commit` off for that transaction only): a
crash can lose the last fraction of a second of activity timestamps, which the next request
writes again, while waiting for the disk made every user's first request pay a flush (most
of the API's cost under write load).
"""

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone


class WorkspaceActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and response.status_code < 400:
            self._touch(user.pk)
        return response

    @staticmethod
    def _touch(user_id: int) -> None:
        interval = settings.ACTIVITY_WRITE_INTERVAL_SECONDS
        if not cache.add(f"workspace-activity:user:{user_id}", 1, timeout=interval):
            return
        from accounts.models import WorkspaceMember
        from accounts.services.workspaces import workspaces_touch_activity

        now = timezone.now()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            WorkspaceMember.objects.filter(user_id=user_id).update(last_active_at=now)
            seats = WorkspaceMember.objects.filter(user_id=user_id).values_list(
                "workspace_id", flat=True
            )
            due = [
                workspace_id
                for workspace_id in seats
                if cache.add(f"workspace-activity:workspace:{workspace_id}", 1, timeout=interval)
            ]
            if due:
                workspaces_touch_activity(workspace_ids=due, now=now)
