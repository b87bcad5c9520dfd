"""The stored KPI target tallies (`KpiTargetTally`, issue 16): every path that writes a value, a target, a
plan or report or the catalogue leaves each report's tally equal to what `kpi_target_tallies` counts from the
figures as they stand, in the same transaction -- and the briefing's summary sums them."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clusterpacts import services as cp
from clusterpacts.models import AnnualReport, KpiDefinition, KpiTargetTally, KpiValue
from clusterpacts.selectors import kpi_target_tallies
from tests import factories

pytestmark = pytest.mark.django_db

YEAR = 2020


def aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))


def stored() -> dict[int, tuple[int, int]]:
    return {t.report_id: (t.measured, t.met) for t in KpiTargetTally.objects.all()}


def counted() -> dict[int, tuple[int, int]]:
    return {row["report_id"]: (row["measured"], row["met"]) for row in kpi_target_tallies(KpiValue.objects.all())}


@pytest.fixture
def c2() -> KpiDefinition:
    return factories.kpi("C2")


@pytest.fixture
def plan(cluster):
    return factories.AnnualPlanFactory(cluster=cluster, year=YEAR)


@pytest.fixture
def report(cluster):
    return factories.AnnualReportFactory(cluster=cluster, year=YEAR)


@pytest.fixture
def measured(plan, report, c2):
    """C2 (a count, higher is better): target 200, value 200 -- measured and met."""
    cp.kpi_target_set(plan=plan, kpi=c2, value=Decimal(200))
    cp.kpi_value_set(report=report, kpi=c2, value=Decimal(200))
    return report


def test_a_value_against_a_target_is_tallied_as_it_is_set(measured):
    assert stored() == counted() == {measured.pk: (1, 1)}


def test_a_changed_value_is_counted_again(measured, c2):
    cp.kpi_value_set(report=measured, kpi=c2, value=Decimal(198))  # 99 %: not met
    assert stored() == counted() == {measured.pk: (1, 0)}
    cp.kpi_value_set(report=measured, kpi=c2, value=Decimal(199))  # 99.5 % rounds to 100 %: met
    assert stored() == {measured.pk: (1, 1)}


def test_a_changed_or_removed_target_is_counted_again(measured, plan, c2):
    cp.kpi_target_set(plan=plan, kpi=c2, value=Decimal(400))
    assert stored() == counted() == {measured.pk: (1, 0)}
    cp.kpi_figure_clear(document=plan, kpi=c2)
    assert stored() == counted() == {}


def test_a_removed_value_is_counted_again(measured, c2):
    cp.kpi_figure_clear(document=measured, kpi=c2)
    assert stored() == counted() == {}


def test_deleting_the_plan_takes_its_targets_out_of_the_reports_tally(measured, plan):
    cp.document_delete(document=plan)
    assert stored() == counted() == {}


def test_deleting_the_report_takes_its_tally(measured):
    cp.document_delete(document=measured)
    assert stored() == {}


def test_a_changed_direction_counts_every_report_again(measured, c2):
    cp.kpi_value_set(report=measured, kpi=c2, value=Decimal(300))
    assert stored() == {measured.pk: (1, 1)}
    c2.direction = KpiDefinition.Direction.LOWER  # 200 / 300 = 67 %: no longer met
    cp.kpi_definition_save(kpi=c2)
    assert stored() == counted() == {measured.pk: (1, 0)}
    c2.active = False
    cp.kpi_definition_save(kpi=c2)
    assert stored() == counted() == {}


def test_figures_put_in_bulk_are_tallied(plan, report, c2, cluster):
    other = factories.AnnualReportFactory(cluster=cluster, year=YEAR + 1)
    cp.kpi_figures_put([cp.FigurePut(document=plan, kpi=c2, value=Decimal(10))])
    cp.kpi_figures_put(
        [
            cp.FigurePut(document=report, kpi=c2, value=Decimal(12)),
            cp.FigurePut(document=other, kpi=c2, value=Decimal(12)),  # no target for that year
        ]
    )
    assert stored() == counted() == {report.pk: (1, 1)}


def test_a_figure_saved_in_the_admin_is_tallied(measured, c2, officer_client):
    value = KpiValue.objects.get(report=measured, kpi=c2)
    page = officer_client.get(f"/admin/clusterpacts/kpivalue/{value.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    response = officer_client.post(f"/admin/clusterpacts/kpivalue/{value.pk}/change/", {**data, "value": "20"})
    assert response.status_code == 302, response.content[:2000]
    assert stored() == counted() == {measured.pk: (1, 0)}


def test_a_refused_value_leaves_the_tally_as_it_was(measured, c2):
    with pytest.raises(ValidationError, match="percentage"), transaction.atomic():
        cp.kpi_value_set(report=measured, kpi=factories.kpi("C6"), value=Decimal(150))  # a percentage over 100
    assert stored() == {measured.pk: (1, 1)}


def test_the_briefing_sums_the_tallies_of_the_reports_accepted_by_the_day(measured, cluster, officer):
    from insights.selectors import kpi_targets_met

    clusters = type(cluster).objects.filter(pk=cluster.pk)
    assert kpi_targets_met(clusters=clusters, as_of=date(2021, 12, 31)) == (0, 0), "not accepted yet"
    factories.complete(measured)
    cp.document_submit(document=measured, at=aware(date(2021, 2, 1)))
    cp.annual_report_accept(report=measured, by=officer, at=aware(date(2021, 3, 1)))
    assert AnnualReport.objects.get(pk=measured.pk).status == "accepted"
    assert kpi_targets_met(clusters=clusters, as_of=date(2021, 2, 28)) == (0, 0)
    met, measured_count = kpi_targets_met(clusters=clusters, as_of=date(2021, 3, 1))
    assert (met, measured_count) == (stored()[measured.pk][1], stored()[measured.pk][0])
    assert measured_count >= 1
