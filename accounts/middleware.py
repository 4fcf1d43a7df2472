"""Records workspace activity: the last time one of its members made a signed-in request.

Writes at most once per user per ACTIVITY_WRITE_INTERVAL_SECONDS (a cache key guards the
write), and the write itself is one UPDATE over the user's workspaces.
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
        if not cache.add(f"workspace-activity:{user_id}", 1, timeout=interval):
            return
        from accounts.services.workspaces import workspaces_touch_activity

        workspaces_touch_activity(user_id=user_id, now=timezone.now())
