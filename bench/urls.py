"""The portal's URLs and, for the load benchmark only, a constant JSON view: the floor a request through
gunicorn and Django's middleware costs with no database and no authentication."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def constant(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": 1, "name": "constant", "ok": True})


urlpatterns = [path("bench/constant/", constant), path("", include("config.urls"))]
