"""Customer-facing pages (server-rendered, no JavaScript needed)."""

app_name = "billing"
urlpatterns: list = []
