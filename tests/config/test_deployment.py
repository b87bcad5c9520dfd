"""The documented production deployment (docs/DEPLOYMENT.md): it starts in the documented order, `check
--deploy` is silent, /healthz answers a plain-http probe, and every page carries a Content-Security-Policy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment docs/DEPLOYMENT.md tells the operator to set, with a fresh database and an empty
    static folder (as on a new machine before `collectstatic`)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SECURE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ALLOWED_HOSTS="portal.example",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def test_production_migrate_works_before_collectstatic(tmp_path):
    result = run(["manage.py", "migrate", "--noinput"], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "static" / "staticfiles.json").exists()


def test_the_urlconf_loads_with_the_manifest_storage_and_no_manifest(settings, tmp_path):
    """The URLconf is imported by every management command; it must not need the static manifest."""
    import importlib

    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.urls import clear_url_caches, resolve

    import config.urls

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    staticfiles_storage._setup()
    try:
        importlib.reload(config.urls)
        clear_url_caches()
        assert resolve("/favicon.ico").url_name == "favicon"
        assert resolve("/healthz").url_name == "healthz"
    finally:
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        staticfiles_storage._setup()
        importlib.reload(config.urls)
        clear_url_caches()


def test_the_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url.endswith("img/favicon.svg")


def test_check_deploy_is_silent_with_the_documented_environment(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr.upper() and "security." not in result.stderr


def test_production_sends_hsts_for_a_year_with_subdomains_by_default(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_REFERRER_POLICY)"
    )
    result = run(["-c", code], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "True", "True", "True", "same-origin"]


def test_production_keeps_database_connections_open_with_health_checks(tmp_path):
    """Persistent connections by default (60 s), checked before reuse; CONN_MAX_AGE=0 closes them again."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    by_default = run(["-c", code], production_env(tmp_path, CONN_MAX_AGE=""))
    assert by_default.stdout.split() == ["60", "True"], by_default.stderr
    chosen = run(["-c", code], production_env(tmp_path, CONN_MAX_AGE="0"))
    assert chosen.stdout.split() == ["0", "True"], chosen.stderr


def test_production_keeps_the_replicas_connections_too(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['replica']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    replica = f"sqlite:///{tmp_path / 'replica.sqlite3'}"
    result = run(["-c", code], production_env(tmp_path, CONN_MAX_AGE="", DATABASE_REPLICA_URL=replica))
    assert result.stdout.split() == ["60", "True"], result.stderr


def test_development_and_tests_open_a_connection_per_request(settings):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0


def test_hsts_seconds_come_from_the_environment(tmp_path):
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS)"
    result = run(["-c", code], production_env(tmp_path, SECURE_HSTS_SECONDS="300"))
    assert result.stdout.strip() == "300", result.stderr


PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
health = client.get("/healthz", HTTP_HOST="portal.example", HTTP_X_FORWARDED_PROTO="http")
home = client.get("/", HTTP_HOST="portal.example", HTTP_X_FORWARDED_PROTO="http")
secure = client.get("/healthz", HTTP_HOST="portal.example", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "health": [health.status_code, health["Content-Type"], health.json()],
    "home": [home.status_code, home.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
}))
"""


def test_healthz_answers_a_plain_http_probe_while_pages_redirect_to_https(tmp_path):
    result = run(["-W", "ignore", "-c", PROBE], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    status, content_type, body = answer["health"]
    assert status == 200
    assert content_type == "application/json"
    assert body["database"] == "ok"
    assert answer["home"] == [301, "https://portal.example/"]
    assert answer["hsts"] == "max-age=31536000; includeSubDomains; preload"


# --- Content-Security-Policy on every page ---------------------------------------------------------


def script_sources(response) -> list[str]:
    header = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return directives["script-src"].split()


def assert_strict_csp(response) -> None:
    assert "Content-Security-Policy" in response, "no CSP header"
    header = response["Content-Security-Policy"]
    assert "default-src 'self'" in header
    assert "'unsafe-inline'" not in script_sources(response)
    assert "'unsafe-eval'" not in script_sources(response)
    assert "http" not in header, "a CSP that names another host"


@pytest.mark.django_db
def test_the_portal_pages_carry_a_csp_without_inline_scripts(client, manager, cluster):
    assert_strict_csp(client.get("/accounts/login/"))
    client.force_login(manager)
    home = client.get("/", follow=True)
    assert home.status_code == 200
    assert_strict_csp(home)
    page = client.get(f"/clusters/{cluster.slug}/")
    assert page.status_code == 200
    assert_strict_csp(page)


@pytest.mark.django_db
def test_the_admin_carries_a_csp_without_inline_scripts(officer_client):
    response = officer_client.get("/admin/")
    assert response.status_code == 200
    assert_strict_csp(response)


def test_the_api_docs_carry_a_csp_and_load_their_script_as_a_file(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert_strict_csp(page)
    html = page.content.decode()
    # Every <script> has a src: nothing inline for the policy to refuse.
    assert html.count("<script") == html.count("<script src=")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert "validator.swagger.io" not in script.content.decode()
