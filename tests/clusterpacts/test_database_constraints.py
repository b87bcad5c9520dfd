"""The database keeps the rules even when the services are bypassed: one backstop per constraint,
refused by that constraint by name, and what the constraint still allows.

Where a user can meet the same case, the services refuse it first with a clear message, and those
tests say so: an overlapping or backwards membership, a taken enterprise number, a second report
for a year, a return without a comment (tests/clusterpacts/test_rules_everywhere.py,
tests/test_api_rules.py). The rest (pact versions and their signing, workflow steps, one figure
per KPI and year) no user can write: the services number, sign, step and set them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Model

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
from tests.rules import refused_by_constraint

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Backstop:
    model: type[Model]
    # Given the `cluster` fixture, write the rows the case needs; return the write the database refuses.
    refused: Callable[[Cluster], Callable[[], Any]]
    # Then what the constraint still allows, written the same way (bypassing the services).
    allowed: Callable[[Cluster], Any] = lambda cluster: None


def a_report(cluster: Cluster, **fields: Any) -> AnnualReport:
    return factories.AnnualReportFactory(cluster=cluster, year=fields.pop("year", 2020), **fields)


def membership(cluster: Cluster, left_on: date) -> Callable[[], Any]:
    organisation = factories.OrganisationFactory()
    return lambda: Membership.objects.create(
        organisation=organisation, cluster=cluster, joined_on=date(2020, 5, 1), left_on=left_on
    )


def organisation(number: str) -> Organisation:
    return Organisation.objects.create(name=f"Org {number or 'without'}", kind="other", enterprise_number=number)


def second_organisation_number(cluster: Cluster) -> Callable[[], Any]:
    organisation("0123456749")
    return lambda: organisation("0123456749")


def second_cluster_number(cluster: Cluster) -> Callable[[], Any]:
    Cluster.objects.filter(pk=cluster.pk).update(enterprise_number="1234567894")
    return lambda: Cluster.objects.create(name="VIL", slug="vil", enterprise_number="1234567894")


def pact(cluster: Cluster, version: int, **fields: Any) -> ClusterPact:
    return ClusterPact.objects.create(cluster=cluster, version=version, **fields)


def second_signed_pact(cluster: Cluster) -> Callable[[], Any]:
    pact(cluster, 1, status="signed", signed_on=date(2017, 12, 15))
    return lambda: pact(cluster, 2, status="signed", signed_on=date(2018, 12, 1))


def second_pact_version(cluster: Cluster) -> Callable[[], Any]:
    pact(cluster, 1)
    return lambda: pact(cluster, 1)


def second_report(cluster: Cluster) -> Callable[[], Any]:
    a_report(cluster)
    return lambda: a_report(cluster)


def second_report_value(cluster: Cluster) -> Callable[[], Any]:
    kpi = factories.kpi("CPI1")
    report = a_report(cluster)
    KpiValue.objects.create(report=report, cluster=cluster, year=2020, kpi=kpi, value=Decimal(1))
    # Another year (which only a bypassed service would allow), so that only this constraint is broken:
    # PostgreSQL names the first constraint a row breaks.
    return lambda: KpiValue.objects.create(report=report, cluster=cluster, year=2021, kpi=kpi, value=Decimal(2))


def value_from_another_report(cluster: Cluster) -> Callable[[], Any]:
    kpi = factories.kpi("CPI1")
    KpiValue.objects.create(report=a_report(cluster), cluster=cluster, year=2020, kpi=kpi, value=Decimal(1))
    later = a_report(cluster, year=2021)
    return lambda: KpiValue.objects.create(report=later, cluster=cluster, year=2020, kpi=kpi, value=Decimal(2))


def second_target(cluster: Cluster) -> Callable[[], Any]:
    kpi = factories.kpi("CPI1")
    KpiTarget.objects.create(cluster=cluster, year=2021, kpi=kpi, value=Decimal(1))
    return lambda: KpiTarget.objects.create(cluster=cluster, year=2021, kpi=kpi, value=Decimal(2))


def returned_with(comment: str) -> Callable[[Cluster], Callable[[], Any]]:
    def setup(cluster: Cluster) -> Callable[[], Any]:
        report = a_report(cluster, year=2019 if comment else 2020, status=Workflow.SUBMITTED)
        return lambda: AnnualReport.objects.filter(pk=report.pk).update(status="returned", review_comment=comment)

    return setup


def event_of(**subjects: Callable[[Cluster], Model]) -> Callable[[Cluster], Callable[[], Any]]:
    def setup(cluster: Cluster) -> Callable[[], Any]:
        rows = {name: make(cluster) for name, make in subjects.items()}
        return lambda: ReportEvent.objects.create(from_status="draft", to_status="submitted", **rows)

    return setup


BACKSTOPS = {
    "membership_left_after_joined": Backstop(
        Membership,
        lambda c: membership(c, left_on=date(2020, 4, 30)),
        allowed=lambda c: membership(c, left_on=date(2020, 5, 1))(),  # leaving on the day of joining
    ),
    "organisation_enterprise_number_unique": Backstop(
        Organisation, second_organisation_number, allowed=lambda c: [organisation(""), organisation("")]
    ),
    "cluster_enterprise_number_unique": Backstop(
        Cluster,
        second_cluster_number,
        allowed=lambda c: [Cluster.objects.create(name=n, slug=n, enterprise_number="") for n in ("a", "b")],
    ),
    "pact_one_signed_per_cluster": Backstop(
        ClusterPact,
        second_signed_pact,
        allowed=lambda c: pact(c, 2, status="superseded", signed_on=date(2016, 12, 1)),
    ),
    "pact_signed_has_date": Backstop(ClusterPact, lambda c: lambda: pact(c, 1, status="signed", signed_on=None)),
    "pact_version_unique": Backstop(ClusterPact, second_pact_version),
    "pact_version_positive": Backstop(ClusterPact, lambda c: lambda: pact(c, 0)),
    "annual_report_unique": Backstop(AnnualReport, second_report),
    "annual_report_year_range": Backstop(AnnualReport, lambda c: lambda: a_report(c, year=1999)),
    "annual_report_returned_has_comment": Backstop(
        AnnualReport, returned_with(""), allowed=lambda c: returned_with("Add sources.")(c)()
    ),
    "report_event_one_subject": Backstop(
        ReportEvent,
        event_of(report=a_report, plan=lambda c: factories.AnnualPlanFactory(cluster=c)),
        allowed=lambda c: event_of(report=lambda c: a_report(c, year=2019))(c)(),
    ),
    "kpi_value_once_per_report": Backstop(KpiValue, second_report_value),
    "kpi_value_unique": Backstop(KpiValue, value_from_another_report),
    "kpi_target_unique": Backstop(KpiTarget, second_target),
}


@pytest.mark.parametrize("constraint", BACKSTOPS)
def test_the_database_refuses_by_its_constraint_what_the_services_would(cluster, constraint):
    backstop = BACKSTOPS[constraint]
    write = backstop.refused(cluster)
    before = backstop.model._default_manager.count()

    refused_by_constraint(backstop.model, constraint, write)

    assert backstop.model._default_manager.count() == before
    backstop.allowed(cluster)
