"""Project-level views: the home page, the health check, and the error pages."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views import defaults
from rest_framework import exceptions as api_exceptions

from clusterpacts.models import Cluster
from core.roles import is_reader


def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its home: officers and readers on the dashboard, a cluster manager on their cluster."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if is_reader(request.user):
        return redirect("insights:dashboard")
    clusters = list(Cluster.objects.for_user(request.user)[:2])
    if len(clusters) == 1 and not is_reader(request.user):
        return redirect("insights:cluster", slug=clusters[0].slug)
    if clusters:
        return redirect("insights:clusters")
    return render(request, "home.html", {"clusters": []})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico; send them to the static icon.

    The URL is built per request, not when the URLconf loads: with the manifest storage of production
    the hashed name exists only after `collectstatic`, and `migrate` (which loads the URLconf for its
    checks) runs before it. Temporary, because the hashed name changes with the icon.
    """
    return redirect(static("img/favicon.svg"))


def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker status, for load balancers and monitoring. No secrets, no auth."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any failure means "down"
        checks["database"] = "error"
    if not settings.CELERY_BROKER_URL:
        checks["broker"] = "eager"
    else:
        try:
            from config.celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception:
            checks["broker"] = "error"
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


# --- error pages (issue 12, item 9) --------------------------------------------------------------
# The portal answers with its own styled pages (templates/403.html, 404.html, 500.html); an address
# under /api/ keeps answering JSON, as DRF does for the errors it raises itself, also for a URL that
# no route matches. Neither says anything about the cause.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(error: type[api_exceptions.APIException], status: int) -> JsonResponse:
    return JsonResponse({"detail": str(error.default_detail)}, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(api_exceptions.NotFound, 404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(api_exceptions.PermissionDenied, 403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(api_exceptions.APIException, 500)
    return defaults.server_error(request)
