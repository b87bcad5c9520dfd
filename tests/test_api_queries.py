"""Every list endpoint of /api/v1/ costs as many queries for 60 rows as for 3 (no query per row).

The rows are created in bulk in the requesting manager's cluster, so that the officer and the
manager both list every one of them; a growing count means a missing select_related or
prefetch_related in the viewset, or a serializer field that queries per row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterManager,
    ClusterPact,
    Commitment,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    Membership,
    Organisation,
)
from evaluations.models import Evaluation, Finding, Lesson
from funding.models import Allocation, BudgetYear, Flag, Project, ProjectPartner, SupportAgreement
from tests.api_helpers import API, RESOURCE_NAMES, session_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rows(cluster, other_cluster, manager):
    """`rows(name, first, count)` adds `count` rows for the endpoint `name`, all in the manager's cluster."""

    def add(name: str, first: int, count: int) -> None:
        BUILDERS[name](Scope(cluster, other_cluster, manager), range(first, first + count))

    return add


class Scope:
    def __init__(self, cluster: Cluster, other_cluster: Cluster, manager: Any) -> None:
        self.cluster, self.other_cluster, self.manager = cluster, other_cluster, manager


def _plans(scope: Scope, indexes: range) -> list[AnnualPlan]:
    return AnnualPlan.objects.bulk_create(AnnualPlan(cluster=scope.cluster, year=2000 + i) for i in indexes)


def _reports(scope: Scope, indexes: range) -> list[AnnualReport]:
    return AnnualReport.objects.bulk_create(
        AnnualReport(cluster=scope.cluster, year=2000 + i, due_on=date(2001 + i, 3, 31)) for i in indexes
    )


def _organisations(scope: Scope, indexes: range) -> list[Organisation]:
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Member {i}", kind=Organisation.Kind.SME) for i in indexes
    )
    Membership.objects.bulk_create(
        Membership(organisation=organisation, cluster=scope.cluster, joined_on=date(2018, 1, 1))
        for organisation in organisations
    )
    return organisations


def _evaluations(scope: Scope, indexes: range) -> list[Evaluation]:
    evaluations = Evaluation.objects.bulk_create(
        Evaluation(
            cluster=scope.cluster,
            title=f"Evaluation {i}",
            period_start=date(2017, 1, 1),
            period_end=date(2018, 12, 31),
        )
        for i in indexes
    )
    Finding.objects.bulk_create(
        Finding(evaluation=evaluation, criterion=KpiDefinition.Category.MEMBERSHIP, assessment="partly_achieved")
        for evaluation in evaluations
    )
    return evaluations


def _clusters(scope: Scope, indexes: range) -> None:
    clusters = Cluster.objects.bulk_create(Cluster(name=f"Network {i}", slug=f"network-{i}") for i in indexes)
    ClusterManager.objects.bulk_create(ClusterManager(user=scope.manager, cluster=cluster) for cluster in clusters)


def _pacts(scope: Scope, indexes: range) -> None:
    ClusterPact.objects.bulk_create(ClusterPact(cluster=scope.cluster, version=i + 1) for i in indexes)


def _commitments(scope: Scope, indexes: range) -> None:
    pact, _ = ClusterPact.objects.get_or_create(cluster=scope.cluster, version=1)
    Commitment.objects.bulk_create(
        Commitment(pact=pact, party=Commitment.Party.MEMBERS, description=f"Commitment {i}") for i in indexes
    )


def _kpis(scope: Scope, indexes: range) -> None:
    KpiDefinition.objects.bulk_create(
        KpiDefinition(code=f"BULK{i}", name_nl=f"Nieuw {i}", name_en=f"New {i}", unit="count", category="membership")
        for i in indexes
    )


def _targets(scope: Scope, indexes: range) -> None:
    kpi = KpiDefinition.objects.get(code="CPI1")
    KpiTarget.objects.bulk_create(
        KpiTarget(plan=plan, cluster=scope.cluster, kpi=kpi, year=plan.year, value=Decimal(10))
        for plan in _plans(scope, indexes)
    )


def _values(scope: Scope, indexes: range) -> None:
    kpi = KpiDefinition.objects.get(code="CPI1")
    KpiValue.objects.bulk_create(
        KpiValue(report=report, cluster=scope.cluster, kpi=kpi, year=report.year, value=Decimal(5))
        for report in _reports(scope, indexes)
    )


def _lessons(scope: Scope, indexes: range) -> None:
    Lesson.objects.bulk_create(
        Lesson(evaluation=evaluation, kind=Lesson.Kind.BOTTLENECK, text="Slow decisions")
        for evaluation in _evaluations(scope, indexes)
    )


def _findings(scope: Scope, indexes: range) -> None:
    _evaluations(scope, indexes)  # one finding each


