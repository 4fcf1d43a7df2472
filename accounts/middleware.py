"""Records activity: the last time a member made a signed-in request, per seat (seat rules
credit seats left unused) and per workspace (retention), through
`accounts.services.activity.members_touch_activity`.

Two cache guards keep this off the hot path: a per-user key lets a user's requests write
their seats at most once per ACTIVITY_WRITE_INTERVAL_SECONDS, and a per-workspace key lets
each workspace be written at most once per interval however many members are busy; the
other requests cost no query. The first request of an interval costs one statement per
table on PostgreSQL (see the service for why they skip the WAL flush).
"""

from django.conf import settings
from django.core.cache import cache
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
        from accounts.services.activity import members_touch_activity

        members_touch_activity(
            user_id=user_id,
            now=timezone.now(),
            claim_workspace=lambda workspace_id: cache.add(
                f"workspace-activity:workspace:{workspace_id}", 1, timeout=interval
            ),
        )
