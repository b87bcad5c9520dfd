"""Accounts: login lands each role on its home, logout, password change and reset, idle sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-1"  # tests.factories.UserFactory
NEW_PASSWORD = "Kortrijk-haven-2031!"


def log_in(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


# --- login and landing pages ------------------------------------------------------------------------


def test_login_page_is_styled_and_dutch_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "<h1>Aanmelden</h1>" in response.text
    assert "Log in" not in response.text
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert reverse("password_reset") in response.text


def test_a_manager_lands_on_their_cluster_after_login(client, manager, cluster, other_cluster):
    response = log_in(client, manager.username, follow=True)
    assert response.redirect_chain[-1][0] == f"/clusters/{cluster.slug}/"
    assert response.status_code == 200
    assert response.context["cluster"] == cluster


def test_an_officer_lands_on_the_dashboard_after_login(client, officer):
    response = log_in(client, officer.username, follow=True)
    assert response.redirect_chain[-1][0] == "/insights/"
    assert response.status_code == 200
    assert response.resolver_match.url_name == "dashboard"


def test_login_honours_next(client, manager, cluster):
    url = reverse("clusterpacts:report", args=[cluster.slug, timezone.localdate().year - 1])
    response = client.post(
        f"{reverse('login')}?next={url}", {"username": manager.username, "password": PASSWORD, "next": url}
    )
    assert response.status_code == 302
    assert response.url == url


def test_a_wrong_password_is_refused(client, manager):
    response = log_in(client, manager.username, "not-the-password", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "did not match" in response.text
    assert "_auth_user_id" not in client.session


# --- logout ---------------------------------------------------------------------------------------------


def test_logout_is_a_post_and_ends_the_session(client, officer):
    client.force_login(officer)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("clusterpacts:review")).status_code == 200

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == django_settings.LOGOUT_REDIRECT_URL == "/accounts/login/"
    assert client.get(reverse("clusterpacts:review")).status_code == 302


def test_every_page_offers_a_logout_form(client, manager, cluster):
    client.force_login(manager)
    text = client.get(reverse("insights:cluster", args=[cluster.slug])).text
    assert f'<form method="post" action="{reverse("logout")}"' in text


# --- password change ---------------------------------------------------------------------------------


def test_password_change_needs_the_old_password_and_the_new_one_works(client, manager, cluster):
    client.force_login(manager)
    url = reverse("password_change")
    assert client.get(url).status_code == 200

    wrong = client.post(url, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["old_password"]

    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert client.get(response.url).status_code == 200

    client.post(reverse("logout"))
    assert log_in(client, manager.username, PASSWORD).status_code == 200  # the old one is refused
    assert "_auth_user_id" not in client.session
    response = log_in(client, manager.username, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").url == f"/clusters/{cluster.slug}/"


def test_password_change_needs_login(client):
    url = reverse("password_change")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{django_settings.LOGIN_URL}?next={url}"


# --- password reset by e-mail -------------------------------------------------------------------------


def test_password_reset_mails_a_link_that_sets_a_new_password(client, manager, cluster, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": manager.email})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [manager.email]
    assert manager.username in mail.body
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.body).group(1)

    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert page.context["validlink"] is True
    set_password = page.redirect_chain[-1][0]
    response = client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_complete")

    manager.refresh_from_db()
    assert manager.check_password(NEW_PASSWORD)
    assert log_in(client, manager.username, NEW_PASSWORD).status_code == 302
    # The link works once.
    client.post(reverse("logout"))
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_an_unknown_address_sends_nothing(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mailoutbox == []


# --- sessions end after inactivity ----------------------------------------------------------------------


def test_session_settings_end_a_session_after_30_idle_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_the_session_cookie_lasts_the_idle_time_and_is_renewed_by_each_request(client, officer):
    response = log_in(client, officer.username)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == django_settings.SESSION_COOKIE_AGE

    response = client.get(reverse("clusterpacts:review"))
    assert response.status_code == 200
    assert response.cookies[django_settings.SESSION_COOKIE_NAME]["max-age"] == django_settings.SESSION_COOKIE_AGE


def test_an_idle_session_no_longer_logs_in(client, officer):
    log_in(client, officer.username)
    assert client.get(reverse("clusterpacts:review")).status_code == 200

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("clusterpacts:review"))
    assert response.status_code == 302
    assert response.url.startswith(django_settings.LOGIN_URL)


def test_a_user_without_role_lands_on_a_welcome_page(client):
    nobody = factories.UserFactory(username="nobody")
    response = log_in(client, nobody.username, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "no role in the portal yet" in response.text
