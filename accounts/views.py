"""Customer pages for the owner's own data (thin shells around accounts.services)."""

import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Workspace
from accounts.services.retention import workspace_export_data


def export_response(data: dict, *, slug: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{slug}-export.json"'
    return response


@require_GET
@login_required
def workspace_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The owner downloads everything we hold about their workspace (offered before
    deletion in the warning email). Anyone else gets a 404, not a hint that it exists."""
    workspace = get_object_or_404(
        Workspace.objects.select_related("owner").exclude(status=Workspace.Status.DELETED),
        slug=slug,
    )
    if workspace.owner_id != request.user.pk:
        raise Http404
    data = workspace_export_data(workspace=workspace, actor=request.user, now=timezone.now())
    return export_response(data, slug=workspace.slug)
