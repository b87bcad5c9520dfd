"""Login lockout (django-axes): five wrong passwords lock a username and a client address out of the portal
login, the admin login and the API token endpoint for the cool-off; the client address is REMOTE_ADDR unless
proxies are trusted; an officer unlocks in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from core.logins import client_ip
from core.roles import OFFICER

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-1"  # tests.factories.UserFactory
WRONG = "not-the-password"
LIMIT = 5
PORTAL = "/accounts/login/"
ADMIN = "/admin/login/"
TOKEN = "/api/v1/auth/token/"
NL_MESSAGE = "Te veel mislukte aanmeldpogingen"
EN_MESSAGE = "Too many failed logins"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """The API's throttle counts live in the cache; the lockout's attempts in the database (rolled back)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def trusted_proxies(settings):
    def trust(count: int) -> None:
        settings.TRUSTED_PROXY_COUNT = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return trust


def log_in(url: str, username: str, password: str = PASSWORD, client: Client | None = None, **extra):
    client = client or Client()
    if url == TOKEN:
        return client.post(url, {"username": username, "password": password}, content_type="application/json", **extra)
    return client.post(url, {"username": username, "password": password}, **extra)


def fail(url: str, username: str, times: int = LIMIT, **extra) -> None:
    """Wrong passwords; the one that reaches the limit is already answered with the lockout."""
    for _ in range(times):
        response = log_in(url, username, WRONG, **extra)
        assert response.status_code in (200, 400, 429), response.status_code


def logged_in(url: str, response) -> bool:
    return response.status_code == 200 and "token" in response.json() if url == TOKEN else response.status_code == 302


# --- the settings -----------------------------------------------------------------------------------------


def test_the_defaults_are_five_failures_and_fifteen_minutes_by_username_and_address(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    # Shared by every web process: the database, not process memory.
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT


# --- five wrong passwords lock every door -----------------------------------------------------------------


@pytest.mark.parametrize("url", [PORTAL, ADMIN, TOKEN])
def test_four_wrong_passwords_still_let_the_right_one_in(url, officer):
    fail(url, officer.username, times=LIMIT - 1)
    assert logged_in(url, log_in(url, officer.username))


@pytest.mark.parametrize("url", [PORTAL, ADMIN, TOKEN])
def test_five_wrong_passwords_then_the_right_one_is_refused(url, officer):
    fail(url, officer.username)

    client = Client()
    response = log_in(url, officer.username, client=client)

    assert response.status_code == 429
    assert not logged_in(url, response)
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username=officer.username).exists()


@pytest.mark.parametrize("url", [PORTAL, ADMIN, TOKEN])
def test_the_fifth_wrong_password_is_answered_with_the_lockout(url, officer):
    for _ in range(LIMIT - 1):
        assert log_in(url, officer.username, WRONG).status_code in (200, 400)
    assert log_in(url, officer.username, WRONG).status_code == 429


@pytest.mark.parametrize("url", [PORTAL, ADMIN])
def test_the_login_pages_say_why_in_dutch_by_default(url, officer):
    fail(url, officer.username)
    response = log_in(url, officer.username)
    assert response.status_code == 429
    assert NL_MESSAGE in response.text
    assert "15 minuten geblokkeerd" in response.text
    assert "<h1>Aanmelden geblokkeerd</h1>" in response.text


