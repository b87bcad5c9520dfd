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


# --- a request that names no filter skips the filterset (issue 16: about 2 ms a request) ---------------


def _filtered_viewsets() -> list[tuple[str, type]]:
    from config.api import router

    return [
        (prefix, viewset)
        for prefix, viewset, _basename in router.registry
        if getattr(viewset, "filterset_class", None) or getattr(viewset, "filterset_fields", None)
    ]


@pytest.mark.parametrize(("prefix", "viewset"), _filtered_viewsets(), ids=lambda value: str(value))
def test_every_api_filterset_that_is_skipped_filters_nothing_without_its_parameters(rf, officer, prefix, viewset):
    from rest_framework.request import Request

    from core.filters import FilterBackend, _filters_nothing_when_empty

    request = Request(rf.get(f"{API}/{prefix}/", {"page": 2, "ordering": "id"}))
    request.user = officer
    view = viewset(request=request, action="list", format_kwarg=None, kwargs={})
    queryset = view.get_queryset()
    filterset_class = FilterBackend().get_filterset_class(view, queryset)
    if not _filters_nothing_when_empty(filterset_class):
        pytest.skip(f"{filterset_class.__name__} always goes through the filterset")
    filterset = filterset_class(data=request.query_params, queryset=queryset, request=request)

    assert filterset.is_valid()
    assert str(filterset.qs.query) == str(queryset.query)
    assert FilterBackend().filter_queryset(request, queryset, view) is queryset


def test_the_project_filtersets_are_skipped_when_named_nothing():
    from core.filters import FilterBackend, _filters_nothing_when_empty

    skipped = {
        viewset.__name__
        for _prefix, viewset in _filtered_viewsets()
        if _filters_nothing_when_empty(FilterBackend().get_filterset_class(viewset(), viewset.queryset))
    }

    assert {"AgreementViewSet", "FlagViewSet", "ClusterViewSet", "KpiValueViewSet", "BudgetYearViewSet"} <= skipped


def test_a_filterset_that_could_filter_on_nothing_is_never_skipped():
    import django_filters

    from core.filters import ScopedFilterSet, _filters_nothing_when_empty

    class Always(django_filters.CharFilter):
        def filter(self, qs, value):
            return qs.none()

    class Required(ScopedFilterSet):
        reference = django_filters.CharFilter(required=True)

        class Meta:
            model = SupportAgreement
            fields: list[str] = []

    class Custom(ScopedFilterSet):
        reference = Always()

        class Meta:
            model = SupportAgreement
            fields: list[str] = []

    class OwnSteps(ScopedFilterSet):
        class Meta:
            model = SupportAgreement
            fields = ["reference"]

        def filter_queryset(self, queryset):
            return queryset.none()

    assert [_filters_nothing_when_empty(cls) for cls in (Required, Custom, OwnSteps)] == [False, False, False]


def test_a_detail_naming_a_filter_is_still_filtered(officer, agreement, other_cluster):
    client = client_of(officer)

    assert client.get(f"{AGREEMENTS}{agreement.pk}/", {"unrelated": "x"}).status_code == 200
    assert client.get(f"{AGREEMENTS}{agreement.pk}/", {"cluster": other_cluster.pk}).status_code == 404
    assert client.get(f"{AGREEMENTS}{agreement.pk}/", {"start_date__gte": "2018-01-01"}).status_code == 404
    assert client.get(f"{AGREEMENTS}{agreement.pk}/", {"start_date__gte": "not a date"}).status_code == 400


def test_a_list_naming_no_filter_lists_everything_in_scope(manager, agreement, cluster, other_cluster):
    SupportAgreement.objects.create(
        cluster=other_cluster,
        reference="SO-2",
        start_date=date(2017, 1, 1),
        end_date=date(2019, 12, 31),
        chain_start=date(2017, 1, 1),
        amount=Decimal(1),
    )
    status, body, queries = get(client_of(manager), AGREEMENTS, {"ordering": "reference"})

    assert (status, [row["id"] for row in body["results"]], queries) == (200, [agreement.pk], 3)


def test_a_filter_counts_as_named_by_its_name_or_its_name_with_a_suffix():
    from core.filters import named_filters
    from funding.api import AgreementFilter

    params = ["cluster", "start_date__gte", "running_on_after", "page", "ordering", "clusterless"]

    assert named_filters(AgreementFilter, params) == {"cluster", "start_date__gte", "running_on"}


def test_a_list_naming_one_filter_still_refuses_a_bad_value_of_it(officer, agreement):
    status, body, _queries = get(client_of(officer), AGREEMENTS, {"start_date__gte": "not a date", "page": 1})

    assert status == 400
    assert list(body) == ["start_date__gte"]
