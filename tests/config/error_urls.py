"""The project's URLconf plus two addresses that fail on purpose, to see the 500 page and the API's 500."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internal detail: /srv/clusterpacts/settings.py line 42")


urlpatterns = [
    path("test-errors/500/", fail),
    path("api/v1/test-errors/500/", fail),
    *project_urlpatterns,
]
