"""The funding overview: every budget year with envelope, reservations per cluster, the rest, and totals."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funding.models import Allocation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget(cluster, other_cluster):
    year = factories.BudgetYearFactory(year=2020, envelope=Decimal("75000000"))
    for owner in (cluster, other_cluster):
        Allocation.objects.create(
            budget_year=year, purpose="competitiveness", cluster=owner, amount=Decimal(8_000_000)
        )
    inter = Allocation.objects.create(budget_year=year, purpose="inter_cluster", amount=Decimal(14_200_000))
    inter.partners.set([cluster, other_cluster])
    factories.BudgetYearFactory(year=2027, envelope=Decimal("84000000"))
    return year


def test_an_officer_sees_every_year_with_reservations_and_what_remains(client, officer, budget, cluster):
    client.force_login(officer)
    response = client.get("/insights/funding/", HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 200
    text = response.text
    assert "75.000.000" in text and "8.000.000" in text and "14.200.000" in text
    assert "44.800.000" in text  # 75 M - 2 x 8 M - 14,2 M, computed, never stored
    assert "159.000.000" in text  # the envelopes of 2020 and 2027 together
    assert cluster.name in text


def test_a_manager_sees_their_own_clusters_column_only(client, manager, cluster, other_cluster, budget):
    client.force_login(manager)
    response = client.get("/insights/funding/")
    assert response.status_code == 200
    assert f">{cluster.name}<" in response.text
    assert f">{other_cluster.name}<" not in response.text


def test_the_overview_costs_the_same_queries_for_more_years(client, officer, cluster, budget):
    client.force_login(officer)
    client.get("/insights/funding/")  # warm the session and role caches
    with CaptureQueriesContext(connection) as few:
        client.get("/insights/funding/")
    for year in range(2030, 2040):
        factories.BudgetYearFactory(year=year, envelope=Decimal("80000000"))
    with CaptureQueriesContext(connection) as many:
        client.get("/insights/funding/")
    assert len(few) == len(many)


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/insights/funding/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
