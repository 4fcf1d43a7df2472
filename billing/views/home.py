"""The portal's home page: every workspace of the signed-in customer, where its
subscription stands and which pages apply to it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.views.overview import workspace_overviews


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"overviews": workspace_overviews(request.user)})
