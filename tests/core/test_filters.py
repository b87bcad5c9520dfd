"""core/filters.py: a filter naming an object answers as before (a 400 for one that is not the user's or does
not exist), but checking it costs no query where the request already knows: a manager's own clusters come
with the role, and an officer's or reader's choice is proven by the rows it selects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from funding.models import SupportAgreement
from tests.api_helpers import API, ApiClient

pytestmark = pytest.mark.django_db

AGREEMENTS = f"{API}/agreements/"
MISSING = 987654


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agreement(cluster) -> SupportAgreement:
    return SupportAgreement.objects.create(
        cluster=cluster,
        reference="SO-1",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        chain_start=date(2017, 1, 1),
        amount=Decimal(500_000),
    )


def client_of(user) -> ApiClient:
    _row, token = AuthToken.objects.create(user)
    return ApiClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")


def get(client, path: str, params: dict) -> tuple[int, dict, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    return response.status_code, response.json(), len(queries)


@pytest.mark.parametrize("role", ["officer", "reader"])
def test_a_readers_choice_that_lists_rows_costs_no_check(request, role, agreement, cluster):
    status, body, queries = get(client_of(request.getfixturevalue(role)), AGREEMENTS, {"cluster": cluster.pk})

    assert (status, [row["id"] for row in body["results"]]) == (200, [agreement.pk])
    assert queries == 3  # the token, the count, the page


@pytest.mark.parametrize("role", ["officer", "reader"])
def test_a_readers_choice_that_does_not_exist_is_still_a_400(request, role, agreement):
    client = client_of(request.getfixturevalue(role))

    status, body, _queries = get(client, AGREEMENTS, {"cluster": MISSING})
    assert status == 400
    assert body == {"cluster": ["Select a valid choice. That choice is not one of the available choices."]}
    # A page past the end of what the missing choice selects: the 400 first, as before.
    assert get(client, AGREEMENTS, {"cluster": MISSING, "page": 3})[0] == 400
    assert get(client, AGREEMENTS, {"cluster": "not-a-number"})[0] == 400
    assert get(client, AGREEMENTS, {"cluster": str(2**70)})[0] == 400  # past the database's integers
    assert get(client, AGREEMENTS, {"cluster": "-1"})[0] == 400


def test_a_readers_choice_that_exists_but_lists_nothing_is_an_empty_list(officer, other_cluster, agreement):
    status, body, queries = get(client_of(officer), AGREEMENTS, {"cluster": other_cluster.pk})

    assert (status, body["count"], body["results"]) == (200, 0, [])
    assert queries == 3  # the token, the count (no page to read), then the check


def test_two_choices_each_checked_when_the_list_is_empty(officer, cluster, agreement):
    client = client_of(officer)

    assert get(client, AGREEMENTS, {"cluster": cluster.pk, "predecessor": agreement.pk})[0] == 200
    status, body, _queries = get(client, AGREEMENTS, {"cluster": cluster.pk, "predecessor": MISSING})
    assert status == 400
    assert set(body) == {"predecessor"}


def test_a_managers_own_cluster_costs_no_check_and_another_is_refused_without_one(
    manager, cluster, other_cluster, agreement
):
    client = client_of(manager)

    own = get(client, AGREEMENTS, {"cluster": cluster.pk})
    other = get(client, AGREEMENTS, {"cluster": other_cluster.pk})
    missing = get(client, AGREEMENTS, {"cluster": MISSING})

    assert (own[0], own[2]) == (200, 3)
    assert (other[0], other[2]) == (400, 1)  # only the token: the role said no
    assert (missing[0], missing[2]) == (400, 1)
    assert str(other_cluster) not in str(other[1])


def test_a_managers_choice_of_another_kind_is_looked_up_as_before(manager, cluster, other_cluster, agreement):
    theirs = SupportAgreement.objects.create(
        cluster=other_cluster,
        reference="SO-2",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        chain_start=date(2017, 1, 1),
        amount=Decimal(500_000),
    )
    client = client_of(manager)

    assert get(client, AGREEMENTS, {"predecessor": agreement.pk})[0] == 200
    assert get(client, AGREEMENTS, {"predecessor": theirs.pk})[0] == 400


def test_a_detail_with_a_missing_choice_is_refused_at_once_as_before(officer, agreement):
    response = client_of(officer).get(f"{AGREEMENTS}{agreement.pk}/", {"cluster": MISSING})

    assert response.status_code == 400
    assert "cluster" in response.json()


def test_the_exports_refuse_a_missing_choice_at_once_as_before(client, officer, agreement):
    client.force_login(officer)

    assert client.get("/insights/exports/agreements.csv", {"cluster": MISSING}).status_code == 400
