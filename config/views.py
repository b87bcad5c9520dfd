"""Project-level views: the home page and the health check."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

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
