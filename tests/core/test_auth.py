"""core/auth.py: the token check in one query refuses whatever knox refuses, and brings the role along;
the session's user comes with their role and second-factor device in the one query that loads them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from knox.signals import token_expired
from rest_framework.exceptions import AuthenticationFailed

from clusterpacts.models import ClusterManager
from core.auth import ModelBackend, TokenAuthentication
from core.roles import is_officer, is_reader, managed_cluster_ids
from core.two_factor import has_confirmed_device
from tests.api_helpers import API, PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def get(token: str, path: str = f"{API}/clusters/") -> int:
    return Client(HTTP_AUTHORIZATION=f"Token {token}").get(path).status_code


def check(token: bytes | str) -> tuple[object, AuthToken]:
    raw = token.encode() if isinstance(token, str) else token
    return TokenAuthentication().authenticate_credentials(raw)


# --- what is refused ------------------------------------------------------------------------------------


def test_a_forged_token_is_refused(reader, cluster):
    AuthToken.objects.create(reader)

    assert get("0" * 64) == 401
    assert get("f" * 64) == 401
    assert get("not-a-real-token") == 401


def test_another_users_key_prefix_with_a_wrong_secret_is_refused_and_leaves_their_token(reader, officer, cluster):
    row, token = AuthToken.objects.create(officer)
    forged = token[:15] + ("0" if token[15] != "0" else "1") + token[16:]

    assert get(forged) == 401
    assert get(token[:15]) == 401  # the prefix alone
    assert get(token[:15] + "a" * 49) == 401
    assert AuthToken.objects.filter(pk=row.pk).exists()
    assert get(token) == 200


def test_an_expired_token_is_refused_deleted_and_signalled(reader, cluster):
    row, token = AuthToken.objects.create(reader)
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    signalled = []

    def received(sender, username, source, **kwargs):
        signalled.append((username, source))

    token_expired.connect(received)
    try:
        assert get(token) == 401
    finally:
        token_expired.disconnect(received)

    assert not AuthToken.objects.filter(pk=row.pk).exists()
    assert signalled == [(reader.username, "auth_token")]


def test_a_token_expiring_in_a_moment_still_opens_the_api(reader, cluster):
    row, token = AuthToken.objects.create(reader)
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() + timedelta(seconds=30))

    assert get(token) == 200


def test_a_revoked_token_is_refused(reader, cluster):
    _row, token = AuthToken.objects.create(reader)
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").post(f"{API}/auth/token/revoke/").status_code == 204

    assert get(token) == 401


def test_the_token_of_an_inactive_user_is_refused(reader, cluster, english):
    _row, token = AuthToken.objects.create(reader)
    reader.is_active = False
    reader.save()

    with pytest.raises(AuthenticationFailed, match="inactive"):
        check(token)
    assert get(token) == 401


def test_a_token_that_is_not_text_is_a_401_not_a_500(reader):
    with pytest.raises(AuthenticationFailed):
        check(b"\xff\xfe" * 32)
    assert (
        Client(HTTP_AUTHORIZATION=b"Token \xff\xfe\xfd".decode("latin-1")).get(f"{API}/clusters/").status_code == 401
    )


def test_a_token_header_with_spaces_or_without_a_token_is_refused(reader):
    _row, token = AuthToken.objects.create(reader)

    assert Client(HTTP_AUTHORIZATION="Token").get(f"{API}/clusters/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {token} {token}").get(f"{API}/clusters/").status_code == 401


# --- what it costs, and what it brings --------------------------------------------------------------------


def test_the_check_is_one_query_that_brings_the_role(django_assert_num_queries, manager, cluster, officer):
    _row, manager_token = AuthToken.objects.create(manager)
    _row, officer_token = AuthToken.objects.create(officer)
    for _ in range(20):  # other tokens of the same user are not read
        AuthToken.objects.create(manager)

    with django_assert_num_queries(1):
        user, _auth = check(manager_token)
        assert (is_officer(user), is_reader(user), managed_cluster_ids(user)) == (False, False, {cluster.pk})
    with django_assert_num_queries(1):
        user, _auth = check(officer_token)
        assert (is_officer(user), is_reader(user), managed_cluster_ids(user)) == (True, True, set())


def test_a_role_changed_between_requests_counts_on_the_next(manager, cluster):
    _row, token = AuthToken.objects.create(manager)
    path = f"{API}/annual-reports/"
    assert get(token, f"{API}/clusters/{cluster.pk}/") == 200

    ClusterManager.objects.filter(user=manager).delete()

    assert get(token, f"{API}/clusters/{cluster.pk}/") == 404
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(path).json()["count"] == 0


def test_expired_tokens_are_swept_when_a_new_one_is_obtained_not_on_each_request(reader, cluster):
    old, old_token = AuthToken.objects.create(reader)
    current, current_token = AuthToken.objects.create(reader)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(days=1))

    assert get(current_token) == 200
    assert AuthToken.objects.filter(pk=old.pk).exists()  # the request looked at its own token only

    response = Client().post(
        f"{API}/auth/token/", {"username": reader.username, "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 200
    assert not AuthToken.objects.filter(pk=old.pk).exists()
    assert AuthToken.objects.filter(pk=current.pk).exists()
    assert get(old_token) == 401


# --- the session's user -----------------------------------------------------------------------------------


def test_the_sessions_user_comes_with_role_and_device_in_one_query(django_assert_num_queries, manager, cluster):
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)

    with django_assert_num_queries(1):
        user = ModelBackend().get_user(manager.pk)
        assert user is not None
        assert (is_reader(user), managed_cluster_ids(user), has_confirmed_device(user)) == (False, {cluster.pk}, True)


def test_an_unconfirmed_device_is_no_device(manager):
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=False)

    user = ModelBackend().get_user(manager.pk)

    assert user is not None
    assert has_confirmed_device(user) is False


def test_the_session_of_an_inactive_or_deleted_user_has_no_user(manager):
    manager.is_active = False
    manager.save()

    assert ModelBackend().get_user(manager.pk) is None
    assert ModelBackend().get_user(987654) is None


def test_a_session_list_reads_the_role_with_the_user(client, manager, cluster):
    client.force_login(manager)

    response = client.get(f"{API}/clusters/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [cluster.pk]


def test_an_anonymous_user_has_no_role_and_no_device():
    anonymous = AnonymousUser()

    assert (is_reader(anonymous), managed_cluster_ids(anonymous), has_confirmed_device(anonymous)) == (
        False,
        set(),
        False,
    )
