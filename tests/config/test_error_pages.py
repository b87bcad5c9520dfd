"""403, 404 and 500 in the portal's look, in Dutch (the default) and English, revealing nothing internal;
under /api/ the errors stay JSON. pytest-django runs with DEBUG off, as production does."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

SECRET = "secret internal detail"


def assert_portal_page(response, *, status: int, title: str, language: str) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f'<html lang="{language}">' in html
    assert ("Clusterpactportaal" if language == "nl" else "Clusterpact portal") in html
    assert title in html
    assert 'href="/"' in html, "no way home"
    assert "Traceback" not in html and SECRET not in html and "Django" not in html
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_a_404_shows_the_portal_page_in_dutch_by_default(client):
    response = client.get("/no-such-page/")
    assert_portal_page(response, status=404, title="Pagina niet gevonden", language="nl")


@pytest.mark.django_db
def test_a_404_shows_the_portal_page_in_english_when_asked(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert_portal_page(response, status=404, title="Page not found", language="en")


@pytest.mark.django_db
def test_another_clusters_page_is_the_same_404_page(client, manager, other_cluster):
    client.force_login(manager)
    response = client.get(reverse("insights:cluster", args=[other_cluster.slug]))
    assert_portal_page(response, status=404, title="Pagina niet gevonden", language="nl")
    assert other_cluster.name not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "title"), [("nl", "Niet toegestaan"), ("en", "Not allowed")])
def test_a_403_shows_the_portal_page(client, manager, language, title):
    client.force_login(manager)
    response = client.get(reverse("clusterpacts:review"), HTTP_ACCEPT_LANGUAGE=language)
    assert_portal_page(response, status=403, title=title, language=language)


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.parametrize(("language", "title"), [("nl", "Er ging iets mis"), ("en", "Something went wrong")])
def test_a_500_shows_the_portal_page_without_the_cause(language, title):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/test-errors/500/")
    assert_portal_page(response, status=500, title=title, language=language)


def test_the_500_page_renders_with_no_request_context(rf):
    """The 500 handler is given no context processors and must not need the database (no db mark)."""
    from django.utils import translation

    from config.views import server_error

    with translation.override("nl"):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Er ging iets mis" in response.content.decode()
    assert "Clusterpactportaal" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_api_address_answers_json_404(client):
    response = client.get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
def test_an_api_object_outside_scope_is_still_drfs_json_404(client, manager, other_cluster):
    client.force_login(manager)
    response = client.get(f"/api/v1/clusters/{other_cluster.pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
def test_an_api_500_answers_json_without_the_cause():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test-errors/500/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert SECRET not in response.content.decode()
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "title"), [("nl", "Het formulier is verlopen"), ("en", "The form has expired")])
def test_a_form_without_its_csrf_token_gets_the_portal_page_and_changes_nothing(officer, language, title):
    from clusterpacts.models import Cluster

    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(officer)
    before = Cluster.objects.count()
    response = client.post("/admin/clusterpacts/cluster/add/", {"name": "Forged", "slug": "forged"})
    assert_portal_page(response, status=403, title=title, language=language)
    assert Cluster.objects.count() == before


@pytest.mark.django_db
def test_a_bad_request_gets_the_portal_page(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = Client(HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/")
    assert_portal_page(response, status=400, title="Bad request", language="en")
