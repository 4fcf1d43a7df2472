import pytest
from django.test import Client

from tests.factories import UserFactory


@pytest.mark.django_db
def test_unknown_pages_and_server_errors_show_a_page_not_a_traceback(settings, monkeypatch):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())

    missing = client.get("/workspaces/nobody-here/cancel/")
    monkeypatch.setattr(
        "billing.views.home.render", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    )
    broken = client.get("/")

    assert missing.status_code == 404 and b"Not found" in missing.content
    assert broken.status_code == 500 and b"nothing was changed" in broken.content
    assert b"Traceback" not in broken.content and b"boom" not in broken.content
