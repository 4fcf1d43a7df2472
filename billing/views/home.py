from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Workspace, WorkspaceMember


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = (
        WorkspaceMember.objects.filter(user=request.user)
        .exclude(workspace__status=Workspace.Status.DELETED)
        .select_related("workspace")
        .order_by("workspace__name")
    )
    return render(request, "home.html", {"memberships": memberships})
