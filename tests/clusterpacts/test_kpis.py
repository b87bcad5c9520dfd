"""The KPI catalogue, and the values and targets entered against it."""

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

import clusterpacts
from clusterpacts.models import AnnualReport, KpiDefinition, KpiTarget, KpiValue, Workflow
from clusterpacts.services import (
    annual_report_accept,
    annual_report_return,
    annual_report_submit,
    entity_save,
    kpi_target_set,
    kpi_value_set,
)
from tests import factories

pytestmark = pytest.mark.django_db

CATALOGUE = Path(clusterpacts.__file__).resolve().parent / "data" / "kpi-catalogue.csv"
PERCENT, COUNT = "C6", "CPI1"  # member satisfaction (percent), active actors (count)


def catalogue_rows():
    with CATALOGUE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def report(cluster):
    return factories.AnnualReportFactory(cluster=cluster, year=2020)


def set_status(report, status):
    comment = "Please fix." if status == Workflow.RETURNED else ""
    AnnualReport.objects.filter(pk=report.pk).update(status=status, review_comment=comment)
    report.refresh_from_db()
    return report


# --- the catalogue --------------------------------------------------------------------------------


def test_the_migration_loaded_the_seventeen_kpis_of_the_catalogue_file():
    codes = [row["code"] for row in catalogue_rows()]

    assert len(codes) == 17
    assert KpiDefinition.objects.count() == 17
    assert list(KpiDefinition.objects.values_list("code", flat=True)) == codes  # in the file's order


@pytest.mark.parametrize("row", catalogue_rows(), ids=lambda row: row["code"])
def test_each_catalogue_kpi_has_the_names_unit_category_direction_and_source_of_the_file(row):
    kpi = KpiDefinition.objects.get(code=row["code"])

    assert (kpi.name_nl, kpi.name_en, kpi.unit, kpi.category, kpi.direction, kpi.source) == (
        row["name_nl"],
        row["name_en"],
        row["unit"],
        row["category"],
        row["direction"],
        row["source"],
    )
    assert kpi.name_nl and kpi.name_en
    assert kpi.unit in KpiDefinition.Unit.values
    assert kpi.category in KpiDefinition.Category.values
    assert kpi.direction in KpiDefinition.Direction.values
    assert kpi.source in KpiDefinition.Source.values


def test_the_catalogue_covers_the_three_categories_and_both_sources():
    assert set(KpiDefinition.objects.values_list("category", flat=True)) == set(KpiDefinition.Category.values)
    assert set(KpiDefinition.objects.values_list("source", flat=True)) == set(KpiDefinition.Source.values)


def test_kpi_name_follows_the_active_language():
    kpi = factories.kpi("MEM1")

    with translation.override("nl"):
        assert kpi.name == "Betalende leden"
    with translation.override("en"):
        assert kpi.name == "Paying members"


# --- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "100", "55.50"])
def test_percentage_within_0_to_100_is_accepted(report, value):
    kpi_value_set(report=report, kpi=factories.kpi(PERCENT), value=Decimal(value))

    assert KpiValue.objects.get().value == Decimal(value)


@pytest.mark.parametrize("value", ["100.01", "-1", "-0.01", "250"])
def test_percentage_outside_0_to_100_is_refused_on_value_and_not_saved(report, value):
    with pytest.raises(ValidationError) as caught:
        kpi_value_set(report=report, kpi=factories.kpi(PERCENT), value=Decimal(value))

    assert "value" in caught.value.message_dict
    assert "from 0 to 100" in " ".join(caught.value.message_dict["value"])
    assert not KpiValue.objects.exists()


@pytest.mark.parametrize("value", ["0", "7", "1200.00"])
def test_whole_count_of_zero_or_more_is_accepted(report, value):
    kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(value))

    assert KpiValue.objects.get().value == Decimal(value)


@pytest.mark.parametrize("value", ["2.5", "-1", "0.01"])
def test_fractional_or_negative_count_is_refused_on_value_and_not_saved(report, value):
    with pytest.raises(ValidationError) as caught:
        kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(value))

    assert "value" in caught.value.message_dict
    assert "whole number of 0 or more" in " ".join(caught.value.message_dict["value"])
    assert not KpiValue.objects.exists()


@pytest.mark.parametrize("code", ["CPI10", "CPI11"], ids=["million eur", "fte"])
def test_negative_money_or_employment_is_refused(report, code):
    with pytest.raises(ValidationError) as caught:
        kpi_value_set(report=report, kpi=factories.kpi(code), value=Decimal("-1"))

    assert "value" in caught.value.message_dict
    assert not KpiValue.objects.exists()


@pytest.mark.parametrize(("code", "value"), [("CPI10", "0"), ("CPI10", "2.75"), ("CPI11", "12.5")])
def test_money_and_employment_may_be_zero_or_fractional(report, code, value):
    kpi_value_set(report=report, kpi=factories.kpi(code), value=Decimal(value))

    assert KpiValue.objects.get().value == Decimal(value)


