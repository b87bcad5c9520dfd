"""Every list endpoint of /api/v1/ costs as many queries for 60 rows as for 3 (no query per row), and with a
token at most 3 in all (issue 16): the token check (with the user and their role), the COUNT and the page,
however many rows, clusters and tokens.

The rows are created in bulk in clusters the requesting manager manages, so that the officer and the
manager both list every one of them; a growing count means a missing select_related, a relation neither
prefetched nor inlined (core/inline.py), or a serializer field that queries per row.
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
from django.utils import timezone
from knox.models import AuthToken

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
from tests import factories
from tests.api_helpers import API, RESOURCE_NAMES, ApiClient, build_world, session_client

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


def _not_the_session(queries: list[str]) -> list[str]:
    """The queries of a request but the session's own (its row read and written back, in a savepoint here)."""
    return [sql for sql in queries if "django_session" not in sql and "SAVEPOINT" not in sql]


@pytest.mark.parametrize("role", ["officer", "manager"])
def test_a_session_list_costs_the_session_and_at_most_three_queries(request, role):
    client = session_client(request.getfixturevalue(role))
    for name in RESOURCE_NAMES:
        queries = listed(client, f"{API}/{name}/")
        assert len(_not_the_session(queries)) <= 3, "\n".join([name, *queries])


# --- with a token: at most 3 queries in all, whatever the data and the tokens -----------------------------


LIMIT = 3  # the token check with the user and their role, the COUNT, the page


def token_client(user: Any) -> ApiClient:
    _instance, token = AuthToken.objects.create(user)
    return ApiClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")


def managed_clusters(manager: Any, first: Cluster, count: int) -> list[Cluster]:
    """`first` and more clusters, up to `count`, all managed by `manager`."""
    clusters = [first, *Cluster.objects.filter(managers__user=manager).exclude(pk=first.pk).order_by("pk")]
    while len(clusters) < count:
        extra = factories.ClusterFactory(name=f"Extra {len(clusters)}", slug=f"extra-{len(clusters)}")
        ClusterManager.objects.create(user=manager, cluster=extra)
        clusters.append(extra)
    return clusters[:count]


def spread(name: str, manager: Any, cluster: Cluster, other: Cluster, per_cluster: list[int], first: int) -> int:
    """Add rows of endpoint `name` in as many of the manager's clusters as `per_cluster` has numbers, that many
    in each; the indexes (years, references) start at `first` and never repeat. The next free index."""
    for target, count in zip(managed_clusters(manager, cluster, len(per_cluster)), per_cluster, strict=True):
        BUILDERS[name](Scope(target, other, manager), range(first, first + count))
        first += count
    return first


@pytest.mark.parametrize("role", ["officer", "reader", "manager"])
@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_a_token_list_costs_at_most_three_queries_for_2_or_20_rows_in_2_or_5_clusters(
    request, name, role, cluster, other_cluster, manager
):
    client = token_client(request.getfixturevalue(role))
    managed_clusters(manager, cluster, 5)  # up front: for the cluster list, only the builder's rows are new
    path = f"{API}/{name}/?page_size=100"
    before = client.get(path).json()["count"]

    following = spread(name, manager, cluster, other_cluster, [1, 1], first=0)
    few = listed(client, path, before + 2)
    spread(name, manager, cluster, other_cluster, [3, 3, 4, 4, 4], first=following)
    many = listed(client, path, before + 20)

    assert len(many) == len(few) <= LIMIT, "\n".join(["2 rows:", *few, "", "20 rows:", *many])


def _filtered(name: str, cluster: Cluster) -> str:
    """The lists of docs/PERFORMANCE.md, with the filter they are measured with."""
    return {
        "agreements": f"cluster={cluster.pk}",
        "annual-reports": "year=2001",
        "flags": "open=true",
        "kpi-values": "year=2001",
        "kpi-targets": "year=2001",
        "projects": f"cluster={cluster.pk}",
    }[name]


@pytest.mark.parametrize("role", ["officer", "manager"])
@pytest.mark.parametrize("name", ["agreements", "annual-reports", "flags", "kpi-values", "kpi-targets", "projects"])
def test_a_filtered_token_list_costs_at_most_three_queries_too(request, name, role, cluster, other_cluster, manager):
    """A filter naming a cluster is checked without a query of its own (core/filters.py)."""
    client = token_client(request.getfixturevalue(role))
    spread(name, manager, cluster, other_cluster, [3, 3], first=0)
    path = f"{API}/{name}/?page_size=100&{_filtered(name, cluster)}"

    queries = listed(client, path)

    assert client.get(path).json()["count"] > 0, path
    assert len(queries) <= LIMIT, "\n".join(queries)


@pytest.mark.parametrize("role", ["reader", "manager"])
def test_a_list_costs_the_same_queries_for_a_user_holding_1_or_50_tokens(request, role, cluster):
    user = request.getfixturevalue(role)
    client = token_client(user)
    path = f"{API}/annual-reports/?page_size=100"
    one = listed(client, path)

    for _ in range(49):
        AuthToken.objects.create(user)
    fifty = listed(client, path)

    assert AuthToken.objects.filter(user=user).count() == 50
    assert len(fifty) == len(one) <= LIMIT, "\n".join(fifty)


def test_an_expired_or_revoked_token_is_still_refused(reader, cluster):
    expired_row, expired = AuthToken.objects.create(reader)
    _revoked_row, revoked = AuthToken.objects.create(reader)
    _kept_row, kept = AuthToken.objects.create(reader)
    AuthToken.objects.filter(pk=expired_row.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert ApiClient(HTTP_AUTHORIZATION=f"Token {revoked}").post(f"{API}/auth/token/revoke/").status_code == 204

    for token in (expired, revoked):
        response = ApiClient(HTTP_AUTHORIZATION=f"Token {token}").get(f"{API}/clusters/")
        assert response.status_code == 401, token
    assert ApiClient(HTTP_AUTHORIZATION=f"Token {kept}").get(f"{API}/clusters/").status_code == 200
    assert not AuthToken.objects.filter(pk=expired_row.pk).exists()  # deleted when it was presented, as knox does


@pytest.mark.parametrize("name", RESOURCE_NAMES)
def test_a_listed_row_reads_as_its_detail(name, cluster, other_cluster, officer):
    """What a list reads in its page query (core/inline.py: the findings, partners and other clusters, in
    their order) is what the detail reads through its prefetches."""
    world = build_world(cluster, other_cluster)
    factories.ProjectFactory(  # a second partner and another cluster, so that their order shows
        reference="HBC.2024.IC01",
        type=Project.Type.INTER_CLUSTER,
        lead_cluster=other_cluster,
        clusters=[cluster],
        partners=[(world.other.organisation, "lead"), (world.own.organisation, "partner")],
    )
    shared = Allocation.objects.create(budget_year=world.budget_year, purpose="inter_cluster", amount=1000)
    shared.partners.set([other_cluster, cluster])
    Finding.objects.create(evaluation=world.own.evaluation, criterion="membership", assessment="achieved")
    client = token_client(officer)

    rows = client.get(f"{API}/{name}/", {"page_size": 500}).json()["results"]

    assert rows
    for row in rows:
        assert client.get(f"{API}/{name}/{row['id']}/").json() == row
