"""Projects decided against each cluster's reservation, wherever insights shows the budget: the funding
overview, the briefing (page, JSON, .docx), the cluster page and the exports; as of a day, scoped, and at a
cost that does not grow with the projects.

The record (illustrative, after the 2024 decisions of the design brief): in 2024 Catalisti and De Blauwe
Cluster each have 8 M EUR reserved, SIM 6 M EUR, and 14,2 M EUR goes to inter-cluster projects (Catalisti and
SIM); Catalisti decides 5,31 M EUR (one ICON project), De Blauwe Cluster 10,1 M EUR (two projects: 2,1 M EUR
over its reservation), and Catalisti leads a 3 M EUR inter-cluster project with SIM. The 2025 reservations
were decided on 15 December 2024; Catalisti's first 2025 project (1,5 M EUR) on 5 January 2025.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from docx import Document
from openpyxl import load_workbook

from funding.models import Allocation, Project, ProjectPartner
from tests import factories

pytestmark = pytest.mark.django_db

END_2024, END_2025 = date(2024, 12, 31), date(2025, 12, 31)
DECIDED_2025 = date(2025, 1, 5)
ONE_DAY = timedelta(days=1)
M = Decimal(1_000_000)


@pytest.fixture
def blue(db):
    return factories.ClusterFactory(name="De Blauwe Cluster", slug="de-blauwe-cluster", started_on=date(2018, 1, 1))


@pytest.fixture
def record(cluster, other_cluster, blue):
    year = factories.BudgetYearFactory(year=2024, envelope=Decimal(75) * M)
    for owner, amount in ((cluster, 8 * M), (blue, 8 * M), (other_cluster, 6 * M)):
        Allocation.objects.create(budget_year=year, purpose="competitiveness", cluster=owner, amount=amount)
    inter = Allocation.objects.create(budget_year=year, purpose="inter_cluster", amount=Decimal("14.2") * M)
    inter.partners.set([cluster, other_cluster])
    next_year = factories.BudgetYearFactory(year=2025, envelope=Decimal(80) * M)
    for owner in (cluster, blue):
        Allocation.objects.create(
            budget_year=next_year,
            purpose="competitiveness",
            cluster=owner,
            amount=8 * M,
            decided_on=date(2024, 12, 15),
        )
    firm, lab = factories.OrganisationFactory(name="Polymer NV"), factories.OrganisationFactory(name="KU Leuven")
    factories.ProjectFactory(
        reference="HBC.2024.0101",
        title="Circular polymers",
        lead_cluster=cluster,
        decided_on=date(2024, 6, 1),
        amount=Decimal("5.31") * M,
        partners=[(firm, ProjectPartner.Role.LEAD), (lab, ProjectPartner.Role.PARTNER)],
    )
    factories.ProjectFactory(
        reference="HBC.2024.0201", title="Offshore hydrogen", lead_cluster=blue, amount=Decimal(6) * M
    )
    factories.ProjectFactory(
        reference="HBC.2024.0202",
        title="Blue dredging",
        type=Project.Type.CSBO,
        lead_cluster=blue,
        decided_on=date(2024, 11, 20),
        amount=Decimal("4.1") * M,
    )
    factories.ProjectFactory(
        reference="HBC.2024.0301",
        title="Materials for chemistry",
        type=Project.Type.INTER_CLUSTER,
        lead_cluster=cluster,
        clusters=[other_cluster],
        decided_on=date(2024, 3, 1),
        amount=Decimal(3) * M,
    )
    factories.ProjectFactory(
        reference="HBC.2025.0001",
        title="Recycling pilot",
        type=Project.Type.FEASIBILITY,
        lead_cluster=cluster,
        decided_on=DECIDED_2025,
        amount=Decimal("1.5") * M,
        start_date=date(2025, 3, 1),
        end_date=date(2026, 2, 28),
    )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def reservation_rows(html: str, year: int) -> dict[str, list[str]]:
    """The rows of one year of the reservations table: name -> [reserved, decided, projects, remaining]."""
    body = html.split(f'<tbody id="reservations-{year}">')[1].split("</tbody>")[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        cells = [text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if len(cells) == 5:
            rows[cells[0]] = cells[1:]
    return rows


def funding(client, day: date | None = None) -> str:
    response = client.get("/insights/funding/", {"as_of": day.isoformat()} if day else {}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.text


# --- the funding overview ------------------------------------------------------------------------------------


def test_the_funding_overview_shows_each_clusters_reservation_decided_and_remaining_as_of_a_day(
    officer_client, record
):
    rows = reservation_rows(funding(officer_client, END_2024), 2024)
    assert rows == {
        "Catalisti": ["8,000,000", "5,310,000", "1", "2,690,000"],
        "De Blauwe Cluster": ["8,000,000", "10,100,000", "2", "2,100,000 over"],
        "SIM": ["6,000,000", "0", "0", "6,000,000"],
        "Inter-cluster allocation": ["14,200,000", "3,000,000", "1", "11,200,000"],
    }


def test_a_project_counts_from_its_decision_day(officer_client, record):
    def catalisti_2025(day: date | None) -> list[str]:
        return reservation_rows(funding(officer_client, day), 2025)["Catalisti"]

    assert catalisti_2025(END_2024) == ["8,000,000", "0", "0", "8,000,000"]
    assert catalisti_2025(DECIDED_2025 - ONE_DAY) == ["8,000,000", "0", "0", "8,000,000"]
    assert catalisti_2025(DECIDED_2025) == ["8,000,000", "1,500,000", "1", "6,500,000"]
    assert catalisti_2025(END_2025) == ["8,000,000", "1,500,000", "1", "6,500,000"]
    assert catalisti_2025(None) == ["8,000,000", "1,500,000", "1", "6,500,000"], "without a day: everything"


def test_the_overview_marks_a_reservation_exceeded_with_the_amount_over(officer_client, record):
    html = funding(officer_client, END_2024)
    body = html.split('<tbody id="reservations-2024">')[1].split("</tbody>")[0]
    [row] = [row for row in re.findall(r"<tr([^>]*)>(.*?)</tr>", body, re.S) if "De Blauwe Cluster" in row[1]]
    assert 'class="over"' in row[0]
    assert '<strong class="bad over-by"' in row[1] and "2,100,000 over" in text_of(row[1])
    assert html.count("over-by") == 1, "only De Blauwe Cluster went over"


def test_the_overview_takes_its_day_in_the_form_and_its_downloads(officer_client, record):
    html = funding(officer_client, END_2024)
    assert 'value="2024-12-31"' in html and "as of 31 December 2024" in html
    for dataset in ("allocations", "projects"):
        assert f"/insights/exports/{dataset}.csv?as_of=2024-12-31" in html
    invalid = officer_client.get("/insights/funding/", {"as_of": "2024-13-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert invalid.status_code == 200 and "That is not a valid day" in invalid.text


def test_a_manager_sees_only_their_own_reservation_and_projects_on_the_overview(client, manager, record, blue):
    client.force_login(manager)
    html = funding(client, END_2024)
    rows = reservation_rows(html, 2024)
    assert rows["Catalisti"] == ["8,000,000", "5,310,000", "1", "2,690,000"]
    # Their inter-cluster allocation and project (with SIM) are theirs too; nobody else's reservation is.
    assert set(rows) == {"Catalisti", "Inter-cluster allocation"}
    assert "De Blauwe Cluster" not in html and "10,100,000" not in html and "SIM" not in text_of(html)


def test_the_overview_costs_the_same_queries_with_one_project_or_many(officer_client, cluster, blue):
    year = factories.BudgetYearFactory(year=2024, envelope=Decimal(75) * M)
    Allocation.objects.create(budget_year=year, purpose="competitiveness", cluster=cluster, amount=8 * M)
    factories.ProjectFactory(lead_cluster=cluster)
    funding(officer_client)
    with CaptureQueriesContext(connection) as one:
        funding(officer_client, END_2024)
    for n in range(12):
        owner = (cluster, blue)[n % 2]
        if n % 3:
            factories.ProjectFactory(lead_cluster=owner, decided_on=date(2024, 1 + n, 1))
        else:
            factories.ProjectFactory(type=Project.Type.INTER_CLUSTER, lead_cluster=owner, clusters=[cluster, blue][1:])
    with CaptureQueriesContext(connection) as many:
        html = funding(officer_client, END_2024)
    assert len(many) == len(one)
    assert "De Blauwe Cluster" in reservation_rows(html, 2024)


# --- the briefing --------------------------------------------------------------------------------------------


def briefing_json(client, day: date) -> dict:
    response = client.get("/api/v1/briefing/", {"as_of": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.json()


def reservations_of(body: dict, year: int) -> dict[str, tuple]:
    [budget] = [row for row in body["budget"] if row["year"] == year]
    return {
        r["cluster_name"]: (r["amount"], r["decided"], r["projects"], r["remaining"], r["over"])
        for r in budget["reservations"]
    }


def test_the_briefing_answers_the_budget_with_the_decisions_as_of_its_day(officer_client, record):
    body = briefing_json(officer_client, END_2024)
    assert reservations_of(body, 2024) == {
        "Catalisti": (8e6, 5.31e6, 1, 2.69e6, 0),
        "De Blauwe Cluster": (8e6, 10.1e6, 2, -2.1e6, 2.1e6),
        "SIM": (6e6, 0, 0, 6e6, 0),
    }
    [year] = [row for row in body["budget"] if row["year"] == 2024]
    assert (year["projects_decided"], year["inter_cluster"], year["inter_cluster_decided"]) == (15.41e6, 14.2e6, 3e6)
    assert (year["inter_cluster_projects"], year["inter_cluster_remaining"]) == (1, 11.2e6)
    assert reservations_of(body, 2025)["Catalisti"] == (8e6, 0, 0, 8e6, 0), "decided on 5 January 2025"
    figures = body["summary_figures"]
    assert (figures["projects_decided"], figures["inter_cluster_decided"]) == (15.41e6, 3e6)
    assert figures["reservations_exceeded"] == [
        {"cluster": record_cluster_id(body, "De Blauwe Cluster"), "cluster_name": "De Blauwe Cluster", "over": 2.1e6}
    ]
    assert (
        "Projects worth 15.4 M EUR were decided against the clusters' reservations of 2024, and 3 M EUR against "
        "the inter-cluster allocation. 1 reservation was exceeded: De Blauwe Cluster by 2.1 M EUR." in body["summary"]
    )
    later = briefing_json(officer_client, END_2025)
    assert reservations_of(later, 2025)["Catalisti"] == (8e6, 1.5e6, 1, 6.5e6, 0)
    assert later["summary_figures"]["reservations_exceeded"] == []


def record_cluster_id(body: dict, name: str) -> int:
    return next(r["cluster"] for row in body["budget"] for r in row["reservations"] if r["cluster_name"] == name)


def test_the_briefing_page_and_document_tell_the_same_decisions(officer_client, record):
    query = {"as_of": END_2024.isoformat()}
    summary = briefing_json(officer_client, END_2024)["summary"]
    page = officer_client.get("/insights/briefing/", query, HTTP_ACCEPT_LANGUAGE="en").text
    assert reservation_rows(page, 2024) == {
        "Catalisti": ["8,000,000", "5,310,000", "1", "2,690,000"],
        "De Blauwe Cluster": ["8,000,000", "10,100,000", "2", "2,100,000 over"],
        "SIM": ["6,000,000", "0", "0", "6,000,000"],
        "Inter-cluster allocation": ["14,200,000", "3,000,000", "1", "11,200,000"],
    }
    assert reservation_rows(page, 2025)["Catalisti"] == ["8,000,000", "0", "0", "8,000,000"]
    assert f'id="summary">{escape(summary)}</p>' in page
    assert "/insights/exports/projects.xlsx?as_of=2024-12-31" in page

    content = officer_client.get("/insights/briefing.docx", query, HTTP_ACCEPT_LANGUAGE="en").content
    document = Document(BytesIO(content))
    assert document.paragraphs[1].text == summary
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert ["Cluster", "Reserved", "Decided", "Projects", "Remaining"] in rows
    assert ["Catalisti", "8,000,000 EUR", "5,310,000 EUR", "1", "2,690,000 EUR"] in rows
    assert ["De Blauwe Cluster", "8,000,000 EUR", "10,100,000 EUR", "2", "2,100,000 EUR over"] in rows
    assert ["Inter-cluster allocation", "14,200,000 EUR", "3,000,000 EUR", "1", "11,200,000 EUR"] in rows
    assert ["Catalisti", "8,000,000 EUR", "0 EUR", "0", "8,000,000 EUR"] in rows, "2025, before its first project"

    later = officer_client.get("/insights/briefing.docx", {"as_of": END_2025.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    later_rows = [[c.text for c in row.cells] for t in Document(BytesIO(later.content)).tables for row in t.rows]
    assert ["Catalisti", "8,000,000 EUR", "1,500,000 EUR", "1", "6,500,000 EUR"] in later_rows


def test_the_briefing_summary_names_the_decisions_in_dutch(officer_client, record):
    response = officer_client.get("/api/v1/briefing/", {"as_of": END_2024.isoformat()}, HTTP_ACCEPT_LANGUAGE="nl")
    summary = response.json()["summary"]
    assert "15,4 M EUR" in summary and "De Blauwe Cluster" in summary and "2,1 M EUR" in summary
    assert "Projects worth" not in summary, "translated"


def test_a_managers_briefing_names_no_other_clusters_decisions(client, manager, record):
    client.force_login(manager)
    body = briefing_json(client, END_2024)
    assert set(reservations_of(body, 2024)) == {"Catalisti"}
    assert body["summary_figures"]["reservations_exceeded"] == []
    assert "De Blauwe Cluster" not in body["summary"] and body["summary_figures"]["projects_decided"] == 5.31e6
    page = client.get("/insights/briefing/", {"as_of": END_2024.isoformat()}).text
    assert "De Blauwe Cluster" not in page and "10.100.000" not in page


# --- the cluster page ----------------------------------------------------------------------------------------


def test_the_cluster_page_lists_its_projects_by_year_with_its_role(officer_client, record, cluster, other_cluster):
    html = officer_client.get(f"/clusters/{cluster.slug}/").text
    section = html.split('id="projects"')[1].split("</section>")[0]
    table = section.split('id="project-table"')[1]
    years = re.findall(r'<tbody id="projects-(\d{4})">', table)
    assert years == ["2025", "2024"]
    in_2024 = text_of(table.split('id="projects-2024"')[1].split("</tbody>")[0])
    assert "HBC.2024.0101 Circular polymers ICON project leads the project 01/06/2024 5,310,000" in in_2024
    assert "HBC.2024.0301 Materials for chemistry inter-cluster project leads the project with SIM" in in_2024
    assert "HBC.2024.02" not in section, "De Blauwe Cluster's projects are not Catalisti's"
    assert f"/insights/exports/projects.csv?cluster={cluster.pk}" in section

    sim = officer_client.get(f"/clusters/{other_cluster.slug}/").text.split('id="projects"')[1].split("</section>")[0]
    assert "partner (led by Catalisti)" in sim and "HBC.2024.0101" not in sim


def test_the_cluster_page_charts_decided_against_the_reservation(officer_client, record, blue):
    html = officer_client.get(f"/clusters/{blue.slug}/").text
    chart = html.split('id="reservation-chart"')[1].split("</figure>")[0]
    assert chart.count('class="bar-over"') == 1 and chart.count('class="target"') == 2  # 2024 over, 2025 not yet
    assert "2024: 10.10 M decided, 8.00 M reserved (2.10 M over)" in chart
    table = html.split('id="reservation-table"')[1].split("</table>")[0]
    rows = [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
    assert rows == ["2024 8,000,000 10,100,000 2 2,100,000 over", "2025 8,000,000 0 0 8,000,000"]


def test_a_cluster_without_projects_says_so(officer_client, cluster):
    html = officer_client.get(f"/clusters/{cluster.slug}/", HTTP_ACCEPT_LANGUAGE="en").text
    section = html.split('id="projects"')[1].split("</section>")[0]
    assert "No projects decided yet." in section and "<svg" not in section


def test_a_manager_sees_their_clusters_projects_and_no_other_clusters_page(client, other_manager, record, cluster):
    client.force_login(other_manager)
    assert client.get(f"/clusters/{cluster.slug}/").status_code == 404
    html = client.get("/clusters/sim/").text
    assert "HBC.2024.0301" in html, "the inter-cluster project SIM takes part in"
    for reference in ("HBC.2024.0101", "HBC.2024.0201", "HBC.2025.0001"):
        assert reference not in html


def test_the_cluster_page_costs_the_same_queries_with_one_project_or_many(officer_client, cluster, blue):
    factories.BudgetYearFactory(year=2024)
    factories.ProjectFactory(lead_cluster=cluster)
    url = f"/clusters/{cluster.slug}/"
    officer_client.get(url)
    with CaptureQueriesContext(connection) as one:
        officer_client.get(url)
    organisations = [factories.OrganisationFactory() for _ in range(3)]
    for n in range(10):
        factories.ProjectFactory(
            lead_cluster=cluster if n % 2 else blue,
            type=Project.Type.ICON if n % 2 else Project.Type.INTER_CLUSTER,
            clusters=[] if n % 2 else [cluster],
            decided_on=date(2020 + n % 5, 3, 1),
            partners=[(organisation, ProjectPartner.Role.PARTNER) for organisation in organisations],
        )
    with CaptureQueriesContext(connection) as many:
        response = officer_client.get(url)
    assert len(many) == len(one)
    assert sum(len(py.projects) for py in response.context["project_years"]) == 11


# --- the exports ---------------------------------------------------------------------------------------------


def projects_csv(client, query: dict | None = None) -> list[dict[str, str]]:
    response = client.get("/insights/exports/projects.csv", query or {})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_projects_export_has_every_column_and_replays_the_day(officer_client, record):
    rows = {row["reference"]: row for row in projects_csv(officer_client)}
    assert rows["HBC.2024.0101"] == {
        "reference": "HBC.2024.0101",
        "title": "Circular polymers",
        "type": "icon",
        "lead_cluster": "Catalisti",
        "other_clusters": "",
        "decided_on": "2024-06-01",
        "year": "2024",
        "amount": "5310000.00",
        "start_date": "2024-09-01",
        "end_date": "2026-08-31",
        "status": "decided",
        "status_since": "2024-06-01",
        "partners": "Polymer NV (lead); KU Leuven (partner)",
    }
    assert rows["HBC.2024.0301"]["other_clusters"] == "SIM"
    assert set(rows) == {"HBC.2024.0101", "HBC.2024.0201", "HBC.2024.0202", "HBC.2024.0301", "HBC.2025.0001"}
    as_of = {row["reference"] for row in projects_csv(officer_client, {"as_of": END_2024.isoformat()})}
    assert "HBC.2025.0001" not in as_of and len(as_of) == 4
    assert "HBC.2025.0001" in {row["reference"] for row in projects_csv(officer_client, {"as_of": "2025-01-05"})}


def test_the_projects_export_gives_the_status_a_project_had_on_the_day(officer_client, cluster):
    factories.ProjectFactory(
        reference="P-1",
        lead_cluster=cluster,
        decided_on=date(2022, 1, 10),
        start_date=date(2022, 3, 1),
        end_date=date(2024, 2, 29),
        status=Project.Status.COMPLETED,
        status_on=date(2024, 3, 15),
    )

    def status(day: str) -> tuple[str, str]:
        [row] = projects_csv(officer_client, {"as_of": day})
        return row["status"], row["status_since"]

    assert status("2022-02-01") == ("decided", "2022-01-10")
    assert status("2023-01-01") == ("running", "2022-03-01")
    assert status("2024-03-14") == ("running", "2022-03-01")
    assert status("2024-03-15") == ("completed", "2024-03-15")


def test_the_projects_export_filters_by_cluster_leading_or_taking_part(officer_client, record, other_cluster):
    rows = projects_csv(officer_client, {"cluster": other_cluster.pk})
    assert [row["reference"] for row in rows] == ["HBC.2024.0301"]
    assert [row["reference"] for row in projects_csv(officer_client, {"year": 2025})] == ["HBC.2025.0001"]


def test_a_managers_projects_export_holds_only_their_clusters_projects(client, other_manager, record, cluster):
    client.force_login(other_manager)
    assert [row["reference"] for row in projects_csv(client)] == ["HBC.2024.0301"]
    assert client.get("/insights/exports/projects.csv", {"cluster": cluster.pk}).status_code == 400
    response = client.get("/insights/exports/projects.xlsx")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["HBC.2024.0301"]


def test_the_projects_export_costs_the_same_queries_for_one_project_or_many(officer_client, cluster, other_cluster):
    organisation = factories.OrganisationFactory()
    factories.ProjectFactory(lead_cluster=cluster, partners=[(organisation, ProjectPartner.Role.LEAD)])
    projects_csv(officer_client)
    with CaptureQueriesContext(connection) as one:
        projects_csv(officer_client)
    for _ in range(15):
        factories.ProjectFactory(
            type=Project.Type.INTER_CLUSTER,
            lead_cluster=cluster,
            clusters=[other_cluster],
            partners=[(factories.OrganisationFactory(), ProjectPartner.Role.PARTNER)],
        )
    with CaptureQueriesContext(connection) as many:
        assert len(projects_csv(officer_client)) == 16
    assert len(many) == len(one)


def test_the_allocations_export_gives_each_reservation_decided_and_remaining(officer_client, record):
    response = officer_client.get("/insights/exports/allocations.csv", {"as_of": END_2024.isoformat()})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    figures = {
        (row["year"], row["purpose"], row["cluster"]): (row["projects_decided"], row["projects"], row["remaining"])
        for row in rows
    }
    assert figures[("2024", "competitiveness", "De Blauwe Cluster")] == ("10100000.00", "2", "-2100000.00")
    assert figures[("2024", "competitiveness", "SIM")] == ("0.00", "0", "6000000.00")
    assert figures[("2025", "competitiveness", "Catalisti")] == ("0.00", "0", "8000000.00")
    assert figures[("2024", "inter_cluster", "")] == ("", "", ""), "decided per year, not per allocation"
    response = officer_client.get("/insights/exports/allocations.csv", {"as_of": END_2025.isoformat()})
    later = {
        (row["year"], row["cluster"]): row["projects_decided"]
        for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    }
    assert later[("2025", "Catalisti")] == "1500000.00"
