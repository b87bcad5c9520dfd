"""Two-factor login (issue 12, item 3): officers set up and pass a TOTP or backup code when the setting
asks for it; managers may; the token endpoint asks for the code too; with the setting off nothing changes."""

from __future__ import annotations

import re
from base64 import b32encode

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.config.test_accounts import PASSWORD, log_in

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED = True
    # Each wrong code makes the device wait 1 s, 2 s, ... before the next check; a test retries at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    return settings


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def backup_codes(user, *codes: str) -> StaticDevice:
    device = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return device


def english_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


# --- setup ------------------------------------------------------------------------------------------


def test_an_officer_without_a_device_is_sent_to_setup_after_login(required, officer):
    client = english_client()
    response = log_in(client, officer.username, follow=True)
    url, _status = response.redirect_chain[-1]
    assert url.startswith(reverse("two_factor_setup"))
    assert response.status_code == 200
    assert "<svg" in response.text  # the QR code, inline
    assert "<script" not in response.text.split("<main", 1)[-1]
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert b32encode(device.bin_key).decode() in response.text  # the secret, for manual entry


def test_setup_refuses_a_wrong_code_and_confirms_with_the_right_one(required, officer):
    client = english_client()
    log_in(client, officer.username)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    refused = client.post(reverse("two_factor_setup"), {"code": wrong})
    assert refused.status_code == 200
    assert "This code is not right" in refused.text
    device.refresh_from_db()
    assert not device.confirmed

    confirmed = client.post(reverse("two_factor_setup"), {"code": code_for(device), "next": "/insights/"})
    assert confirmed.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = [t.token for t in StaticToken.objects.filter(device__user=officer)]
    assert len(codes) == 10
    assert all(code in confirmed.text for code in codes)
    # Verified in this session: the dashboard opens.
    assert client.get("/insights/").status_code == 200
    # The codes are shown once: the setup page now sends the officer on.
    again = client.get(reverse("two_factor_setup"))
    assert again.status_code == 302
    assert not any(code in again.text for code in codes)


# --- verify -----------------------------------------------------------------------------------------