def test_a_negative_amount_in_eur_is_refused_as_a_target_and_nothing_is_stored(cluster):
    """PRJ1 (EUR) is counted from the projects: its unit's rule is met where it is still entered, as a target."""
    plan = factories.AnnualPlanFactory(cluster=cluster, year=2021)

    with pytest.raises(ValidationError) as caught:
        kpi_target_set(plan=plan, kpi=factories.kpi("PRJ1"), value=Decimal("-1"))

    assert "value" in caught.value.message_dict
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize("code", ["CPI3", "PRJ1", "C4", "CPI7", "CPI7BIS", "CPI8", "MEM1", "MEM2"])
def test_a_derived_kpi_cannot_be_entered_in_a_report_and_nothing_is_stored(report, code):
    with pytest.raises(ValidationError) as caught:
        kpi_value_set(report=report, kpi=factories.kpi(code), value=Decimal(1))

    assert caught.value.message_dict == {
        "value": [f"{code} is computed from the memberships or the decided projects; it cannot be entered."]
    }
    assert not KpiValue.objects.exists()


def test_an_invalid_change_keeps_the_stored_value(report):
    kpi_value_set(report=report, kpi=factories.kpi(PERCENT), value=Decimal(80))

    with pytest.raises(ValidationError):
        kpi_value_set(report=report, kpi=factories.kpi(PERCENT), value=Decimal("100.01"))

    assert KpiValue.objects.get().value == Decimal(80)


def test_setting_a_value_twice_changes_the_one_value_of_that_kpi_and_year(report, cluster):
    kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(10))
    kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(11))

    value = KpiValue.objects.get()
    assert (value.cluster, value.year, value.report, value.value) == (cluster, 2020, report, Decimal(11))


def test_a_second_value_for_the_same_cluster_kpi_and_year_is_refused(report, cluster):
    kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(10))

    duplicate = KpiValue(report=report, cluster=cluster, year=2020, kpi=factories.kpi(COUNT), value=Decimal(12))
    with pytest.raises(ValidationError) as caught:
        entity_save(instance=duplicate)

    assert "already has a value" in " ".join(caught.value.messages)
    assert list(KpiValue.objects.values_list("value", flat=True)) == [Decimal(10)]


def test_the_same_kpi_and_year_for_another_cluster_is_allowed(report, other_cluster):
    other_report = factories.AnnualReportFactory(cluster=other_cluster, year=2020)

    kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(10))
    kpi_value_set(report=other_report, kpi=factories.kpi(COUNT), value=Decimal(20))

    assert KpiValue.objects.filter(year=2020).count() == 2


def test_a_value_whose_year_differs_from_its_report_is_refused(report, cluster):
    mismatch = KpiValue(report=report, cluster=cluster, year=2019, kpi=factories.kpi(COUNT), value=Decimal(3))

    with pytest.raises(ValidationError) as caught:
        entity_save(instance=mismatch)

    assert "must match" in " ".join(caught.value.messages)
    assert not KpiValue.objects.exists()


@pytest.mark.parametrize("status", [Workflow.DRAFT, Workflow.RETURNED])
def test_values_can_be_entered_while_the_report_is_draft_or_returned(report, status):
    set_status(report, status)

    kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(4))

    assert KpiValue.objects.get().value == Decimal(4)


@pytest.mark.parametrize("status", [Workflow.SUBMITTED, Workflow.ACCEPTED])
def test_values_cannot_be_entered_once_the_report_is_submitted_or_accepted(report, status):
    set_status(report, status)

    with pytest.raises(ValidationError) as caught:
        kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(4))

    assert "draft or returned" in " ".join(caught.value.messages)
    assert not KpiValue.objects.exists()


def test_value_is_official_only_once_its_report_is_accepted(report, officer):
    value = kpi_value_set(report=report, kpi=factories.kpi(COUNT), value=Decimal(4))
    assert not value.is_official

    factories.complete_report(report)
    annual_report_submit(report=report)
    value.refresh_from_db()
    assert not value.is_official  # pending

    annual_report_return(report=report, by=officer, comment="Check the count.")
    value.refresh_from_db()
    assert not value.is_official

    annual_report_submit(report=report)
    annual_report_accept(report=report, by=officer)
    value.refresh_from_db()
    assert value.is_official


# --- targets --------------------------------------------------------------------------------------


def test_target_follows_the_same_value_rules_as_values(cluster):
    plan = factories.AnnualPlanFactory(cluster=cluster, year=2021)

    with pytest.raises(ValidationError) as caught:
        kpi_target_set(plan=plan, kpi=factories.kpi(PERCENT), value=Decimal("100.01"))

    assert "value" in caught.value.message_dict
    assert not KpiTarget.objects.exists()
    kpi_target_set(plan=plan, kpi=factories.kpi(PERCENT), value=Decimal(100))
    assert KpiTarget.objects.get().value == Decimal(100)


def test_targets_cannot_be_set_on_a_submitted_plan(cluster):
    plan = factories.AnnualPlanFactory(cluster=cluster, year=2021)
    type(plan).objects.filter(pk=plan.pk).update(status=Workflow.SUBMITTED)
    plan.refresh_from_db()

    with pytest.raises(ValidationError):
        kpi_target_set(plan=plan, kpi=factories.kpi(COUNT), value=Decimal(3))

    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize(
    ("direction", "value", "target", "expected"),
    [
        ("higher", 120, 100, 120),
        ("higher", 50, 200, 25),
        ("lower", 80, 100, 125),
        ("lower", 0, 100, None),
        ("higher", None, 100, None),
        ("higher", 10, 0, None),
    ],
)
def test_achievement_respects_the_kpis_direction(direction, value, target, expected):
    from decimal import Decimal

    from clusterpacts.models import KpiDefinition

    kpi = KpiDefinition(code="X", direction=direction, unit="count")
    got = kpi.achievement(None if value is None else Decimal(value), Decimal(target))
    assert got == (None if expected is None else Decimal(expected))
