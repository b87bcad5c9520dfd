"""The cluster list and the funding overview of a large programme (issue 16): a page of clusters at a time,
the cluster list searchable, the funding overview's totals counting every cluster."""

from __future__ import annotations

from decimal import Decimal

import pytest

from funding.models import Allocation
from insights import views
from tests import factories

pytestmark = pytest.mark.django_db

NAMES = ["Alfa", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.fixture
def five(db):
    return [factories.ClusterFactory(name=name, slug=name.lower(), domain=f"{name} domain") for name in NAMES]


def listed(response) -> list[str]:
    return [row["cluster"].name for row in response.context["rows"]]


def test_the_cluster_list_goes_a_page_at_a_time_and_finds_a_cluster(officer_client, five, monkeypatch):
    monkeypatch.setattr(views, "CLUSTER_PAGE_SIZE", 2)
    first = officer_client.get("/clusters/")
    assert listed(first) == ["Alfa", "Bravo"]
    assert 'aria-label="Pages of the clusters"' in first.text and 'id="q"' in first.text
    assert listed(officer_client.get("/clusters/", {"page": 3})) == ["Echo"]
    assert listed(officer_client.get("/clusters/", {"q": "char"})) == ["Charlie"]
    assert listed(officer_client.get("/clusters/", {"q": "delta dom"})) == ["Delta"], "by domain too"
    none = officer_client.get("/clusters/", {"q": "zulu"})
    assert listed(none) == [] and "No cluster matches this search." in none.text


def test_a_short_list_has_no_search_and_no_pages(officer_client, five):
    page = officer_client.get("/clusters/").text
    assert 'id="q"' not in page and 'class="pagination"' not in page


def test_the_funding_overview_shows_a_page_of_clusters_beside_the_total_of_all(officer_client, five, monkeypatch):
    monkeypatch.setattr(views, "FUNDING_PAGE_SIZE", 2)
    year = factories.BudgetYearFactory(year=2024, envelope=Decimal(100_000_000))
    for n, cluster in enumerate(five, start=1):
        Allocation.objects.create(
            budget_year=year, purpose="competitiveness", cluster=cluster, amount=Decimal(n * 1_000_000)
        )
    page = officer_client.get("/insights/funding/", {"page": 2}, HTTP_ACCEPT_LANGUAGE="en")
    assert [c.name for c in page.context["clusters"]] == ["Charlie", "Delta"]
    text = page.text
    assert '15,000,000 <span class="meta">(5)</span>' in text, "the reserved total counts every cluster"
    assert ">Charlie<" in text and ">Alfa<" not in text
    assert "those of clusters 3–4 of 5" in text  # noqa: RUF001 - a range's en dash
    reservations = text.split('id="reservations-2024"')[1].split("</tbody>")[0]
    assert "Charlie" in reservations and "Alfa" not in reservations