@pytest.mark.parametrize("url", [PORTAL, ADMIN])
def test_the_login_pages_say_why_in_english(url, officer):
    fail(url, officer.username)
    response = log_in(url, officer.username, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert EN_MESSAGE in response.text
    assert "locked for 15 minutes" in response.text
    assert "<h1>Login locked</h1>" in response.text


@pytest.mark.parametrize(("language", "message"), [("nl", NL_MESSAGE), ("en", EN_MESSAGE)])
def test_the_token_endpoint_answers_429_json_with_the_message(language, message, officer):
    fail(TOKEN, officer.username)
    response = log_in(TOKEN, officer.username, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail"}
    assert body["detail"].startswith(message)


def test_failures_at_one_door_lock_the_others(officer):
    fail(PORTAL, officer.username, times=2)
    fail(ADMIN, officer.username, times=2)
    fail(TOKEN, officer.username, times=1)
    assert log_in(PORTAL, officer.username).status_code == 429
    assert log_in(TOKEN, officer.username).status_code == 429


def test_the_password_is_not_stored_with_the_attempt(officer):
    fail(PORTAL, officer.username, times=1)
    attempt = AccessAttempt.objects.get(username=officer.username)
    assert WRONG not in attempt.post_data


# --- the cool-off -----------------------------------------------------------------------------------------


def _age_attempts(by: timedelta) -> None:
    AccessAttempt.objects.update(attempt_time=timezone.now() - by)


def test_the_lockout_holds_until_the_cool_off_ends(officer):
    fail(PORTAL, officer.username)
    _age_attempts(timedelta(minutes=14, seconds=50))
    assert log_in(PORTAL, officer.username).status_code == 429


def test_the_lockout_ends_after_the_cool_off(officer):
    fail(PORTAL, officer.username)
    _age_attempts(timedelta(minutes=15, seconds=1))
    assert log_in(PORTAL, officer.username).status_code == 302


def test_the_cool_off_and_limit_follow_the_settings(settings, officer):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail(PORTAL, officer.username, times=3)
    response = log_in(PORTAL, officer.username, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "locked for 1 minute." in response.text
    _age_attempts(timedelta(minutes=1, seconds=1))
    assert log_in(PORTAL, officer.username).status_code == 302


# --- by username and by address -----------------------------------------------------------------------------


def test_another_user_from_the_same_address_is_locked_out_too(officer, manager):
    fail(PORTAL, officer.username)
    assert log_in(PORTAL, manager.username).status_code == 429
    assert log_in(TOKEN, manager.username).status_code == 429


def test_the_same_user_from_another_address_is_locked_out_too(officer):
    fail(PORTAL, officer.username, REMOTE_ADDR="198.51.100.7")
    assert log_in(PORTAL, officer.username, REMOTE_ADDR="198.51.100.8").status_code == 429


def test_another_user_from_another_address_is_not_affected(officer, manager):
    fail(PORTAL, officer.username, REMOTE_ADDR="198.51.100.7")
    assert log_in(PORTAL, manager.username, REMOTE_ADDR="198.51.100.8").status_code == 302


# --- the client address and trusted proxies -----------------------------------------------------------------


def test_a_forged_forwarded_for_does_not_reset_the_count_without_trusted_proxies(officer, manager):
    for n in range(LIMIT):
        log_in(PORTAL, officer.username, WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    # Another user, another forged address: the address that counts is REMOTE_ADDR, and it is locked.
    assert log_in(PORTAL, manager.username, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_with_one_trusted_proxy_the_forwarded_address_is_the_client(trusted_proxies, officer, manager):
    trusted_proxies(1)
    # The client forges a first entry; the proxy appends the address it saw, which is the one that counts.
    fail(PORTAL, officer.username, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]
    assert log_in(PORTAL, manager.username, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert log_in(PORTAL, manager.username, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "192.0.2.1"),
        (0, "203.0.113.5", "192.0.2.1"),
        (1, None, "192.0.2.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "10.9.9.9, 203.0.113.5", "203.0.113.5"),
        (2, "10.9.9.9, 203.0.113.5, 192.0.2.50", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),
    ],
)
def test_the_lockout_and_the_api_throttles_see_the_same_client(trusted_proxies, proxies, forwarded, expected):
    trusted_proxies(proxies)
    extra = {"REMOTE_ADDR": "192.0.2.1"} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    request = RequestFactory().post("/accounts/login/", **extra)
    assert client_ip(request) == expected
    assert BaseThrottle().get_ident(request) == expected


def test_a_forwarded_entry_that_is_no_address_falls_back_to_remote_addr(trusted_proxies):
    trusted_proxies(1)
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="unknown")
    assert client_ip(request) == "192.0.2.1"


def test_the_token_throttle_ignores_a_forged_forwarded_for(settings, officer):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }
    for n in range(3):
        assert log_in(TOKEN, officer.username, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 200
    assert log_in(TOKEN, officer.username, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_the_token_throttle_honours_the_forwarded_for_of_a_trusted_proxy(settings, trusted_proxies, officer):
    trusted_proxies(1)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/minute"},
    }
    for _ in range(3):
        assert log_in(TOKEN, officer.username, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 200
    assert log_in(TOKEN, officer.username, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert log_in(TOKEN, officer.username, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


# --- an officer unlocks ----------------------------------------------------------------------------------------


def test_officers_may_see_and_delete_lockouts():
    officers = Group.objects.get(name=OFFICER)
    codenames = set(officers.permissions.filter(content_type__app_label="axes").values_list("codename", flat=True))
    assert {"view_accessattempt", "delete_accessattempt", "view_accessfailurelog"} <= codenames
    assert "add_accessattempt" not in codenames


def test_an_officer_unlocks_a_login_in_the_admin_and_the_user_logs_in_again(officer, manager, cluster):
    fail(PORTAL, manager.username, REMOTE_ADDR="198.51.100.7")
    assert log_in(PORTAL, manager.username, REMOTE_ADDR="198.51.100.7").status_code == 429

    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(officer)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin.get(changelist)
    assert page.status_code == 200
    assert manager.username in page.text
    attempts = list(AccessAttempt.objects.filter(username=manager.username).values_list("pk", flat=True))
    response = admin.post(
        changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"}, follow=True
    )
    assert response.status_code == 200

    assert not AccessAttempt.objects.filter(username=manager.username).exists()
    assert log_in(PORTAL, manager.username, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_a_manager_cannot_reach_the_lockouts(manager):
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 302  # not staff: the admin sends them to its login
