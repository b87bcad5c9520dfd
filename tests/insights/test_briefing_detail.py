"""The briefing of a large programme (issue 16): the summary counts every cluster, the per-cluster answers detail
a page of clusters or the one asked for, and the page, the JSON and the .docx detail the same ones. The page
size is made 2 here, so that five clusters fill three pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from docx import Document

from clusterpacts.models import Cluster
from funding.models import Allocation
from insights import selectors
from tests import factories

pytestmark = pytest.mark.django_db

AS_OF = date(2024, 6, 30)
NAMES = ["Alfa", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.fixture
def programme(monkeypatch) -> list[Cluster]:
    monkeypatch.setattr(selectors, "BRIEFING_PAGE_SIZE", 2)
    monkeypatch.setattr(selectors, "EXCEEDED_LISTED", 2)
    budget = factories.BudgetYearFactory(year=AS_OF.year, envelope=Decimal(100_000_000))
    clusters = []
    for name in NAMES:
        cluster = factories.ClusterFactory(name=name, slug=name.lower(), started_on=date(2020, 1, 1))
        Allocation.objects.create(
            budget_year=budget, purpose="competitiveness", cluster=cluster, amount=Decimal(8_000_000)
        )
        # Each decides 9 M EUR against its 8 M EUR reservation: every reservation is exceeded.
        factories.ProjectFactory(lead_cluster=cluster, decided_on=date(AS_OF.year, 2, 1), amount=Decimal(9_000_000))
        clusters.append(cluster)
    return clusters


def detailed(body) -> list[str]:
    return [row["cluster_name"] for row in body["renewals"]]


def test_the_summary_counts_every_cluster_and_the_detail_is_a_page_of_them(programme, officer_client):
    first = officer_client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat()}).json()
    assert first["summary_figures"]["clusters"] == 5
    assert first["detail"] == {
        "page": 1,
        "pages": 3,
        "page_size": 2,
        "clusters": 5,
        "first": 1,
        "last": 2,
        "chosen": False,
    }
    assert detailed(first) == ["Alfa", "Bravo"]
    for block in ("evaluations", "reports", "kpis", "lessons", "renewals"):
        assert [row["cluster_name"] for row in first[block]] == ["Alfa", "Bravo"], block
    last = officer_client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat(), "detail_page": 3}).json()
    assert detailed(last) == ["Echo"] and last["detail"]["first"] == 5
    beyond = officer_client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat(), "detail_page": 99}).json()
    assert beyond["detail"]["page"] == 3, "a page beyond the last shows the last"
    wide = officer_client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat(), "page_size": 100}).json()
    assert detailed(wide) == NAMES


def test_the_budget_totals_count_every_cluster_and_list_the_pages_reservations(programme, officer_client):
    body = officer_client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat(), "detail_page": 2}).json()
    (year,) = [y for y in body["budget"] if y["year"] == AS_OF.year]
    assert year["reserved"] == 40_000_000 and year["reservation_count"] == 5
    assert year["projects_decided"] == 45_000_000
    assert [r["cluster_name"] for r in year["reservations"]] == ["Charlie", "Delta"]
    figures = body["summary_figures"]
    assert figures["reservations_exceeded_count"] == 5
    assert [e["cluster_name"] for e in figures["reservations_exceeded"]] == ["Alfa", "Bravo"]


def test_the_summary_names_the_first_exceeded_reservations_and_counts_the_others(programme, officer_client):
    body = officer_client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat()}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert "5 reservations were exceeded: Alfa by 1 M EUR; Bravo by 1 M EUR; and 3 others." in body["summary"]


def test_one_cluster_is_detailed_by_its_short_name_and_another_ones_is_404(programme, client):
    client.force_login(factories.manager_of(programme[0], username="manager-alfa"))
    body = client.get("/api/v1/briefing/", {"as_of": AS_OF.isoformat(), "cluster": "alfa"}).json()
    assert detailed(body) == ["Alfa"] and body["detail"]["chosen"] is True
    assert client.get("/api/v1/briefing/", {"cluster": "bravo"}).status_code == 404, "not theirs: as unknown"
    assert client.get("/api/v1/briefing/", {"cluster": "nope"}).status_code == 404


def test_the_page_says_what_it_details_and_links_the_pages_keeping_the_day(programme, officer_client):
    page = officer_client.get("/insights/briefing/", {"as_of": AS_OF.isoformat(), "page": 2}).text
    assert "The answers below detail clusters 3–4 of 5, by name" in page  # noqa: RUF001 - a range's en dash
    nav = page.split('<nav class="pagination" aria-label="Pages of the clusters detailed">')[1].split("</nav>")[0]
    assert f'href="?as_of={AS_OF.isoformat()}" rel="prev"' in nav
    assert f'href="?as_of={AS_OF.isoformat()}&amp;page=3" rel="next"' in nav
    assert '<span aria-current="page">Page 2</span>' in nav
    q4 = page.split('<section aria-labelledby="q4">')[1].split("</section>")[0]
    assert "Charlie" in q4 and "Alfa" not in q4
    # The Word document of the page details the same clusters, and says so.
    assert f'briefing.docx?as_of={AS_OF.isoformat()}&amp;page=2"' in page


def test_the_page_finds_one_cluster_by_its_name_and_says_when_none_is_called_so(programme, officer_client):
    page = officer_client.get("/insights/briefing/", {"as_of": AS_OF.isoformat(), "cluster": "delta"}).text
    assert "The answers below detail Delta only" in page
    assert f'briefing.docx?as_of={AS_OF.isoformat()}&amp;cluster=delta"' in page
    q4 = page.split('<section aria-labelledby="q4">')[1].split("</section>")[0]
    assert "Delta" in q4 and "Alfa" not in q4
    unknown = officer_client.get("/insights/briefing/", {"as_of": AS_OF.isoformat(), "cluster": "Zulu"}).text
    assert "You follow no cluster of that name; showing every cluster." in unknown


def test_the_word_document_details_the_pages_clusters_and_says_which(programme, officer_client):
    response = officer_client.get("/insights/briefing.docx", {"as_of": AS_OF.isoformat(), "page": 3})
    text = "\n".join(p.text for p in Document(BytesIO(response.content)).paragraphs)
    assert "The answers below detail clusters 5–5 of 5, by name (page 3 of 3)" in text  # noqa: RUF001
    assert "Echo — " in text and "Alfa — " not in text
    chosen = officer_client.get("/insights/briefing.docx", {"as_of": AS_OF.isoformat(), "cluster": "bravo"})
    text = "\n".join(p.text for p in Document(BytesIO(chosen.content)).paragraphs)
    assert "The answers below detail Bravo only; the summary above counts every cluster." in text


def test_a_programme_that_fits_one_page_shows_no_pages(officer_client, cluster):
    page = officer_client.get("/insights/briefing/", {"as_of": AS_OF.isoformat()}).text
    assert 'class="pagination"' not in page and 'id="detail-scope"' not in page and 'id="cluster"' not in page
