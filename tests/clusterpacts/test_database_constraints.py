"""The database keeps the rules even when the services are bypassed."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from clusterpacts.models import (
    AnnualReport,
    Cluster,
    ClusterPact,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
    ReportEvent,
    Workflow,
)
from tests import factories

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- memberships ----------------------------------------------------------------------------------


def test_database_refuses_a_membership_that_leaves_before_joining(cluster):
    organisation = factories.OrganisationFactory()

    refused(
        lambda: Membership.objects.create(
            organisation=organisation, cluster=cluster, joined_on=date(2020, 5, 1), left_on=date(2020, 4, 30)
        )
    )

    assert not Membership.objects.exists()
    Membership.objects.create(
        organisation=organisation, cluster=cluster, joined_on=date(2020, 5, 1), left_on=date(2020, 5, 1)
    )
    assert Membership.objects.count() == 1


# --- enterprise numbers ---------------------------------------------------------------------------


def test_database_refuses_a_second_organisation_with_the_same_number():
    Organisation.objects.create(name="Acme", kind=Organisation.Kind.SME, enterprise_number="0123456749")

    refused(lambda: Organisation.objects.create(name="Twin", kind="sme", enterprise_number="0123456749"))

    assert Organisation.objects.count() == 1
    Organisation.objects.create(name="No number 1", kind="other", enterprise_number="")
    Organisation.objects.create(name="No number 2", kind="other", enterprise_number="")
    assert Organisation.objects.count() == 3


def test_database_refuses_a_second_cluster_with_the_same_number():
    Cluster.objects.create(name="Flux50", slug="flux50", enterprise_number="1234567894")

    refused(lambda: Cluster.objects.create(name="VIL", slug="vil", enterprise_number="1234567894"))

    assert list(Cluster.objects.values_list("slug", flat=True)) == ["flux50"]


# --- pacts ----------------------------------------------------------------------------------------


def test_database_refuses_a_second_signed_pact_for_a_cluster(cluster, other_cluster):
    ClusterPact.objects.create(cluster=cluster, version=1, status="signed", signed_on=date(2017, 12, 15))

    refused(
        lambda: ClusterPact.objects.create(cluster=cluster, version=2, status="signed", signed_on=date(2018, 12, 1))
    )

    assert ClusterPact.objects.filter(cluster=cluster).count() == 1
    ClusterPact.objects.create(cluster=cluster, version=2, status="superseded", signed_on=date(2016, 12, 1))
    ClusterPact.objects.create(cluster=other_cluster, version=1, status="signed", signed_on=date(2017, 12, 15))
    assert ClusterPact.objects.filter(status="signed").count() == 2


def test_database_refuses_a_signed_pact_without_a_signing_date(cluster):
    refused(lambda: ClusterPact.objects.create(cluster=cluster, version=1, status="signed", signed_on=None))

    assert not ClusterPact.objects.exists()


def test_database_refuses_a_duplicate_or_zero_pact_version(cluster):
    ClusterPact.objects.create(cluster=cluster, version=1)

    refused(lambda: ClusterPact.objects.create(cluster=cluster, version=1))
    refused(lambda: ClusterPact.objects.create(cluster=cluster, version=0))

    assert list(ClusterPact.objects.values_list("version", flat=True)) == [1]


# --- reports --------------------------------------------------------------------------------------


def test_database_refuses_a_second_report_for_the_same_cluster_and_year(cluster):
    factories.AnnualReportFactory(cluster=cluster, year=2020)

    refused(lambda: AnnualReport.objects.create(cluster=cluster, year=2020, due_on=date(2021, 3, 31)))

    assert AnnualReport.objects.count() == 1


def test_database_refuses_a_report_year_outside_2000_to_2100(cluster):
    refused(lambda: AnnualReport.objects.create(cluster=cluster, year=1999, due_on=date(2000, 3, 31)))

    assert not AnnualReport.objects.exists()


def test_database_refuses_a_returned_report_without_a_comment(cluster):
    report = factories.AnnualReportFactory(cluster=cluster, year=2020, status=Workflow.SUBMITTED)

    refused(lambda: AnnualReport.objects.filter(pk=report.pk).update(status="returned", review_comment=""))

    report.refresh_from_db()
    assert report.status == Workflow.SUBMITTED
    AnnualReport.objects.filter(pk=report.pk).update(status="returned", review_comment="Add sources.")
    report.refresh_from_db()
    assert report.status == Workflow.RETURNED


def test_database_refuses_a_workflow_step_without_exactly_one_subject(cluster):
    report = factories.AnnualReportFactory(cluster=cluster, year=2020)
    plan = factories.AnnualPlanFactory(cluster=cluster, year=2020)

    refused(lambda: ReportEvent.objects.create(from_status="draft", to_status="submitted"))
    refused(lambda: ReportEvent.objects.create(report=report, plan=plan, from_status="draft", to_status="submitted"))

    assert not ReportEvent.objects.exists()


# --- KPI figures ----------------------------------------------------------------------------------


def test_database_refuses_a_second_value_of_a_kpi_in_one_report(cluster):
    report = factories.AnnualReportFactory(cluster=cluster, year=2020)
    kpi = factories.kpi("CPI1")
    KpiValue.objects.create(report=report, cluster=cluster, year=2020, kpi=kpi, value=Decimal(1))

    refused(lambda: KpiValue.objects.create(report=report, cluster=cluster, year=2020, kpi=kpi, value=Decimal(2)))

    assert list(KpiValue.objects.values_list("value", flat=True)) == [Decimal(1)]


def test_database_refuses_a_second_value_for_the_same_cluster_kpi_and_year_from_another_report(cluster):
    kpi = factories.kpi("CPI1")
    report_2020 = factories.AnnualReportFactory(cluster=cluster, year=2020)
    report_2021 = factories.AnnualReportFactory(cluster=cluster, year=2021)
    KpiValue.objects.create(report=report_2020, cluster=cluster, year=2020, kpi=kpi, value=Decimal(1))

    refused(lambda: KpiValue.objects.create(report=report_2021, cluster=cluster, year=2020, kpi=kpi, value=Decimal(2)))

    assert KpiValue.objects.count() == 1


def test_database_refuses_a_second_target_for_the_same_cluster_kpi_and_year(cluster):
    kpi = factories.kpi("CPI1")
    KpiTarget.objects.create(cluster=cluster, year=2021, kpi=kpi, value=Decimal(1))

    refused(lambda: KpiTarget.objects.create(cluster=cluster, year=2021, kpi=kpi, value=Decimal(2)))

    assert KpiTarget.objects.count() == 1
