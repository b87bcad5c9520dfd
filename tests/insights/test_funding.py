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


def test_the_chart_stacks_each_years_envelope_from_its_allocations(client, officer, budget):
    """2020: 16 M reserved + 14.2 M inter-cluster + 44.8 M remaining, stacked up to the 75 M envelope."""
    import re

    client.force_login(officer)
    response = client.get("/insights/funding/", HTTP_ACCEPT_LANGUAGE="en")
    chart = response.text.split('id="budget-chart"')[1].split("</figure>")[0]
    heights = {
        css: float(height)
        for css, height in re.findall(
            r'<rect class="(bar[\w-]*)" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', chart
        )
        if css in ("bar", "bar-inter")
    }
    assert heights["bar"] / heights["bar-inter"] == pytest.approx(16 / 14.2, rel=0.02)
    assert chart.count('class="bar-remaining"') == 2, "2020 and 2027 both have money left"
    assert chart.count('class="bar-other"') == 0, "no other allocations: no empty segment drawn"
    assert "2020 Inter-cluster projects: 14.2 M" in chart
