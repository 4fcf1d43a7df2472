"""Customer REST API. Each area keeps its views and serializers in its own module."""

app_name = "api"
urlpatterns: list = []
