"""The project's own addresses and settings: home, health check, production refusing bad config."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.pages import has_word

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_database_and_eager_broker(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_cannot_be_reached(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    from config.celery import app

    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["broker"] == "error"


def test_home_sends_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["officer", "reader"])
def test_home_sends_officers_and_api_readers_to_the_dashboard(request, client, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == reverse("insights:dashboard")


@pytest.mark.django_db
def test_home_sends_a_manager_to_their_own_cluster(client, manager, cluster, other_cluster):
    client.force_login(manager)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == reverse("insights:cluster", args=[cluster.slug])


@pytest.mark.django_db
def test_home_lists_the_clusters_of_a_manager_of_two(client, manager, cluster, other_cluster):
    from clusterpacts.models import ClusterManager

    third = type(cluster).objects.create(name="Flux50", slug="flux50")
    ClusterManager.objects.create(user=manager, cluster=third)
    client.force_login(manager)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("insights:clusters")
    assert cluster.name in response.text and third.name in response.text
    assert not has_word(response.text, other_cluster.name)


def test_login_page_loads(client):
    assert client.get("/accounts/login/").status_code == 200


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_production_settings_refuse_to_start_without_their_secrets(missing):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "sqlite:////tmp/never-used.sqlite3",
        "ALLOWED_HOSTS": "portal.example",
    }
    env.pop(missing)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_production_settings_start_when_configured():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "sqlite:////tmp/never-used.sqlite3",
        "ALLOWED_HOSTS": "portal.example",
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG, settings.TIME_ZONE)"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False Europe/Brussels"


def test_language_defaults_to_dutch_with_english_available(settings):
    assert settings.LANGUAGE_CODE == "nl"
    assert [code for code, _name in settings.LANGUAGES] == ["nl", "en"]
