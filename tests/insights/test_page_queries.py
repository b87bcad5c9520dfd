"""Guards for issue 16: every page, the briefing JSON and the .docx cost the same queries for 3 clusters and for
12, each with its reports (workflow steps, KPI values), plans (targets), agreements, evaluations and lessons,
members, reservations, projects and open flags. Once with the page sizes as shipped (everything fits one page),
once with pages of 2 clusters, so that the second size runs over several pages as a large programme does.

The counts are compared, not fixed: a page may add a query, but never one per cluster, report or value.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clusterpacts import views as clusterpacts_views
from clusterpacts.models import (
    AnnualPlan,
    AnnualReport,
    Cluster,
    ClusterPact,
    KpiDefinition,
    KpiTarget,
    KpiValue,
    ReportEvent,
    Workflow,
)
from evaluations.models import Lesson
from funding.models import Allocation, Flag, SupportAgreement
from insights import selectors as insights_selectors
from insights import views as insights_views
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year
FIRST = YEAR - 4  # the clusters' first working year: four working years ended by today


def _at(day: date):
    from datetime import datetime, time

    return timezone.make_aware(datetime.combine(day, time(10)))


def grow(count: int) -> None:
    """`count` more clusters, each with four working years of history (rows made directly: fast)."""
    kpis = list(KpiDefinition.objects.filter(active=True))
    reported = [k for k in kpis if k.source == KpiDefinition.Source.REPORTED]
    budget = factories.BudgetYearFactory(year=YEAR, envelope=Decimal(1_000_000_000))
    for _ in range(count):
        cluster = factories.ClusterFactory(started_on=date(FIRST, 1, 1))
        factories.MembershipFactory(cluster=cluster, joined_on=date(FIRST, 1, 1))
        ClusterPact.objects.create(cluster=cluster, version=1, status="signed", signed_on=date(FIRST, 6, 1))
        evaluation = factories.completed_interim(cluster, date(FIRST + 2, 5, 31))
        Lesson.objects.create(evaluation=evaluation, kind="good_practice", text="Roadmaps work.")
        first = SupportAgreement.objects.create(
            cluster=cluster,
            reference=f"SO-{cluster.slug}-1",
            start_date=date(FIRST, 1, 1),
            end_date=date(FIRST + 2, 12, 31),
            amount=Decimal(1_500_000),
            chain_start=date(FIRST, 1, 1),
        )
        second = SupportAgreement.objects.create(
            cluster=cluster,
            reference=f"SO-{cluster.slug}-2",
            start_date=date(FIRST + 3, 1, 1),
            end_date=TODAY + timedelta(days=100),
            amount=Decimal(1_500_000),
            chain_start=date(FIRST, 1, 1),
            predecessor=first,
        )
        Flag.objects.create(
            kind=Flag.Kind.RENEWAL_DUE,
            cluster=cluster,
            agreement=second,
            subject=f"agreement:{second.pk}",
            message="x",
            raised_on=TODAY,
            due_on=second.end_date,
        )
        Allocation.objects.create(
            budget_year=budget, purpose="competitiveness", cluster=cluster, amount=Decimal(8_000_000)
        )
        factories.ProjectFactory(lead_cluster=cluster, decided_on=date(YEAR, 1, 2), amount=Decimal(9_000_000))
        targets, values, steps = [], [], []
        for year in range(FIRST, YEAR):
            submitted_only = year == YEAR - 1
            report = AnnualReport.objects.create(
                cluster=cluster,
                year=year,
                due_on=date(year + 1, 3, 31),
                status=Workflow.SUBMITTED if submitted_only else Workflow.ACCEPTED,
            )
            steps.append(
                ReportEvent(report=report, from_status="draft", to_status="submitted", at=_at(date(year + 1, 2, 1)))
            )
            if not submitted_only:
                steps.append(
                    ReportEvent(
                        report=report, from_status="submitted", to_status="accepted", at=_at(date(year + 1, 3, 1))
                    )
                )
            values += [KpiValue(cluster=cluster, kpi=k, year=year, report=report, value=Decimal(7)) for k in reported]
            targets += [KpiTarget(cluster=cluster, kpi=k, year=year, value=Decimal(5)) for k in kpis]
        plan = AnnualPlan.objects.create(cluster=cluster, year=YEAR + 1, status=Workflow.SUBMITTED)
        steps.append(ReportEvent(plan=plan, from_status="draft", to_status="submitted", at=_at(TODAY)))
        KpiTarget.objects.bulk_create(targets)
        KpiValue.objects.bulk_create(values)
        ReportEvent.objects.bulk_create(steps)


def pages() -> list[tuple[str, str]]:
    return [
        ("dashboard", "/insights/"),
        ("cluster list", "/clusters/"),
        ("comparison", f"/insights/compare/?kpi=C2&year={YEAR - 1}"),
        ("comparison of a derived KPI", f"/insights/compare/?kpi=MEM1&year={YEAR - 1}"),
        ("comparison of a project KPI", f"/insights/compare/?kpi=CPI3&year={YEAR - 1}"),
        ("comparison of a KPI of the projects' companies", f"/insights/compare/?kpi=CPI7&year={YEAR - 1}"),
        ("funding overview", "/insights/funding/"),
        ("review queue", "/review/"),
        ("review queue, every state", "/review/?state=all"),
        ("briefing page", "/insights/briefing/"),
        ("briefing page, page 2", "/insights/briefing/?page=2"),
        ("briefing JSON", "/api/v1/briefing/"),
        ("briefing JSON, detail page 2", "/api/v1/briefing/?detail_page=2"),
        ("briefing .docx", "/insights/briefing.docx"),
        ("briefing .docx as of a past day", f"/insights/briefing.docx?as_of={FIRST + 2}-06-30"),
    ]


PAGES = pages()


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.fixture(params=["one page", "pages of 2"])
def page_sizes(request, monkeypatch):
    """The page sizes as shipped, or 2 for every list that pages, so that 12 clusters fill six pages."""
    if request.param == "pages of 2":
        for module, name in (
            (insights_views, "DASHBOARD_ROWS"),
            (insights_views, "CLUSTER_PAGE_SIZE"),
            (insights_views, "COMPARE_PAGE_SIZE"),
            (insights_views, "FUNDING_PAGE_SIZE"),
            (insights_selectors, "BRIEFING_PAGE_SIZE"),
            (insights_selectors, "EXCEEDED_LISTED"),
            (clusterpacts_views, "REVIEW_PAGE_SIZE"),
            (clusterpacts_views, "OVERDUE_PAGE_SIZE"),
        ):
            monkeypatch.setattr(module, name, 2)
    return request.param


@pytest.mark.parametrize(("page", "url"), PAGES, ids=[name for name, _url in PAGES])
def test_a_page_costs_the_same_queries_for_3_and_12_clusters(officer_client, page_sizes, page, url):
    grow(3)
    officer_client.get(url)  # the session and the roles read once
    few = queries(officer_client, url)
    grow(9)
    many = queries(officer_client, url)
    assert many == few, f"{page}: {few} queries for 3 clusters, {many} for 12"


def test_the_cluster_page_costs_the_same_queries_in_a_programme_of_3_and_12_clusters(officer_client):
    grow(3)
    url = f"/clusters/{Cluster.objects.order_by('name').first().slug}/"
    officer_client.get(url)
    few = queries(officer_client, url)
    grow(9)
    assert queries(officer_client, url) == few


def test_a_manager_pays_the_same_queries_as_the_programme_grows(client, page_sizes):
    """A cluster manager's pages are scoped to their cluster; the others' growth costs them nothing."""
    grow(1)
    manager = factories.manager_of(Cluster.objects.get(), username="manager-guard")
    client.force_login(manager)
    urls = ["/clusters/", f"/insights/compare/?kpi=C2&year={YEAR - 1}", "/insights/funding/", "/insights/briefing/"]
    urls += ["/api/v1/briefing/", "/insights/briefing.docx"]
    for url in urls:
        client.get(url)
    few = {url: queries(client, url) for url in urls}
    grow(11)
    assert {url: queries(client, url) for url in urls} == few
