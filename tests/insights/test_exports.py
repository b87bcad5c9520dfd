"""Exports: CSV and Excel of the main tables, scoped to the user, safe to open in a spreadsheet."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from clusterpacts.models import KpiDefinition
from clusterpacts.services import annual_report_create, kpi_value_set
from core.spreadsheets import safe_cell
from evaluations.models import Lesson
from funding.models import Allocation
from funding.services import agreement_create
from insights.exports import DATASETS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_escaped(first):
    assert safe_cell(f"{first}HYPERLINK(1)") == f"'{first}HYPERLINK(1)"


def test_safe_text_and_numbers_are_left_alone():
    assert safe_cell("Roadmap sessions") == "Roadmap sessions"
    assert safe_cell(Decimal("-5")) == Decimal("-5")
    assert safe_cell(date(2020, 1, 1)) == date(2020, 1, 1)


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
