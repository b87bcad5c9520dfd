"""Exports: CSV and Excel of the main tables, scoped to the user, safe to open in a spreadsheet."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from clusterpacts.models import KpiDefinition, KpiTarget, Workflow
from clusterpacts.services import annual_report_create, document_transition, kpi_value_set
from core.spreadsheets import DANGEROUS, safe_cell, safe_row
from evaluations.models import Lesson
from funding.models import Allocation
from funding.services import agreement_create
from insights.exports import DATASETS, csv_stream
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_escaped(first):
    assert safe_cell(f"{first}HYPERLINK(1)") == f"'{first}HYPERLINK(1)"


def test_safe_text_and_numbers_are_left_alone():
    assert safe_cell("Roadmap sessions") == "Roadmap sessions"
    assert safe_cell(Decimal("-5")) == Decimal("-5")
    assert safe_cell(date(2020, 1, 1)) == date(2020, 1, 1)


def test_a_row_is_made_safe_as_each_of_its_cells_would_be():
    row = [
        *(f"{first}HYPERLINK(1)" for first in DANGEROUS),
        "Roadmap",
        Decimal("-5"),
        -5,
        None,
        True,
        date(2020, 1, 1),
    ]
    assert safe_row(row) == [safe_cell(value) for value in row]
    assert safe_row(iter(row))[:2] == ["'=HYPERLINK(1)", "'+HYPERLINK(1)"]


@pytest.fixture
def lessons(cluster, other_cluster):
    made = []
    for owner, text in ((cluster, "=cmd|' /C calc'!A0"), (other_cluster, "Other cluster's secret")):
        evaluation = factories.EvaluationFactory(cluster=owner)
        made.append(Lesson.objects.create(evaluation=evaluation, kind="bottleneck", text=text))
    return made


def _csv(response):
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_a_csv_export_escapes_formulas_and_streams(client, officer, lessons):
    client.force_login(officer)
    response = client.get("/insights/exports/lessons.csv")
    assert response.status_code == 200 and response.streaming
    table = _csv(response)
    assert table[0][:4] == ["cluster", "evaluation", "kind", "text"]
    texts = [row[3] for row in table[1:]]
    assert "'=cmd|' /C calc'!A0" in texts


def test_a_managers_export_never_holds_another_clusters_row(client, manager, cluster, lessons):
    client.force_login(manager)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/insights/exports/lessons.{fmt}")
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:]
        else:
            rows = list(
                load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(min_row=2, values_only=True)
            )
        assert rows and all(row[0] == cluster.name for row in rows)
        assert "Other cluster's secret" not in str(rows)


def test_an_xlsx_export_of_kpi_values_has_targets_numbers_and_the_filter(client, officer, cluster, other_cluster):
    kpi = KpiDefinition.objects.get(code="C2")
    for owner, value in ((cluster, 12), (other_cluster, 7)):
        report = annual_report_create(cluster=owner, year=2020)
        kpi_value_set(report=report, kpi=kpi, value=Decimal(value))
    from clusterpacts.models import KpiTarget

    KpiTarget.objects.create(cluster=cluster, kpi=kpi, year=2020, value=Decimal(10))
    client.force_login(officer)
    response = client.get("/insights/exports/kpi-values.xlsx", {"cluster": cluster.pk})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("cluster", "year", "kpi", "name", "unit", "target", "value", "official")
    assert rows[1:] == [(cluster.name, 2020, "C2", kpi.name_nl, "count", 10, 12, False)]


def test_every_dataset_exports_in_both_formats_and_bad_input_is_refused(client, officer, lessons):
    client.force_login(officer)
    for dataset in ("kpi-values", "agreements", "allocations", "evaluations", "lessons", "projects"):
        for fmt in ("csv", "xlsx"):
            assert client.get(f"/insights/exports/{dataset}.{fmt}").status_code == 200, (dataset, fmt)
    assert client.get("/insights/exports/users.csv").status_code == 404
    assert client.get("/insights/exports/lessons.pdf").status_code == 404
    assert client.get("/insights/exports/evaluations.csv", {"cluster": "999999"}).status_code == 400


def test_every_dataset_filters_with_the_filterset_of_its_api_list():
    from clusterpacts.api import KpiValueViewSet
    from evaluations.api import EvaluationViewSet, LessonViewSet
    from funding.api import AgreementViewSet, AllocationViewSet, ProjectViewSet

    lists = {
        "kpi-values": KpiValueViewSet,
        "agreements": AgreementViewSet,
        "allocations": AllocationViewSet,
        "evaluations": EvaluationViewSet,
        "lessons": LessonViewSet,
        "projects": ProjectViewSet,
    }
    assert {name: dataset.filterset for name, dataset in DATASETS.items()} == {
        name: viewset.filterset_class for name, viewset in lists.items()
    }


@pytest.fixture
def every_dataset(cluster, other_cluster, lessons):
    """A row of each dataset for each of the two clusters (the lessons bring their evaluations)."""
    budget_year = factories.BudgetYearFactory(year=2020)
    for owner in (cluster, other_cluster):
        report = annual_report_create(cluster=owner, year=2020)
        kpi_value_set(report=report, kpi=KpiDefinition.objects.get(code="C2"), value=Decimal(5))
        agreement_create(
            cluster=owner,
            reference=f"SO-{owner.slug}",
            start_date=date(2020, 1, 1),
            end_date=date(2022, 12, 31),
            amount=Decimal(1_500_000),
        )
        Allocation.objects.create(budget_year=budget_year, purpose="competitiveness", cluster=owner, amount=1)


@pytest.mark.parametrize("dataset", ["kpi-values", "agreements", "allocations", "evaluations", "lessons"])
def test_an_export_filtered_by_cluster_holds_that_clusters_rows_only(
    client, officer, cluster, other_cluster, every_dataset, dataset
):
    client.force_login(officer)
    column = DATASETS[dataset].columns.index("cluster")

    def clusters(query):
        return {row[column] for row in _csv(client.get(f"/insights/exports/{dataset}.csv", query))[1:]}

    assert clusters({}) == {cluster.name, other_cluster.name}
    assert clusters({"cluster": cluster.pk}) == {cluster.name}


def test_anonymous_users_get_no_export(client, lessons):
    response = client.get("/insights/exports/lessons.csv")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --- the KPI values: plain values joined in SQL, the same rows as the per-instance export gave --------

SUBMITTED, ACCEPTED, SIM_SUBMITTED = date(2021, 3, 1), date(2021, 4, 1), date(2021, 3, 20)


def _step(report, to: str, day: date) -> None:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    document_transition(document=report, to=to, at=at, notify=False)


@pytest.fixture
def kpi_history(cluster, other_cluster):
    """Three reports on 2020: Catalisti's accepted (submitted 1 March 2021, accepted 1 April), SIM's
    submitted (20 March 2021), and a draft of a cluster whose name looks like a formula."""
    c2, cpi1 = KpiDefinition.objects.get(code="C2"), KpiDefinition.objects.get(code="CPI1")
    formula = factories.ClusterFactory(name="=SUM(A1)", slug="formula")
    accepted = annual_report_create(cluster=cluster, year=2020)
    kpi_value_set(report=accepted, kpi=c2, value=Decimal(12))
    kpi_value_set(report=accepted, kpi=cpi1, value=Decimal(3))
    KpiTarget.objects.create(cluster=cluster, kpi=c2, year=2020, value=Decimal(10))
    KpiTarget.objects.create(cluster=cluster, kpi=c2, year=2021, value=Decimal(99))  # another year's target
    _step(accepted, Workflow.SUBMITTED, SUBMITTED)
    _step(accepted, Workflow.ACCEPTED, ACCEPTED)
    pending = annual_report_create(cluster=other_cluster, year=2020)
    kpi_value_set(report=pending, kpi=c2, value=Decimal(7))
    _step(pending, Workflow.SUBMITTED, SIM_SUBMITTED)
    draft = annual_report_create(cluster=formula, year=2020)
    kpi_value_set(report=draft, kpi=c2, value=Decimal(1))
    return c2, cpi1


def _kpi_rows(client, **query):
    table = _csv(client.get("/insights/exports/kpi-values.csv", query))
    assert table[0] == ["cluster", "year", "kpi", "name", "unit", "target", "value", "official"]
    return table[1:]


def test_the_kpi_values_export_joins_targets_and_official_and_neutralises_formulas(client, officer, kpi_history):
    c2, cpi1 = kpi_history
    client.force_login(officer)
    catalisti = [
        ["Catalisti", "2020", "C2", c2.name_nl, "count", "10.00", "12.00", "True"],
        ["Catalisti", "2020", "CPI1", cpi1.name_nl, cpi1.unit, "", "3.00", "True"],
    ]
    if c2.position > cpi1.position:
        catalisti.reverse()
    rows = _kpi_rows(client)
    assert [row for row in rows if row[0] == "Catalisti"] == catalisti, "by KPI position, the target of its year"
    assert sorted(rows) == sorted(
        [
            *catalisti,
            ["SIM", "2020", "C2", c2.name_nl, "count", "", "7.00", "False"],
            ["'=SUM(A1)", "2020", "C2", c2.name_nl, "count", "", "1.00", "False"],
        ]
    )
    assert [row[0] for row in rows].index("Catalisti") < [row[0] for row in rows].index("SIM")
    assert _kpi_rows(client, official="true") == catalisti


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (SUBMITTED - timedelta(days=1), set()),  # nothing submitted yet
        (SUBMITTED, {("Catalisti", "False")}),  # pending
        (SIM_SUBMITTED, {("Catalisti", "False"), ("SIM", "False")}),
        (ACCEPTED - timedelta(days=1), {("Catalisti", "False"), ("SIM", "False")}),
        (ACCEPTED, {("Catalisti", "True"), ("SIM", "False")}),  # the draft never shows
    ],
)
def test_the_kpi_values_export_as_of_a_day_replays_each_reports_status(client, officer, kpi_history, day, expected):
    client.force_login(officer)
    assert {(row[0], row[7]) for row in _kpi_rows(client, as_of=day.isoformat())} == expected


def _export_queries(user, as_of: date | None) -> tuple[int, int]:
    """The queries the export's rows cost (the user's role is read before, when the queryset is scoped)."""
    spec = DATASETS["kpi-values"]
    values = spec.queryset(user)
    with CaptureQueriesContext(connection) as queries:
        rows = sum(1 for _line in csv_stream(spec, values, as_of)) - 2  # the BOM, the header
    return len(queries), rows


def _reports(count: int, start: int) -> None:
    kpis = list(KpiDefinition.objects.filter(code__in=["C2", "CPI1"]))
    for n in range(start, start + count):
        report = annual_report_create(cluster=factories.ClusterFactory(name=f"Cluster {n:03d}"), year=2020)
        for kpi in kpis:
            kpi_value_set(report=report, kpi=kpi, value=Decimal(n))
        _step(report, Workflow.SUBMITTED, SUBMITTED)


@pytest.mark.parametrize("as_of", [None, ACCEPTED])
def test_the_kpi_values_export_costs_the_same_queries_for_2_and_40_values(officer, as_of):
    _reports(1, start=0)
    few, few_rows = _export_queries(officer, as_of)
    _reports(19, start=1)
    many, many_rows = _export_queries(officer, as_of)
    assert (few_rows, many_rows) == (2, 40)
    assert few == many == (1 if as_of is None else 2)  # the values; as of a day, the reports' steps first
