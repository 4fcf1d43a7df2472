"""Changelist rows: the project's cheaper rendering is the markup Django renders."""

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.test import Client
from django.urls import reverse

from accounts.models import Workspace
from backoffice.admin_mixins import LargeTableAdmin
from tests.factories import WorkspaceFactory
from tests.factories.refunds import agent

pytestmark = pytest.mark.django_db


def test_the_row_checkbox_is_the_markup_django_renders():
    workspace = WorkspaceFactory(name='Café "Zürich" <b>&</b>')
    model_admin = admin.site._registry[Workspace]
    assert isinstance(model_admin, LargeTableAdmin)
    ours = model_admin.action_checkbox(workspace)
    assert ours == admin.ModelAdmin.action_checkbox(model_admin, workspace)
    assert "&lt;b&gt;" in ours and "<b>" not in ours


def test_every_row_of_a_changelist_has_its_selection_checkbox():
    workspaces = WorkspaceFactory.create_batch(3)
    client = Client()
    client.force_login(agent())
    page = client.get(reverse("admin:accounts_workspace_changelist")).content.decode()
    for workspace in workspaces:
        assert (
            f'<input type="checkbox" name="_selected_action" value="{workspace.pk}" '
            'class="action-select"'
        ) in page


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=active",
        "?status__exact=active&q=Caf%C3%A9&o=-1",
        "?_to_field=id&_popup=1",  # a raw-id lookup's popup
    ],
)
def test_the_row_links_are_the_links_django_builds(query, monkeypatch):
    """The list, rendered with the project's changelist and with Django's own: the same
    HTML, filters preserved in each row's link included."""
    WorkspaceFactory.create_batch(3, name="Café Zürich")
    client = Client()
    client.force_login(agent())
    url = reverse("admin:accounts_workspace_changelist") + query
    ours = _result_list(client.get(url).content.decode())
    model_admin = admin.site._registry[Workspace]
    monkeypatch.setattr(model_admin, "get_changelist", lambda request, **kwargs: ChangeList)
    django = _result_list(client.get(url).content.decode())
    assert ours == django
    assert "/change/" + ("?_changelist_filters=" if query else '"') in ours


def _result_list(page: str) -> str:
    start = page.index('<table id="result_list">')
    return page[start : page.index("</table>", start)]