def _agreements(scope: Scope, indexes: range) -> None:
    """A chain of short agreements, each extending the one before (one chain per cluster)."""
    first_start = date(2000, 1, 1)
    previous = SupportAgreement.objects.filter(cluster=scope.cluster).order_by("-start_date").first()
    for i in indexes:
        start = first_start + timedelta(days=10 * i)
        previous = SupportAgreement.objects.create(
            cluster=scope.cluster,
            reference=f"SO-bulk-{i}",
            start_date=start,
            end_date=start + timedelta(days=9),
            chain_start=first_start,
            amount=Decimal(1000),
            predecessor=previous,
        )


def _budget_years(scope: Scope, indexes: range) -> None:
    years = BudgetYear.objects.bulk_create(BudgetYear(year=2030 + i, envelope=Decimal(10_000)) for i in indexes)
    Allocation.objects.bulk_create(
        Allocation(budget_year=year, purpose=Allocation.Purpose.COMPETITIVENESS, cluster=scope.cluster, amount=1)
        for year in years
    )


def _allocations(scope: Scope, indexes: range) -> None:
    """Inter-cluster projects with two partners: the manager sees them through the partner link."""
    budget_year, _ = BudgetYear.objects.get_or_create(year=2020, defaults={"envelope": Decimal(75_000_000)})
    allocations = Allocation.objects.bulk_create(
        Allocation(budget_year=budget_year, purpose=Allocation.Purpose.INTER_CLUSTER, amount=Decimal(1000 + i))
        for i in indexes
    )
    through = Allocation.partners.through
    through.objects.bulk_create(
        through(allocation_id=allocation.pk, cluster_id=cluster.pk)
        for allocation in allocations
        for cluster in (scope.cluster, scope.other_cluster)
    )


def _projects(scope: Scope, indexes: range) -> None:
    """Inter-cluster projects the manager's cluster leads, each with another cluster and two partners: the
    list shows the other clusters and the partners' names and SME kind."""
    projects = Project.objects.bulk_create(
        Project(
            reference=f"BULK.{i:04d}",
            title=f"Project {i}",
            type=Project.Type.INTER_CLUSTER,
            lead_cluster=scope.cluster,
            decided_on=date(2024, 6, 1),
            amount=Decimal(1000 + i),
            start_date=date(2024, 9, 1),
            end_date=date(2026, 8, 31),
            status_on=date(2024, 6, 1),
        )
        for i in indexes
    )
    through = Project.clusters.through
    through.objects.bulk_create(through(project_id=p.pk, cluster_id=scope.other_cluster.pk) for p in projects)
    organisations = _organisations(scope, range(2))
    ProjectPartner.objects.bulk_create(
        ProjectPartner(project=project, organisation=organisation, role=role)
        for project in projects
        for organisation, role in zip(organisations, ["lead", "partner"], strict=True)
    )


def _flags(scope: Scope, indexes: range) -> None:
    Flag.objects.bulk_create(
        Flag(
            kind=Flag.Kind.REPORT_OVERDUE,
            cluster=scope.cluster,
            year=2000 + i,
            subject=f"report:{scope.cluster.pk}:{2000 + i}",
            message="Overdue.",
            raised_on=date(2021, 4, 1),
        )
        for i in indexes
    )


BUILDERS: dict[str, Callable[[Scope, range], Any]] = {
    "clusters": _clusters,
    "organisations": _organisations,
    "memberships": _organisations,  # one membership each
    "pacts": _pacts,
    "commitments": _commitments,
    "annual-plans": _plans,
    "annual-reports": _reports,
    "kpis": _kpis,
    "kpi-targets": _targets,
    "kpi-values": _values,
    "evaluations": _evaluations,
    "findings": _findings,
    "lessons": _lessons,
    "agreements": _agreements,
    "budget-years": _budget_years,
    "allocations": _allocations,
    "projects": _projects,
    "flags": _flags,
}


def test_every_list_endpoint_has_a_builder():
    assert set(BUILDERS) == set(RESOURCE_NAMES)


def listed(client: Client, path: str, expected_count: int | None = None) -> list[str]:
    """The SQL of one list request (which must list `expected_count` rows)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    if expected_count is not None:
        assert body["count"] == len(body["results"]) == expected_count
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("role", ["officer", "manager"])
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_list_queries_do_not_grow_with_the_number_of_rows(request, rows, name, role):
    client = session_client(request.getfixturevalue(role))
    path = f"{API}/{name}/?page_size=100"
    before = client.get(path).json()["count"]  # also warms up what a first request loads once

    rows(name, 0, 3)
    few = listed(client, path, before + 3)
    rows(name, 3, 57)
    many = listed(client, path, before + 60)

    assert len(many) == len(few), "\n".join(["3 rows:", *few, "", "60 rows:", *many])