def test_an_officer_is_sent_to_verify_until_a_right_code_then_reaches_dashboard_and_admin(required, officer):
    device = confirmed_device(officer)
    client = english_client()
    response = log_in(client, officer.username, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor_verify"))
    for path in ("/insights/", "/admin/", "/"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked.url.startswith(reverse("two_factor_verify")), path
    assert client.get("/api/v1/clusters/").status_code == 403  # the API with the session, too

    wrong = client.post(reverse("two_factor_verify"), {"code": "000000x", "next": "/insights/"})
    assert wrong.status_code == 200 and "This code is not right" in wrong.text
    assert client.get("/insights/").status_code == 302

    right = client.post(reverse("two_factor_verify"), {"code": code_for(device), "next": "/insights/"})
    assert right.status_code == 302 and right.url == "/insights/"
    assert client.get("/insights/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_works_once(required, officer):
    confirmed_device(officer)
    backup_codes(officer, "abcd1234")
    first = english_client()
    log_in(first, officer.username)
    assert first.post(reverse("two_factor_verify"), {"code": "abcd1234"}).status_code == 302
    assert first.get("/insights/").status_code == 200

    second = english_client()
    log_in(second, officer.username)
    refused = second.post(reverse("two_factor_verify"), {"code": "abcd1234"})
    assert refused.status_code == 200 and "This code is not right" in refused.text
    assert second.get("/insights/").status_code == 302


def test_wrong_codes_count_towards_the_lockout(required, officer):
    required.AXES_FAILURE_LIMIT = 2
    confirmed_device(officer)
    client = english_client()
    log_in(client, officer.username)
    assert client.post(reverse("two_factor_verify"), {"code": "111111"}).status_code == 200
    locked = client.post(reverse("two_factor_verify"), {"code": "222222"})
    assert locked.status_code == 429
    assert client.get("/insights/").status_code == 302  # logged out
    assert log_in(english_client(), officer.username).status_code == 429


def test_a_staff_user_without_a_device_is_sent_to_setup_in_the_admin_only(required, manager, cluster):
    manager.is_staff = True
    manager.save()
    client = english_client()
    log_in(client, manager.username)
    assert client.get(f"/clusters/{cluster.slug}/").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_setup"))


def test_wrong_codes_at_setup_count_towards_the_lockout(required, officer):
    required.AXES_FAILURE_LIMIT = 1
    client = english_client()
    log_in(client, officer.username)
    client.get(reverse("two_factor_setup"))
    assert client.post(reverse("two_factor_setup"), {"code": "000000x"}).status_code == 429


def test_a_manager_without_a_device_logs_in_without_a_second_factor(required, manager, cluster):
    client = english_client()
    response = log_in(client, manager.username, follow=True)
    assert response.redirect_chain[-1][0] == f"/clusters/{cluster.slug}/"
    assert response.status_code == 200
    assert reverse("two_factor_setup") in response.text  # the link to set it up


def test_the_setup_link_is_gone_once_a_device_is_set_up(required, officer):
    device = confirmed_device(officer)
    client = english_client()
    log_in(client, officer.username)
    client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert reverse("two_factor_setup") not in client.get("/insights/").text


def test_a_manager_with_a_device_is_asked_for_it(manager, cluster):
    confirmed_device(manager)
    client = english_client()
    response = log_in(client, manager.username, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor_verify"))


def test_with_the_setting_off_an_officer_logs_in_as_before(officer):
    response = log_in(english_client(), officer.username, follow=True)
    assert response.redirect_chain[-1][0] == "/insights/"
    assert response.status_code == 200


# --- API tokens -------------------------------------------------------------------------------------


def obtain(username: str, **extra: str):
    return english_client().post(
        TOKEN_URL, {"username": username, "password": PASSWORD, **extra}, content_type="application/json"
    )


def test_the_token_endpoint_refuses_an_officer_without_otp_and_gives_a_token_with_a_right_one(required, officer):
    device = confirmed_device(officer)
    missing = obtain(officer.username)
    assert missing.status_code == 400
    assert "otp" in missing.json()
    assert "otp field" in missing.json()["otp"][0]

    wrong = obtain(officer.username, otp="000000x")
    assert wrong.status_code == 400 and "otp" in wrong.json()

    right = obtain(officer.username, otp=code_for(device))
    assert right.status_code == 200
    assert set(right.json()) == {"token", "expiry"}


def test_the_token_endpoint_refuses_an_officer_without_a_device(required, officer):
    response = obtain(officer.username, otp="123456")
    assert response.status_code == 400
    assert re.search(r"[Ss]et up two-factor", response.json()["otp"][0])


def test_the_token_endpoint_asks_a_manager_with_a_device_even_with_the_setting_off(manager):
    confirmed_device(manager)
    assert obtain(manager.username).status_code == 400


def test_the_otp_field_is_in_the_schema(officer):
    client = english_client()
    client.force_login(officer)
    schema = client.get("/api/schema/?format=json").json()
    body = schema["paths"][TOKEN_URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    otp = schema["components"]["schemas"][name]["properties"]["otp"]
    assert "backup code" in otp["description"]


def test_the_verify_page_is_in_the_portals_look_and_dutch_by_default(required, officer):
    confirmed_device(officer)
    client = Client()
    log_in(client, officer.username)
    response = client.get(reverse("two_factor_verify"))
    assert response.status_code == 200
    assert "<h1>Tweestapsverificatie</h1>" in response.text
    assert 'class="mainnav"' in response.text  # base.html


def test_wrong_codes_at_the_token_endpoint_count_towards_the_lockout(required, officer):
    required.AXES_FAILURE_LIMIT = 1
    confirmed_device(officer)
    response = obtain(officer.username, otp="000000x")
    assert response.status_code == 429
    assert "Too many failed logins" in response.json()["detail"]
